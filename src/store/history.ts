/**
 * What both stores share in answering a history query: which data to read
 * (raw windows or the hourly rollup) and how buckets line up.
 */
import { type AggregateQuery, HOUR_MS } from './types.js';

/** How a query will be answered: source, step and the bucket-aligned range. */
export interface HistoryPlan {
  source: 'raw' | 'hourly';
  stepMs: number;
  /** `since` rounded down to a bucket start. */
  since: number;
  until: number;
}

/**
 * Chooses the source and the step. The raw windows are gone beyond their
 * retention, so a range reaching past it reads the rollup, whose step is a
 * whole number of hours. `since` is rounded down to the step so the first
 * bucket is whole in both stores.
 * @param rawRetentionMs how long raw windows are kept (Infinity: for ever)
 * @param now ms
 */
export function planHistory(q: AggregateQuery, rawRetentionMs: number, now: number): HistoryPlan {
  if (!(q.stepMs >= 1) || !Number.isFinite(q.stepMs)) {
    throw new TypeError(`history step must be a finite number of ms ≥ 1, got ${q.stepMs}`);
  }
  if (!Number.isFinite(q.since) || !Number.isFinite(q.until)) {
    throw new TypeError(`history since/until must be finite ms, got ${q.since}, ${q.until}`);
  }
  const source = q.source ?? (q.since < now - rawRetentionMs ? 'hourly' : 'raw');
  const step = Math.trunc(q.stepMs);
  const stepMs = source === 'hourly' ? Math.max(1, Math.ceil(step / HOUR_MS)) * HOUR_MS : step;
  return { source, stepMs, since: Math.floor(q.since / stepMs) * stepMs, until: q.until };
}

/** Measures grouped by measurement (one query per measurement), keeping their names. */
export function byMeasurement(
  measures: AggregateQuery['measures'],
): Map<string, { name: string; field: string }[]> {
  const out = new Map<string, { name: string; field: string }[]>();
  for (const [name, m] of Object.entries(measures)) {
    const list = out.get(m.measurement) ?? [];
    list.push({ name, field: m.field });
    out.set(m.measurement, list);
  }
  return out;
}
