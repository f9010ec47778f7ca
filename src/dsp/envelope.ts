/**
 * Envelope spectrum (demodulation), the bearing analyst's main tool: a
 * localised defect strikes once per passage and rings a structural
 * resonance; band-passing around the resonance and taking the Hilbert
 * envelope recovers the strike rate (BPFO, BPFI, 2·BSF) as a line in the
 * spectrum of the envelope.
 *
 * Band-pass and Hilbert transform are done in one step in the frequency
 * domain: keep the positive-frequency bins inside the band, doubled, zero
 * the rest, inverse FFT → analytic signal of the band-passed signal; its
 * modulus is the envelope. The brick-wall band edges ring a little in time,
 * which does not matter for a spectrum averaged over the whole signal.
 */
import { fftPlan } from './fftutil.js';
import {
  checkFinite,
  checkSignal,
  MAX_FFT_SIGNAL_SAMPLES,
  nextPow2,
  requireParam,
} from './signal.js';

export interface EnvelopeOptions {
  /** Lower band edge, Hz; default 2000 (CWRU's DE resonances lie in 2–5 kHz). */
  lowHz?: number;
  /** Upper band edge, Hz; default min(5000, 0.45·fs). */
  highHz?: number;
  /** Highest envelope frequency returned, Hz; default 1000 (covers 3× BPFI at 3600 rpm). */
  maxHz?: number;
}

/** A single-sided amplitude spectrum on a uniform frequency axis. */
export interface AmplitudeSpectrum {
  /** Frequency of each bin, Hz: freqHz[k] = k · binHz. */
  freqHz: Float64Array;
  /** Amplitude of each bin (signal units, g): a sine of amplitude A on a bin reads A. */
  amplitude: Float32Array;
  /** Bin spacing, Hz. */
  binHz: number;
}

/** A band-envelope plan for signals of one length: buffers allocated once. Not re-entrant. */
export interface BandEnvelopePlan {
  readonly length: number;
  readonly lowHz: number;
  readonly highHz: number;
  /** Envelope of `x` (length = plan length) into `out` (or a new array), mean removed. */
  compute(x: ArrayLike<number>, out?: Float32Array): Float32Array;
}

/**
 * Plan for the envelope (Hilbert modulus) of signals of `length` samples at
 * `fs` Hz band-passed to [lowHz, highHz].
 */
export function createBandEnvelope(
  fs: number,
  length: number,
  options: EnvelopeOptions = {},
): BandEnvelopePlan {
  requireParam(Number.isFinite(fs) && fs > 0, `fs must be > 0 Hz, got ${fs}`);
  requireParam(
    Number.isInteger(length) && length >= 1 && length <= MAX_FFT_SIGNAL_SAMPLES,
    `envelope length must be an integer in 1…${MAX_FFT_SIGNAL_SAMPLES}, got ${length}`,
  );
  const lowHz = options.lowHz ?? 2000;
  const highHz = options.highHz ?? Math.min(5000, 0.45 * fs);
  requireParam(
    lowHz >= 0 && highHz > lowHz && highHz <= fs / 2,
    `envelope band ${lowHz}…${highHz} Hz must satisfy 0 ≤ low < high ≤ ${fs / 2} (Nyquist)`,
  );
  const n = length;
  const N = nextPow2(n);
  const fft = fftPlan(N);
  const real = new Float64Array(N);
  const spec = new Float64Array(2 * N);
  const analytic = new Float64Array(2 * N);
  const kLo = Math.max(1, Math.ceil((lowHz * N) / fs));
  const kHi = Math.min(N / 2 - 1, Math.floor((highHz * N) / fs));

  function compute(x: ArrayLike<number>, out?: Float32Array): Float32Array {
    requireParam(x.length === n, `the envelope plan takes ${n} samples, got ${x.length}`);
    checkFinite(x, 'envelope input');
    const env = out ?? new Float32Array(n);
    requireParam(env.length === n, `output array has length ${env.length}, expected ${n}`);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i];
    mean /= n;
    for (let i = 0; i < n; i++) real[i] = x[i] - mean;
    fft.realTransform(spec, real);
    // Analytic signal of the band: positive bins in band ×2, all else 0.
    analytic.fill(0);
    for (let k = kLo; k <= kHi; k++) {
      analytic[2 * k] = 2 * spec[2 * k];
      analytic[2 * k + 1] = 2 * spec[2 * k + 1];
    }
    fft.inverseTransform(spec, analytic);
    let em = 0;
    for (let i = 0; i < n; i++) {
      const re = spec[2 * i];
      const im = spec[2 * i + 1];
      const v = Math.sqrt(re * re + im * im);
      env[i] = v;
      em += v;
    }
    em /= n;
    for (let i = 0; i < n; i++) env[i] -= em;
    return env;
  }
  return Object.freeze({ length: n, lowHz, highHz, compute });
}

/**
 * The envelope (Hilbert modulus) of `x` band-passed to [lowHz, highHz],
 * mean removed. Length = x.length.
 */
export function bandEnvelope(
  x: ArrayLike<number>,
  fs: number,
  options: EnvelopeOptions = {},
): Float32Array {
  checkSignal(x, 'envelope input', MAX_FFT_SIGNAL_SAMPLES);
  return createBandEnvelope(fs, x.length, options).compute(x);
}

/**
 * Envelope spectrum of `x` (g) sampled at `fs` Hz: amplitude spectrum of the
 * band-passed Hilbert envelope from 0 to `maxHz`. Hann-windowed (amplitude
 * corrected) and zero-padded to a power of two.
 * @returns freqHz / amplitude (g) arrays of equal length
 */
export function envelopeSpectrum(
  x: ArrayLike<number>,
  fs: number,
  options: EnvelopeOptions = {},
): AmplitudeSpectrum {
  const env = bandEnvelope(x, fs, options);
  const maxHz = Math.min(options.maxHz ?? 1000, fs / 2);
  return amplitudeSpectrum(env, fs, maxHz);
}

/**
 * Single-sided amplitude spectrum of `x` from 0 to `maxHz` (Hann window,
 * amplitude-corrected, zero-padded to a power of two ≥ length). A line
 * between bins reads up to 1.4 dB (15 %) low (Hann scalloping); ratios of
 * peaks to their surroundings, which the evidence uses, are little affected.
 */
export function amplitudeSpectrum(
  x: ArrayLike<number>,
  fs: number,
  maxHz = fs / 2,
): AmplitudeSpectrum {
  checkSignal(x, 'spectrum input', MAX_FFT_SIGNAL_SAMPLES);
  const n = x.length;
  const N = nextPow2(n);
  const fft = fftPlan(N);
  const buf = new Float64Array(N);
  let wSum = 0;
  for (let i = 0; i < n; i++) {
    const w = n > 1 ? 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n) : 1;
    buf[i] = x[i] * w;
    wSum += w;
  }
  const spec = new Float64Array(2 * N);
  fft.realTransform(spec, buf);
  const binHz = fs / N;
  const kMax = Math.min(N / 2, Math.floor(maxHz / binHz));
  const freqHz = new Float64Array(kMax + 1);
  const amplitude = new Float32Array(kMax + 1);
  for (let k = 0; k <= kMax; k++) {
    freqHz[k] = k * binHz;
    amplitude[k] =
      ((k === 0 || k === N / 2 ? 1 : 2) * Math.hypot(spec[2 * k], spec[2 * k + 1])) / wSum;
  }
  return { freqHz, amplitude, binHz };
}
