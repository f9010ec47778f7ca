/**
 * The gateway as a Sparkplug B edge node (names and topics:
 * src/contract/sparkplug.ts; docs/sparkplug.md), on its own MQTT client to the
 * gateway's broker: Sparkplug wants a clean session and an NDEATH as the will,
 * which the alert client (persistent, with the presence will) cannot carry.
 *
 *   connect ──► NBIRTH (bdSeq = the will's) ──► DBIRTH per live machine
 *   every interval: DDATA with the metrics that changed; DDEATH for a machine
 *                   that went silent or away, DBIRTH when it comes back
 *   NCMD Node Control/Rebirth ──► NBIRTH + DBIRTHs again (same bdSeq)
 *   link lost ──► the broker sends the will (NDEATH); bdSeq + 1 for the next
 *                 connection's will and NBIRTH; MQTT.js reconnects on its own
 *   close() ──► DDEATH per machine, NDEATH, DISCONNECT
 *
 * Nothing is queued while offline: the births after a reconnect carry every
 * current value, which is what a Sparkplug host rebuilds its view from.
 * Payloads are encoded with `sparkplug-payload` (Eclipse Tahu's encoder,
 * the reference implementation); `sparkplug-client` is not used because it
 * pins MQTT.js 4 and its own reconnect logic.
 */
import { EventEmitter } from 'node:events';
import type { IClientOptions, MqttClient } from 'mqtt';
import { get as sparkplugNamespace } from 'sparkplug-payload';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import type { MachineMetrics } from '../contract/metrics.js';
import { BLOCK, encodeMachineBlock } from '../contract/modbus-map.js';
import {
  DEVICE_METRICS,
  NODE_METRICS,
  SPARKPLUG_NAMESPACE,
  sparkplugDeviceTopic,
  sparkplugNodeTopic,
} from '../contract/sparkplug.js';

const spb = sparkplugNamespace(SPARKPLUG_NAMESPACE);

/** One machine as the node reports it. */
export interface SparkplugDevice {
  reading: MachineMetrics;
  /** Frames received (for the alarm bits' shared encoder; not a metric). */
  frames: number;
}

export interface SparkplugNodeOptions {
  /** Opens the MQTT client (mqtt.connect, or the embedded broker's MQTT 3.1.1 connect). */
  connect: (opts: IClientOptions) => MqttClient;
  /** Credentials, TLS and the like, shared with the gateway's other clients. */
  base?: IClientOptions;
  groupId: string;
  edgeNodeId: string;
  site: string;
  gatewayId: string;
  /** The machines to report now (those this gateway diagnoses). */
  devices: () => SparkplugDevice[];
  /** How often changes are looked for and sent, ms. */
  intervalMs: number;
  /** Clock, ms since the epoch. Default Date.now. */
  now?: () => number;
}

export interface SparkplugNodeEvents {
  /** An NBIRTH went out, with its bdSeq. */
  birth: [number];
  /** A publication failed (the link dropped under it); the next birth resends everything. */
  'publish-error': [Error];
}

type Value = UMetric['value'];

/** The device metrics of a reading, in DEVICE_METRICS order. */
function deviceValues(d: SparkplugDevice): Map<string, { type: UMetric['type']; value: Value }> {
  const r = d.reading;
  const words = encodeMachineBlock(r, { frames: d.frames, owned: true });
  const M = DEVICE_METRICS;
  return new Map<string, { type: UMetric['type']; value: Value }>([
    [M.state.name, { type: M.state.type, value: r.state }],
    [M.stateCode.name, { type: M.stateCode.type, value: words[BLOCK.state] }],
    [M.faultClass.name, { type: M.faultClass.type, value: r.faultClass }],
    [M.confidence.name, { type: M.confidence.type, value: r.confidence }],
    [M.velocityRms.name, { type: M.velocityRms.type, value: r.velocityRmsMmS }],
    [M.isoZone.name, { type: M.isoZone.type, value: r.isoZone }],
    [M.alarmBits.name, { type: M.alarmBits.type, value: words[BLOCK.alarmBits] }],
    [M.modelVersion.name, { type: M.modelVersion.type, value: r.modelVersion }],
    [
      M.lastWindow.name,
      { type: M.lastWindow.type, value: r.lastWindow === null ? null : Date.parse(r.lastWindow) },
    ],
  ]);
}

/** True when `p` settles successfully within `ms`. */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    t.unref();
    p.then(
      () => resolve(true),
      () => resolve(false),
    ).finally(() => clearTimeout(t));
  });
}

/** See the module comment. */
export class SparkplugNode extends EventEmitter<SparkplugNodeEvents> {
  private readonly o: SparkplugNodeOptions;
  private readonly now: () => number;
  private client: MqttClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Birth/death sequence: the will of the current connection carries it. */
  private bdSeq = 0;
  /** Message sequence 0–255, reset by each NBIRTH. */
  private seq = 0;
  /** Machines born on this connection, with the values last sent. */
  private readonly born = new Map<string, Map<string, Value>>();
  private closed = false;
  private readonly counts = { births: 0, data: 0, deaths: 0, errors: 0 };

  constructor(o: SparkplugNodeOptions) {
    super();
    if (!spb) throw new TypeError(`sparkplug-payload has no ${SPARKPLUG_NAMESPACE} encoder`);
    if (!(o.intervalMs >= 100))
      throw new TypeError(`intervalMs must be ≥ 100, got ${o.intervalMs}`);
    // names that cannot be topic levels throw FL_ERR_TOPIC_LEVEL here, as every topic builder does
    sparkplugNodeTopic(o.groupId, 'NBIRTH', o.edgeNodeId);
    this.o = o;
    this.now = o.now ?? Date.now;
  }

  /** Connects (and keeps reconnecting); births go out on each connection. */
  start(): void {
    const { o } = this;
    const client = o.connect({
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      clientId: `faultline-spb-${o.edgeNodeId}`,
      ...o.base,
      clean: true, // Sparkplug: every connection starts from its births, no session state
      will: this.will(),
    });
    this.client = client;
    client.on('error', () => undefined); // reconnects on its own; stats() shows the link
    client.on('connect', () => this.connected());
    client.on('close', () => this.lost());
    client.on('message', (topic, payload) => this.command(topic, payload));
    this.timer = setInterval(() => this.tick(), o.intervalMs);
    this.timer.unref();
  }

  stats(): { connected: boolean; bdSeq: number; births: number; data: number; deaths: number } {
    return {
      connected: this.client?.connected ?? false,
      bdSeq: this.bdSeq,
      births: this.counts.births,
      data: this.counts.data,
      deaths: this.counts.deaths,
    };
  }

  /** DDEATH for every machine, NDEATH, then DISCONNECT. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const client = this.client;
    if (!client) return;
    if (client.connected) {
      for (const machine of [...this.born.keys()]) this.death(machine);
      // a half-open link never acknowledges: shutdown waits 2 s at most, then the will speaks
      const ndeath = client.publishAsync(this.nodeTopic('NDEATH'), this.ndeath(), { qos: 1 });
      if (await within(ndeath, 2000)) {
        if (await within(client.endAsync(), 2000)) return;
      }
    }
    await client.endAsync(true).catch(() => undefined);
  }

  private nodeTopic(type: 'NBIRTH' | 'NDEATH' | 'NCMD'): string {
    return sparkplugNodeTopic(this.o.groupId, type, this.o.edgeNodeId);
  }

  private ndeath(): Buffer {
    const metrics: UMetric[] = [{ name: NODE_METRICS.bdSeq, type: 'UInt64', value: this.bdSeq }];
    return Buffer.from(spb?.encodePayload({ timestamp: this.now(), metrics }) ?? []);
  }

  /** The NDEATH the broker sends if this connection dies (spec: QoS 1, not retained). */
  private will(): NonNullable<IClientOptions['will']> {
    return { topic: this.nodeTopic('NDEATH'), payload: this.ndeath(), qos: 1, retain: false };
  }

  private publish(topic: string, payload: UPayload): void {
    const client = this.client;
    if (!client?.connected) return;
    const bytes = Buffer.from(spb?.encodePayload(payload) ?? []);
    client.publishAsync(topic, bytes, { qos: 0 }).catch((e: Error) => {
      this.counts.errors++;
      this.emit('publish-error', e);
    });
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) % 256;
    return this.seq;
  }

  private connected(): void {
    if (this.closed) return;
    this.client
      ?.subscribeAsync(this.nodeTopic('NCMD'), { qos: 0 })
      .catch(() => undefined /* a host's rebirth request is a nicety; births still go out */);
    this.birth();
  }

  /** NBIRTH (seq 0) and a DBIRTH for every live machine. */
  private birth(): void {
    const { o } = this;
    this.seq = 0;
    this.born.clear();
    const t = this.now();
    this.publish(this.nodeTopic('NBIRTH'), {
      timestamp: t,
      seq: 0,
      metrics: [
        { name: NODE_METRICS.bdSeq, type: 'UInt64', value: this.bdSeq },
        { name: NODE_METRICS.rebirth, type: 'Boolean', value: false },
        { name: NODE_METRICS.site, type: 'String', value: o.site },
        { name: NODE_METRICS.gateway, type: 'String', value: o.gatewayId },
      ],
    });
    this.counts.births++;
    this.emit('birth', this.bdSeq);
    this.tick();
  }

  /** The connection is gone: the broker sent our will; the next connection has a new bdSeq. */
  private lost(): void {
    if (this.closed || !this.client) return;
    this.born.clear();
    this.bdSeq = (this.bdSeq + 1) % 256;
    // MQTT.js sends `options.will` again on each reconnect
    this.client.options.will = this.will();
  }

  /** Births, data and deaths for what changed since the last tick. */
  private tick(): void {
    if (this.closed || !this.client?.connected) return;
    const t = this.now();
    const live = new Set<string>();
    for (const d of this.o.devices()) {
      const machine = d.reading.machine;
      if (d.reading.state === 'silent') continue; // no data: reported dead until it speaks again
      live.add(machine);
      const values = deviceValues(d);
      const sent = this.born.get(machine);
      const metrics: UMetric[] = [];
      for (const [name, { type, value }] of values) {
        if (sent && sent.get(name) === value) continue;
        const unit =
          name === DEVICE_METRICS.velocityRms.name ? DEVICE_METRICS.velocityRms.unit : '';
        metrics.push({
          name,
          type,
          value,
          timestamp: t,
          // engineering unit in the birth certificate, where a host reads a metric's definition
          ...(!sent && unit ? { properties: { engUnit: { type: 'String', value: unit } } } : {}),
        });
      }
      if (sent && metrics.length === 0) continue;
      const type = sent ? 'DDATA' : 'DBIRTH';
      const topic = sparkplugDeviceTopic(this.o.groupId, type, this.o.edgeNodeId, machine);
      this.publish(topic, { timestamp: t, seq: this.nextSeq(), metrics });
      this.born.set(machine, new Map([...values].map(([k, v]) => [k, v.value])));
      if (sent) this.counts.data++;
      else this.counts.births++;
    }
    for (const machine of [...this.born.keys()]) if (!live.has(machine)) this.death(machine);
  }

  private death(machine: string): void {
    const topic = sparkplugDeviceTopic(this.o.groupId, 'DDEATH', this.o.edgeNodeId, machine);
    this.publish(topic, { timestamp: this.now(), seq: this.nextSeq() });
    this.born.delete(machine);
    this.counts.deaths++;
  }

  /** NCMD: `Node Control/Rebirth` = true asks for every birth again; anything else is ignored. */
  private command(topic: string, payload: Buffer): void {
    if (topic !== this.nodeTopic('NCMD') || this.closed) return;
    let rebirth = false;
    try {
      const p = spb?.decodePayload(new Uint8Array(payload));
      rebirth = (p?.metrics ?? []).some((m) => m.name === NODE_METRICS.rebirth && m.value === true);
    } catch {
      return; // not a Sparkplug payload: a stray publisher, not our problem
    }
    if (rebirth) this.birth();
  }
}
