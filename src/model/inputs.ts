/**
 * Signal windows → the network's input arrays. The front end (src/dsp) turns
 * each window into a `[freq, time, channels]` input (channel-last, NHWC);
 * they are packed into one Float32Array laid out as the tensor
 * `[n, freq, time, channels]` (row-major, so an input's
 * `data[(f * frames + t) * channels + c]` maps straight onto it).
 */
import type { FrontEnd } from '../dsp/frontend.js';
import type { SignalWindow } from '../types.js';

/** Shape of one network input: `[F, T, K]` (frequency rows, frames, channels). */
export type InputShape = [number, number, number];

/** A packed set of network inputs with optional labels. */
export interface InputSet {
  /** `[n, F, T, K]` inputs, row-major. */
  x: Float32Array;
  /** Class index per window (-1 = unlabelled / unknown class). */
  y: Int32Array;
  n: number;
  /** `[F, T, K]`. */
  shape: InputShape;
  /** Domain (operating condition) per window, when known: the condition head's label (./heads.ts). */
  domains?: (string | undefined)[];
}

/** Values in one input of `shape`. */
export function inputSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Runs every window through `frontEnd`. Labels are mapped to indices in
 * `classes`; a label outside `classes` (or none) becomes -1.
 */
export function buildInputs(
  windows: readonly SignalWindow[],
  frontEnd: FrontEnd,
  classes: readonly string[] = [],
): InputSet {
  const shape: InputShape = [...frontEnd.inputShape];
  const size = inputSize(shape);
  const x = new Float32Array(windows.length * size);
  const y = new Int32Array(windows.length);
  windows.forEach((w, i) => {
    frontEnd.process(w.samples, w.rpm, x.subarray(i * size, (i + 1) * size), w.bearing);
    y[i] = w.label === undefined ? -1 : classes.indexOf(w.label);
  });
  return { x, y, n: windows.length, shape, domains: windows.map((w) => w.domain) };
}

/** The rows `idx` of `set` as a new set (copies). */
export function takeRows(set: InputSet, idx: ArrayLike<number>): InputSet {
  const size = inputSize(set.shape);
  const x = new Float32Array(idx.length * size);
  const y = new Int32Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i];
    x.set(set.x.subarray(r * size, (r + 1) * size), i * size);
    y[i] = set.y[r];
  }
  const d = set.domains;
  return {
    x,
    y,
    n: idx.length,
    shape: set.shape,
    ...(d ? { domains: Array.from(idx, (r) => d[r]) } : {}),
  };
}

/** Deterministic PRNG (mulberry32): seeded shuffles and batch draws. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded Fisher–Yates permutation of 0…n-1. */
export function permutation(n: number, rand: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * Runs `fn` with `Math.random` replaced by a PRNG seeded with `seed`, then
 * restores it. Why: tfjs draws dropout masks from `Math.random` (a seeded
 * tfjs dropout layer repeats one mask at every step, see ../architectures.ts),
 * so this is what makes a training run with a given seed repeat exactly.
 * Initialisers are seeded directly and need no swap. Process-wide while it
 * runs; not re-entrant.
 */
export async function withSeededMathRandom<T>(seed: number, fn: () => Promise<T>): Promise<T> {
  const original = Math.random;
  Math.random = mulberry32((seed ^ 0x9e3779b9) >>> 0);
  try {
    return await fn();
  } finally {
    Math.random = original;
  }
}
