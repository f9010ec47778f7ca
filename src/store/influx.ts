/**
 * History in InfluxDB 1.x (npm `influx`), with an on-disk store-and-forward
 * queue for outages.
 *
 * Write path: while the database answers and nothing is queued, points go
 * straight to it. The first failure sends that batch, and every later one, to
 * the {@link DiskQueue}; a background flusher drains the queue in order with
 * exponential backoff (`backoff.minMs` doubling to `backoff.maxMs`), and once
 * it is empty writes go direct again. So points reach InfluxDB in the order
 * they were handed over, across outages and process restarts (the queue is
 * re-read at open). `writePoints()` never rejects for an unreachable database;
 * a full disk (ENOSPC) or the queue bound loses points, counted in
 * `stats().dropped` and reported through `stats().lastError` and the
 * `problem` event. A 400 answer (e.g. field type conflict) is permanent: the
 * batch is counted in `rejected` and not retried, so one bad point cannot
 * block the queue.
 *
 * Two lanes, each a queue and a flusher of its own: `points` (vibration,
 * probabilities, health: many, and the first to go when the bound is hit)
 * and `events` (alerts and acks: few, and never dropped to make room for
 * points). An outage queues both; each lane keeps its own order, and an
 * alert never waits behind a backlog of points.
 *
 * Schema: database `database` (created if missing) with retention policy
 * `retentionPolicy` of `retentionDuration` (created, or altered to that
 * duration, and made the default) for the raw windows, and the hourly rollup
 * in `hourlyRetentionPolicy` filled by a continuous query
 * (./influx-history.ts). Measurements: see MEASUREMENTS; tags site, machine,
 * sensor (+ state on alerts). Queued points are not visible to queries until
 * flushed. All of it is created only by an admin user; with a read/write
 * user the store emits `notice` with the statements an admin has to run.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { InfluxDB, type IPoint, escape as influxEscape } from 'influx';
import type { Alert, Verdict } from '../contract/alert.js';
import { FaultlineError } from '../errors.js';
import { DiskQueue, type DiskQueueOptions } from './disk-queue.js';
import { planHistory } from './history.js';
import {
  durationMs,
  ensureRollup,
  isAdmin,
  missingRollup,
  queryHistory,
  type RollupNames,
  rollupSelect,
} from './influx-history.js';
import {
  type AggregateQuery,
  type AggregateResult,
  type AlertQuery,
  assertPoint,
  type HistoryPoint,
  type HistoryQuery,
  type HistoryStore,
  MEASUREMENTS,
  type StoreStats,
  storedVerdict,
} from './types.js';

export interface InfluxStoreOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** HTTP port. Default 8086. */
  port?: number;
  username?: string;
  password?: string;
  /** Default `faultline`. */
  database?: string;
  /** Default `faultline`. */
  retentionPolicy?: string;
  /** InfluxQL duration, e.g. `30d`, `12w`, `INF`. Default `30d`. */
  retentionDuration?: string;
  /** Retention policy of the hourly rollup. Default `<retentionPolicy>_hourly`. */
  hourlyRetentionPolicy?: string;
  /** Its duration, InfluxQL. Default `1826d` (5 years). */
  hourlyRetentionDuration?: string;
  /** Directory of the store-and-forward queue (required). */
  queueDir: string;
  /** Bounds and fsync policy of the queue (see DiskQueue). */
  queue?: Omit<DiskQueueOptions, 'dir'>;
  /** Directory of the alerts-and-acks queue. Default `<queueDir>/events`. */
  eventQueueDir?: string;
  /** Its bounds. Default 100 000 records, 32 MiB, fsync per batch. */
  eventQueue?: Omit<DiskQueueOptions, 'dir'>;
  /** Points per write request when flushing. Default 5000. */
  batchSize?: number;
  /** HTTP request timeout, ms. Default 5000. */
  requestTimeoutMs?: number;
  /** Flusher retry delays, ms. Default { minMs: 250, maxMs: 30 000 }. */
  backoff?: { minMs?: number; maxMs?: number };
  /** Clock for ack times, ms. Default Date.now. */
  now?: () => number;
}

export interface InfluxStoreEvents {
  /** The database answered again after an outage (or for the first time). */
  connected: [];
  /** A write failed; points are being queued. */
  disconnected: [Error];
  /** Points were lost (bound, ENOSPC) or refused; `stats()` has the totals. */
  problem: [{ kind: 'dropped' | 'rejected'; points: number; error: string }];
  /** Setup left something for an admin to do (no admin rights): what, and the statements. */
  notice: [string];
}

/** Any non-finite or permanent HTTP status the flusher must not retry. */
function statusOf(e: unknown): number | undefined {
  return (e as { res?: { statusCode?: number } })?.res?.statusCode;
}

const TAG_KEYS = new Set(['site', 'machine', 'sensor']);

/** Measurements that travel in the `events` lane. */
const EVENT_MEASUREMENTS = new Set<string>([MEASUREMENTS.alerts, MEASUREMENTS.acks]);

/** A queue and the state of its flusher. */
interface Lane {
  name: 'points' | 'events';
  queue: DiskQueue<HistoryPoint>;
  flushing: Promise<void> | null;
  wake: (() => void) | null;
}

export class InfluxHistoryStore extends EventEmitter<InfluxStoreEvents> implements HistoryStore {
  readonly influx: InfluxDB;
  private readonly db: string;
  private readonly rp: string;
  private readonly rpDuration: string;
  private readonly rollupNames: RollupNames;
  /** What setup left for an admin to do (also emitted as `notice`, which open() emits before anyone listens). */
  readonly notices: string[] = [];
  private readonly batchSize: number;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private readonly now: () => number;
  private points!: Lane;
  private events!: Lane;
  private chain: Promise<unknown> = Promise.resolve();
  private setupDone = false;
  private connectedFlag = false;
  private closed = false;
  private readonly counts = { written: 0, flushed: 0, dropped: 0, rejected: 0 };
  private lastError: string | null = null;

  private constructor(o: InfluxStoreOptions) {
    super();
    this.db = o.database ?? 'faultline';
    this.rp = o.retentionPolicy ?? 'faultline';
    this.rpDuration = o.retentionDuration ?? '30d';
    this.rollupNames = {
      db: this.db,
      rawRp: this.rp,
      hourlyRp: o.hourlyRetentionPolicy ?? `${this.rp}_hourly`,
      hourlyDuration: o.hourlyRetentionDuration ?? '1826d',
    };
    this.batchSize = o.batchSize ?? 5000;
    this.minBackoff = o.backoff?.minMs ?? 250;
    this.maxBackoff = o.backoff?.maxMs ?? 30_000;
    this.now = o.now ?? Date.now;
    this.influx = new InfluxDB({
      host: o.host ?? '127.0.0.1',
      port: o.port ?? 8086,
      database: this.db,
      username: o.username,
      password: o.password,
      // Our flusher does the retrying and backoff; the pool must neither retry
      // nor sideline the host (a zero delay keeps it always available).
      pool: {
        maxRetries: 0,
        requestTimeout: o.requestTimeoutMs ?? 5000,
        backoff: {
          getDelay: () => 0,
          next() {
            return this;
          },
          reset() {
            return this;
          },
        },
      },
    });
  }

  /**
   * Opens the store: re-reads the queue in `queueDir`, tries to create the
   * database and retention policy (deferred to the flusher when InfluxDB is
   * down), and starts flushing what an earlier process left.
   * @throws FaultlineError FL_ERR_STORE_QUEUE when the queue directory is unusable
   */
  static async open(o: InfluxStoreOptions): Promise<InfluxHistoryStore> {
    if (!o?.queueDir) throw new TypeError('InfluxHistoryStore needs queueDir');
    const s = new InfluxHistoryStore(o);
    const lane = async (name: Lane['name'], opts: DiskQueueOptions): Promise<Lane> => ({
      name,
      queue: await DiskQueue.open<HistoryPoint>(opts),
      flushing: null,
      wake: null,
    });
    s.points = await lane('points', { ...o.queue, dir: o.queueDir });
    s.events = await lane('events', {
      maxPoints: 100_000,
      maxBytes: 32 * 1024 * 1024,
      ...o.eventQueue,
      dir: o.eventQueueDir ?? path.join(o.queueDir, 'events'),
    });
    try {
      await s.ensureSetup();
      s.setConnected(true);
    } catch (e) {
      s.setConnected(false, e as Error);
    }
    s.kick(s.events);
    s.kick(s.points);
    return s;
  }

  async writePoints(points: HistoryPoint[]): Promise<void> {
    this.assertOpen();
    for (const p of points) assertPoint(p);
    const events = points.filter((p) => EVENT_MEASUREMENTS.has(p.measurement));
    const rest = events.length === 0 ? points : points.filter((p) => !events.includes(p));
    await Promise.all([this.writeLane(this.events, events), this.writeLane(this.points, rest)]);
  }

  private async writeLane(lane: Lane, points: HistoryPoint[]): Promise<void> {
    if (points.length === 0) return;
    await this.locked(async () => {
      // Not gated on `connectedFlag`: when every append failed (ENOSPC) the queue
      // stays empty, no flusher runs, and only a direct try can find the database back.
      if (lane.queue.size === 0) {
        try {
          await this.send(points);
          this.counts.written += points.length;
          this.setConnected(true);
          return;
        } catch (e) {
          if (this.refused(e, points.length)) return;
          this.setConnected(false, e as Error);
        }
      }
      await this.enqueue(lane, points);
    });
    this.kick(lane);
  }

  async writeAlert(alert: Alert): Promise<void> {
    const fields: HistoryPoint['fields'] = {
      id: alert.id,
      previous_state: alert.previousState,
      fault_class: alert.faultClass,
      confidence: alert.confidence,
      iso_zone: alert.isoZone,
      velocity_rms_mm_s: alert.velocityRmsMmS,
      reason: alert.reason,
      model_version: alert.modelVersion,
      json: JSON.stringify(alert),
    };
    await this.writePoints([
      {
        measurement: MEASUREMENTS.alerts,
        time: Date.parse(alert.time),
        tags: {
          site: alert.site,
          machine: alert.machine,
          sensor: alert.sensor,
          state: alert.state,
        },
        fields,
      },
    ]);
  }

  /** Appends an ack point (InfluxDB cannot update rows); the first ack of an id stands. */
  async ack(id: string, by: string, comment?: string, verdict?: Verdict): Promise<void> {
    const fields: HistoryPoint['fields'] = { id, by };
    if (comment !== undefined) fields.comment = comment;
    // a JSON string field: a verdict's shape is a union, not a fixed set of columns
    if (verdict !== undefined) fields.verdict = JSON.stringify(verdict);
    // Acks are not per machine; site and machine are placeholders so the point
    // passes assertPoint. The alert id is a tag because InfluxDB identifies a
    // point by measurement, tags and time: two acks of different alerts in the
    // same millisecond would otherwise merge into one point, and one ack (and
    // its verdict) would be lost. One series per acknowledged alert is few.
    await this.writePoints([
      {
        measurement: MEASUREMENTS.acks,
        time: this.now(),
        tags: { site: '', machine: '', alert: id },
        fields,
      },
    ]);
  }

  async queryAlerts(q: AlertQuery = {}): Promise<Alert[]> {
    this.assertOpen();
    const where = [`time >= ${Math.trunc(q.since ?? 0)}ms`];
    if (q.until !== undefined) where.push(`time < ${Math.trunc(q.until)}ms`);
    if (q.site !== undefined) where.push(`"site" = ${influxEscape.stringLit(q.site)}`);
    if (q.machine !== undefined) where.push(`"machine" = ${influxEscape.stringLit(q.machine)}`);
    const limit = q.limit ?? 100;
    const rows = await this.influx.query<{ json: string }>(
      `SELECT "json" FROM ${this.from(MEASUREMENTS.alerts)} WHERE ${where.join(' AND ')} ORDER BY time DESC${q.unacknowledged ? '' : ` LIMIT ${limit}`}`,
    );
    const alerts = rows.map((r) => JSON.parse(r.json) as Alert);
    if (alerts.length > 0) {
      const ids = alerts.map((a) => `"id" = ${influxEscape.stringLit(a.id)}`).join(' OR ');
      const acks = await this.influx.query<{
        time: Date;
        id: string;
        by: string;
        comment: string | null;
        verdict: string | null;
      }>(
        `SELECT "id", "by", "comment", "verdict" FROM ${this.from(MEASUREMENTS.acks)} WHERE ${ids} ORDER BY time ASC`,
      );
      // oldest first: the first ack of an alert stands, later ones are history
      const byId = new Map<string, (typeof acks)[number]>();
      for (const k of acks) if (!byId.has(k.id)) byId.set(k.id, k);
      for (const a of alerts) {
        const k = byId.get(a.id);
        if (k) {
          a.acknowledged = { by: k.by, time: new Date(k.time.getTime()).toISOString() };
          if (k.comment !== null && k.comment !== undefined) a.acknowledged.comment = k.comment;
          const v = storedVerdict(k.verdict);
          if (v) a.acknowledged.verdict = v;
        }
      }
    }
    return (q.unacknowledged ? alerts.filter((a) => !a.acknowledged) : alerts).slice(0, limit);
  }

  async recentHistory(machine: string, q: HistoryQuery): Promise<HistoryPoint[]> {
    this.assertOpen();
    const since = q.since ?? this.now() - 3_600_000;
    const rows = await this.influx.query<Record<string, unknown> & { time: Date }>(
      `SELECT * FROM ${this.from(q.measurement)} WHERE "machine" = ${influxEscape.stringLit(machine)} AND time >= ${Math.trunc(since)}ms ORDER BY time DESC LIMIT ${q.limit ?? 1000}`,
    );
    return rows.reverse().map((r) => {
      const tags: Record<string, string> = {};
      const fields: HistoryPoint['fields'] = {};
      for (const [k, v] of Object.entries(r)) {
        if (k === 'time' || v === null || v === undefined) continue;
        if (TAG_KEYS.has(k)) tags[k] = String(v);
        else fields[k] = v as string | number | boolean;
      }
      return {
        measurement: q.measurement,
        time: r.time.getTime(),
        tags: tags as HistoryPoint['tags'],
        fields,
      };
    });
  }

  async history(q: AggregateQuery): Promise<AggregateResult> {
    this.assertOpen();
    const plan = planHistory(q, durationMs(this.rpDuration), this.now());
    return { ...plan, series: await queryHistory(this.influx, this.rollupNames, q, plan) };
  }

  /**
   * Rolls up the raw windows of [since, until) into the hourly policy now
   * (the continuous query's own SELECT … INTO over that range): for hours
   * from before the continuous query existed, or when influxd runs with
   * continuous queries disabled. Hours are rounded outwards.
   */
  async rollUp(since: number, until: number): Promise<void> {
    this.assertOpen();
    const h = 3_600_000;
    await this.influx.query(
      rollupSelect(this.rollupNames, {
        since: Math.floor(since / h) * h,
        until: Math.ceil(until / h) * h,
      }),
    );
  }

  stats(): StoreStats {
    return {
      ...this.counts,
      dropped: this.counts.dropped,
      queued: this.points.queue.size,
      queuedBytes: this.points.queue.bytes,
      queuedAlerts: this.events.queue.size,
      lastError: this.lastError,
      connected: this.connectedFlag,
    };
  }

  /**
   * Resolves once both queues are empty (true) or `timeoutMs` passed (false).
   * Wakes a flusher that is waiting out its backoff.
   */
  async drain(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const lanes = [this.events, this.points];
    for (const l of lanes) l.wake?.();
    // Also wait for the flushers to finish: a queue reads empty as soon as the
    // last batch is committed, before its counters are updated.
    const busy = () => lanes.some((l) => l.queue.size > 0 || l.flushing);
    while (busy() && !this.closed) {
      if (Date.now() > deadline) return false;
      for (const l of lanes) this.kick(l);
      await new Promise((r) => setTimeout(r, 20));
    }
    return lanes.every((l) => l.queue.size === 0);
  }

  /** Stops the flushers (queued points stay on disk for the next open). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const l of [this.events, this.points]) l.wake?.();
    await Promise.all([this.events.flushing, this.points.flushing]);
    await this.chain.catch(() => {});
    await this.events.queue.close();
    await this.points.queue.close();
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new FaultlineError(
        'FL_ERR_STORE_CLOSED',
        'InfluxHistoryStore is closed; open a new one',
      );
    }
  }

  private from(measurement: string): string {
    return `${influxEscape.quoted(this.db)}.${influxEscape.quoted(this.rp)}.${influxEscape.quoted(measurement)}`;
  }

  /** Runs fn after everything queued before it (keeps the write order). */
  private locked<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }

  private async ensureSetup(): Promise<void> {
    if (this.setupDone) return;
    if (!(await isAdmin(this.influx))) {
      // A read/write user cannot create policies or continuous queries: write
      // to what exists and say, once, what an admin has to create.
      const missing = await missingRollup(this.influx, {
        ...this.rollupNames,
        rawDuration: this.rpDuration,
      });
      if (missing.length > 0) {
        const m = `InfluxDB user is not an admin, so the gateway cannot create its retention policies and hourly rollup; an admin has to run: ${missing.join('; ')}`;
        this.notices.push(m);
        this.emit('notice', m);
      }
      this.setupDone = true;
      return;
    }
    const names = await this.influx.getDatabaseNames();
    if (!names.includes(this.db)) await this.influx.createDatabase(this.db);
    const rps = await this.influx.showRetentionPolicies(this.db);
    const opts = { duration: this.rpDuration, replication: 1, isDefault: true, database: this.db };
    if (rps.some((r) => r.name === this.rp)) await this.influx.alterRetentionPolicy(this.rp, opts);
    else await this.influx.createRetentionPolicy(this.rp, opts);
    await ensureRollup(this.influx, this.rollupNames);
    this.setupDone = true;
  }

  private async send(points: HistoryPoint[]): Promise<void> {
    await this.ensureSetup();
    const ip: IPoint[] = points.map((p) => ({
      measurement: p.measurement,
      // InfluxDB refuses empty tag values; an empty tag means "no such tag".
      tags: Object.fromEntries(Object.entries(p.tags).filter(([, v]) => v !== '')),
      fields: p.fields,
      timestamp: Math.trunc(p.time),
    }));
    try {
      await this.influx.writePoints(ip, {
        precision: 'ms',
        retentionPolicy: this.rp,
        database: this.db,
      });
    } catch (e) {
      if (statusOf(e) === 404) this.setupDone = false; // database dropped under us
      throw e;
    }
  }

  /** True (and counted) when the database refused the batch for good. */
  private refused(e: unknown, n: number): boolean {
    if (statusOf(e) !== 400) return false;
    this.counts.rejected += n;
    this.lastError = (e as Error).message;
    this.emit('problem', { kind: 'rejected', points: n, error: this.lastError });
    return true;
  }

  private async enqueue(lane: Lane, points: HistoryPoint[]): Promise<void> {
    try {
      const lost = await lane.queue.append(points);
      if (lost > 0) {
        this.counts.dropped += lost;
        this.emit('problem', {
          kind: 'dropped',
          points: lost,
          error: `store-and-forward queue full (${lane.name}): oldest ${lane.name === 'events' ? 'alerts and acks' : 'points'} dropped`,
        });
      }
    } catch (e) {
      // ENOSPC, EIO…: the batch is lost; report, never crash the daemon.
      this.counts.dropped += points.length;
      this.lastError = `queue append failed: ${(e as Error).message}`;
      this.emit('problem', { kind: 'dropped', points: points.length, error: this.lastError });
    }
  }

  private setConnected(up: boolean, err?: Error): void {
    if (err) this.lastError = err.message;
    if (up === this.connectedFlag) return;
    this.connectedFlag = up;
    if (up) this.emit('connected');
    else this.emit('disconnected', err ?? new Error('disconnected'));
  }

  private kick(lane: Lane): void {
    if (lane.flushing || this.closed || lane.queue.size === 0) return;
    lane.flushing = this.flushLoop(lane).finally(() => {
      lane.flushing = null;
    });
  }

  private async flushLoop(lane: Lane): Promise<void> {
    let delay = this.minBackoff;
    while (!this.closed) {
      const batch = await this.locked(() => lane.queue.peek(this.batchSize));
      if (!batch) return;
      try {
        if (batch.items.length > 0) await this.send(batch.items);
        await this.locked(() => lane.queue.commit(batch));
        this.counts.flushed += batch.items.length;
        this.setConnected(true);
        delay = this.minBackoff;
      } catch (e) {
        if (this.refused(e, batch.items.length)) {
          await this.locked(() => lane.queue.commit(batch));
          continue;
        }
        this.setConnected(false, e as Error);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delay);
          lane.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        lane.wake = null;
        delay = Math.min(delay * 2, this.maxBackoff);
      }
    }
  }
}
