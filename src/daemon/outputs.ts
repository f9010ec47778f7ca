/**
 * Where the pipeline's results go: points into the history store (buffered,
 * flushed every second), alerts and retained machine states to MQTT, and the
 * gateway's events; acknowledgements come back from MQTT and the API.
 *
 *   DiagnosisPipeline 'diagnosis' ─► probs + vibration points ─► HistoryStore
 *                     'health'    ─► Alert ─► AlertPublisher (MQTT) + HistoryStore
 *                                 │         + notifiers (webhook, e-mail: ./notify.ts)
 *                                 └► retained state ─► AlertPublisher
 *   AlertPublisher 'ack' ─► HistoryStore.ack     API ack ─► HistoryStore.ack + MQTT ack topic
 */
import path from 'node:path';
import mqtt, { type IClientOptions } from 'mqtt';
import { alertFromChange, statePayload } from '../alerts/build.js';
import { AlertOutbox } from '../alerts/outbox.js';
import { AlertPublisher, gatewayConnectOptions } from '../alerts/publisher.js';
import type { Alert, Evidence, Verdict } from '../contract/alert.js';
import type { HistoryAnswer } from '../contract/api.js';
import type { HealthChange } from '../contract/health.js';
import { DEFECT_KINDS, type IsoZone } from '../contract/health.js';
import type { MachineDiagnosis } from '../contract/machine.js';
import { ackTopic } from '../contract/topics.js';
import { type MqttLinkOptions, mqttAuthOptions } from '../ingest/mqtt-link.js';
import { InfluxHistoryStore } from '../store/influx.js';
import { SqliteHistoryStore } from '../store/sqlite.js';
import {
  type AggregateQuery,
  type AlertQuery,
  type HistoryPoint,
  healthPoint,
  probsPoint,
  vibrationPoint,
} from '../store/types.js';
import { AckRecorder } from './acks.js';
import { mqtt311Connect } from './broker.js';
import type { GatewayContext } from './gateway-context.js';
import { rateLimited } from './log-limit.js';
import type { MachineRuntime } from './machine-table.js';

/** The alert outbox's journal, in the state directory. */
export const ALERT_OUTBOX_FILE = 'alert-outbox.jsonl';

/** Diagnosis points buffered before the oldest are dropped (store slower than the stream). */
const MAX_PENDING_POINTS = 20_000;

/** Opens the configured history store (InfluxDB with its disk queue, else SQLite) into `ctx.parts`. */
export async function openHistoryStore(ctx: GatewayContext): Promise<void> {
  const c = ctx.config;
  if (c.influx) {
    ctx.parts.storeKind = 'influx';
    const store = await InfluxHistoryStore.open({
      host: c.influx.host,
      port: c.influx.port,
      database: c.influx.database,
      retentionPolicy: c.influx.retentionPolicy,
      retentionDuration: c.influx.retention,
      username: c.influx.username,
      password: c.influx.password,
      queueDir: c.influx.queueDir ?? path.join(ctx.stateDir, 'influx-queue'),
      queue: { maxBytes: c.influx.queueMaxBytes },
      hourlyRetentionPolicy: c.influx.hourlyRetentionPolicy,
      // InfluxQL durations are whole units: hours keep a fractional day setting
      hourlyRetentionDuration: `${Math.max(1, Math.round(c.store.hourlyRetentionDays * 24))}h`,
    });
    // setup at open already ran: its notices are kept; later setups (after an outage) emit
    for (const m of store.notices) ctx.log.warn(`faultline gateway: ${m}`);
    store.on('notice', (m) => ctx.log.warn(`faultline gateway: ${m}`));
    store.on('disconnected', (e) =>
      ctx.log.warn(`faultline gateway: InfluxDB unreachable, queueing points: ${e.message}`),
    );
    store.on('connected', () => ctx.log.info('faultline gateway: InfluxDB connected'));
    ctx.parts.store = store;
  } else {
    const day = 86_400_000;
    ctx.parts.store = new SqliteHistoryStore({
      file: c.store.file ?? path.join(ctx.stateDir, 'history.db'),
      pointRetentionMs: c.store.pointRetentionDays * day,
      alertRetentionMs: c.store.alertRetentionDays * day,
      hourlyRetentionMs: c.store.hourlyRetentionDays * day,
    });
  }
}

/** What identifies the MQTT echo of an ack the API published. */
const echoKey = (id: string, by: string, comment?: string) =>
  JSON.stringify([id, by, comment ?? null]);

/** The pipeline's results on their way to the store, MQTT and the gateway's listeners. */
export class Outputs {
  private readonly ctx: GatewayContext;
  private pendingPoints: HistoryPoint[] = [];
  /** Health changes of shelved machines that raised no alert. */
  suppressed = 0;
  /** Acks published by the API (by content): their MQTT echo is not recorded twice. */
  private readonly apiAcks = new Set<string>();
  readonly acks: AckRecorder;

  constructor(ctx: GatewayContext) {
    this.ctx = ctx;
    this.acks = new AckRecorder({
      store: () => this.ctx.parts.store,
      alerts: (q) => this.alerts(q),
      announce: (a) => this.ctx.emit('ack', a),
      checkVerdict: (machine, v) => this.ctx.parts.verdicts?.check(machine, v),
      keepVerdict: async (alert, k) => this.ctx.parts.verdicts?.save(alert, k),
    });
  }

  /** Points waiting for the next flush. */
  get pending(): number {
    return this.pendingPoints.length;
  }

  /**
   * Connects the alert client (same credentials and TLS files as ingest: an
   * external TLS broker needs them) and starts the publisher, with the
   * on-disk outbox of <stateDir> (alerts a crash left unsent go out first).
   * An outbox that cannot be opened is logged and the alerts stay in memory:
   * the gateway keeps diagnosing.
   */
  async connectAlerts(link: MqttLinkOptions, brokerUrl: string): Promise<void> {
    const { ctx } = this;
    try {
      ctx.parts.alertOutbox = await AlertOutbox.open({
        file: path.join(ctx.stateDir, ALERT_OUTBOX_FILE),
        log: (m) => ctx.log.warn(m),
      });
      const left = ctx.parts.alertOutbox.stats().pending;
      if (left > 0)
        ctx.log.info(`faultline gateway: ${left} unsent alert(s) from the outbox queued`);
    } catch (err) {
      ctx.log.error(`faultline gateway: ${(err as Error).message}; alerts are kept in memory only`);
    }
    const c = ctx.config;
    const base: IClientOptions = {
      ...mqttAuthOptions(link),
      reconnectPeriod: 1000,
      // a short keep-alive bounds how long a hung gateway keeps its machines (Last Will)
      ...(c.cluster.enabled ? { keepalive: c.cluster.keepaliveS } : {}),
    };
    const opts = gatewayConnectOptions({ site: c.site, gatewayId: ctx.gatewayId, base });
    const client = c.broker.embedded
      ? mqtt311Connect(brokerUrl, opts)
      : mqtt.connect(brokerUrl, opts);
    ctx.parts.alertClient = client;
    client.on('error', () => undefined); // reconnects on its own; state shows in /api/gateway
    const publisher = new AlertPublisher({
      client,
      site: c.site,
      gatewayId: ctx.gatewayId,
      // malformed acks come from outside: one line per cause per interval
      log: rateLimited((m) => ctx.log.warn(m)),
      ...(ctx.parts.alertOutbox ? { outbox: ctx.parts.alertOutbox } : {}),
      ...(c.cluster.enabled ? { heartbeatMs: c.cluster.heartbeatS * 1000 } : {}),
    });
    ctx.parts.publisher = publisher;
    publisher.on('ack', (a) => void this.recordAck(a, 'mqtt'));
    publisher.start();
  }

  /** A window's diagnosis: the machine's latest, two points, and the `diagnosis` event. */
  onDiagnosis(d: MachineDiagnosis): void {
    const rt = this.ctx.machines.get(d.machine);
    if (!rt?.owned) return; // a window in flight when the machine moved away
    rt.last = d;
    if (rt.state === 'starting') {
      rt.state = 'ok';
      rt.stateSince = d.t;
    }
    const where = { site: d.site, machine: d.machine, sensor: d.sensor };
    this.queuePoints([
      probsPoint(where, d.t, d.probs),
      vibrationPoint(where, d.t, {
        rmsG: d.rmsG,
        velocityRmsMmS: d.velocityRmsMmS,
        isoZone: d.isoZone,
        rpm: finite(d.rpm),
        peakG: d.peakG,
        crestFactor: d.crestFactor,
        kurtosis: d.kurtosis,
        evidence: d.evidence,
      }),
    ]);
    this.ctx.emit('diagnosis', d);
  }

  /** A health change: an alert (MQTT, store, event), a health point and the retained state. */
  onHealth(h: HealthChange & { site: string }): void {
    const { ctx } = this;
    const rt = ctx.machines.get(h.machine);
    // A machine another gateway owns goes `silent` here: its owner speaks for it.
    if (!rt?.owned) return;
    rt.state = h.to;
    rt.stateSince = h.t;
    rt.faultClass = h.faultClass;
    rt.confidence = h.confidence;
    const d = rt.last;
    const sensor = d?.sensor ?? String(rt.config.sensors[0].id);
    const shelf = ctx.parts.shelving?.get(h.machine);
    if (shelf) {
      // shelved: diagnosed and stored, but nobody is called (no alert, no notification)
      rt.alertId = undefined;
      this.suppressed++;
      ctx.log.debug(
        `faultline gateway: ${h.machine} → ${h.to} raised no alert: shelved by ${shelf.by} until ${shelf.until}`,
      );
    } else {
      this.raiseAlert(h, rt, sensor);
    }
    this.queuePoints([
      healthPoint({ site: ctx.config.site, machine: h.machine, sensor }, h.t, {
        state: h.to,
        faultClass: h.faultClass,
        confidence: h.confidence,
      }),
    ]);
    this.publishState(rt);
    ctx.emit('health', h);
  }

  /** The alert of a health change: MQTT, notifiers, store and the `alert` event. */
  private raiseAlert(h: HealthChange & { site: string }, rt: MachineRuntime, sensor: string): void {
    const { ctx } = this;
    const d = rt.last;
    try {
      const alert = alertFromChange(h, {
        site: ctx.config.site,
        sensor,
        isoZone: (d?.isoZone ?? 'A') as IsoZone,
        velocityRmsMmS: Math.max(0, finite(d?.velocityRmsMmS) ?? 0),
        modelVersion: d?.modelVersion ?? rt.version?.id ?? 'unknown',
        ...(evidenceOf(d) ? { evidence: evidenceOf(d) } : {}),
        ...(d?.heads ? { heads: d.heads } : {}),
      });
      rt.alertId = alert.id;
      ctx.parts.publisher?.publishAlert(alert);
      for (const n of ctx.parts.notifiers ?? []) n.notify(alert);
      void ctx.parts.store
        ?.writeAlert(alert)
        .catch((e: Error) => ctx.log.warn(`faultline gateway: alert not stored: ${e.message}`));
      ctx.emit('alert', alert);
    } catch (err) {
      ctx.log.error(
        `faultline gateway: alert for ${h.machine} not built: ${(err as Error).message}`,
      );
    }
  }

  /** Publishes the machine's retained state from the pipeline's health snapshot. */
  publishState(rt: MachineRuntime): void {
    const { ctx } = this;
    const { publisher, pipeline } = ctx.parts;
    if (!publisher || !pipeline) return;
    const status = pipeline.snapshot().find((m) => m.machine === rt.config.id);
    if (!status) return;
    try {
      publisher.publishState(
        statePayload(ctx.config.site, status.health, Date.now(), {
          ...(rt.alertId ? { alertId: rt.alertId } : {}),
          ...(rt.version ? { modelVersion: rt.version.id } : {}),
          ...(rt.last?.heads ? { heads: rt.last.heads } : {}),
          shelved: ctx.parts.shelving?.get(rt.config.id) ?? null,
        }),
      );
    } catch (err) {
      ctx.log.warn(
        `faultline gateway: state of ${rt.config.id} not published: ${(err as Error).message}`,
      );
    }
  }

  /** Buffers points for the next flush; beyond the bound the oldest are dropped. */
  queuePoints(points: HistoryPoint[]): void {
    this.pendingPoints.push(...points);
    const over = this.pendingPoints.length - MAX_PENDING_POINTS;
    if (over > 0) this.pendingPoints.splice(0, over);
  }

  /** Writes the buffered points; a failed write is logged and its points dropped. */
  async flushPoints(): Promise<void> {
    const { store } = this.ctx.parts;
    if (!store || this.pendingPoints.length === 0) return;
    const batch = this.pendingPoints;
    this.pendingPoints = [];
    try {
      await store.writePoints(batch);
    } catch (err) {
      this.ctx.log.warn(
        `faultline gateway: ${batch.length} points not stored: ${(err as Error).message}`,
      );
    }
  }

  /**
   * History of a machine's measures from the store (an empty answer before
   * the store is open).
   */
  async history(q: AggregateQuery): Promise<HistoryAnswer> {
    const { store } = this.ctx.parts;
    const r = store
      ? await store.history(q)
      : { source: 'raw' as const, stepMs: q.stepMs, since: q.since, until: q.until, series: {} };
    return {
      machine: q.machine,
      since: new Date(r.since).toISOString(),
      until: new Date(r.until).toISOString(),
      stepMs: r.stepMs,
      source: r.source,
      series: r.series,
    };
  }

  /** Alerts from the store, most recent first. */
  async alerts(q: AlertQuery): Promise<Alert[]> {
    const { store } = this.ctx.parts;
    return store ? store.queryAlerts({ site: this.ctx.config.site, ...q }) : [];
  }

  /**
   * Acknowledges an alert from the API: recorded in the store and published on
   * the alert's ack topic so other consoles learn of it.
   * @throws FaultlineError FL_ERR_API_NOT_FOUND for an unknown alert id; a store
   *   failure is thrown on (the API answers 5xx, never 200)
   */
  async ackAlert(id: string, by: string, comment?: string, verdict?: Verdict): Promise<Alert> {
    const { alert: found, first } = await this.acks.record(
      { id, by, ...(comment ? { comment } : {}), ...(verdict ? { verdict } : {}) },
      'api',
    );
    const client = this.ctx.parts.alertClient;
    if (first && client?.connected) {
      const key = echoKey(id, by, comment);
      this.apiAcks.add(key);
      client
        .publishAsync(
          ackTopic(this.ctx.config.site, found.machine),
          JSON.stringify({
            id,
            by,
            ...(comment ? { comment } : {}),
            ...(verdict ? { verdict } : {}),
          }),
          { qos: 1 },
        )
        .catch(() => this.apiAcks.delete(key));
    }
    return found;
  }

  private async recordAck(
    a: { id: string; machine: string; by: string; comment?: string; verdict?: Verdict },
    via: 'mqtt' | 'api',
  ): Promise<void> {
    const { id, machine, by, comment, verdict } = a;
    // our own echo of an API ack (keyed by its content: another ack of the same id is not an echo)
    if (via === 'mqtt' && this.apiAcks.delete(echoKey(id, by, comment))) return;
    try {
      await this.acks.record(
        { id, machine, by, ...(comment ? { comment } : {}), ...(verdict ? { verdict } : {}) },
        via,
      );
    } catch (err) {
      this.ctx.log.warn(
        `faultline gateway: ack of ${id} on ${machine} refused: ${(err as Error).message}`,
      );
    }
  }
}

/** A finite number, or undefined (NaN, ±Infinity, null). */
export function finite(v: number | null | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The pipeline's evidence as the alert schema wants it (defect kind + frequency). */
function evidenceOf(d: MachineDiagnosis | undefined): Evidence | undefined {
  const e = d?.evidence;
  if (!e || e.frequencyHz === undefined || !(e.frequencyHz > 0)) return undefined;
  if (e.defect === null || !(DEFECT_KINDS as readonly string[]).includes(e.defect))
    return undefined;
  return {
    defect: e.defect as Evidence['defect'],
    frequencyHz: e.frequencyHz,
    prominence: Math.max(0, finite(e.score) ?? 0),
  };
}
