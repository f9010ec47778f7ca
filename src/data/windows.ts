/**
 * Fixed-length windows over a Recording, and time-ordered train/val/test
 * splits of a recording.
 *
 * Window samples are `subarray` views of the recording (no copy): cheap for
 * the tens of thousands of windows a CWRU training set makes, but a window
 * must be treated as read-only, and copied (`slice()`) if kept after the
 * recording is mutated.
 */
import { FaultlineError } from '../errors.js';
import type { Recording, SignalWindow } from '../types.js';

/** Sample range `[start, end)` of a recording, in samples. */
export interface SampleRange {
  start: number;
  end: number;
}

/** Start indices of every whole window of `windowLen` samples, stepping `hop`, inside `range`. */
export function windowStarts(range: SampleRange, windowLen: number, hop: number): number[] {
  checkWindowParams(windowLen, hop);
  const starts: number[] = [];
  for (let s = range.start; s + windowLen <= range.end; s += hop) starts.push(s);
  return starts;
}

/** Number of whole windows in `range` (same rule as {@link windowStarts}). */
export function countWindows(range: SampleRange, windowLen: number, hop: number): number {
  checkWindowParams(windowLen, hop);
  const span = range.end - range.start;
  return span < windowLen ? 0 : Math.floor((span - windowLen) / hop) + 1;
}

/**
 * Lazily yields the windows of `rec` (all of it, or `range`): window `i`
 * covers samples `[start + i·hop, start + i·hop + windowLen)`; a partial
 * window at the end is dropped.
 *
 * @param windowLen samples per window (integer ≥ 1)
 * @param hop samples between window starts (integer ≥ 1; `hop < windowLen` overlaps)
 */
export function* iterateWindows(
  rec: Recording,
  windowLen: number,
  hop: number,
  range: SampleRange = { start: 0, end: rec.samples.length },
): Generator<SignalWindow> {
  checkWindowParams(windowLen, hop);
  const start = Math.max(0, range.start);
  const end = Math.min(rec.samples.length, range.end);
  for (let s = start; s + windowLen <= end; s += hop) {
    yield {
      recordingId: rec.id,
      start: s,
      samples: rec.samples.subarray(s, s + windowLen),
      sampleRate: rec.sampleRate,
      label: rec.label,
      domain: rec.domain,
      rpm: rec.rpm,
      ...(rec.bearing ? { bearing: rec.bearing } : {}),
    };
  }
}

/** All windows of `rec` (or of `range`) as an array; see {@link iterateWindows}. */
export function sliceWindows(
  rec: Recording,
  windowLen: number,
  hop: number,
  range?: SampleRange,
): SignalWindow[] {
  return [...iterateWindows(rec, windowLen, hop, range)];
}

/** Fractions of a recording's duration given to each split; they must sum to 1. */
export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

export const DEFAULT_SPLIT: Readonly<SplitFractions> = Object.freeze({
  train: 0.7,
  val: 0.15,
  test: 0.15,
});

export type SplitName = keyof SplitFractions;
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];

/** Windows of each split plus the sample ranges they were drawn from. */
export interface RecordingSplit {
  train: SignalWindow[];
  val: SignalWindow[];
  test: SignalWindow[];
  /** Contiguous, non-overlapping, in time order train → val → test. */
  ranges: Record<SplitName, SampleRange>;
}

/**
 * Splits one recording into train/val/test windows, in time order.
 *
 * Why not window first and shuffle windows into splits: with overlapping
 * windows (hop < windowLen) neighbouring windows share most of their samples,
 * so a random split puts copies of test samples into training — the model is
 * then graded on data it has seen, and accuracy is overstated (on CWRU, close
 * to 100 % by memorising each file's stationary noise). Even without overlap,
 * adjacent windows are strongly correlated. So the recording is first cut
 * into contiguous segments — train = the first `train` fraction of its
 * samples, then val, then test — and windows are taken inside each segment
 * only; no window straddles a boundary and no sample index appears in two
 * splits. Testing on the latest part also mimics deployment (train on the
 * past, predict the future).
 *
 * @param fractions non-negative, summing to 1 (±1e-6); default 0.7/0.15/0.15
 * @param windowLen samples per window
 * @param hop samples between window starts within a segment
 * @throws FaultlineError FL_ERR_SPLIT when a split with a non-zero fraction gets no window,
 *   FL_ERR_DSP_PARAMS for bad fractions, windowLen or hop
 */
export function splitRecording(
  rec: Recording,
  fractions: SplitFractions = DEFAULT_SPLIT,
  windowLen = 2048,
  hop = windowLen,
): RecordingSplit {
  const ranges = splitRanges(rec.samples.length, fractions);
  const out: RecordingSplit = { train: [], val: [], test: [], ranges };
  for (const name of SPLIT_NAMES) {
    out[name] = sliceWindows(rec, windowLen, hop, ranges[name]);
    if (fractions[name] > 0 && out[name].length === 0) {
      const r = ranges[name];
      throw new FaultlineError(
        'FL_ERR_SPLIT',
        `recording ${rec.id}: the ${name} segment [${r.start}, ${r.end}) holds ${r.end - r.start} samples, ` +
          `fewer than one ${windowLen}-sample window; use a shorter window or a larger ${name} fraction`,
      );
    }
  }
  return out;
}

/**
 * Splits several recordings (each one time-ordered by {@link splitRecording})
 * and pools the windows per split.
 */
export function splitRecordings(
  recs: readonly Recording[],
  fractions: SplitFractions = DEFAULT_SPLIT,
  windowLen = 2048,
  hop = windowLen,
): Record<SplitName, SignalWindow[]> {
  const pooled: Record<SplitName, SignalWindow[]> = { train: [], val: [], test: [] };
  for (const rec of recs) {
    const s = splitRecording(rec, fractions, windowLen, hop);
    for (const name of SPLIT_NAMES) for (const w of s[name]) pooled[name].push(w);
  }
  return pooled;
}

/** Cuts `[0, length)` into contiguous train/val/test ranges by the fractions (rounded to samples). */
export function splitRanges(
  length: number,
  fractions: SplitFractions,
): Record<SplitName, SampleRange> {
  const { train, val, test } = fractions;
  const all = [train, val, test];
  if (all.some((f) => !Number.isFinite(f) || f < 0) || Math.abs(train + val + test - 1) > 1e-6) {
    throw new FaultlineError(
      'FL_ERR_DSP_PARAMS',
      `split fractions ${JSON.stringify(fractions)} must be ≥ 0 and sum to 1`,
    );
  }
  const a = Math.round(length * train);
  const b = Math.round(length * (train + val));
  return {
    train: { start: 0, end: a },
    val: { start: a, end: b },
    test: { start: b, end: length },
  };
}

function checkWindowParams(windowLen: number, hop: number): void {
  if (!Number.isInteger(windowLen) || windowLen < 1 || !Number.isInteger(hop) || hop < 1) {
    throw new FaultlineError(
      'FL_ERR_DSP_PARAMS',
      `window length ${windowLen} and hop ${hop} must be positive integers (samples)`,
    );
  }
}
