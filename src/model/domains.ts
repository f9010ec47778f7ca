/**
 * Recordings → per-domain train/val/test input sets, the data preparation
 * shared by `faultline train`, `adapt` and `eval`. Splits are time-ordered
 * inside each recording (src/data/windows.ts), so no sample of a test window
 * was seen in training.
 */
import { detectDataset, loadDataset } from '../data/dataset.js';
import { type SplitFractions, splitRecordings } from '../data/windows.js';
import type { FrontEnd, FrontEndConfig } from '../dsp/frontend.js';
import { FaultlineError } from '../errors.js';
import type { Recording } from '../types.js';
import { buildInputs, type InputSet } from './inputs.js';

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
 * Default front end for `mode`. Order mode (angular resampling, envelope of
 * the 2–5 kHz band, 0–32 orders) needs 8 shaft turns per window, so its
 * windows are 4096 samples (8 turns down to ≈1 460 rpm at 12 kHz; slower
 * machines need longer windows).
 */
export function defaultFrontEnd(
  mode: 'time' | 'order',
  sampleRate = 12000,
): typeof DEFAULT_FRONT_END {
  if (mode === 'time') return { ...DEFAULT_FRONT_END, sampleRate };
  return { ...DEFAULT_FRONT_END, sampleRate, mode, windowLength: 4096, hop: 1024 };
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
 * @throws FaultlineError FL_ERR_CLI_USAGE for a label column on a CWRU folder,
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

export interface DomainSplits {
  train: InputSet;
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
): DomainSplits {
  const picked = recs.filter((r) => domains.includes(r.domain) && classes.includes(r.label));
  if (picked.length === 0) {
    const known = [...new Set(recs.map((r) => r.domain))].join(', ');
    throw new FaultlineError(
      'FL_ERR_DATASET_EMPTY',
      `no recording of domain(s) ${domains.join(', ')} with classes ${classes.join(', ')} (domains: ${known})`,
    );
  }
  const { windowLength, hop } = frontEnd.config;
  const s = splitRecordings(picked, fractions, windowLength, hop);
  return {
    train: buildInputs(s.train, frontEnd, classes),
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
  const { windowLength, hop } = frontEnd.config;
  const s = splitRecordings(recs, fractions, windowLength, hop);
  return {
    train: buildInputs(s.train, frontEnd),
    val: buildInputs(s.val, frontEnd),
    test: buildInputs(s.test, frontEnd),
    recordings: recs.map((r) => r.id),
  };
}
