/**
 * The SQLite store's history queries and hourly rollup.
 *
 * Raw windows live in `points` (fields as JSON); `json_each` turns each
 * numeric field into a row, so one GROUP BY serves every field. The rollup,
 * `points_hourly`, holds per hour, machine, sensor, measurement and field
 * the count, sum, min and max of the windows: enough for min/mean/max over
 * any whole number of hours, and kept far longer than the raw windows.
 *
 * Hours are rolled up once they are over (plus a grace for the last flush),
 * in order; `rollup_state` remembers how far. A window written later for an
 * hour already rolled up (a sensor clock behind, history imported) has its
 * hour rolled up again, from all of that hour's raw windows.
 */
import type Database from 'better-sqlite3';
import { byMeasurement, type HistoryPlan } from './history.js';
import {
  type AggregateBucket,
  type AggregateQuery,
  HOUR_MS,
  ROLLUP_MEASUREMENTS,
} from './types.js';

/** An hour is rolled up this long after it ends: the gateway flushes points every second. */
export const ROLLUP_GRACE_MS = 60_000;

export const ROLLUP_SCHEMA = `
  CREATE TABLE IF NOT EXISTS points_hourly (
    machine TEXT NOT NULL,
    measurement TEXT NOT NULL,
    field TEXT NOT NULL,
    hour_ms INTEGER NOT NULL,
    site TEXT NOT NULL,
    sensor TEXT NOT NULL,
    n INTEGER NOT NULL,
    sum REAL NOT NULL,
    min REAL NOT NULL,
    max REAL NOT NULL,
    PRIMARY KEY (machine, measurement, field, hour_ms, site, sensor)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS points_hourly_time ON points_hourly (hour_ms);
  CREATE TABLE IF NOT EXISTS rollup_state (
    name TEXT PRIMARY KEY,
    done_until_ms INTEGER NOT NULL
  );
`;

const IN_ROLLUP = ROLLUP_MEASUREMENTS.map((m) => `'${m.replaceAll("'", "''")}'`).join(', ');

/** The rollup of one SQLite database. */
export class SqliteRollup {
  private readonly db: Database.Database;
  private doneUntil: number | null;

  constructor(db: Database.Database) {
    this.db = db;
    db.exec(ROLLUP_SCHEMA);
    const row = db.prepare("SELECT done_until_ms FROM rollup_state WHERE name = 'hourly'").get() as
      | { done_until_ms: number }
      | undefined;
    this.doneUntil = row?.done_until_ms ?? null;
  }

  /** Hours before this time, ms, are in the rollup (null: nothing rolled up yet). */
  get rolledUntil(): number | null {
    return this.doneUntil;
  }

  /** True when an hour is over and not rolled up yet. */
  due(now: number): boolean {
    return this.doneUntil === null || now - ROLLUP_GRACE_MS >= this.doneUntil + HOUR_MS;
  }

  /**
   * Rolls up the hours that are over, oldest first, at most `maxHours` of
   * them (one transaction each: a long backlog does not block the event
   * loop in one piece). Returns the hours rolled up.
   */
  run(now: number, maxHours = Number.POSITIVE_INFINITY): number {
    const end = Math.floor((now - ROLLUP_GRACE_MS) / HOUR_MS) * HOUR_MS;
    if (this.doneUntil === null) {
      // First run: from the oldest raw window on (a database from before the rollup existed).
      const oldest = this.db
        .prepare(`SELECT min(time_ms) AS t FROM points WHERE measurement IN (${IN_ROLLUP})`)
        .get() as { t: number | null };
      this.doneUntil = Math.floor((oldest.t ?? end) / HOUR_MS) * HOUR_MS;
      this.save();
    }
    const insert = this.insertHour();
    let hours = 0;
    while (this.doneUntil < end && hours < maxHours) {
      // Skip empty stretches (a gateway off for a week) in one step.
      const next = this.db
        .prepare(
          `SELECT min(time_ms) AS t FROM points WHERE time_ms >= ? AND measurement IN (${IN_ROLLUP})`,
        )
        .get(this.doneUntil) as { t: number | null };
      const from = Math.max(this.doneUntil, Math.floor((next.t ?? end) / HOUR_MS) * HOUR_MS);
      if (from >= end) {
        this.doneUntil = end;
        this.save();
        break;
      }
      this.db.transaction(() => {
        insert.run(from, from + HOUR_MS);
        this.doneUntil = from + HOUR_MS;
        this.save();
      })();
      hours++;
    }
    return hours;
  }

  /**
   * Rolls up again the hours already rolled up that windows were just
   * written to (ms times), so the rollup never misses late windows.
   */
  noteWritten(times: readonly number[]): void {
    const done = this.doneUntil;
    if (done === null) return;
    const late = new Set<number>();
    for (const t of times) if (t < done) late.add(Math.floor(t / HOUR_MS) * HOUR_MS);
    if (late.size === 0) return;
    const insert = this.insertHour();
    this.db.transaction(() => {
      for (const h of late) insert.run(h, h + HOUR_MS);
    })();
  }

  /** Deletes rollup rows older than `cutoff`, ms; returns how many. */
  prune(cutoff: number): number {
    return this.db.prepare('DELETE FROM points_hourly WHERE hour_ms < ?').run(cutoff).changes;
  }

  /** min/mean/max per bucket, from the raw windows or the rollup, per `plan`. */
  query(q: AggregateQuery, plan: HistoryPlan): Record<string, AggregateBucket[]> {
    const series: Record<string, AggregateBucket[]> = {};
    const sensor = q.sensor === undefined ? '' : ' AND sensor = @sensor';
    const rawSql = `
      SELECT p.time_ms - p.time_ms % @step AS t, count(*) AS n, min(j.value) AS min,
             avg(j.value) AS mean, max(j.value) AS max
      FROM points p, json_each(p.fields) j
      WHERE p.machine = @machine AND p.measurement = @measurement
        AND p.time_ms >= @since AND p.time_ms < @until${sensor.replace('sensor', 'p.sensor')}
        AND j.key = @field AND j.type IN ('integer', 'real')
      GROUP BY t ORDER BY t`;
    const hourlySql = `
      SELECT hour_ms - hour_ms % @step AS t, sum(n) AS n, min(min) AS min,
             sum(sum) / sum(n) AS mean, max(max) AS max
      FROM points_hourly
      WHERE machine = @machine AND measurement = @measurement AND field = @field
        AND hour_ms >= @since AND hour_ms < @until${sensor}
      GROUP BY t ORDER BY t`;
    const stmt = this.db.prepare(plan.source === 'raw' ? rawSql : hourlySql);
    for (const [measurement, fields] of byMeasurement(q.measures)) {
      for (const { name, field } of fields) {
        series[name] = stmt.all({
          step: plan.stepMs,
          machine: q.machine,
          measurement,
          field,
          since: plan.since,
          until: plan.until,
          ...(q.sensor === undefined ? {} : { sensor: q.sensor }),
        }) as AggregateBucket[];
      }
    }
    return series;
  }

  /** (from, until) → the rollup rows of the raw windows in [from, until), replacing what was there. */
  private insertHour(): Database.Statement {
    return this.db.prepare(`
      INSERT OR REPLACE INTO points_hourly (machine, measurement, field, hour_ms, site, sensor, n, sum, min, max)
      SELECT p.machine, p.measurement, j.key, (p.time_ms / ${HOUR_MS}) * ${HOUR_MS}, p.site,
             coalesce(p.sensor, ''), count(*), sum(j.value), min(j.value), max(j.value)
      FROM points p, json_each(p.fields) j
      WHERE p.time_ms >= ? AND p.time_ms < ? AND p.measurement IN (${IN_ROLLUP})
        AND j.type IN ('integer', 'real')
      GROUP BY 1, 2, 3, 4, 5, 6`);
  }

  private save(): void {
    this.db
      .prepare(
        "INSERT INTO rollup_state (name, done_until_ms) VALUES ('hourly', ?) ON CONFLICT(name) DO UPDATE SET done_until_ms = excluded.done_until_ms",
      )
      .run(this.doneUntil);
  }
}
