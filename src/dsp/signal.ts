/**
 * Input checks shared by the dsp stage: every public function validates its
 * signal once, so a NaN from a broken sensor or an empty read becomes a
 * FaultlineError with a stable code instead of a silently poisoned spectrum.
 */
import { FaultlineError } from '../errors.js';

/**
 * Longest signal (samples) a single frame-wise transform accepts: 2^26 samples
 * (≈ 93 min at 12 kHz, 256 MiB as Float32). Frame-wise work (the STFT) costs
 * O(frames × nfft), not O(length), so the bound only guards memory.
 */
export const MAX_SIGNAL_SAMPLES = 2 ** 26;

/**
 * Longest signal (samples) for whole-signal FFT work (envelope spectrum,
 * velocity integration, speed estimation): 2^22 samples (≈ 5.8 min at 12 kHz).
 * One FFT of that size needs ~200 MB of working memory with fft.js (its twiddle
 * table is a plain JS array); crop with a start/duration beyond that.
 */
export const MAX_FFT_SIGNAL_SAMPLES = 2 ** 22;

/**
 * Throws FL_ERR_SIGNAL_EMPTY, FL_ERR_SIGNAL_TOO_LONG or FL_ERR_SIGNAL_NONFINITE.
 * @param what name used in the message (e.g. "envelope input")
 * @param maxLength bound in samples
 */
export function checkSignal(
  x: ArrayLike<number>,
  what: string,
  maxLength = MAX_SIGNAL_SAMPLES,
): void {
  if (x.length === 0) {
    throw new FaultlineError(
      'FL_ERR_SIGNAL_EMPTY',
      `${what} has no samples; pass at least one window of data`,
    );
  }
  if (x.length > maxLength) {
    throw new FaultlineError(
      'FL_ERR_SIGNAL_TOO_LONG',
      `${what} has ${x.length} samples, more than the bound of ${maxLength}; crop it (start/duration) or process it in windows`,
    );
  }
  checkFinite(x, what);
}

/** Throws FL_ERR_SIGNAL_NONFINITE naming the first bad sample. O(n), no allocation. */
export function checkFinite(x: ArrayLike<number>, what: string): void {
  // x*0 is NaN for NaN and ±Infinity and 0 otherwise, so one sum finds both
  // without the overflow a plain sum of large samples could cause.
  let acc = 0;
  for (let i = 0; i < x.length; i++) acc += x[i] * 0;
  if (acc === 0) return;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new FaultlineError(
        'FL_ERR_SIGNAL_NONFINITE',
        `${what} holds ${x[i]} at sample ${i}; drop or repair the block (sensor dropout?) before processing`,
      );
    }
  }
}

/** Throws FL_ERR_DSP_PARAMS unless `cond`. */
export function requireParam(cond: boolean, message: string): asserts cond {
  if (!cond) throw new FaultlineError('FL_ERR_DSP_PARAMS', message);
}

/** Smallest power of two ≥ n (n ≥ 1), at least 2 (fft.js's minimum size). */
export function nextPow2(n: number): number {
  let p = 2;
  while (p < n) p *= 2;
  return p;
}

/** True for a power of two ≥ 2. */
export function isPow2(n: number): boolean {
  return Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;
}
