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
  /**
   * Sample the envelope at fs/D instead of fs (see createBandEnvelope);
   * default false: one envelope sample per input sample.
   */
  decimate?: boolean;
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
  /** Input samples per call. */
  readonly length: number;
  readonly lowHz: number;
  readonly highHz: number;
  /** Input samples per envelope sample: 1, or a power of two with `decimate`. */
  readonly decimation: number;
  /** Envelope sample rate, Hz: fs / decimation. */
  readonly rate: number;
  /** Envelope samples per call: ceil(length / decimation); sample m is at input sample m·decimation. */
  readonly outLength: number;
  /** Size of the forward FFT (the next power of two ≥ length). */
  readonly fftSize: number;
  /** Envelope of `x` (length = plan length) into `out` (or a new array, length outLength), mean removed. */
  compute(x: ArrayLike<number>, out?: Float32Array): Float32Array;
  /**
   * The forward spectrum the last `compute` took of its input (mean
   * removed, zero-padded to fftSize; fft.js interleaved re/im, bins
   * 0 … fftSize/2 valid). A view of an internal buffer, valid until the next
   * call: other spectral features of the same window (velocity RMS) read it
   * instead of transforming the window again.
   */
  lastSpectrum(): Float64Array;
}

/**
 * Plan for the envelope (Hilbert modulus) of signals of `length` samples at
 * `fs` Hz band-passed to [lowHz, highHz].
 *
 * With `decimate`, the envelope comes out at fs/D, D the largest power of two
 * whose rate still holds twice the band's width: the band's analytic
 * spectrum is shifted to baseband (which leaves the modulus unchanged) and
 * inverse-transformed at N/D points. The squared envelope of a band W Hz wide
 * has all its content within ±W, so a rate ≥ 2W samples it without
 * aliasing — every line the envelope carries survives — while the inverse
 * FFT, the modulus and whatever reads the envelope next (the order
 * front end's resampler) do D times less work. For CWRU's 2–5 kHz band at
 * 12 kHz, D = 2 (a 6 kHz envelope).
 */
export function createBandEnvelope(
  fs: number,
  length: number,
  options: EnvelopeOptions = {},
): BandEnvelopePlan {
  const g = bandEnvelopeGeometry(fs, length, options);
  const { lowHz, highHz, kLo, kHi, decimation: D, outLength } = g;
  const n = length;
  const N = g.fftSize;
  const fft = fftPlan(N);
  const real = new Float64Array(N);
  const spec = new Float64Array(2 * N);
  const M = N / D;
  const inverse = D === 1 ? fft : fftPlan(M);
  const analytic = new Float64Array(2 * M);
  // Its own buffer (not the forward spectrum's), so lastSpectrum() stays valid.
  const z = new Float64Array(2 * M);
  // Baseband shift (decimated only): the band's centre bin goes to 0. Without
  // decimation the bins stay put, which keeps the values of models made
  // before the option existed bit for bit.
  const kc = D === 1 ? 0 : Math.floor((kLo + kHi) / 2);
  // fft.js's inverse divides by its own size M; the envelope of an N-point
  // spectrum needs 1/N (× 1 when D = 1: exact).
  const scale = 1 / D;
  function compute(x: ArrayLike<number>, out?: Float32Array): Float32Array {
    requireParam(x.length === n, `the envelope plan takes ${n} samples, got ${x.length}`);
    checkFinite(x, 'envelope input');
    const env = out ?? new Float32Array(outLength);
    requireParam(
      env.length === outLength,
      `output array has length ${env.length}, expected ${outLength}`,
    );
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i];
    mean /= n;
    for (let i = 0; i < n; i++) real[i] = x[i] - mean;
    fft.realTransform(spec, real);
    // Analytic signal of the band: positive bins in band ×2, all else 0.
    analytic.fill(0);
    for (let k = kLo; k <= kHi; k++) {
      const j = (((k - kc) % M) + M) % M;
      analytic[2 * j] = 2 * spec[2 * k];
      analytic[2 * j + 1] = 2 * spec[2 * k + 1];
    }
    inverse.inverseTransform(z, analytic);
    let em = 0;
    for (let i = 0; i < outLength; i++) {
      const re = z[2 * i];
      const im = z[2 * i + 1];
      const v = Math.sqrt(re * re + im * im) * scale;
      env[i] = v;
      em += v;
    }
    em /= outLength;
    for (let i = 0; i < outLength; i++) env[i] -= em;
    return env;
  }
  return Object.freeze({
    length: n,
    lowHz,
    highHz,
    decimation: D,
    rate: fs / D,
    outLength,
    fftSize: N,
    compute,
    lastSpectrum: () => spec,
  });
}

/** Sizes of a band-envelope plan (createBandEnvelope), without building one. */
export interface BandEnvelopeGeometry {
  lowHz: number;
  highHz: number;
  /** Forward FFT size. */
  fftSize: number;
  /** First and last FFT bin of the band. */
  kLo: number;
  kHi: number;
  decimation: number;
  /** Envelope rate, Hz. */
  rate: number;
  /** Envelope samples. */
  outLength: number;
}

/**
 * The band, FFT size and decimation a plan for `length` samples at `fs` Hz
 * uses; validates the parameters (FL_ERR_DSP_PARAMS).
 */
export function bandEnvelopeGeometry(
  fs: number,
  length: number,
  options: EnvelopeOptions = {},
): BandEnvelopeGeometry {
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
  const N = nextPow2(length);
  const kLo = Math.max(1, Math.ceil((lowHz * N) / fs));
  const kHi = Math.min(N / 2 - 1, Math.floor((highHz * N) / fs));
  const bandBins = Math.max(1, kHi - kLo + 1);
  let D = 1;
  if (options.decimate) while (N / (2 * D) >= 2 * bandBins && N / (2 * D) >= 2) D *= 2;
  return {
    lowHz,
    highHz,
    fftSize: N,
    kLo,
    kHi,
    decimation: D,
    rate: fs / D,
    outLength: Math.ceil(length / D),
  };
}

/**
 * The envelope (Hilbert modulus) of `x` band-passed to [lowHz, highHz],
 * mean removed. Length = x.length (with `decimate`: the plan's outLength,
 * at its rate).
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
  return createAmplitudeSpectrum(x.length, fs, maxHz).compute(x);
}

/** An amplitudeSpectrum plan for signals of one length: buffers allocated once. Not re-entrant. */
export interface AmplitudeSpectrumPlan {
  readonly length: number;
  /**
   * amplitudeSpectrum(x, fs, maxHz), same values; the arrays it returns are
   * the plan's own, overwritten by the next call.
   */
  compute(x: ArrayLike<number>): AmplitudeSpectrum;
}

/**
 * Plan of amplitudeSpectrum for `length` samples at `fs` Hz up to `maxHz`.
 * Why: the live pipeline reads an envelope spectrum for every window; a
 * fresh ~200 KB of buffers per call was garbage its workers' young
 * generation had to grow for.
 */
export function createAmplitudeSpectrum(
  length: number,
  fs: number,
  maxHz = fs / 2,
): AmplitudeSpectrumPlan {
  requireParam(Number.isFinite(fs) && fs > 0, `fs must be > 0 Hz, got ${fs}`);
  requireParam(
    Number.isInteger(length) && length >= 1 && length <= MAX_FFT_SIGNAL_SAMPLES,
    `spectrum length must be an integer in 1…${MAX_FFT_SIGNAL_SAMPLES}, got ${length}`,
  );
  const n = length;
  const N = nextPow2(n);
  const fft = fftPlan(N);
  const buf = new Float64Array(N);
  const spec = new Float64Array(2 * N);
  const window = new Float64Array(n);
  let wSum = 0;
  for (let i = 0; i < n; i++) {
    const w = n > 1 ? 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n) : 1;
    window[i] = w;
    wSum += w;
  }
  const binHz = fs / N;
  const kMax = Math.min(N / 2, Math.floor(maxHz / binHz));
  const freqHz = new Float64Array(kMax + 1);
  for (let k = 0; k <= kMax; k++) freqHz[k] = k * binHz;
  const amplitude = new Float32Array(kMax + 1);
  const result: AmplitudeSpectrum = { freqHz, amplitude, binHz };
  function compute(x: ArrayLike<number>): AmplitudeSpectrum {
    requireParam(x.length === n, `the spectrum plan takes ${n} samples, got ${x.length}`);
    checkFinite(x, 'spectrum input');
    for (let i = 0; i < n; i++) buf[i] = x[i] * window[i];
    fft.realTransform(spec, buf);
    for (let k = 0; k <= kMax; k++) {
      amplitude[k] =
        ((k === 0 || k === N / 2 ? 1 : 2) * Math.hypot(spec[2 * k], spec[2 * k + 1])) / wSum;
    }
    return result;
  }
  return Object.freeze({ length: n, compute });
}
