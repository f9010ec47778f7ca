/**
 * The condition indicators a vibration analyst reads first, computed on
 * acceleration in g: RMS, crest factor, kurtosis, and broadband velocity RMS
 * (mm/s, the quantity ISO 20816 zones are defined on).
 */

import type { IsoZone } from '../contract/health.js';
import type { Foundation, MachineGroup } from '../contract/iso-zones.js';
import { fftPlan } from './fftutil.js';
import { isoZone } from './iso20816.js';
import { checkSignal, isPow2, MAX_FFT_SIGNAL_SAMPLES, nextPow2, requireParam } from './signal.js';

/** Standard gravity, m/s² per g (ISO 80000-3). */
export const STANDARD_GRAVITY = 9.80665;

/** Root mean square of `x` (g), mean included. */
export function rms(x: ArrayLike<number>): number {
  checkSignal(x, 'RMS input');
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s / x.length);
}

/**
 * Crest factor: peak |x − mean| / RMS(x − mean). The mean (sensor offset) is
 * removed because it says nothing about impacts. 0 for a constant signal.
 */
export function crestFactor(x: ArrayLike<number>): number {
  checkSignal(x, 'crest-factor input');
  const m = mean(x);
  let peak = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - m;
    s += d * d;
    const a = d < 0 ? -d : d;
    if (a > peak) peak = a;
  }
  const r = Math.sqrt(s / x.length);
  return r > 0 ? peak / r : 0;
}

/**
 * Kurtosis (Pearson, not excess): E[(x−μ)⁴]/σ⁴. 3 for Gaussian noise, 1.5 for
 * a sine; impacts from a bearing defect push it well above 3. 0 for a
 * constant signal.
 */
export function kurtosis(x: ArrayLike<number>): number {
  checkSignal(x, 'kurtosis input');
  const m = mean(x);
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < x.length; i++) {
    const d2 = (x[i] - m) ** 2;
    m2 += d2;
    m4 += d2 * d2;
  }
  m2 /= x.length;
  m4 /= x.length;
  return m2 > 0 ? m4 / (m2 * m2) : 0;
}

export interface VelocityOptions {
  /** Lower band edge, Hz; default 10 (ISO 20816-3 for machines above 600 rpm; use 2 below). */
  lowHz?: number;
  /** Upper band edge, Hz; default 1000. */
  highHz?: number;
}

/**
 * Broadband velocity RMS, mm/s, from acceleration `x` in g sampled at `fs`
 * Hz, by integration in the frequency domain: FFT, keep the bins in
 * [lowHz, highHz], divide by jω (so |V| = |A|/(2πf)), and sum the energy
 * (Parseval). The mean-removed signal is zero-padded to a power of two and not
 * windowed; leakage of a tone stays next to it, where 1/ω² changes little.
 * A sine of amplitude a g at f Hz gives a·g₀/(2πf)/√2 · 1000 mm/s.
 */
export function velocityRms(
  x: ArrayLike<number>,
  fs: number,
  options: VelocityOptions = {},
): number {
  requireParam(Number.isFinite(fs) && fs > 0, `fs must be > 0 Hz, got ${fs}`);
  checkSignal(x, 'velocity input', MAX_FFT_SIGNAL_SAMPLES);
  const n = x.length;
  const N = nextPow2(n);
  const fft = fftPlan(N);
  const buf = new Float64Array(N);
  const m = mean(x);
  for (let i = 0; i < n; i++) buf[i] = x[i] - m;
  const spec = new Float64Array(2 * N);
  fft.realTransform(spec, buf);
  return velocityRmsFromSpectrum(spec, N, n, fs, options);
}

/**
 * velocityRms from a spectrum already taken: `spec` is the fft.js real
 * transform (interleaved re/im, bins 0 … N/2) of the n-sample window in g,
 * mean removed and zero-padded to N — exactly what an envelope plan's
 * lastSpectrum() holds, so a window pays for one forward FFT, not two.
 */
export function velocityRmsFromSpectrum(
  spec: Float64Array,
  N: number,
  n: number,
  fs: number,
  options: VelocityOptions = {},
): number {
  requireParam(Number.isFinite(fs) && fs > 0, `fs must be > 0 Hz, got ${fs}`);
  requireParam(
    isPow2(N) && spec.length >= N + 2 && Number.isInteger(n) && n >= 1 && n <= N,
    `a spectrum of ${spec.length / 2} complex bins, N = ${N}, n = ${n} is not an N-point transform of n samples`,
  );
  const lowHz = options.lowHz ?? 10;
  const highHz = Math.min(options.highHz ?? 1000, fs / 2);
  requireParam(
    lowHz > 0 && highHz > lowHz,
    `velocity band ${lowHz}…${highHz} Hz must satisfy 0 < low < high ≤ fs/2`,
  );
  const kLo = Math.max(1, Math.ceil((lowHz * N) / fs));
  const kHi = Math.min(N / 2, Math.floor((highHz * N) / fs));
  let energy = 0;
  for (let k = kLo; k <= kHi; k++) {
    const w = 2 * Math.PI * ((k * fs) / N);
    const p = (spec[2 * k] ** 2 + spec[2 * k + 1] ** 2) / (w * w);
    energy += k === N / 2 ? p : 2 * p; // single-sided: count the mirrored bin
  }
  // Parseval: Σ|x|² = (1/N)Σ|X|²; mean square over the n real samples; g → mm/s² scales by g₀·1000.
  return Math.sqrt(energy / N / n) * STANDARD_GRAVITY * 1000;
}

export interface VibrationSummary {
  /** Acceleration RMS, g (mean removed). */
  rmsG: number;
  /** Peak |a − mean|, g. */
  peakG: number;
  crestFactor: number;
  kurtosis: number;
  /** Velocity RMS over the ISO band, mm/s. */
  velocityRmsMmS: number;
  /** ISO 20816-3 zone of velocityRmsMmS. */
  isoZone: IsoZone;
}

/** The time-domain part of VibrationSummary: cheap (one pass plus kurtosis), no FFT. */
export type TimeStatistics = Pick<VibrationSummary, 'rmsG' | 'peakG' | 'crestFactor' | 'kurtosis'>;

/**
 * RMS, peak, crest factor and kurtosis of a window of acceleration (g), mean
 * removed; the values vibrationSummary reports, without the velocity FFT.
 */
export function timeStatistics(x: ArrayLike<number>): TimeStatistics {
  checkSignal(x, 'vibration window', MAX_FFT_SIGNAL_SAMPLES);
  const m = mean(x);
  // One pass for all four (the live pipeline runs this on every window).
  let s = 0;
  let s4 = 0;
  let peak = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i] - m;
    const d2 = d * d;
    s += d2;
    s4 += d2 * d2;
    const a = d < 0 ? -d : d;
    if (a > peak) peak = a;
  }
  const m2 = s / x.length;
  const rmsG = Math.sqrt(m2);
  return {
    rmsG,
    peakG: peak,
    crestFactor: rmsG > 0 ? peak / rmsG : 0,
    kurtosis: m2 > 0 ? s4 / x.length / (m2 * m2) : 0,
  };
}

/**
 * The usual one-line summary of a window of acceleration (g) at `fs` Hz.
 * @param iso machine group and foundation for the zone (defaults: group 2, rigid)
 */
export function vibrationSummary(
  x: ArrayLike<number>,
  fs: number,
  iso: { group?: MachineGroup; foundation?: Foundation; lowHz?: number; highHz?: number } = {},
): VibrationSummary {
  const t = timeStatistics(x);
  const v = velocityRms(x, fs, { lowHz: iso.lowHz, highHz: iso.highHz });
  return {
    ...t,
    velocityRmsMmS: v,
    isoZone: isoZone(v, iso.group ?? 2, iso.foundation ?? 'rigid'),
  };
}

function mean(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}
