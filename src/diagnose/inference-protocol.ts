/**
 * What the inference pool (./inference-pool.ts) and its workers
 * (./inference-worker.ts) say to each other: one window's task and result,
 * and the messages both ways. Kept apart so the worker imports the protocol,
 * not the pool.
 */
import type { IsoZone } from '../contract/health.js';
import type {
  BearingGeometry,
  EnvelopeView,
  RpmSource,
  SpectrogramView,
  WindowEvidence,
} from '../contract/machine.js';
import type { BackendName } from '../model/backend.js';

/** What the worker does with one window besides the CNN. */
export interface WindowTask {
  /** Speed known without the signal (frame or config), rpm, or null. */
  rpm: number | null;
  rpmSource: RpmSource;
  /** Compute the envelope evidence for this window. */
  evidence: boolean;
  /**
   * Compute velocity RMS and ISO zone (a 16384-point FFT at 12 kHz) for this
   * window; default true. When false the result omits both (the caller
   * carries its last values); RMS, crest factor and kurtosis always come.
   */
  velocity?: boolean;
  /** Return a coarse spectrogram (≤ 32 × 32) for display. */
  spectrogram: boolean;
  /** Return a coarse envelope spectrum (≤ 256 bins) for display; needs `evidence`. */
  envelope?: boolean;
  bearing: BearingGeometry;
  /**
   * False when `bearing` is only the gateway's default (no bearing in the
   * config): a model trained on one bearing then reads its own.
   */
  bearingConfigured?: boolean;
  iso: { group: 1 | 2; foundation: 'rigid' | 'flexible' };
  /** Sensor full scale, g: samples at ≥ 99.9 % of it count as clipped. */
  fullScaleG: number;
}

/** What comes back for one window. */
export interface WindowResult {
  ok: boolean;
  /** FaultlineError code when !ok. */
  code?: string;
  message?: string;
  /** Softmax outputs in the model's class order. */
  probs?: number[];
  /** A multi-task model's auxiliary heads: each head's softmax in its `classes` order, by head name. */
  heads?: Record<string, number[]>;
  rpm: number | null;
  rpmSource: RpmSource;
  rmsG?: number;
  peakG?: number;
  velocityRmsMmS?: number;
  isoZone?: IsoZone;
  crestFactor?: number;
  kurtosis?: number;
  clippedFraction?: number;
  /** Present only when the task asked for evidence. */
  evidence?: WindowEvidence;
  spectrogram?: SpectrogramView;
  /** Present only when the task asked for it and computed evidence. */
  envelope?: EnvelopeView;
}

/** Worker time spent per stage on one batch, ms. */
export interface BatchTiming {
  frontEndMs: number;
  cnnMs: number;
  evidenceMs: number;
  featuresMs: number;
}

export type WorkerRequest =
  | { type: 'init'; id: number; backend?: BackendName }
  | { type: 'load'; id: number; key: string; dir: string }
  | { type: 'unload'; id: number; key: string }
  /** Load a model folder (proving its shapes) and dispose of it at once. */
  | { type: 'probe'; id: number; dir: string }
  | {
      type: 'batch';
      id: number;
      key: string;
      windows: Float32Array[];
      /** Per window: a longer stretch ending with it for the evidence, or null. */
      histories: (Float32Array | null)[];
      tasks: WindowTask[];
    };

export type WorkerReply =
  | { type: 'ok'; id: number; backend?: BackendName }
  | {
      type: 'result';
      id: number;
      results: WindowResult[];
      timing: BatchTiming;
      windows: Float32Array[];
    }
  | { type: 'error'; id: number; code?: string; message: string; windows?: Float32Array[] };
