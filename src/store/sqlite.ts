/**
 * Embedded history in one SQLite file (better-sqlite3): alerts with their
 * acknowledgements, and recent points, kept across restarts. For gateways
 * without InfluxDB. WAL journal with synchronous=FULL: each commit is on
 * disk when the write resolves, so an alert or an ack the gateway reported
 * (an API 200, an MQTT ack consumed) survives a power cut. NORMAL would keep
 * the file consistent but could lose the last commits, which for an ack
 * means an operator's acknowledgement silently undone. The price is one
 * fsync of the WAL per commit; points are written in one transaction per
 * flush (about once a second), so it stays small.
 *
 * Retention: raw points older than `pointRetentionMs` (default 7 d) and
 * alerts older than `alertRetentionMs` (default 90 d) are deleted by
 * `prune()`, which runs at open and then every `pruneEveryWrites` writes
 * (default 1000). Before raw points go, their hours are rolled up into
 * `points_hourly` (./sqlite-history.ts), kept `hourlyRetentionMs` (default
 * 5 years); completed hours are also rolled up as writes come in.
 */
import Database from 'better-sqlite3';
import type { Alert, Verdict } from '../contract/alert.js';
import { FaultlineError } from '../errors.js';
import { planHistory } from './history.js';
import { SqliteRollup } from './sqlite-history.js';
import {
  type AggregateQuery,
  type AggregateResult,
  type AlertQuery,
  assertPoint,
  type HistoryPoint,
  type HistoryQuery,
  type HistoryStore,
  type StoreStats,
  storedVerdict,
} from './types.js';

export interface SqliteStoreOptions {
  /** Database file (created if missing); `:memory:` for a throw-away store. */
  file: string;
  /** Points older than this are pruned, ms. Default 7 days. */
  pointRetentionMs?: number;
  /** Alerts older than this are pruned, ms. Default 90 days. */
  alertRetentionMs?: number;
  /** Hourly rollup rows older than this are pruned, ms. Default 1826 days (5 years). */
  hourlyRetentionMs?: number;
  /** Writes between automatic prunes. Default 1000. */
  pruneEveryWrites?: number;
  /** Clock, ms since the epoch. Default Date.now. */
  now?: () => number;
}

const DAY = 86_400_000;

export class SqliteHistoryStore implements HistoryStore {
  private readonly db: Database.Database;
  private readonly pointRetentionMs: number;
  private readonly alertRetentionMs: number;
  private readonly hourlyRetentionMs: number;
  private readonly rollup: SqliteRollup;
  private readonly pruneEvery: number;
  private readonly now: () => number;
  private writesSincePrune = 0;
  private written = 0;
  private closed = false;
  private readonly insertPoint: Database.Statement;
  private readonly insertAlert: Database.Statement;

  constructor(o: SqliteStoreOptions) {
    if (!o?.file) throw new TypeError('SqliteHistoryStore needs a file');
    this.pointRetentionMs = o.pointRetentionMs ?? 7 * DAY;
    this.alertRetentionMs = o.alertRetentionMs ?? 90 * DAY;
    this.hourlyRetentionMs = o.hourlyRetentionMs ?? 1826 * DAY;
    this.pruneEvery = o.pruneEveryWrites ?? 1000;
    this.now = o.now ?? Date.now;
    try {
      this.db = new Database(o.file);
    } catch (e) {
      throw new FaultlineError(
        'FL_ERR_STORE_QUEUE',
        `cannot open history database ${o.file}: ${(e as Error).message}; check the path is writable`,
        { cause: e },
      );
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS points (
        measurement TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        site TEXT NOT NULL,
        machine TEXT NOT NULL,
        sensor TEXT,
        tags TEXT NOT NULL,
        fields TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS points_machine_time ON points (machine, measurement, time_ms);
      CREATE INDEX IF NOT EXISTS points_time ON points (time_ms);
      CREATE TABLE IF NOT EXISTS alerts (
        id TEXT PRIMARY KEY,
        time_ms INTEGER NOT NULL,
        site TEXT NOT NULL,
        machine TEXT NOT NULL,
        json TEXT NOT NULL,
        ack_by TEXT,
        ack_time_ms INTEGER,
        ack_comment TEXT
      );
      CREATE INDEX IF NOT EXISTS alerts_time ON alerts (time_ms);
      CREATE TABLE IF NOT EXISTS alert_acks (
        alert_id TEXT NOT NULL,
        time_ms INTEGER NOT NULL,
        ack_by TEXT NOT NULL,
        ack_comment TEXT
      );
      CREATE INDEX IF NOT EXISTS alert_acks_id ON alert_acks (alert_id);
    `);
    // Verdicts (JSON) came after the first databases: added to their tables in place.
    for (const table of ['alerts', 'alert_acks']) {
      const cols = this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[];
      if (!cols.some((c) => c.name === 'ack_verdict'))
        this.db.exec(`ALTER TABLE ${table} ADD COLUMN ack_verdict TEXT`);
    }
    this.rollup = new SqliteRollup(this.db);
    this.insertPoint = this.db.prepare(
      'INSERT INTO points (measurement, time_ms, site, machine, sensor, tags, fields) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    // Re-publication of the same alert (same id) keeps the first copy and its ack.
    this.insertAlert = this.db.prepare(
      'INSERT OR IGNORE INTO alerts (id, time_ms, site, machine, json) VALUES (?, ?, ?, ?, ?)',
    );
    this.prune();
  }

  async writePoints(points: HistoryPoint[]): Promise<void> {
    this.assertOpen();
    for (const p of points) assertPoint(p);
    this.db.transaction((ps: HistoryPoint[]) => {
      for (const p of ps) {
        this.insertPoint.run(
          p.measurement,
          Math.trunc(p.time),
          p.tags.site,
          p.tags.machine,
          p.tags.sensor ?? null,
          JSON.stringify(p.tags),
          JSON.stringify(p.fields),
        );
      }
    })(points);
    this.written += points.length;
    this.rollup.noteWritten(points.map((p) => p.time));
    // a day of hours at most per write: a backlog is caught up over a few flushes
    if (this.rollup.due(this.now())) this.rollup.run(this.now(), 24);
    this.maybePrune(points.length);
  }

  async writeAlert(alert: Alert): Promise<void> {
    this.assertOpen();
    const { acknowledged: _ignored, ...rest } = alert;
    this.insertAlert.run(
      alert.id,
      Date.parse(alert.time),
      alert.site,
      alert.machine,
      JSON.stringify(rest),
    );
    this.maybePrune(1);
  }

  /**
   * Records an ack: the first one of an alert stands (it is the alert's
   * `acknowledged`); every ack, first or later, is appended to `alert_acks`.
   */
  async ack(id: string, by: string, comment?: string, verdict?: Verdict): Promise<void> {
    this.assertOpen();
    const now = this.now();
    const v = verdict ? JSON.stringify(verdict) : null;
    this.db.transaction(() => {
      this.db
        .prepare(
          'UPDATE alerts SET ack_by = ?, ack_time_ms = ?, ack_comment = ?, ack_verdict = ? WHERE id = ? AND ack_by IS NULL',
        )
        .run(by, now, comment ?? null, v, id);
      this.db
        .prepare(
          'INSERT INTO alert_acks (alert_id, time_ms, ack_by, ack_comment, ack_verdict) VALUES (?, ?, ?, ?, ?)',
        )
        .run(id, now, by, comment ?? null, v);
    })();
  }

  /** Every ack of alert `id`, oldest first (the first is the one that stands). */
  ackHistory(id: string): { by: string; time: string; comment?: string; verdict?: Verdict }[] {
    this.assertOpen();
    const rows = this.db
      .prepare(
        'SELECT ack_by, time_ms, ack_comment, ack_verdict FROM alert_acks WHERE alert_id = ? ORDER BY time_ms, rowid',
      )
      .all(id) as {
      ack_by: string;
      time_ms: number;
      ack_comment: string | null;
      ack_verdict: string | null;
    }[];
    return rows.map((r) => ({
      by: r.ack_by,
      time: new Date(r.time_ms).toISOString(),
      ...(r.ack_comment !== null ? { comment: r.ack_comment } : {}),
      ...(storedVerdict(r.ack_verdict) ? { verdict: storedVerdict(r.ack_verdict) } : {}),
    }));
  }

  async queryAlerts(q: AlertQuery = {}): Promise<Alert[]> {
    this.assertOpen();
    const where = ['time_ms >= ?'];
    const args: unknown[] = [q.since ?? 0];
    if (q.until !== undefined) {
      where.push('time_ms < ?');
      args.push(q.until);
    }
    if (q.site !== undefined) {
      where.push('site = ?');
      args.push(q.site);
    }
    if (q.machine !== undefined) {
      where.push('machine = ?');
      args.push(q.machine);
    }
    if (q.unacknowledged) where.push('ack_by IS NULL');
    args.push(q.limit ?? 100);
    const rows = this.db
      .prepare(
        `SELECT json, ack_by, ack_time_ms, ack_comment, ack_verdict FROM alerts WHERE ${where.join(' AND ')} ORDER BY time_ms DESC, rowid DESC LIMIT ?`,
      )
      .all(...args) as Array<{
      json: string;
      ack_by: string | null;
      ack_time_ms: number | null;
      ack_comment: string | null;
      ack_verdict: string | null;
    }>;
    return rows.map((r) => {
      const a = JSON.parse(r.json) as Alert;
      if (r.ack_by !== null) {
        a.acknowledged = { by: r.ack_by, time: new Date(r.ack_time_ms ?? 0).toISOString() };
        if (r.ack_comment !== null) a.acknowledged.comment = r.ack_comment;
        const v = storedVerdict(r.ack_verdict);
        if (v) a.acknowledged.verdict = v;
      }
      return a;
    });
  }

  async recentHistory(machine: string, q: HistoryQuery): Promise<HistoryPoint[]> {
    this.assertOpen();
    const rows = this.db
      .prepare(
        'SELECT time_ms, tags, fields FROM points WHERE machine = ? AND measurement = ? AND time_ms >= ? ORDER BY time_ms DESC, rowid DESC LIMIT ?',
      )
      .all(machine, q.measurement, q.since ?? this.now() - 3_600_000, q.limit ?? 1000) as Array<{
      time_ms: number;
      tags: string;
      fields: string;
    }>;
    return rows.reverse().map((r) => ({
      measurement: q.measurement,
      time: r.time_ms,
      tags: JSON.parse(r.tags),
      fields: JSON.parse(r.fields),
    }));
  }

  async history(q: AggregateQuery): Promise<AggregateResult> {
    this.assertOpen();
    const now = this.now();
    const plan = planHistory(q, this.pointRetentionMs, now);
    if (plan.source === 'hourly' && this.rollup.due(now)) this.rollup.run(now);
    return { ...plan, series: this.rollup.query(q, plan) };
  }

  /** Rolls up every hour that is over (normally done as writes come in); returns the hours. */
  rollUp(): number {
    this.assertOpen();
    return this.rollup.run(this.now());
  }

  /** Deletes points, rollup rows and alerts beyond their retention; returns the rows deleted. */
  prune(): { points: number; alerts: number; hourly: number } {
    this.assertOpen();
    const now = this.now();
    // raw windows are rolled up before they go
    this.rollup.run(now);
    const hourly = this.rollup.prune(now - this.hourlyRetentionMs);
    const points = this.db
      .prepare('DELETE FROM points WHERE time_ms < ?')
      .run(now - this.pointRetentionMs).changes;
    const alerts = this.db
      .prepare('DELETE FROM alerts WHERE time_ms < ?')
      .run(now - this.alertRetentionMs).changes;
    this.db.prepare('DELETE FROM alert_acks WHERE alert_id NOT IN (SELECT id FROM alerts)').run();
    this.writesSincePrune = 0;
    return { points, alerts, hourly };
  }

  stats(): StoreStats {
    return {
      queued: 0,
      queuedBytes: 0,
      queuedAlerts: 0,
      written: this.written,
      flushed: 0,
      dropped: 0,
      rejected: 0,
      lastError: null,
      connected: !this.closed,
    };
  }

  /** The connection's durability settings, as SQLite reports them (journal mode, synchronous level). */
  durability(): { journalMode: string; synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA' } {
    this.assertOpen();
    const level = this.db.pragma('synchronous', { simple: true }) as number;
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[level],
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private maybePrune(n: number): void {
    this.writesSincePrune += n;
    if (this.writesSincePrune >= this.pruneEvery) this.prune();
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new FaultlineError(
        'FL_ERR_STORE_CLOSED',
        'SqliteHistoryStore is closed; open a new one',
      );
    }
  }
}
