/**
 * Analysis windows for the STFT. Periodic (DFT-even) forms, because the
 * frames are consecutive FFT inputs, not a filter design (Harris 1978).
 */
import { requireParam } from './signal.js';

/** Window shapes: hann (default), hamming, blackman, rect (no taper). */
export type WindowKind = 'hann' | 'hamming' | 'blackman' | 'rect';

export const WINDOW_KINDS: readonly WindowKind[] = ['hann', 'hamming', 'blackman', 'rect'];

/**
 * The window of `kind` and `length` samples, periodic form
 * w[n] = Σ a_k cos(2πkn/length).
 */
export function makeWindow(kind: WindowKind, length: number): Float64Array {
  requireParam(
    Number.isInteger(length) && length >= 1,
    `window length must be a positive integer, got ${length}`,
  );
  const w = new Float64Array(length);
  const c = coefficients(kind);
  for (let n = 0; n < length; n++) {
    const phi = (2 * Math.PI * n) / length;
    w[n] = c[0] - c[1] * Math.cos(phi) + c[2] * Math.cos(2 * phi);
  }
  return w;
}

function coefficients(kind: WindowKind): [number, number, number] {
  switch (kind) {
    case 'hann':
      return [0.5, 0.5, 0];
    case 'hamming':
      return [0.54, 0.46, 0];
    case 'blackman':
      return [0.42, 0.5, 0.08];
    case 'rect':
      return [1, 0, 0];
    default:
      requireParam(
        false,
        `unknown window "${String(kind)}"; use one of ${WINDOW_KINDS.join(', ')}`,
      );
  }
}
