/**
 * What the trend view and the condition report show, as plain data: the
 * ranges, the measures, the history URL, the answer aligned for uPlot, the
 * alert and model-change markers, and the CSV of what is shown. No DOM here,
 * so the tests run it in Node.
 */
import type { HistoryAnswer, PromotionRecord } from '../../../src/contract/api.js';
import type { Alert } from './types.js';

export type { HistoryAnswer, PromotionRecord };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The range buttons: hours, a day, a week, a month (ms before now). */
export const RANGES = [
  { id: '1h', label: '1 h', ms: HOUR },
  { id: '24h', label: '24 h', ms: DAY },
  { id: '7d', label: '7 d', ms: 7 * DAY },
  { id: '30d', label: '30 d', ms: 30 * DAY },
] as const;
export type RangeId = (typeof RANGES)[number]['id'];

/** A measure of `GET /api/machines/:id/history` as the console labels it. */
export interface TrendMeasure {
  /** The API's name (`velocity_rms`, `prob.<class>`…). */
  id: string;
  label: string;
  /** Unit for axis and legend ('' for ratios). */
  unit: string;
  digits: number;
  /** Measures of one group share a chart (the class probabilities). */
  group: string;
}

/** The measures a machine always has (docs/history.md); `prob.<class>` come from its model. */
export const BASE_MEASURES: readonly TrendMeasure[] = [
  { id: 'velocity_rms', label: 'Velocity RMS', unit: 'mm/s', digits: 2, group: 'velocity_rms' },
  {
    id: 'acceleration_rms',
    label: 'Acceleration RMS',
    unit: 'g',
    digits: 3,
    group: 'acceleration_rms',
  },
  { id: 'peak', label: 'Peak', unit: 'g', digits: 3, group: 'peak' },
  { id: 'crest_factor', label: 'Crest factor', unit: '', digits: 2, group: 'crest_factor' },
  { id: 'kurtosis', label: 'Kurtosis', unit: '', digits: 2, group: 'kurtosis' },
  { id: 'iso_zone', label: 'ISO zone', unit: '', digits: 2, group: 'iso_zone' },
];

/** Group id of the class probabilities (one chart, one band per class). */
export const PROB_GROUP = 'probs';

/** `prob.<class>` measures for a model's classes. */
export function probMeasures(classes: readonly string[]): TrendMeasure[] {
  return classes.map((c) => ({
    id: `prob.${c}`,
    label: `p(${c})`,
    unit: '',
    digits: 3,
    group: PROB_GROUP,
  }));
}

/** Human title of a chart group. */
export function groupTitle(group: string, measures: readonly TrendMeasure[]): string {
  if (group === PROB_GROUP) return 'Fault probabilities';
  const m = measures.find((x) => x.group === group);
  return m ? `${m.label}${m.unit ? ` (${m.unit})` : ''}` : group;
}

/** A time window, ms since the epoch, `until` exclusive. */
export interface Window {
  since: number;
  until: number;
}

/** The window of a range button ending at `now`. */
export function rangeWindow(id: RangeId, now: number): Window {
  const r = RANGES.find((x) => x.id === id) ?? RANGES[1];
  return { since: now - r.ms, until: now };
}

/**
 * `GET /api/machines/:id/history` for `measures` over `w`; without `step`
 * the gateway picks one giving at most about 300 buckets, so a narrower
 * (zoomed) window comes back at a finer step.
 */
export function historyPath(
  machine: string,
  measures: readonly string[],
  w: Window,
  step?: string,
): string {
  const q = new URLSearchParams({
    measure: measures.join(','),
    since: String(Math.floor(w.since)),
    until: String(Math.ceil(w.until)),
  });
  if (step) q.set('step', step);
  return `/api/machines/${encodeURIComponent(machine)}/history?${q.toString().replaceAll('%2C', ',')}`;
}

/** `GET /api/alerts` of one machine over `w`. */
export function alertsPath(machine: string, w: Window, limit = 1000): string {
  const q = new URLSearchParams({
    machine,
    since: String(Math.floor(w.since)),
    until: String(Math.ceil(w.until)),
    limit: String(limit),
  });
  return `/api/alerts?${q}`;
}

/** min, mean and max columns of one measure, aligned on the chart's x (null: empty bucket). */
export interface BandColumns {
  min: (number | null)[];
  mean: (number | null)[];
  max: (number | null)[];
}

/**
 * The answer's buckets of `measures` on one time axis (the union of their
 * bucket starts, in s as uPlot wants), each measure's min/mean/max with
 * null where its bucket was empty.
 */
export function alignBands(
  a: Pick<HistoryAnswer, 'series'>,
  measures: readonly string[],
): { x: number[]; cols: Record<string, BandColumns> } {
  const ts = new Set<number>();
  for (const m of measures) for (const b of a.series[m] ?? []) ts.add(b.t);
  const times = [...ts].sort((p, q) => p - q);
  const at = new Map(times.map((t, i) => [t, i]));
  const cols: Record<string, BandColumns> = {};
  for (const m of measures) {
    const c: BandColumns = {
      min: times.map(() => null),
      mean: times.map(() => null),
      max: times.map(() => null),
    };
    for (const b of a.series[m] ?? []) {
      const i = at.get(b.t) as number;
      c.min[i] = b.min;
      c.mean[i] = b.mean;
      c.max[i] = b.max;
    }
    cols[m] = c;
  }
  return { x: times.map((t) => t / 1000), cols };
}

/** Buckets of the answer over all `measures`. */
export function bucketCount(a: Pick<HistoryAnswer, 'series'>, measures: readonly string[]): number {
  return measures.reduce((n, m) => n + (a.series[m]?.length ?? 0), 0);
}

/** A mark on the time axis: an alert (with its state) or a model change. */
export interface TimeMarker {
  /** ms since the epoch. */
  t: number;
  kind: 'alert' | 'model';
  /** Short text on the mark. */
  label: string;
  /** Hover text: what happened, when, why. */
  title: string;
  /** The state an alert entered (colour). */
  state?: string;
}

/** Alerts and hand promotions of the model inside `w`, oldest first. */
export function timeMarkers(
  alerts: readonly Alert[],
  audit: readonly PromotionRecord[],
  w: Window,
): TimeMarker[] {
  const out: TimeMarker[] = [];
  for (const a of alerts) {
    const t = Date.parse(a.time);
    if (!(t >= w.since && t < w.until)) continue;
    const ack = a.acknowledged ? ` (acknowledged by ${a.acknowledged.by})` : '';
    out.push({
      t,
      kind: 'alert',
      label: a.state,
      state: a.state,
      title: `Alert ${a.time}: ${a.previousState ? `${a.previousState} → ` : ''}${a.state}, ${a.faultClass} — ${a.reason}${ack}`,
    });
  }
  for (const p of audit) {
    const t = Date.parse(p.at);
    if (!(t >= w.since && t < w.until)) continue;
    out.push({
      t,
      kind: 'model',
      label: `model ${p.version}`,
      title: `Model ${p.from ? `${p.from} → ` : ''}${p.version} promoted by ${p.by} at ${p.at}${p.forced ? ' (forced)' : ''}${p.reason ? `: ${p.reason}` : ''}`,
    });
  }
  return out.sort((p, q) => p.t - q.t);
}

/** A CSV field: quoted when it holds a comma, quote or line break. */
function field(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * The CSV of what is shown: one row per non-empty bucket of each shown
 * measure, `time,measure,min,mean,max` (time ISO 8601 UTC, the bucket start),
 * measures in the order given, oldest bucket first; CRLF line ends (RFC 4180).
 */
export function historyCsv(a: Pick<HistoryAnswer, 'series'>, measures: readonly string[]): string {
  const rows = ['time,measure,min,mean,max'];
  for (const m of measures) {
    for (const b of a.series[m] ?? []) {
      rows.push([new Date(b.t).toISOString(), m, b.min, b.mean, b.max].map(field).join(','));
    }
  }
  return `${rows.join('\r\n')}\r\n`;
}

/** `pump-1_2026-01-01T00-00Z_2026-01-08T00-00Z.csv`: the machine and the window, safe as a file name. */
export function csvFileName(machine: string, w: Window): string {
  const t = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace(':', '-');
  return `${machine.replace(/[^\w.-]+/g, '_')}_${t(w.since)}Z_${t(w.until)}Z.csv`;
}

/** `7 d`, `36 h`, `45 min`: the length of a window. */
export function spanLabel(ms: number): string {
  if (ms >= 2 * DAY) return `${+(ms / DAY).toFixed(1)} d`;
  if (ms >= 2 * HOUR) return `${+(ms / HOUR).toFixed(1)} h`;
  return `${Math.max(1, Math.round(ms / 60_000))} min`;
}

/** `5 min`, `1 h`, `1 d`: a step. */
export function stepLabel(ms: number): string {
  if (ms % DAY === 0) return `${ms / DAY} d`;
  if (ms % HOUR === 0) return `${ms / HOUR} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
