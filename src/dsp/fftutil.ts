/**
 * Whole-signal FFT plans shared by the envelope, velocity, speed and
 * spectrum code: PFFFT in wasm where it takes the size (./pffft.ts, 4–5×
 * faster at the 8–16 k points of a 1 s window), fft.js otherwise, both with
 * fft.js's conventions. Plans are cached per size: building one costs O(n)
 * (its twiddle table), and these functions run on the same few sizes again
 * and again.
 */
import FFT from 'fft.js';
import { type FftPlan, pffftPlan } from './pffft.js';

export { type FftPlan, fftEngine } from './pffft.js';

const plans = new Map<number, FftPlan>();

/** fft.js as an FftPlan. */
function fftJsPlan(size: number): FftPlan {
  const f = new FFT(size);
  return Object.freeze({
    size,
    realTransform: (out: Float64Array, input: ArrayLike<number>) => f.realTransform(out, input),
    inverseTransform: (out: Float64Array, input: Float64Array) => f.inverseTransform(out, input),
  });
}

/** The cached plan of `size` (a power of two ≥ 2). */
export function fftPlan(size: number): FftPlan {
  let p = plans.get(size);
  if (!p) {
    // Keep the map small: the sizes in use are few, but a CLI run over odd
    // crops should not pin a plan for every size it met. (PFFFT's setups
    // live on in ./pffft.ts, one per size; see there.)
    if (plans.size >= 8) plans.clear();
    p = pffftPlan(size) ?? fftJsPlan(size);
    plans.set(size, p);
  }
  return p;
}
