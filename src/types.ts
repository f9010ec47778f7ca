/**
 * The hand-off types of the data path, defined once and imported by both the
 * producing and the consuming stage (ARCHITECTURE.md: "one type per hand-off").
 */
import type { BearingGeometry } from './contract/machine.js';

/** One recorded signal (single channel) with its labels, from any data source. */
export interface Recording {
  /** Stable id, e.g. `cwru:105` or `byo:pump3/run1.wav`. */
  id: string;
  /** Class label as the data set names it (e.g. `IR007`, `normal`). */
  label: string;
  /** Operating condition / domain, e.g. `load0`, `1200rpm`, `pumpA`. */
  domain: string;
  /** Samples per second, Hz (after any resampling). */
  sampleRate: number;
  /** Single-channel samples (acceleration, g where known). */
  samples: Float32Array;
  /** Shaft speed in rpm when known. */
  rpm?: number;
  /**
   * Geometry of the monitored bearing when known (a manifest's `bearing`
   * designation or its `n_balls`, `ball_d`, `pitch_d`, `contact_angle_deg`).
   */
  bearing?: BearingGeometry;
  /** Free-form provenance: source file, original rate, resampling applied… */
  meta: Record<string, string | number | boolean>;
}

/** A fixed-length slice of a recording. */
export interface SignalWindow {
  recordingId: string;
  /** Index of the window's first sample in the recording. */
  start: number;
  samples: Float32Array;
  sampleRate: number;
  label?: string;
  domain?: string;
  rpm?: number;
  /** The recording's bearing, when known. */
  bearing?: BearingGeometry;
}

/** A magnitude spectrogram, row-major `[freq, time]` (freq-major). */
export interface Spectrogram {
  /** length = freqBins × frames; `data[f * frames + t]`. */
  data: Float32Array;
  freqBins: number;
  frames: number;
}
