/**
 * Hand-off types of the diagnosis stage: what the per-window classifier hands
 * to the health state machine, and what the state machine hands to alerts and
 * the store (ARCHITECTURE.md: `Diagnosis` → `HealthChange`).
 */

/** ISO 20816 vibration severity zone of a window's RMS velocity (A best … D worst). */
export type IsoZone = 'A' | 'B' | 'C' | 'D';

/** Ordered fault severities; the index is the severity rank (0 = ok). */
export const SEVERITIES = ['ok', 'watch', 'warning', 'alarm'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * Stream diagnostic states: something is wrong with the data, not (necessarily)
 * with the machine. They are never fault diagnoses.
 */
export const STREAM_STATES = ['silent', 'stream-errors', 'saturated', 'stream-mismatch'] as const;
export type StreamState = (typeof STREAM_STATES)[number];

/** Every state a machine's health can be in. */
export const HEALTH_STATES = [...SEVERITIES, ...STREAM_STATES] as const;
export type HealthState = Severity | StreamState;

/** Characteristic bearing/shaft frequencies a piece of evidence can point at. */
export const DEFECT_KINDS = ['BPFO', 'BPFI', 'BSF', 'FTF', '1X', '2X'] as const;
export type DefectKind = (typeof DEFECT_KINDS)[number];

/** Spectral evidence behind a diagnosis, e.g. an envelope-spectrum peak at BPFI. */
export interface Evidence {
  defect: DefectKind;
  /** Frequency of the peak, Hz. */
  frequencyHz: number;
  /** Peak height over the local spectral floor, dB (≥ 0). */
  prominence: number;
}

/** The classifier's verdict on one window of one machine. */
export interface WindowDiagnosis {
  /** End time of the window, ms since the Unix epoch (gateway clock). */
  t: number;
  /** Class probabilities, summing to ~1, keyed by operator-facing class name
   * (`normal`, `inner`, `outer`, `ball`), never data-set codes. */
  probs: Record<string, number>;
  /** argmax of `probs`. */
  faultClass: string;
  /** ISO 20816 zone of the window's RMS velocity. */
  isoZone: IsoZone;
  /** RMS velocity of the window, mm/s (10–1000 Hz band). */
  velocityRmsMmS?: number;
  /** Fraction of samples at the sensor's full scale (0–1); drives `saturated`. */
  clippedFraction?: number;
  evidence?: Evidence;
}

/** Per-interval link statistics of one machine's stream; drives `stream-errors`. */
export interface StreamStats {
  /** End of the interval, ms since the Unix epoch. */
  t: number;
  /** Frames received intact in the interval. */
  frames: number;
  /** Frames rejected by the CRC check in the interval. */
  crcErrors: number;
  /** Frames missing according to sequence numbers in the interval. */
  gaps: number;
}

/**
 * Whether one block of a sensor fitted the pipeline (sample rate, channel…);
 * drives `stream-mismatch`. The pipeline reports every block that does not
 * fit, and the first one that fits again after those.
 */
export interface StreamFit {
  /** Arrival of the block, ms since the Unix epoch (gateway clock). */
  t: number;
  /** Sensor id within the machine. */
  sensor: string;
  /** Why the block was dropped, for people; null when it fitted. */
  misfit: string | null;
}

/** A transition of one machine's health, emitted by the state machine. */
export interface HealthChange {
  machine: string;
  from: HealthState;
  to: HealthState;
  /** Time of the input that caused the change, ms since the Unix epoch. */
  t: number;
  /** Most likely fault location over the debounce window (`normal` when none). */
  faultClass: string;
  /** Mean fault probability (1 − p(normal)) over the debounce window, 0–1. */
  confidence: number;
  /** Human-readable cause, e.g. `fault p ≥ 0.70 in 3 of last 5 windows`. */
  reason: string;
}
