/**
 * The query string of `GET /api/machines/:id/history` turned into a store
 * query: measures by name, the range, and a step that keeps the answer
 * within MAX_HISTORY_BUCKETS.
 */
import { HISTORY_MEASURE_NAMES, MAX_HISTORY_BUCKETS } from '../contract/api.js';
import { FaultlineError } from '../errors.js';
import { type AggregateQuery, measureRef } from '../store/types.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Steps a default is picked from: the first that gives at most ~300 buckets. */
const NICE_STEPS_MS = [10, 30, 60, 300, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400].map(
  (s) => s * 1000,
);

/** Measures asked at once, at most (each is a query on the store). */
const MAX_MEASURES = 16;

const bad = (message: string) => new FaultlineError('FL_ERR_API_REQUEST', message);

/** ms of a step: `30s`, `5m`, `1h`, `1d` or a number of seconds. */
export function stepParam(v: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(v.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[(m[2] || 's') as keyof typeof UNIT_MS] : Number.NaN;
  if (!(ms >= 1000)) {
    throw bad(
      `step must be like 30s, 5m, 1h, 1d or seconds (at least 1 s), got ${JSON.stringify(v)}`,
    );
  }
  return Math.round(ms);
}

/**
 * The store query of a history request.
 * @param now ms
 * @throws FaultlineError FL_ERR_API_REQUEST for an unknown measure, an empty
 *   range, or more than MAX_HISTORY_BUCKETS buckets
 */
export function historyQuery(
  machine: string,
  q: { measure?: string; since?: number; until?: number; step?: string; sensor?: string },
  now: number,
): AggregateQuery {
  const names = [
    ...new Set(
      (q.measure ?? 'velocity_rms')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
  if (names.length === 0 || names.length > MAX_MEASURES) {
    throw bad(`measure needs 1 to ${MAX_MEASURES} comma-separated names, got ${names.length}`);
  }
  const measures: AggregateQuery['measures'] = {};
  for (const n of names) {
    const ref = measureRef(n);
    if (!ref) {
      throw bad(
        `unknown measure ${JSON.stringify(n)}; use ${HISTORY_MEASURE_NAMES.join(', ')} or prob.<class>`,
      );
    }
    measures[n] = ref;
  }
  const until = q.until ?? now;
  const since = q.since ?? until - 86_400_000;
  if (!(since < until)) {
    throw bad(
      `since (${new Date(since).toISOString()}) must be before until (${new Date(until).toISOString()})`,
    );
  }
  const range = until - since;
  const stepMs =
    q.step !== undefined
      ? stepParam(q.step)
      : (NICE_STEPS_MS.find((s) => range / s <= 300) ??
        Math.ceil(range / 300 / 86_400_000) * 86_400_000);
  const buckets = Math.ceil(range / stepMs);
  if (buckets > MAX_HISTORY_BUCKETS) {
    throw bad(
      `step ${q.step} over ${Math.round(range / 3_600_000)} h is ${buckets} buckets, more than ${MAX_HISTORY_BUCKETS}; use a step of at least ${Math.ceil(range / MAX_HISTORY_BUCKETS / 1000)}s or a shorter range`,
    );
  }
  return {
    machine,
    measures,
    since,
    until,
    stepMs,
    ...(q.sensor !== undefined ? { sensor: q.sensor } : {}),
  };
}
