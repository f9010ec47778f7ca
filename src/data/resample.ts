/**
 * Sample-rate conversion with an anti-alias / anti-image low-pass, used to
 * bring recordings to one rate (CWRU 97.mat: 48 kHz → 12 kHz).
 *
 * Why not just keep every 4th sample: anything in 6–24 kHz would fold into
 * 0–6 kHz and masquerade as bearing tones. The filter here is a Kaiser-windowed
 * sinc evaluated in continuous time, `y(t) = Σ_k x[k]·g(t − k)` with `t` in
 * input samples, so the same kernel serves decimation, interpolation and any
 * ratio between:
 *
 *   g(τ) = 2·fc·sinc(2·fc·τ) · kaiser(τ / H)        fc in cycles per input sample
 *
 * The passband runs to `passband × lower Nyquist` and the stopband starts at
 * the lower Nyquist itself, so every tone that would alias is attenuated by at
 * least `attenuationDb` (Kaiser's design formulas set β and the half-width H).
 *
 * For a rational ratio L/M with small L the output positions fall on only L
 * fractional phases, so the taps are precomputed per phase (polyphase); each
 * phase is normalised to unit DC gain so no phase-dependent gain ripple creeps
 * in. Any other ratio uses a finely sampled kernel table with linear
 * interpolation. Samples outside the input are taken as zero (edge effects
 * reach about H input samples in from each end).
 */
import { FaultlineError } from '../errors.js';

export interface ResampleOptions {
  /** Passband edge as a fraction of the lower of the two Nyquist frequencies. Default 0.9. */
  passband?: number;
  /** Minimum stopband attenuation, dB (≥ 21). Default 80. */
  attenuationDb?: number;
}

/** The filter and ratio a conversion uses; `describe` goes into Recording.meta. */
export interface ResamplerDesign {
  fromRate: number;
  toRate: number;
  /** Interpolation factor L of a rational ratio, or 0 when the ratio is treated as arbitrary. */
  up: number;
  /** Decimation factor M of a rational ratio, or 0 when arbitrary. */
  down: number;
  /** −6 dB cutoff of the low-pass, Hz. */
  cutoffHz: number;
  /** Passband edge, Hz. */
  passbandHz: number;
  /** Stopband edge (the lower Nyquist), Hz. */
  stopbandHz: number;
  /** Kernel half-width, input samples. */
  halfWidth: number;
  /** Kaiser β. */
  beta: number;
  attenuationDb: number;
  /** One-line summary for provenance records. */
  describe: string;
}

/**
 * A rate within this fraction of the analysis rate is taken as it is, not
 * resampled: a sensor whose crystal is 0.3 % off is not worth a filter.
 */
export const RATE_TOLERANCE = 0.01;

/** True when `rate` may be taken as `analysisRate` (within ±RATE_TOLERANCE). */
export function ratesMatch(rate: number, analysisRate: number): boolean {
  return Math.abs(rate / analysisRate - 1) <= RATE_TOLERANCE;
}

/** Largest L for which per-phase tap tables are built. */
const MAX_PHASES = 4096;
/** Largest polyphase table, taps (keeps memory under ~32 MB). */
const MAX_TABLE_TAPS = 1 << 22;
/** Kernel table oversampling for arbitrary ratios, points per input sample. */
const FINE_STEPS = 1024;

/**
 * Designs the conversion `fromRate → toRate` (Hz).
 * @throws FaultlineError FL_ERR_DSP_PARAMS for non-positive or non-finite rates or options out of range
 */
export function designResampler(
  fromRate: number,
  toRate: number,
  options: ResampleOptions = {},
): ResamplerDesign {
  const passband = options.passband ?? 0.9;
  const atten = options.attenuationDb ?? 80;
  for (const [k, r] of [
    ['fromRate', fromRate],
    ['toRate', toRate],
  ] as const) {
    if (!Number.isFinite(r) || r <= 0) {
      throw new FaultlineError(
        'FL_ERR_DSP_PARAMS',
        `resample: ${k} ${r} Hz must be a positive number`,
      );
    }
  }
  if (!(passband > 0 && passband < 1)) {
    throw new FaultlineError(
      'FL_ERR_DSP_PARAMS',
      `resample: passband ${passband} must be in (0, 1)`,
    );
  }
  if (!(atten >= 21 && atten <= 200)) {
    throw new FaultlineError(
      'FL_ERR_DSP_PARAMS',
      `resample: attenuationDb ${atten} must be between 21 and 200`,
    );
  }
  const nyq = Math.min(fromRate, toRate) / 2;
  const passbandHz = passband * nyq;
  const stopbandHz = nyq;
  const cutoffHz = (passbandHz + stopbandHz) / 2;
  const transition = (stopbandHz - passbandHz) / fromRate; // cycles per input sample
  // Kaiser (1974): β from the attenuation; length N from attenuation and transition width.
  const beta =
    atten > 50 ? 0.1102 * (atten - 8.7) : 0.5842 * (atten - 21) ** 0.4 + 0.07886 * (atten - 21);
  const taps = (atten - 7.95) / (14.36 * transition) + 1;
  const halfWidth = Math.ceil(taps / 2);

  let up = 0;
  let down = 0;
  if (Number.isInteger(fromRate) && Number.isInteger(toRate)) {
    const g = gcd(fromRate, toRate);
    if (toRate / g <= MAX_PHASES && (toRate / g) * 2 * halfWidth <= MAX_TABLE_TAPS) {
      up = toRate / g;
      down = fromRate / g;
    }
  }
  const ratio = up ? `${up}/${down}` : `${(toRate / fromRate).toPrecision(8)} (arbitrary)`;
  return {
    fromRate,
    toRate,
    up,
    down,
    cutoffHz,
    passbandHz,
    stopbandHz,
    halfWidth,
    beta,
    attenuationDb: atten,
    describe:
      `Kaiser-windowed sinc, ratio ${ratio}, passband ${round(passbandHz)} Hz, ` +
      `stopband ${round(stopbandHz)} Hz ≥ ${atten} dB, ${2 * halfWidth} taps`,
  };
}

/** Number of output samples `resample` returns for `n` input samples. */
export function resampledLength(n: number, fromRate: number, toRate: number): number {
  if (n <= 0) return 0;
  if (fromRate === toRate) return n;
  // Outputs at t = j·from/to (input samples) for every t ≤ n − 1.
  if (Number.isInteger(fromRate) && Number.isInteger(toRate)) {
    const g = gcd(fromRate, toRate);
    return Math.floor(((n - 1) * (toRate / g)) / (fromRate / g)) + 1;
  }
  return Math.floor(((n - 1) * toRate) / fromRate + 1e-9) + 1;
}

/**
 * Converts `x` (sampled at `fromRate` Hz) to `toRate` Hz through the low-pass
 * of {@link designResampler}. The first output sample is aligned with the
 * first input sample; output length is {@link resampledLength}. NaN inputs
 * spread to the outputs within one kernel half-width.
 */
export function resample(
  x: Float32Array | Float64Array,
  fromRate: number,
  toRate: number,
  options: ResampleOptions = {},
): Float32Array {
  const d = designResampler(fromRate, toRate, options);
  if (fromRate === toRate) return Float32Array.from(x);
  const outLen = resampledLength(x.length, fromRate, toRate);
  const y = new Float32Array(outLen);
  if (outLen === 0) return y;
  const H = d.halfWidth;
  const kernel = resamplerKernel(d);
  const n = x.length;
  const width = 2 * H; // taps j = −H+1 … H around k0 = floor(t)

  if (d.up) {
    const L = d.up;
    const M = d.down;
    const table = new Float64Array(L * width);
    for (let p = 0; p < L; p++) {
      const frac = p / L;
      let sum = 0;
      for (let j = -H + 1; j <= H; j++) {
        const w = kernel(frac - j);
        table[p * width + j + H - 1] = w;
        sum += w;
      }
      for (let i = 0; i < width; i++) table[p * width + i] /= sum;
    }
    for (let o = 0; o < outLen; o++) {
      const num = o * M;
      const k0 = Math.floor(num / L);
      const base = (num - k0 * L) * width + H - 1; // table index of tap j = 0
      const jLo = Math.max(-H + 1, -k0);
      const jHi = Math.min(H, n - 1 - k0);
      let acc = 0;
      for (let j = jLo; j <= jHi; j++) acc += x[k0 + j] * table[base + j];
      y[o] = acc;
    }
    return y;
  }

  // Arbitrary ratio: kernel sampled every 1/FINE_STEPS input samples, linearly interpolated.
  const fine = new Float64Array(H * FINE_STEPS + 2);
  for (let i = 0; i < fine.length; i++) fine[i] = kernel(i / FINE_STEPS);
  const step = fromRate / toRate;
  for (let o = 0; o < outLen; o++) {
    const t = o * step;
    const k0 = Math.floor(t);
    const frac = t - k0;
    const jLo = Math.max(-H + 1, -k0);
    const jHi = Math.min(H, n - 1 - k0);
    let acc = 0;
    let sum = 0;
    for (let j = -H + 1; j <= H; j++) {
      const pos = Math.abs(frac - j) * FINE_STEPS;
      const i = Math.floor(pos);
      const w = i + 1 < fine.length ? fine[i] + (pos - i) * (fine[i + 1] - fine[i]) : 0;
      sum += w;
      if (j >= jLo && j <= jHi) acc += x[k0 + j] * w;
    }
    y[o] = acc / sum;
  }
  return y;
}

/**
 * The low-pass of a design as a function of continuous time `τ` (input
 * samples): `g(τ) = 2·fc·sinc(2·fc·τ) · kaiser(τ / H)`, zero for |τ| ≥ H.
 * Shared by {@link resample} and the streaming resampler (./resample-stream.ts)
 * so both apply the same filter.
 */
export function resamplerKernel(d: ResamplerDesign): (tau: number) => number {
  const fc = d.cutoffHz / d.fromRate;
  const H = d.halfWidth;
  const i0b = besselI0(d.beta);
  return (tau: number): number => {
    const u = tau / H;
    if (u <= -1 || u >= 1) return 0;
    const a = 2 * fc * tau;
    const sinc = a === 0 ? 1 : Math.sin(Math.PI * a) / (Math.PI * a);
    return 2 * fc * sinc * (besselI0(d.beta * Math.sqrt(1 - u * u)) / i0b);
  };
}

/** Modified Bessel function of the first kind, order 0 (power series; converges for all x). */
function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 200 && term > sum * 1e-17; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function round(hz: number): number {
  return Math.round(hz * 10) / 10;
}
