/**
 * Recordings → per-domain train/val/test input sets, the data preparation
 * shared by `faultline train`, `adapt` and `eval`. Splits are time-ordered
 * inside each recording (src/data/windows.ts), so no sample of a test window
 * was seen in training.
 */
import { detectDataset, loadDataset } from '../data/dataset.js';
import { type SplitFractions, sliceWindows, splitRanges, splitRecording } from '../data/windows.js';
import {
  DEFAULT_ANALYSIS_RATE,
  type FrontEnd,
  type FrontEndConfig,
  type FrontEndInput,
  recordingWindows,
} from '../dsp/frontend.js';
import { LEVEL_SPEED_POWER } from '../dsp/order-lines.js';
import { estimateShaftSpeed } from '../dsp/speed.js';
import { FaultlineError, isFaultlineError } from '../errors.js';
import type { Recording, SignalWindow } from '../types.js';
import { buildInputs, type InputSet } from './inputs.js';
import { readsLevels } from './level.js';

/** The 9 CWRU fault classes of the cross-load protocol (normal exists at 0 HP only). */
export const CWRU_FAULT_CLASSES = [
  'IR007',
  'IR014',
  'IR021',
  'B007',
  'B014',
  'B021',
  'OR007',
  'OR014',
  'OR021',
];

/** Default split of each recording: 70 % train, 15 % validation, 15 % test, in time order. */
export const DEFAULT_FRACTIONS: SplitFractions = { train: 0.7, val: 0.15, test: 0.15 };

/**
 * Default front end for CWRU-like 12 kHz data: 2048-sample windows (0.17 s,
 * ≈5 shaft turns at 1797 rpm, ≈28 inner-race impacts), 256-point STFT frames
 * in 64 bands × 32 frames, dB + z-score.
 */
export const DEFAULT_FRONT_END: Omit<Partial<FrontEndConfig>, 'stft'> & {
  stft: { nfft: number; freqBins: number; frames: number };
} = {
  sampleRate: 12000,
  windowLength: 2048,
  hop: 512,
  mode: 'time',
  stft: { nfft: 256, freqBins: 64, frames: 32 },
};

/**
 * The front end `train`, `eval` and the simulator model start from
 * (version 2, physical units; src/dsp/frontend.ts): order mode by default —
 * envelopes of 4 resonance bands, 4-revolution windows, any speed from 300
 * to 6,000 rpm — or time mode (the version-1 spectrogram, window in
 * seconds). `sampleRate` is the analysis rate every recording is brought to,
 * not the data's own rate.
 */
export function defaultFrontEnd(
  mode: 'time' | 'order' = 'order',
  sampleRate = DEFAULT_ANALYSIS_RATE,
): FrontEndInput {
  return { version: 2, mode, sampleRate };
}

export interface LoadedData {
  kind: 'cwru' | 'byo';
  recordings: Recording[];
}

/**
 * Loads a data folder; `labelColumn` (bring-your-own only) takes the labels
 * from another manifest column. The manifest is parsed once, by
 * src/data/byo.ts (column names without case, comments, an empty label a row
 * error): there is no second reading of it here.
 * @throws FaultlineError FL_ERR_DATASET_OPTION for a label column on a CWRU folder,
 *   FL_ERR_DATASET_* from the loaders
 */
export async function loadLabelledData(
  dir: string,
  options: { labelColumn?: string; targetRate?: number } = {},
): Promise<LoadedData> {
  const kind = await detectDataset(dir);
  const recordings = await loadDataset(dir, {
    targetRate: options.targetRate,
    labelColumn: options.labelColumn,
  });
  return { kind, recordings };
}

/** Classes present in each domain, sorted. */
export function classesByDomain(recs: readonly Recording[]): Record<string, string[]> {
  const m: Record<string, Set<string>> = {};
  for (const r of recs) (m[r.domain] ??= new Set()).add(r.label);
  return Object.fromEntries(Object.entries(m).map(([d, s]) => [d, [...s].sort()]));
}

/**
 * Extra training windows of the same recordings, each cut and mapped as if
 * the shaft turned `k` times as fast (order mode only). Every shaft-locked
 * line then sits at 1/k of its order: the model learns a defect's line
 * pattern (harmonics, 1× sidebands) rather than the one order where the
 * training bearing put it, so it reads another bearing (whose BPFO/BPFI lie
 * elsewhere) and a speed that is a few per cent off.
 */
export interface SpeedAugment {
  speedFactors: readonly number[];
}

/**
 * ±15 %: wide enough to cover the spread of BPFO and BPFI orders between
 * common deep-groove bearings of one size class, narrow enough that one
 * bearing's outer-race order never lands on another's inner-race order
 * (their ratio is 1.3–1.6). Measured on development data (simulated rigs
 * B and C, seeds 8300 and 8400, eval seeds 1–2, dann-im): fault location
 * over six cross-speed/cross-rig tasks 84.8 % → 97.7 % (worst 12.7 → 89.3 %),
 * source-only 46.6 → 94.0 %.
 */
export const DEFAULT_SPEED_AUGMENT: readonly number[] = Object.freeze([0.87, 1.15]);

/**
 * The speed factors a training run uses: `auto` is DEFAULT_SPEED_AUGMENT for
 * an order-mode front end on shaft orders only, and none otherwise. Time
 * mode reads Hz, not orders; fault axes already put each defect's lines on
 * fixed rows from the bearing's geometry, so they need no help to read
 * another bearing (and were not measured with it).
 */
export function speedAugmentFor(
  config: FrontEndConfig,
  choice: readonly number[] | 'auto' = 'auto',
): number[] {
  if (config.mode !== 'order') return [];
  if (choice !== 'auto') return [...choice];
  return config.lines?.axes.every((a) => a === 'shaft') ? [...DEFAULT_SPEED_AUGMENT] : [];
}

export interface DomainSplits {
  /** Training windows: the recordings' own first, then any speed-shifted copies. */
  train: InputSet;
  /** How many of `train`'s windows are the recordings' own (not speed-shifted). */
  plainTrain: number;
  val: InputSet;
  test: InputSet;
  recordings: string[];
}

/**
 * Windows of the recordings of `domains` whose label is in `classes`,
 * time-split and run through the front end. Labels outside `classes` are dropped.
 * @throws FaultlineError FL_ERR_DATASET_EMPTY when nothing is left
 */
export function prepareDomain(
  recs: readonly Recording[],
  domains: readonly string[],
  classes: readonly string[],
  frontEnd: FrontEnd,
  fractions: SplitFractions = DEFAULT_FRACTIONS,
  augment?: SpeedAugment,
): DomainSplits {
  const picked = recs.filter((r) => domains.includes(r.domain) && classes.includes(r.label));
  if (picked.length === 0) {
    const known = [...new Set(recs.map((r) => r.domain))].join(', ');
    throw new FaultlineError(
      'FL_ERR_DATASET_EMPTY',
      `no recording of domain(s) ${domains.join(', ')} with classes ${classes.join(', ')} (domains: ${known})`,
    );
  }
  const s = splitForFrontEnd(picked, fractions, frontEnd.config);
  const train = [...s.train];
  for (const k of augment?.speedFactors ?? []) {
    if (frontEnd.config.mode !== 'order' || k === 1) continue;
    for (const r of picked) {
      // Without a speed each window is estimated on its own: nothing to shift.
      const rpm = recordingSpeed(r, frontEnd.config);
      if (rpm === undefined) continue;
      // Cut from the train segment only, with windows sized for the told speed.
      // A level-reading front end also hears the impacts as hard as the speed
      // law it reads by says they would be (../dsp/order-lines.ts): the told
      // speed already widens each ring's share of a revolution (one power),
      // the samples are scaled for the rest.
      const gain = readsLevels(frontEnd.config) ? k ** (LEVEL_SPEED_POWER - 1) : 1;
      const told = {
        ...r,
        rpm: rpm * k,
        ...(gain !== 1 ? { samples: scaled(r.samples, gain) } : {}),
      };
      const { length, hop } = recordingWindows(frontEnd.config, told.rpm);
      const range = splitRanges(r.samples.length, fractions).train;
      if (range.end - range.start >= length) train.push(...sliceWindows(told, length, hop, range));
    }
  }
  return {
    train: buildInputs(train, frontEnd, classes),
    plainTrain: s.train.length,
    val: buildInputs(s.val, frontEnd, classes),
    test: buildInputs(s.test, frontEnd, classes),
    recordings: picked.map((r) => r.id),
  };
}

/**
 * Windows of `recs` WITHOUT labels (every `y` is -1), time-split and run
 * through the front end: the target of a label-free adaptation (dann, mmd),
 * whose recordings may carry no label or a placeholder.
 * @throws FaultlineError FL_ERR_DATASET_EMPTY without recordings, FL_ERR_SPLIT when one is shorter than a window
 */
export function prepareUnlabelled(
  recs: readonly Recording[],
  frontEnd: FrontEnd,
  fractions: SplitFractions = DEFAULT_FRACTIONS,
): DomainSplits {
  if (recs.length === 0)
    throw new FaultlineError('FL_ERR_DATASET_EMPTY', 'no target recording to adapt to');
  const s = splitForFrontEnd(recs, fractions, frontEnd.config);
  const train = buildInputs(s.train, frontEnd);
  return {
    train,
    plainTrain: train.n,
    val: buildInputs(s.val, frontEnd),
    test: buildInputs(s.test, frontEnd),
    recordings: recs.map((r) => r.id),
  };
}

/**
 * Each recording split in time and cut into the front end's windows: in
 * order mode (version 2) windows of `window.length` revolutions at the
 * recording's speed, so a 3 s recording at 600 rpm still gives windows in
 * every split. A recording without a speed gets one estimated from its
 * first seconds (recordingSpeed).
 */
export function splitForFrontEnd(
  recs: readonly Recording[],
  fractions: SplitFractions,
  config: FrontEndConfig,
): Record<'train' | 'val' | 'test', SignalWindow[]> {
  const pooled: Record<'train' | 'val' | 'test', SignalWindow[]> = { train: [], val: [], test: [] };
  for (const rec of recs) {
    const rpm = config.mode === 'order' ? recordingSpeed(rec, config) : rec.rpm;
    const { length, hop } = recordingWindows(config, rpm);
    const s = splitRecording(rpm === rec.rpm ? rec : { ...rec, rpm }, fractions, length, hop);
    pooled.train.push(...s.train);
    pooled.val.push(...s.val);
    pooled.test.push(...s.test);
  }
  return pooled;
}

/** Seconds of a recording the speed estimate reads. */
const SPEED_ESTIMATE_S = 2;

/**
 * The recording's shaft speed, rpm: its own (manifest, file), else one
 * estimate from its first seconds within the front end's speed range,
 * remembered in `rec.meta.rpmEstimate`. Undefined when none can be found:
 * each window is then estimated by the front end itself.
 */
export function recordingSpeed(rec: Recording, config: FrontEndConfig): number | undefined {
  if (rec.rpm !== undefined) return rec.rpm;
  const known = rec.meta.rpmEstimate;
  if (typeof known === 'number') return known;
  const n = Math.min(rec.samples.length, Math.round(SPEED_ESTIMATE_S * rec.sampleRate));
  try {
    const est = estimateShaftSpeed(rec.samples.subarray(0, n), rec.sampleRate, {
      minRpm: config.order.minRpm,
      maxRpm: config.order.maxRpm,
    });
    rec.meta.rpmEstimate = Math.round(est.rpm * 10) / 10;
    return est.rpm;
  } catch (err) {
    if (isFaultlineError(err)) return undefined;
    throw err;
  }
}

function scaled(x: Float32Array, k: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * k;
  return out;
}
