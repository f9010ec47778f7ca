/**
 * Whole-signal FFT helpers shared by the envelope, velocity and speed code.
 * fft.js plans are cached per size: building one costs O(n) (its twiddle
 * table), and these functions run on the same few sizes again and again.
 */
import FFT from 'fft.js';

const plans = new Map<number, FFT>();

/** The cached fft.js plan of `size` (a power of two). */
export function fftPlan(size: number): FFT {
  let p = plans.get(size);
  if (!p) {
    // Keep the cache small: the sizes in use are few, but a CLI run over odd
    // crops should not pin memory for every size it met.
    if (plans.size >= 8) plans.clear();
    p = new FFT(size);
    plans.set(size, p);
  }
  return p;
}
