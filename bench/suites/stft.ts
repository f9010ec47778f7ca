/**
 * STFT throughput on one core: 1 s windows at 12 kHz with the default STFT
 * (64 frames of 512-point FFTs → 64 × 64), next to the bound set by the same
 * FFTs alone (same count, size and buffers, no windowing/pooling/log), plus
 * the order-mode front end (envelope + angular resampling + STFT, rpm given).
 * Target: stft_windows_per_s ≥ 60 % of fft_bound_windows_per_s (64 real
 * 512-point FFTs). The STFT packs two real frames into one complex FFT, so
 * it can beat that bound; fft_packed_bound_windows_per_s is the bound of the
 * FFTs it really runs (32 complex 512-point FFTs).
 *
 * The whole-window transforms (band envelope, velocity, evidence: 16384-point
 * real FFTs for a 1 s window at 12 kHz) run on PFFFT in wasm where it loads
 * (src/dsp/pffft.ts): fft_real16384_per_s is that engine, _fftjs the same
 * transform on fft.js, _speedup their ratio (fft_engine_pffft: 1 when PFFFT
 * ran, 0 when the fallback did).
 */
import FFT from 'fft.js';
import { fftEngine, fftPlan } from '../../src/dsp/fftutil.js';
import { createFrontEnd, createStft } from '../../src/dsp/index.js';

export const name = 'stft';

const FS = 12000;

/** Runs `fn` repeatedly for ≥ `ms` after a warm-up; returns calls per second. */
function rate(fn: () => void, ms: number): number {
  const warmUntil = performance.now() + ms / 4;
  while (performance.now() < warmUntil) fn();
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 10; i++) fn();
    calls += 10;
    t = performance.now();
  }
  return (calls * 1000) / (t - t0);
}

/** Median of `runs` measurements (the machine is shared: the median resists a neighbour's burst). */
function median(runs: number, f: () => number): number {
  const v = Array.from({ length: runs }, f).sort((a, b) => a - b);
  return v[runs >> 1];
}

export async function run(): Promise<Record<string, number>> {
  const x = new Float32Array(FS);
  let seed = 1;
  for (let i = 0; i < FS; i++) {
    seed = (seed * 16807) % 2147483647;
    x[i] = Math.sin((2 * Math.PI * 157 * i) / FS) + (seed / 2147483647 - 0.5);
  }
  const plan = createStft({}, FS, FS);
  const out = new Float32Array(plan.shape[0] * plan.shape[1]);
  const { nfft, frames } = plan.params;

  const fft = new FFT(nfft);
  const frame = new Float64Array(nfft);
  const spec = new Float64Array(2 * nfft);
  for (let i = 0; i < nfft; i++) frame[i] = x[i];
  const fftOnly = () => {
    for (let t = 0; t < frames; t++) fft.realTransform(spec, frame);
  };
  // What the STFT actually runs: two real frames packed per complex FFT.
  const packed = new Float64Array(2 * nfft);
  for (let i = 0; i < 2 * nfft; i++) packed[i] = x[i];
  const fftPacked = () => {
    for (let t = 0; t < frames; t += 2) fft.transform(spec, packed);
  };

  const fe = createFrontEnd({ mode: 'order' });
  const feOut = new Float32Array(fe.inputShape[0] * fe.inputShape[1] * fe.inputShape[2]);
  const rpms = [1797, 1772, 1750, 1730];
  let k = 0;
  const order = () => {
    fe.process(x, rpms[k++ & 3], feOut);
  };
  const time = createFrontEnd({ mode: 'time' });
  // The version-2 order-line map (what train writes now): one band on the
  // shaft axis, and the shipped sim-12k's three fault axes.
  const lines = createFrontEnd({ version: 2, mode: 'order' });
  const linesOut = new Float32Array(lines.inputShape.reduce((a, b) => a * b, 1));
  const lineMap = () => {
    lines.process(x, rpms[k++ & 3], linesOut);
  };

  const W = 16384;
  const whole = new Float64Array(W);
  whole.set(x);
  const wholeSpec = new Float64Array(2 * W);
  const engine = fftPlan(W);
  const reference = new FFT(W);

  // Interleave the measurements so both see the same machine load.
  const stftRuns: number[] = [];
  const fftRuns: number[] = [];
  const packedRuns: number[] = [];
  for (let r = 0; r < 5; r++) {
    stftRuns.push(rate(() => plan.compute(x, out), 400));
    fftRuns.push(rate(fftOnly, 400));
    packedRuns.push(rate(fftPacked, 400));
  }
  const med = (v: number[]) => v.sort((a, b) => a - b)[v.length >> 1];
  const stftRate = med(stftRuns);
  const fftRate = med(fftRuns);
  const packedRate = med(packedRuns);
  const timeRate = median(3, () => rate(() => time.process(x, undefined, out), 400));
  const orderRate = median(3, () => rate(order, 400));
  const linesRate = median(3, () => rate(lineMap, 400));
  const engineRuns: number[] = [];
  const referenceRuns: number[] = [];
  for (let r = 0; r < 3; r++) {
    engineRuns.push(rate(() => engine.realTransform(wholeSpec, whole), 300));
    referenceRuns.push(rate(() => reference.realTransform(wholeSpec, whole), 300));
  }
  const engineRate = med(engineRuns);
  const referenceRate = med(referenceRuns);
  return {
    stft_windows_per_s: Math.round(stftRate),
    fft_bound_windows_per_s: Math.round(fftRate),
    stft_vs_fft_bound_pct: Math.round((1000 * stftRate) / fftRate) / 10,
    fft_packed_bound_windows_per_s: Math.round(packedRate),
    stft_vs_packed_bound_pct: Math.round((1000 * stftRate) / packedRate) / 10,
    frontend_time_windows_per_s: Math.round(timeRate),
    frontend_order_windows_per_s: Math.round(orderRate),
    frontend_lines_windows_per_s: Math.round(linesRate),
    fft_real16384_per_s: Math.round(engineRate),
    fft_real16384_per_s_fftjs: Math.round(referenceRate),
    fft_real16384_speedup: Math.round((100 * engineRate) / referenceRate) / 100,
    fft_engine_pffft: fftEngine.startsWith('pffft') ? 1 : 0,
    rss_mb: Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10,
  };
}
