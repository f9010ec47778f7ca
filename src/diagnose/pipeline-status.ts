/**
 * What the diagnosis pipeline reports (./pipeline.ts): its events, why
 * blocks and windows were dropped, and the status of machines, sensors and
 * the pipeline as a whole.
 */
import type { HealthChange, HealthState } from '../contract/health.js';
import type { MachineDiagnosis, RpmSource } from '../contract/machine.js';
import type { HealthSnapshot } from './health.js';
import type { PoolStats } from './inference-pool.js';

/** Why something was dropped. */
export type DropReason =
  | 'unknown-sensor'
  | 'refused'
  | 'not-running'
  /** The block lacks the sensor's channel (or is malformed). */
  | 'bad-block'
  /** The block's sample rate is not finite or cannot be resampled to the model's. */
  | 'bad-rate'
  /** The sample rate changed mid-stream (the stream restarts at the new rate with the next block). */
  | 'rate-changed'
  | 'queue-full'
  | 'speed-unknown'
  | 'error';

export interface WindowDropped {
  site: string;
  machine: string;
  sensor: string;
  reason: DropReason;
  /** 'block' for a whole block refused before windowing, else 'window'. */
  what: 'block' | 'window';
  message?: string;
}

export interface SensorStatus {
  id: string;
  /** 'running', or 'refused' (model mismatch / model not loadable; see error). */
  state: 'running' | 'refused';
  error?: string;
  sampleRate: number;
  blocks: number;
  samples: number;
  /** Ingest rate over the last tick, samples/s. */
  samplesPerS: number;
  windowsIn: number;
  windowsOut: number;
  dropped: number;
  /** Times a sequence gap restarted the windowing. */
  gapRestarts: number;
  lastBlockAt: number | null;
  /** Totals noted through noteStream. */
  stream: { frames: number; crcErrors: number; gaps: number };
  /** Whole blocks dropped, by reason (a part of `dropped`). */
  droppedBlocks: Partial<Record<DropReason, number>>;
  /** Sample rate of the latest block diagnosed, Hz (null before the first). */
  streamRate: number | null;
  /** The resampler bringing the stream to the model's rate (its design), or null: taken as it is. */
  resampling: string | null;
  /** While the latest blocks do not fit: since when (ms), how many, and why the latest did not. */
  misfit: { since: number; blocks: number; reason: string } | null;
}

export interface MachineStatus {
  site: string;
  machine: string;
  state: HealthState;
  health: HealthSnapshot;
  lastDiagnosis: MachineDiagnosis | null;
  rpm: number | null;
  rpmSource: RpmSource;
  model: { dir: string; version: string; classes: string[] } | null;
  sensors: SensorStatus[];
}

export interface PipelineStats {
  backend: string;
  workers: number;
  windowsIn: number;
  windowsOut: number;
  dropped: {
    blocks: Partial<Record<DropReason, number>>;
    windows: Partial<Record<DropReason, number>>;
  };
  /** Windows queued / in workers / awaiting their turn (per-sensor order). */
  queueDepth: number;
  inFlight: number;
  reorderHeld: number;
  batches: number;
  meanBatchSize: number;
  maxBatchSize: number;
  batchSizes: Record<string, number>;
  sealedFull: number;
  sealedTimer: number;
  maxFormWaitMs: number;
  maxDispatchWaitMs: number;
  /** Last-sample arrival → diagnosis, over the last 4096 diagnoses, ms. */
  latencyMs: { p50: number; p99: number; max: number; n: number };
  /** Worker time per window by stage, ms. */
  perWindowMs: PoolStats['perWindowMs'];
  /** Ingest rate per sensor (`site/machine/sensor`), samples/s over the last tick. */
  ingestSamplesPerS: Record<string, number>;
}

/** The pipeline's events and their arguments (Node's `EventEmitter<T>` map). */
/**
 * A window handed to the model, its samples copied (the original goes to a
 * worker): what the gateway keeps to label when an operator gives a verdict.
 */
export interface WindowKept {
  site: string;
  machine: string;
  sensor: string;
  /** Time of the window's last sample on the sensor's clock, ms since the epoch. */
  t: number;
  /** When the block holding its last sample arrived (the clock of health changes and alerts), ms. */
  arrivedAt: number;
  /** The model's sample rate, Hz (the samples are resampled to it). */
  sampleRate: number;
  /** The model's window, g. */
  samples: Float32Array;
  /** Shaft speed the window was diagnosed at (frame or configured), rpm; absent when estimated. */
  rpm?: number;
}

export interface DiagnosisPipelineEvents {
  /** One window diagnosed, in window order per sensor. */
  diagnosis: [MachineDiagnosis];
  /** A window queued for inference (emitted only while someone listens: it costs a copy). */
  window: [WindowKept];
  /** A machine's health state changed. */
  health: [HealthChange & { site: string }];
  /** A block or window was dropped, and why (also counted in stats()). */
  'window-dropped': [WindowDropped];
  /** A failure outside the data (emitted only while someone listens). */
  error: [Error];
}
