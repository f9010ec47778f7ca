/**
 * Short-time Fourier transform to a fixed-size log-magnitude spectrogram, the
 * CNN's input. A plan (`createStft`) precomputes everything that depends only
 * on the parameters — window, fft.js plan and buffers, frame starts, the
 * FFT-bin → band map — so `plan.compute` does no allocation per frame.
 *
 * Defaults (for 1 s windows at 12 kHz → 64 × 64):
 * - nfft 512 samples (42.7 ms frames, 23.4 Hz bins): short enough that an
 *   impact's decay is one or two frames, long enough for 4 FFT bins per band;
 * - 0 Hz … Nyquist cropped into 64 bands of 93.75 Hz: CWRU's fault energy sits
 *   in resonances from 2 to 5 kHz, so the whole band is kept;
 * - 64 frames spread evenly so the first starts at sample 0 and the last ends
 *   at the window's end (hop = (12000 − 512) / 63 ≈ 182.3 samples, rounded per
 *   frame): no padding, every sample is seen;
 * - dB of the band's RMS amplitude (g) with an epsilon floor of 1e-6 g
 *   (−120 dB), then per-spectrogram z-score, so the sensor's gain drops out.
 */
import FFT from 'fft.js';
import { FaultlineError } from '../errors.js';
import type { Spectrogram } from '../types.js';
import { checkFinite, checkSignal, isPow2, MAX_SIGNAL_SAMPLES, requireParam } from './signal.js';
import { makeWindow, WINDOW_KINDS, type WindowKind } from './window.js';

/** How band magnitudes are scaled: linear amplitude, log10(amplitude), or dB (20·log10). */
export type SpectrumScale = 'linear' | 'log10' | 'db';
export const SPECTRUM_SCALES: readonly SpectrumScale[] = ['linear', 'log10', 'db'];

/** Per-spectrogram normalisation: none, z-score (mean 0, std 1), or min-max to [0, 1]. */
export type Normalisation = 'none' | 'zscore' | 'minmax';
export const NORMALISATIONS: readonly Normalisation[] = ['none', 'zscore', 'minmax'];

/**
 * STFT parameters. Frequencies are in the unit of the plan's sample rate:
 * Hz for a time signal, orders (multiples of shaft speed) for an
 * angle-resampled one. Plain data, JSON-serialisable.
 */
export interface StftParams {
  /** Analysis window; default 'hann'. */
  window: WindowKind;
  /** FFT size = frame length, samples, a power of two; default 512. */
  nfft: number;
  /** Output frequency bands (rows); default 64. */
  freqBins: number;
  /** Output frames (columns), spread evenly over the window; default 64. */
  frames: number;
  /** Lower edge of the cropped band (Hz or orders); default 0. */
  fMin: number;
  /** Upper edge of the cropped band (Hz or orders); default null = Nyquist. */
  fMax: number | null;
  /** Magnitude scale; default 'db'. */
  scale: SpectrumScale;
  /** Amplitude floor added before the log (signal units, g); default 1e-6. */
  epsilon: number;
  /** Normalisation of the whole spectrogram; default 'zscore'. */
  normalisation: Normalisation;
}

export const DEFAULT_STFT_PARAMS: Readonly<StftParams> = Object.freeze({
  window: 'hann',
  nfft: 512,
  freqBins: 64,
  frames: 64,
  fMin: 0,
  fMax: null,
  scale: 'db',
  epsilon: 1e-6,
  normalisation: 'zscore',
});

/** A precomputed STFT. Not re-entrant: one plan per thread of work. */
export interface StftPlan {
  readonly params: Readonly<StftParams>;
  /** Samples per second (or per revolution), as given. */
  readonly sampleRate: number;
  /** Samples per input window. */
  readonly windowLength: number;
  /** `[freqBins, frames]`. */
  readonly shape: readonly [number, number];
  /** Mean distance between frame starts, samples (frames are placed at rounded multiples). */
  readonly hop: number;
  /** First sample of each frame, length `frames`. */
  readonly frameStarts: Int32Array;
  /** Band edges (Hz or orders), length freqBins + 1; band b spans [edges[b], edges[b+1]). */
  readonly bandEdges: Float64Array;
  /** FFT bin spacing, Hz (or orders). */
  readonly binWidth: number;
  /**
   * Spectrogram of `signal` (length = windowLength), written into `out`
   * (length freqBins × frames, `out[f * frames + t]`) or a new array.
   * Throws FL_ERR_SIGNAL_TOO_SHORT / FL_ERR_SIGNAL_TOO_LONG on a wrong length,
   * FL_ERR_SIGNAL_NONFINITE on NaN/Infinity.
   */
  compute(signal: ArrayLike<number>, out?: Float32Array): Spectrogram;
}

/** Fills in defaults and checks `params` (FL_ERR_DSP_PARAMS). */
export function resolveStftParams(
  params: Partial<StftParams> = {},
  sampleRate?: number,
): StftParams {
  const p: StftParams = { ...DEFAULT_STFT_PARAMS, ...stripUndefined(params) };
  requireParam(
    WINDOW_KINDS.includes(p.window),
    `stft.window "${p.window}" is not one of ${WINDOW_KINDS.join(', ')}`,
  );
  requireParam(
    isPow2(p.nfft) && p.nfft <= 2 ** 20,
    `stft.nfft must be a power of two in 2…2^20, got ${p.nfft}`,
  );
  requireParam(
    intIn(p.freqBins, 1, 65536),
    `stft.freqBins must be an integer in 1…65536, got ${p.freqBins}`,
  );
  requireParam(
    intIn(p.frames, 1, 1 << 20),
    `stft.frames must be an integer in 1…2^20, got ${p.frames}`,
  );
  requireParam(
    SPECTRUM_SCALES.includes(p.scale),
    `stft.scale "${p.scale}" is not one of ${SPECTRUM_SCALES.join(', ')}`,
  );
  requireParam(
    NORMALISATIONS.includes(p.normalisation),
    `stft.normalisation "${p.normalisation}" is not one of ${NORMALISATIONS.join(', ')}`,
  );
  requireParam(
    Number.isFinite(p.epsilon) && p.epsilon > 0,
    `stft.epsilon must be > 0, got ${p.epsilon}`,
  );
  requireParam(Number.isFinite(p.fMin) && p.fMin >= 0, `stft.fMin must be ≥ 0, got ${p.fMin}`);
  if (sampleRate !== undefined) {
    const nyquist = sampleRate / 2;
    const fMax = p.fMax ?? nyquist;
    requireParam(
      Number.isFinite(fMax) && fMax > p.fMin && fMax <= nyquist * (1 + 1e-9),
      `stft band ${p.fMin}…${fMax} must satisfy fMin < fMax ≤ Nyquist (${nyquist})`,
    );
  }
  return p;
}

/**
 * Builds an STFT plan.
 * @param params STFT parameters (missing ones take DEFAULT_STFT_PARAMS)
 * @param sampleRate samples per second, Hz (or samples per revolution)
 * @param windowLength samples per input window, ≥ nfft
 */
export function createStft(
  params: Partial<StftParams>,
  sampleRate: number,
  windowLength: number,
): StftPlan {
  requireParam(
    Number.isFinite(sampleRate) && sampleRate > 0,
    `sampleRate must be > 0, got ${sampleRate}`,
  );
  const p = resolveStftParams(params, sampleRate);
  if (!(Number.isInteger(windowLength) && windowLength > 0 && windowLength <= MAX_SIGNAL_SAMPLES)) {
    throw new FaultlineError(
      windowLength > MAX_SIGNAL_SAMPLES ? 'FL_ERR_SIGNAL_TOO_LONG' : 'FL_ERR_DSP_PARAMS',
      `windowLength must be an integer in 1…${MAX_SIGNAL_SAMPLES} samples, got ${windowLength}`,
    );
  }
  requireParam(
    windowLength >= p.nfft,
    `windowLength ${windowLength} is shorter than nfft ${p.nfft}; use a smaller nfft or longer windows`,
  );
  const { nfft, freqBins, frames } = p;
  const half = nfft / 2;
  const fMax = p.fMax ?? sampleRate / 2;
  const binWidth = sampleRate / nfft;

  const window = makeWindow(p.window, nfft);
  let wSum = 0;
  for (let n = 0; n < nfft; n++) wSum += window[n];
  // Frame starts: exactly `frames` frames, the first at 0, the last ending at
  // the window's end, so no padding is needed and every sample is covered
  // whenever hop ≤ nfft.
  const span = windowLength - nfft;
  const hop = frames > 1 ? span / (frames - 1) : 0;
  const frameStarts = new Int32Array(frames);
  for (let t = 0; t < frames; t++)
    frameStarts[t] = frames > 1 ? Math.round(t * hop) : Math.floor(span / 2);

  // Bin → band map: band b takes the contiguous bins whose centre frequency
  // lies in [edge b, edge b+1); a band narrower than a bin takes the bin
  // nearest its centre (so neighbouring narrow bands may repeat a bin).
  const bandEdges = new Float64Array(freqBins + 1);
  for (let b = 0; b <= freqBins; b++) bandEdges[b] = p.fMin + ((fMax - p.fMin) * b) / freqBins;
  const bandLo = new Int32Array(freqBins);
  const bandHi = new Int32Array(freqBins);
  const bandInv = new Float64Array(freqBins);
  for (let b = 0; b < freqBins; b++) {
    let lo = Math.ceil(bandEdges[b] / binWidth - 1e-9);
    let hi =
      b === freqBins - 1
        ? Math.floor(bandEdges[b + 1] / binWidth + 1e-9) + 1
        : Math.ceil(bandEdges[b + 1] / binWidth - 1e-9);
    hi = Math.min(hi, half + 1);
    if (hi <= lo) {
      lo = Math.min(half, Math.round((bandEdges[b] + bandEdges[b + 1]) / 2 / binWidth));
      hi = lo + 1;
    }
    bandLo[b] = lo;
    bandHi[b] = hi;
    bandInv[b] = 1 / (hi - lo);
  }

  // Two real frames per complex FFT ("two for one"): frame t in the real
  // part, frame t+1 in the imaginary part; their spectra are separated by
  // conjugate symmetry. One complex FFT of size n costs ~0.65 of two real
  // ones with fft.js, and the separation is a few flops per bin.
  const fft = new FFT(nfft);
  const packed = new Float64Array(2 * nfft);
  const spectrum = new Float64Array(2 * nfft);
  const size = freqBins * frames;
  const eps2 = p.epsilon * p.epsilon;
  const mode = p.scale === 'db' ? 0 : p.scale === 'log10' ? 1 : 2;
  const normalisation = p.normalisation;
  // Per-band factor: mean over the band's bins and the single-sided amplitude
  // scale (2/Σw)² for interior bins; DC and Nyquist (scale 1/Σw) are
  // corrected by halving their bin before squaring (see `edge` below).
  // Single-sided amplitude scaling: a sine of amplitude A on a bin reads A.
  const interior = (2 / wSum) ** 2;
  const bandScale = new Float64Array(freqBins);
  for (let b = 0; b < freqBins; b++) bandScale[b] = interior * bandInv[b];

  function toScale(power: number): number {
    return mode === 0
      ? 10 * Math.log10(power + eps2)
      : mode === 1
        ? 0.5 * Math.log10(power + eps2)
        : Math.sqrt(power);
  }

  function compute(signal: ArrayLike<number>, out?: Float32Array): Spectrogram {
    if (signal.length !== windowLength) {
      throw new FaultlineError(
        signal.length < windowLength ? 'FL_ERR_SIGNAL_TOO_SHORT' : 'FL_ERR_SIGNAL_TOO_LONG',
        `the STFT plan takes windows of ${windowLength} samples, got ${signal.length}; cut the signal into windows of that length`,
      );
    }
    checkFinite(signal, 'STFT input');
    let data = out;
    if (data === undefined) data = new Float32Array(size);
    else if (data.length !== size) {
      throw new FaultlineError(
        'FL_ERR_DSP_PARAMS',
        `output array has length ${data.length}, the plan needs ${size}`,
      );
    }
    for (let t = 0; t < frames; t += 2) {
      const pair = t + 1 < frames;
      const s0 = frameStarts[t];
      const s1 = pair ? frameStarts[t + 1] : s0;
      if (pair) {
        for (let n = 0; n < nfft; n++) {
          const w = window[n];
          packed[2 * n] = signal[s0 + n] * w;
          packed[2 * n + 1] = signal[s1 + n] * w;
        }
      } else {
        for (let n = 0; n < nfft; n++) {
          packed[2 * n] = signal[s0 + n] * window[n];
          packed[2 * n + 1] = 0;
        }
      }
      fft.transform(spectrum, packed);
      for (let b = 0; b < freqBins; b++) {
        let acc0 = 0;
        let acc1 = 0;
        const lo = bandLo[b];
        const hi = bandHi[b];
        // Interior bins; k and n−k hold Z_k and Z_{n−k}.
        for (let k = lo > 0 ? lo : 1, e = Math.min(hi, half); k < e; k++) {
          const ar = spectrum[2 * k];
          const ai = spectrum[2 * k + 1];
          const m = 2 * (nfft - k);
          const br = spectrum[m];
          const bi = spectrum[m + 1];
          // 4|X_k|² and 4|Y_k|² of the two real frames.
          const xr = ar + br;
          const xi = ai - bi;
          const yr = ai + bi;
          const yi = br - ar;
          acc0 += xr * xr + xi * xi;
          acc1 += yr * yr + yi * yi;
        }
        // DC and Nyquist are their own mirror images (Z_0, Z_{n/2}) and count
        // once, not twice, in a single-sided spectrum: a quarter of the power.
        if (lo === 0) {
          acc0 += spectrum[0] * spectrum[0];
          acc1 += spectrum[1] * spectrum[1];
        }
        if (hi > half) {
          acc0 += spectrum[nfft] * spectrum[nfft];
          acc1 += spectrum[nfft + 1] * spectrum[nfft + 1];
        }
        // ¼ undoes the 4 above.
        const sc = 0.25 * bandScale[b];
        data[b * frames + t] = toScale(acc0 * sc);
        if (pair) data[b * frames + t + 1] = toScale(acc1 * sc);
      }
    }
    if (normalisation !== 'none') normalise(data, normalisation);
    return { data, freqBins, frames };
  }

  return Object.freeze({
    params: Object.freeze(p),
    sampleRate,
    windowLength,
    shape: Object.freeze([freqBins, frames] as const),
    hop,
    frameStarts,
    bandEdges,
    binWidth,
    compute,
  });
}

/**
 * In-place per-spectrogram normalisation. A constant input (std 0 or
 * max = min) becomes all zeros rather than NaN.
 */
export function normalise(data: Float32Array, mode: Normalisation): void {
  const n = data.length;
  if (n === 0 || mode === 'none') return;
  if (mode === 'zscore') {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += data[i];
    const mean = sum / n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const d = data[i] - mean;
      ss += d * d;
    }
    const std = Math.sqrt(ss / n);
    const inv = std > 1e-12 * (Math.abs(mean) + 1) ? 1 / std : 0;
    for (let i = 0; i < n; i++) data[i] = (data[i] - mean) * inv;
  } else {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const inv = hi > lo ? 1 / (hi - lo) : 0;
    for (let i = 0; i < n; i++) data[i] = (data[i] - lo) * inv;
  }
}

/** One-shot spectrogram of a whole signal (builds a plan; prefer createStft in loops). */
export function stft(
  signal: ArrayLike<number>,
  sampleRate: number,
  params: Partial<StftParams> = {},
): Spectrogram {
  checkSignal(signal, 'STFT input');
  return createStft(params, sampleRate, signal.length).compute(signal);
}

function intIn(v: number, lo: number, hi: number): boolean {
  return Number.isInteger(v) && v >= lo && v <= hi;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const r: Partial<T> = {};
  for (const [k, v] of Object.entries(o))
    if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  return r;
}
