/**
 * Reference envelope spectrum for the simulator tests, written independently
 * of src/dsp on purpose (the simulator and the DSP stage must not validate
 * each other with shared code): band-pass and Hilbert transform in one step
 * in the frequency domain with fft.js, then the amplitude spectrum of the
 * envelope.
 */
import FFT from 'fft.js';

export interface Spectrum {
  /** Amplitude per bin. */
  amp: Float64Array;
  /** Bin spacing, Hz. */
  binHz: number;
}

/** Largest power of two ≤ n. */
function floorPow2(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/** Single-sided amplitude spectrum (Hann window) of the first 2^k samples of x. */
export function amplitudeSpectrum(x: ArrayLike<number>, fs: number): Spectrum {
  const n = floorPow2(x.length);
  const fft = new FFT(n);
  const input = new Array<number>(n);
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
    input[i] = x[i] * w;
    wsum += w;
  }
  const out = fft.createComplexArray() as number[];
  fft.realTransform(out, input);
  const amp = new Float64Array(n / 2);
  for (let k = 0; k < n / 2; k++) amp[k] = (2 * Math.hypot(out[2 * k], out[2 * k + 1])) / wsum;
  return { amp, binHz: fs / n };
}

/** Hilbert envelope (mean removed) of x band-passed to [lowHz, highHz]. */
export function bandEnvelope(
  x: ArrayLike<number>,
  fs: number,
  lowHz: number,
  highHz: number,
): Float64Array {
  const n = floorPow2(x.length);
  const fft = new FFT(n);
  const input = fft.createComplexArray() as number[];
  for (let i = 0; i < n; i++) input[2 * i] = x[i];
  const spec = fft.createComplexArray() as number[];
  fft.transform(spec, input);
  // Analytic signal of the band: keep positive-frequency bins in the band, doubled.
  for (let k = 0; k < n; k++) {
    const f = (k * fs) / n;
    const keep = k > 0 && k < n / 2 && f >= lowHz && f <= highHz;
    spec[2 * k] = keep ? 2 * spec[2 * k] : 0;
    spec[2 * k + 1] = keep ? 2 * spec[2 * k + 1] : 0;
  }
  const z = fft.createComplexArray() as number[];
  fft.inverseTransform(z, spec);
  const env = new Float64Array(n);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    env[i] = Math.hypot(z[2 * i], z[2 * i + 1]);
    mean += env[i];
  }
  mean /= n;
  for (let i = 0; i < n; i++) env[i] -= mean;
  return env;
}

/** Amplitude spectrum of the band envelope. */
export function envelopeSpectrum(
  x: ArrayLike<number>,
  fs: number,
  lowHz = 2000,
  highHz = 5000,
): Spectrum {
  return amplitudeSpectrum(bandEnvelope(x, fs, lowHz, highHz), fs);
}

/** Frequency (Hz) of the largest bin in [loHz, hiHz]. */
export function peakHz(s: Spectrum, loHz: number, hiHz: number): number {
  let best = -1;
  let bestK = 0;
  for (
    let k = Math.ceil(loHz / s.binHz);
    k <= Math.floor(hiHz / s.binHz) && k < s.amp.length;
    k++
  ) {
    if (s.amp[k] > best) {
      best = s.amp[k];
      bestK = k;
    }
  }
  return bestK * s.binHz;
}

/**
 * How far the line near `fHz` (largest bin within ±tol·f) stands above the
 * median amplitude of the surrounding ±bandHz: ≫ 1 for a defect line.
 */
export function lineRatio(s: Spectrum, fHz: number, tol = 0.02, bandHz = 20): number {
  const lo = Math.max(1, Math.floor((fHz * (1 - tol)) / s.binHz));
  const hi = Math.ceil((fHz * (1 + tol)) / s.binHz);
  let peak = 0;
  for (let k = lo; k <= hi; k++) peak = Math.max(peak, s.amp[k]);
  const around: number[] = [];
  const blo = Math.max(1, Math.floor((fHz - bandHz) / s.binHz));
  const bhi = Math.ceil((fHz + bandHz) / s.binHz);
  for (let k = blo; k <= bhi; k++) if (k < lo || k > hi) around.push(s.amp[k]);
  around.sort((a, b) => a - b);
  const median = around[Math.floor(around.length / 2)];
  return peak / median;
}
