/**
 * The hand-off types of the data path, defined once and imported by both the
 * producing and the consuming stage (ARCHITECTURE.md: "one type per hand-off").
 */

/** Sample encodings a sensor node may send (see firmware-bridge/PROTOCOL.md). */
export type SampleFormat = 'int16' | 'int32' | 'float32';

/**
 * A block of samples as it leaves ingestion: link-agnostic (serial or MQTT).
 * `samples` are in g, channel-interleaved: `[s0c0, s0c1, …, s1c0, …]`.
 */
export interface SampleBlock {
  /** Sensor id from the frame header (unique within a site). */
  sensorId: number;
  /** Frame sequence number (uint32, wraps). */
  seq: number;
  /** Timestamp of the first sample, µs since the Unix epoch (sensor clock). */
  t0Us: bigint;
  /** Samples per second per channel, Hz. */
  sampleRate: number;
  /** Number of interleaved channels (≥ 1). */
  channels: number;
  /** Samples in g, channel-interleaved, length = frames × channels. */
  samples: Float32Array;
  /** Shaft speed in rpm reported by the node, or undefined when unknown. */
  rpm?: number;
  /** Sequence numbers missing just before this block (0 when contiguous). */
  gap: number;
}

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

/** Geometry of a rolling-element bearing, from which its defect frequencies follow (./dsp/bearing.ts). */
export interface BearingGeometry {
  /** Number of rolling elements. */
  balls: number;
  /** Rolling-element diameter d (any length unit, the same as pitchDiameter). */
  ballDiameter: number;
  /** Pitch diameter D (same unit as ballDiameter). */
  pitchDiameter: number;
  /** Contact angle φ, degrees. */
  contactAngleDeg: number;
}
