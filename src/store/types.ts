/**
 * The history store contract shared by the InfluxDB and the embedded
 * (SQLite) implementations, and the points they hold.
 */
import { type Alert, type Verdict, verdictSchema } from '../contract/alert.js';
import type { HealthState, IsoZone } from '../contract/health.js';
import { SEVERITIES } from '../contract/health.js';

/** Measurement names (InfluxDB measurements, SQLite `points.measurement`). */
export const MEASUREMENTS = {
  /** Health state per window/transition: state, severity, fault_class, confidence. */
  health: 'health',
  /** Class probabilities per window: one field per class. */
  probs: 'class_probs',
  /**
   * Per window: RMS acceleration (g), RMS velocity (mm/s), ISO zone (letter
   * and number), rpm, peak (g), crest factor, kurtosis, envelope evidence
   * scores. docs/history.md lists the fields.
   */
  vibration: 'vibration',
  /** Link statistics: frames, crc_errors, gaps, bytes. */
  ingest: 'ingest',
  /** Alerts (one point per alert; the full JSON in field `json`). */
  alerts: 'alerts',
  /** Acknowledgements (field `id` names the alert). */
  acks: 'alert_acks',
  /** Operator actions on a machine (audit): tag `kind` (shelve, unshelve), fields by, reason, until. */
  events: 'events',
} as const;

export type FieldValue = number | string | boolean;

/** One time-series point. Tags are indexed strings; fields are values. */
export interface HistoryPoint {
  measurement: string;
  /** ms since the Unix epoch (stored at ms precision). */
  time: number;
  /** Always site and machine; sensor where one sensor is meant. */
  tags: { site: string; machine: string; sensor?: string } & Record<string, string>;
  fields: Record<string, FieldValue>;
}

export interface AlertQuery {
  site?: string;
  machine?: string;
  /** Only alerts at or after this time, ms. */
  since?: number;
  /** Only alerts before this time, ms. */
  until?: number;
  /** Only alerts nobody acknowledged yet. */
  unacknowledged?: boolean;
  /** Most recent first; default 100. */
  limit?: number;
}

export interface HistoryQuery {
  measurement: string;
  /** From this time on, ms; default the last hour. */
  since?: number;
  /** At most this many points (the most recent); default 1000. */
  limit?: number;
}

/** A numeric field of a measurement: what a history query aggregates. */
export interface MeasureRef {
  measurement: string;
  field: string;
}

/**
 * The measures of the history API by name: where each is stored. A model
 * class's probability is `prob.<class>` (class_probs.<class>).
 */
export const HISTORY_MEASURES: Readonly<Record<string, MeasureRef>> = {
  velocity_rms: { measurement: MEASUREMENTS.vibration, field: 'velocity_rms_mm_s' },
  acceleration_rms: { measurement: MEASUREMENTS.vibration, field: 'rms_g' },
  peak: { measurement: MEASUREMENTS.vibration, field: 'peak_g' },
  crest_factor: { measurement: MEASUREMENTS.vibration, field: 'crest_factor' },
  kurtosis: { measurement: MEASUREMENTS.vibration, field: 'kurtosis' },
  iso_zone: { measurement: MEASUREMENTS.vibration, field: 'iso_zone_num' },
  rpm: { measurement: MEASUREMENTS.vibration, field: 'rpm' },
  evidence_score: { measurement: MEASUREMENTS.vibration, field: 'evidence_score' },
  evidence_bpfo: { measurement: MEASUREMENTS.vibration, field: 'evidence_bpfo' },
  evidence_bpfi: { measurement: MEASUREMENTS.vibration, field: 'evidence_bpfi' },
  evidence_bsf: { measurement: MEASUREMENTS.vibration, field: 'evidence_bsf' },
};

/** Where measure `name` is stored, or undefined for an unknown name. */
export function measureRef(name: string): MeasureRef | undefined {
  if (Object.hasOwn(HISTORY_MEASURES, name)) return HISTORY_MEASURES[name];
  const cls = /^prob\.(.+)$/.exec(name)?.[1];
  return cls === undefined ? undefined : { measurement: MEASUREMENTS.probs, field: cls };
}

/** Measurements the hourly rollup keeps (every numeric field of each). */
export const ROLLUP_MEASUREMENTS: readonly string[] = [
  MEASUREMENTS.vibration,
  MEASUREMENTS.probs,
  MEASUREMENTS.health,
  MEASUREMENTS.ingest,
];

/** One hour, ms: the rollup's bucket. */
export const HOUR_MS = 3_600_000;

/** min/mean/max over time buckets of one machine's measures (`HistoryStore.history`). */
export interface AggregateQuery {
  machine: string;
  /** Only this sensor's points; default all of the machine's. */
  sensor?: string;
  /** What to aggregate, by the name the answer uses for it. */
  measures: Record<string, MeasureRef>;
  /** From this time on (inclusive), ms. */
  since: number;
  /** Up to this time (exclusive), ms. */
  until: number;
  /**
   * Bucket width, ms (≥ 1). Buckets start at multiples of it since the
   * epoch, as InfluxDB's GROUP BY time() does, so both stores agree.
   */
  stepMs: number;
  /**
   * Read the raw windows or the hourly rollup. Default: the rollup when
   * `since` is older than the raw retention, else the raw windows.
   */
  source?: 'raw' | 'hourly';
}

/** One non-empty bucket of one measure. */
export interface AggregateBucket {
  /** Start of the bucket, ms. */
  t: number;
  /** Windows in it. */
  n: number;
  min: number;
  /** Mean over the windows (the rollup weighs each hour by its count). */
  mean: number;
  max: number;
}

export interface AggregateResult {
  source: 'raw' | 'hourly';
  /** The step used, ms: the rollup's is a whole number of hours (at least one). */
  stepMs: number;
  /** Start of the first bucket, ms (`since` rounded down to the step). */
  since: number;
  until: number;
  /** Per measure name, its non-empty buckets, oldest first. */
  series: Record<string, AggregateBucket[]>;
}

export interface StoreStats {
  /** Points waiting in the store-and-forward queue (0 for SQLite). */
  queued: number;
  /** Bytes of the queue on disk. */
  queuedBytes: number;
  /** Alerts and acks waiting in their own queue (InfluxDB; 0 for SQLite). */
  queuedAlerts: number;
  /** Points written straight to the database. */
  written: number;
  /** Points written from the queue after an outage. */
  flushed: number;
  /** Points lost to the queue bound or to a failed append (ENOSPC…). */
  dropped: number;
  /** Points the database refused (e.g. field type conflict): not retried. */
  rejected: number;
  /** Latest error message, or null. */
  lastError: string | null;
  /** Whether the last exchange with the database succeeded. */
  connected: boolean;
}

/** Long-lived history of points, alerts and acknowledgements. */
export interface HistoryStore {
  /** Stores points in time order of arrival; never rejects for an unreachable database. */
  writePoints(points: HistoryPoint[]): Promise<void>;
  writeAlert(alert: Alert): Promise<void>;
  /** Records an operator acknowledgement of alert `id`, with the operator's verdict when given. */
  ack(id: string, by: string, comment?: string, verdict?: Verdict): Promise<void>;
  /** Alerts, most recent first, with `acknowledged` filled in. */
  queryAlerts(q?: AlertQuery): Promise<Alert[]>;
  /** Recent points of one machine in one measurement, oldest first. */
  recentHistory(machine: string, q: HistoryQuery): Promise<HistoryPoint[]>;
  /** min/mean/max per time bucket of measures of one machine, from the raw windows or the hourly rollup. */
  history(q: AggregateQuery): Promise<AggregateResult>;
  stats(): StoreStats;
  close(): Promise<void>;
}

interface Where {
  site: string;
  machine: string;
  sensor?: string;
}

function tags(w: Where): HistoryPoint['tags'] {
  return w.sensor === undefined
    ? { site: w.site, machine: w.machine }
    : { site: w.site, machine: w.machine, sensor: w.sensor };
}

/** Health point: `severity` is the rank 0–3 of ok…alarm (−1 for stream states). */
export function healthPoint(
  w: Where,
  time: number,
  h: { state: HealthState; faultClass: string; confidence: number },
): HistoryPoint {
  return {
    measurement: MEASUREMENTS.health,
    time,
    tags: tags(w),
    fields: {
      state: h.state,
      severity: SEVERITIES.indexOf(h.state as (typeof SEVERITIES)[number]),
      fault_class: h.faultClass,
      confidence: h.confidence,
    },
  };
}

/** An operator action on a machine, for the audit trail (kind: shelve, unshelve…). */
export function eventPoint(
  w: Where,
  time: number,
  kind: string,
  fields: Record<string, string>,
): HistoryPoint {
  return { measurement: MEASUREMENTS.events, time, tags: { ...tags(w), kind }, fields };
}

/** Class-probability point: one field per class name. */
export function probsPoint(w: Where, time: number, probs: Record<string, number>): HistoryPoint {
  return { measurement: MEASUREMENTS.probs, time, tags: tags(w), fields: { ...probs } };
}

/** ISO zone as a number (A 1 … D 4): min/mean/max over time need a number, not a letter. */
export const ISO_ZONE_NUMBER: Record<IsoZone, number> = { A: 1, B: 2, C: 3, D: 4 };

/** What a window's vibration point is made of (the optional parts are left out when unknown). */
export interface VibrationValues {
  /** Acceleration RMS, g. */
  rmsG: number;
  /** Velocity RMS, mm/s. */
  velocityRmsMmS: number;
  isoZone: IsoZone;
  rpm?: number;
  /** Peak |acceleration − mean|, g. */
  peakG?: number;
  crestFactor?: number;
  kurtosis?: number;
  /** Envelope evidence: the winning line's score and every line's score (plain ratios). */
  evidence?: { score?: number; scores?: Partial<Record<'BPFO' | 'BPFI' | 'BSF', number>> };
}

/**
 * Vibration point: the window's features. Field names are an interface
 * (dashboards and scripts query them): existing ones never change, new ones
 * are added.
 */
export function vibrationPoint(w: Where, time: number, v: VibrationValues): HistoryPoint {
  const fields: Record<string, FieldValue> = {
    rms_g: v.rmsG,
    velocity_rms_mm_s: v.velocityRmsMmS,
    iso_zone: v.isoZone,
    iso_zone_num: ISO_ZONE_NUMBER[v.isoZone],
  };
  const put = (name: string, x: number | undefined) => {
    // a non-finite value would poison the point (assertPoint) and lose the whole window
    if (x !== undefined && Number.isFinite(x)) fields[name] = x;
  };
  put('rpm', v.rpm);
  put('peak_g', v.peakG);
  put('crest_factor', v.crestFactor);
  put('kurtosis', v.kurtosis);
  put('evidence_score', v.evidence?.score);
  put('evidence_bpfo', v.evidence?.scores?.BPFO);
  put('evidence_bpfi', v.evidence?.scores?.BPFI);
  put('evidence_bsf', v.evidence?.scores?.BSF);
  return { measurement: MEASUREMENTS.vibration, time, tags: tags(w), fields };
}

/** Ingest statistics point for an interval ending at `time`. */
export function ingestPoint(
  w: Where,
  time: number,
  s: { frames: number; crcErrors: number; gaps: number; bytes?: number },
): HistoryPoint {
  const fields: Record<string, FieldValue> = {
    frames: s.frames,
    crc_errors: s.crcErrors,
    gaps: s.gaps,
  };
  if (s.bytes !== undefined) fields.bytes = s.bytes;
  return { measurement: MEASUREMENTS.ingest, time, tags: tags(w), fields };
}

/** Checks a point enough that a bad one cannot poison a queue. */
export function assertPoint(p: HistoryPoint): void {
  const ok =
    p !== null &&
    typeof p === 'object' &&
    typeof p.measurement === 'string' &&
    p.measurement.length > 0 &&
    Number.isFinite(p.time) &&
    typeof p.tags?.site === 'string' &&
    typeof p.tags?.machine === 'string' &&
    p.fields !== null &&
    typeof p.fields === 'object' &&
    Object.keys(p.fields).length > 0 &&
    Object.values(p.fields).every(
      (v) => typeof v === 'string' || typeof v === 'boolean' || Number.isFinite(v),
    );
  if (!ok) {
    throw new TypeError(
      `history point is malformed (measurement ${String(p?.measurement)}, time ${String(p?.time)}): it needs a measurement, a finite ms time, site and machine tags and ≥ 1 finite field`,
    );
  }
}

/**
 * A verdict as a store kept it (JSON text), or undefined for none or one
 * that no longer parses: a damaged row still shows its ack, without a verdict.
 */
export function storedVerdict(json: string | null | undefined): Verdict | undefined {
  if (!json) return undefined;
  try {
    const r = verdictSchema.safeParse(JSON.parse(json));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
