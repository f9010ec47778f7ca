/**
 * Hand-off types of the diagnosis stage: what the per-window classifier hands
 * to the health state machine, and what the state machine hands to alerts and
 * the store (ARCHITECTURE.md: `Diagnosis` → `HealthChange`). What crosses a
 * boundary (HealthChange, Evidence, IsoZone, HealthState) is in src/contract.
 */
import type { Evidence } from '../contract/alert.js';
import type { IsoZone } from '../contract/health.js';

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
  /** The contract's Evidence: `prominence` is the same plain ratio the alerts carry. */
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
