/**
 * The plant outputs (issue #15), each off unless configured
 * (./config-outputs.ts): periodic metrics through the alert publisher's
 * client, the Modbus TCP server (src/plant/modbus-server.ts), the Sparkplug B
 * edge node on a client of its own (src/plant/sparkplug-node.ts), the OPC UA
 * server with the machines' alarms (src/plant/opcua-server.ts). The
 * composition root (./gateway.ts) only starts and closes them; every output
 * reads machines through ./machine-reading.ts.
 */
import path from 'node:path';
import mqtt from 'mqtt';
import type { Alert } from '../contract/alert.js';
import type { MachineMetrics } from '../contract/metrics.js';
import { type MqttLinkOptions, mqttAuthOptions } from '../ingest/mqtt-link.js';
import { type ModbusSnapshot, PlantModbusServer } from '../plant/modbus-server.js';
import type { AlarmAck } from '../plant/opcua-alarms.js';
import type { PlantOpcuaServer } from '../plant/opcua-server.js';
import { SparkplugNode } from '../plant/sparkplug-node.js';
import { mqtt311Connect } from './broker.js';
import { isLoopbackHost } from './config.js';
import type { GatewayContext } from './gateway-context.js';
import { rateLimited } from './log-limit.js';
import { machineReading } from './machine-reading.js';
import type { GatewayHealth } from './views.js';

export class PlantOutputs {
  private readonly ctx: GatewayContext;
  private timers: NodeJS.Timeout[] = [];
  /** The Modbus TCP server, when outputs.modbus is configured. */
  modbus?: PlantModbusServer;
  /** The Sparkplug B edge node, when outputs.sparkplug is configured. */
  sparkplug?: SparkplugNode;
  /** The OPC UA server, when outputs.opcua is configured. */
  opcua?: PlantOpcuaServer;
  private readonly warn: (m: string) => void;

  constructor(ctx: GatewayContext) {
    this.ctx = ctx;
    this.warn = rateLimited((m) => ctx.log.warn(m));
  }

  /** Readings of the machines this gateway owns (the others' owners speak for them). */
  readings(intervalS: number, nowMs = Date.now()): MachineMetrics[] {
    const out: MachineMetrics[] = [];
    for (const rt of this.ctx.machines.all()) {
      if (rt.owned) out.push(machineReading(this.ctx.config.site, rt, nowMs, intervalS));
    }
    return out;
  }

  /** Every configured machine as the Modbus map shows it (config order; not owned ones flagged). */
  modbusSnapshot(nowMs = Date.now()): ModbusSnapshot {
    const { ctx } = this;
    const machines = [...ctx.machines.all()].map((rt) => ({
      reading: machineReading(ctx.config.site, rt, nowMs, 0),
      frames: rt.ingest.frames,
      owned: rt.owned,
    }));
    return { brokerConnected: ctx.parts.alertClient?.connected ?? false, machines };
  }

  /**
   * Starts the configured outputs; call after the alert publisher. `link`
   * and `brokerUrl` are the broker the publisher uses (the Sparkplug node
   * connects there with the same credentials and TLS files).
   * `ack` records an acknowledgement made in OPC UA as the API records
   * one (store, MQTT).
   * @throws FaultlineError FL_ERR_CONFIG when the Modbus or OPC UA port cannot be listened on
   */
  async start(link: MqttLinkOptions, brokerUrl: string, ack?: AlarmAck): Promise<void> {
    const mb = this.ctx.config.outputs.modbus;
    if (mb) {
      this.modbus = await PlantModbusServer.start({
        host: mb.host,
        port: mb.port,
        unitId: mb.unitId,
        snapshot: () => this.modbusSnapshot(),
      });
      // resets and half-open sockets are the clients' business: one line per cause per interval
      this.modbus.on('socket-error', (e) =>
        this.warn(`faultline gateway: modbus client: ${e.message}`),
      );
      if (!isLoopbackHost(mb.host)) {
        // Modbus has no authentication: the map is read-only, but anyone who reaches the port reads it
        this.ctx.log.warn(
          `faultline gateway: Modbus TCP on ${mb.host} answers anyone who reaches it (the protocol has no login); keep the port on the control network or behind a firewall`,
        );
      }
      this.ctx.log.info(
        `faultline gateway: Modbus TCP on ${this.modbus.address.host}:${this.modbus.address.port}, unit ${mb.unitId} (docs/modbus.md)`,
      );
    }
    const spb = this.ctx.config.outputs.sparkplug;
    if (spb) {
      const { ctx } = this;
      const embedded = ctx.config.broker.embedded;
      this.sparkplug = new SparkplugNode({
        connect: (opts) =>
          embedded ? mqtt311Connect(brokerUrl, opts) : mqtt.connect(brokerUrl, opts),
        base: mqttAuthOptions(link),
        groupId: spb.groupId,
        edgeNodeId: spb.edgeNodeId ?? ctx.gatewayId,
        site: ctx.config.site,
        gatewayId: ctx.gatewayId,
        intervalMs: spb.intervalS * 1000,
        devices: () =>
          [...ctx.machines.all()]
            .filter((rt) => rt.owned)
            .map((rt) => ({
              reading: machineReading(ctx.config.site, rt, Date.now(), spb.intervalS),
              frames: rt.ingest.frames,
            })),
      });
      this.sparkplug.on('publish-error', (e) =>
        this.warn(`faultline gateway: sparkplug publication failed: ${e.message}`),
      );
      this.sparkplug.start();
      ctx.log.info(
        `faultline gateway: Sparkplug B edge node spBv1.0/${spb.groupId}/+/${spb.edgeNodeId ?? ctx.gatewayId}`,
      );
    }
    if (this.ctx.config.outputs.opcua) await this.startOpcua(ack);
    const metrics = this.ctx.config.outputs.metrics;
    if (metrics) {
      const t = setInterval(() => this.publishMetrics(metrics.intervalS), metrics.intervalS * 1000);
      this.timers.push(t.unref());
      this.ctx.log.info(
        `faultline gateway: metrics on faultline/${this.ctx.config.site}/<machine>/metrics every ${metrics.intervalS} s`,
      );
    }
  }

  /** The OPC UA server of outputs.opcua, its PKI under <stateDir>/opcua/pki. */
  private async startOpcua(ack: AlarmAck | undefined): Promise<void> {
    const { ctx } = this;
    const ua = ctx.config.outputs.opcua;
    if (!ua) return;
    // node-opcua is large: loaded here, only when configured (see src/plant/opcua-server.ts)
    const { PlantOpcuaServer } = await import('../plant/opcua-server.js');
    this.opcua = await PlantOpcuaServer.start({
      host: ua.host,
      port: ua.port,
      securityModes: ua.securityModes,
      users: ua.users.map((u) => ({ username: u.username, password: u.password ?? '' })),
      allowAnonymous: ua.allowAnonymous,
      pkiDir: path.join(ctx.stateDir, 'opcua', 'pki'),
      site: ctx.config.site,
      machineIds: [...ctx.machines.all()].map((rt) => rt.config.id),
      machine: (id) => {
        const rt = ctx.machines.get(id);
        if (!rt) return undefined;
        return {
          reading: machineReading(ctx.config.site, rt, Date.now(), 0),
          shelved: Boolean(ctx.parts.shelving?.get(id)),
        };
      },
      onAck: ack ?? (async () => undefined),
      warn: this.warn,
    });
    if (ua.allowAnonymous && !isLoopbackHost(ua.host)) {
      ctx.log.warn(
        `faultline gateway: OPC UA on ${ua.host} accepts anonymous sessions, which may acknowledge alarms; set outputs.opcua.allowAnonymous: false and give users`,
      );
    }
    ctx.log.info(
      `faultline gateway: OPC UA on ${this.opcua.endpointUrl} (${ua.securityModes.join(', ')}; docs/opcua.md)`,
    );
  }

  /** A gateway alert: the OPC UA alarm of its machine follows it. */
  onAlert(alert: Alert): void {
    this.opcua?.alarms.onAlert(alert);
  }

  /** An ack the gateway recorded: the OPC UA alarm is acknowledged too. */
  onAck(ack: { id: string; machine: string; by: string }): void {
    this.opcua?.alarms.onGatewayAck(ack);
  }

  /** One reading per owned machine onto its metrics topic (dropped while offline). */
  publishMetrics(intervalS: number): void {
    const { publisher } = this.ctx.parts;
    if (!publisher || this.ctx.closing) return;
    for (const m of this.readings(intervalS)) {
      try {
        publisher.publishMetrics(m);
      } catch (err) {
        this.warn(`faultline gateway: metrics of ${m.machine} not sent: ${(err as Error).message}`);
      }
    }
  }

  /** Counters of the outputs that are on, for `GET /api/gateway`; undefined when none is. */
  health(): GatewayHealth['outputs'] {
    if (!this.modbus && !this.sparkplug && !this.opcua) return undefined;
    return {
      ...(this.modbus ? { modbus: { ...this.modbus.address, ...this.modbus.stats() } } : {}),
      ...(this.sparkplug ? { sparkplug: this.sparkplug.stats() } : {}),
      ...(this.opcua ? { opcua: { ...this.opcua.address, ...this.opcua.stats() } } : {}),
    };
  }

  /** Stops every output. Idempotent. */
  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.opcua?.close();
    this.opcua = undefined;
    await this.sparkplug?.close();
    this.sparkplug = undefined;
    await this.modbus?.close();
    this.modbus = undefined;
  }
}
