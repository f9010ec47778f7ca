/**
 * Tiny deterministic signal generators for the dsp tests (the full machine
 * simulator lives in src/sim; these stay independent of it on purpose).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { matScalar, matVector, readMat } from '../../src/data/mat.js';
import { mulberry32 } from '../../src/model/inputs.js';

/** mulberry32: a seeded uniform PRNG in [0, 1) — the one the training code uses for its shuffles. */
export const rng = mulberry32;

/** Standard normal samples (Box–Muller). */
export function gaussian(n: number, seed: number, sigma = 1): Float32Array {
  const u = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = sigma * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  }
  return out;
}

/** a·sin(2π f t + phase), n samples at fs Hz. */
export function tone(n: number, fs: number, f: number, a = 1, phase = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = a * Math.sin((2 * Math.PI * f * i) / fs + phase);
  return out;
}

/** out += b (in place), returns out. */
export function add(out: Float32Array, b: ArrayLike<number>): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] += b[i];
  return out;
}

/**
 * Outer-race fault model: impacts at `rateHz` (with ±jitter of the period,
 * as slip does), each ringing a resonance at `resonanceHz` decaying with
 * time constant `tauS`, plus Gaussian noise of std `noise`.
 */
export function impactTrain(
  n: number,
  fs: number,
  rateHz: number,
  opts: {
    resonanceHz?: number;
    tauS?: number;
    amp?: number;
    noise?: number;
    jitter?: number;
    seed?: number;
  } = {},
): Float32Array {
  const { resonanceHz = 3000, tauS = 0.002, amp = 1, noise = 0.2, jitter = 0.005, seed = 1 } = opts;
  const u = rng(seed + 17);
  const out = gaussian(n, seed, noise);
  const ring = Math.ceil(8 * tauS * fs);
  const period = fs / rateHz;
  for (let t0 = 0; t0 < n; t0 += period) {
    const start = Math.round(t0 + (u() * 2 - 1) * jitter * period);
    for (let k = 0; k < ring && start + k < n; k++) {
      if (start + k < 0) continue;
      const t = k / fs;
      out[start + k] += amp * Math.exp(-t / tauS) * Math.sin(2 * Math.PI * resonanceHz * t);
    }
  }
  return out;
}

/** The CWRU folder (test/support/cwru.ts when present is the shared way; same fallback here). */
export function cwruDirFallback(): string {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  return process.env.FAULTLINE_CWRU_DIR ?? path.resolve(repoRoot, '..', 'shared', 'data', 'cwru');
}

/**
 * Drive-end channel and stored rpm of CWRU file `number`, or undefined when
 * the data set is absent (the caller skips; under CI=true absence fails).
 */
export async function readCwruDe(
  number: number,
): Promise<{ x: Float32Array; rpm: number } | undefined> {
  const file = path.join(cwruDirFallback(), `${number}.mat`);
  if (!existsSync(file)) {
    if (process.env.CI === 'true')
      throw new Error(`CWRU file ${file} is missing (required under CI)`);
    return undefined;
  }
  const vars = await readMat(file);
  const id = String(number).padStart(3, '0');
  return {
    x: Float32Array.from(matVector(vars, `X${id}_DE_time`, file)),
    rpm: matScalar(vars, `X${id}RPM`, file),
  };
}
