/**
 * The InfluxDB store's history queries and hourly rollup.
 *
 * Raw windows are in the raw retention policy (kept `retention`, e.g. 30d);
 * a continuous query writes, at the end of each hour, per series (site,
 * machine, sensor) and numeric field, `count_<f>`, `sum_<f>`, `min_<f>` and
 * `max_<f>` into the same measurement of the hourly retention policy (kept
 * years). min/mean/max over any whole number of hours follow from those:
 * the mean is sum over count, so an hour with few windows weighs little.
 *
 * Creating retention policies and continuous queries needs an admin user;
 * the gateway should run with a read/write user. Without admin rights the
 * store checks what exists and says what an admin has to create.
 */
import { type InfluxDB, escape as influxEscape } from 'influx';
import { byMeasurement, type HistoryPlan } from './history.js';
import { type AggregateBucket, type AggregateQuery, ROLLUP_MEASUREMENTS } from './types.js';

const DAY_MS = 86_400_000;

/** ms of an InfluxQL retention duration (`30d`, `12w`, `36h`, `INF`/`0s`: Infinity). */
export function durationMs(d: string): number {
  const m = /^(\d+)([hdw])$/.exec(d);
  if (!m) return Number.POSITIVE_INFINITY;
  return Number(m[1]) * { h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS }[m[2] as 'h' | 'd' | 'w'];
}

/** Names the rollup is made of. */
export interface RollupNames {
  db: string;
  /** Raw windows' retention policy. */
  rawRp: string;
  /** Hourly rollup's retention policy. */
  hourlyRp: string;
  /** Its duration, InfluxQL (`260w`, `INF`). */
  hourlyDuration: string;
}

const q = influxEscape.quoted;

/** Name of the continuous query (one per database and hourly policy). */
export const cqName = (n: RollupNames) => `${n.hourlyRp}_rollup`;

/** The SELECT … INTO of the rollup, optionally over a time range (a backfill). */
export function rollupSelect(n: RollupNames, range?: { since: number; until: number }): string {
  const from = `${q(n.db)}.${q(n.rawRp)}./^(${ROLLUP_MEASUREMENTS.join('|')})$/`;
  const where = range ? ` WHERE time >= ${range.since}ms AND time < ${range.until}ms` : '';
  return `SELECT count(*), sum(*), min(*), max(*) INTO ${q(n.db)}.${q(n.hourlyRp)}.:MEASUREMENT FROM ${from}${where} GROUP BY time(1h), *`;
}

/** The statements that make the rollup (what an admin runs when the gateway cannot). */
export function rollupStatements(n: RollupNames): string[] {
  return [
    `CREATE RETENTION POLICY ${q(n.hourlyRp)} ON ${q(n.db)} DURATION ${n.hourlyDuration} REPLICATION 1`,
    `CREATE CONTINUOUS QUERY ${q(cqName(n))} ON ${q(n.db)} BEGIN ${rollupSelect(n)} END`,
  ];
}

/**
 * True when the user may administer the server: `SHOW USERS` is admin-only
 * (with authentication off everyone is admin).
 * @throws what the request threw when it is not a refusal (unreachable…)
 */
export async function isAdmin(influx: InfluxDB): Promise<boolean> {
  try {
    await influx.query('SHOW USERS');
    return true;
  } catch (e) {
    const status = (e as { res?: { statusCode?: number } }).res?.statusCode;
    if (status === 401 || status === 403 || /admin privilege|authoriz/i.test(String(e))) {
      return false;
    }
    throw e;
  }
}

/**
 * As admin: creates or alters the hourly retention policy and creates the
 * continuous query when missing (an existing one of that name is kept: a
 * continuous query cannot be altered, and an admin may have tuned it).
 */
export async function ensureRollup(influx: InfluxDB, n: RollupNames): Promise<void> {
  const rps = await influx.showRetentionPolicies(n.db);
  const opts = { duration: n.hourlyDuration, replication: 1, isDefault: false, database: n.db };
  if (rps.some((r) => r.name === n.hourlyRp)) await influx.alterRetentionPolicy(n.hourlyRp, opts);
  else await influx.createRetentionPolicy(n.hourlyRp, opts);
  if (!(await hasCq(influx, n))) await influx.query(rollupStatements(n)[1]);
}

/**
 * Without admin rights: what is missing of the raw policy and the rollup, as
 * the statements an admin has to run (empty when all is there). A read/write
 * user may neither list policies nor continuous queries, so each policy is
 * probed by reading from it; when the hourly policy exists the continuous
 * query is taken to exist too (the statements come as a pair).
 */
export async function missingRollup(
  influx: InfluxDB,
  n: RollupNames & { rawDuration: string },
): Promise<string[]> {
  const missing: string[] = [];
  const raw = await policyState(influx, n.db, n.rawRp);
  if (raw === 'no-database') missing.push(`CREATE DATABASE ${q(n.db)}`);
  if (raw !== 'exists') {
    missing.push(
      `CREATE RETENTION POLICY ${q(n.rawRp)} ON ${q(n.db)} DURATION ${n.rawDuration} REPLICATION 1 DEFAULT`,
    );
  }
  if ((await policyState(influx, n.db, n.hourlyRp)) !== 'exists')
    missing.push(...rollupStatements(n));
  return missing;
}

/** Whether a retention policy exists, found by reading from it (needs only READ). */
async function policyState(
  influx: InfluxDB,
  db: string,
  rp: string,
): Promise<'exists' | 'no-policy' | 'no-database'> {
  try {
    await influx.query(`SELECT * FROM ${q(db)}.${q(rp)}./.*/ LIMIT 1`, { database: db });
    return 'exists';
  } catch (e) {
    const m = String((e as Error).message);
    if (/database not found/i.test(m)) return 'no-database';
    if (/retention policy not found/i.test(m)) return 'no-policy';
    throw e;
  }
}

async function hasCq(influx: InfluxDB, n: RollupNames): Promise<boolean> {
  const rows = (await influx.query('SHOW CONTINUOUS QUERIES')) as unknown as {
    name: string;
  }[] & { groups?: () => { name: string; rows: { name: string }[] }[] };
  const groups = rows.groups?.() ?? [];
  return groups.some((g) => g.name === n.db && g.rows.some((r) => r.name === cqName(n)));
}

/**
 * min/mean/max per bucket of the measures, one InfluxQL query per
 * measurement: `count/min/mean/max` GROUP BY time(step) over the raw
 * windows, or `sum(count_f)/min(min_f)/sum(sum_f)/max(max_f)` over the rollup.
 */
export async function queryHistory(
  influx: InfluxDB,
  n: RollupNames,
  qy: AggregateQuery,
  plan: HistoryPlan,
): Promise<Record<string, AggregateBucket[]>> {
  const series: Record<string, AggregateBucket[]> = {};
  const rp = plan.source === 'raw' ? n.rawRp : n.hourlyRp;
  const where = [
    `"machine" = ${influxEscape.stringLit(qy.machine)}`,
    ...(qy.sensor === undefined ? [] : [`"sensor" = ${influxEscape.stringLit(qy.sensor)}`]),
    `time >= ${plan.since}ms`,
    `time < ${plan.until}ms`,
  ].join(' AND ');
  for (const [measurement, fields] of byMeasurement(qy.measures)) {
    const cols = fields.flatMap(({ field }, i) => {
      const f = (prefix: string) => q(plan.source === 'raw' ? field : `${prefix}_${field}`);
      return plan.source === 'raw'
        ? [
            `count(${f('')}) AS "n${i}"`,
            `min(${f('')}) AS "lo${i}"`,
            `mean(${f('')}) AS "avg${i}"`,
            `max(${f('')}) AS "hi${i}"`,
          ]
        : [
            `sum(${f('count')}) AS "n${i}"`,
            `min(${f('min')}) AS "lo${i}"`,
            `sum(${f('sum')}) AS "sum${i}"`,
            `max(${f('max')}) AS "hi${i}"`,
          ];
    });
    const rows = await influx.query<Record<string, number | null> & { time: Date }>(
      `SELECT ${cols.join(', ')} FROM ${q(n.db)}.${q(rp)}.${q(measurement)} WHERE ${where} GROUP BY time(${plan.stepMs}ms) fill(none)`,
    );
    fields.forEach(({ name }, i) => {
      series[name] = [];
      for (const r of rows) {
        const count = r[`n${i}`];
        if (!count) continue; // a bucket only other fields have values in
        const mean = plan.source === 'raw' ? r[`avg${i}`] : (r[`sum${i}`] ?? 0) / count;
        series[name].push({
          t: r.time.getTime(),
          n: count,
          min: r[`lo${i}`] as number,
          mean: mean as number,
          max: r[`hi${i}`] as number,
        });
      }
    });
  }
  return series;
}
