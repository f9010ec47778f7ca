/**
 * PFFFT (Pommier's SIMD FFT, as compiled to WebAssembly by
 * @echogarden/pffft-wasm) behind fft.js's calling conventions, for the large
 * transforms of the live path.
 *
 * Why: the order front end takes, per 1 s window at 12 kHz, one 16384-point
 * real FFT and one 8192-point complex inverse (the band envelope). With
 * fft.js those two cost ~0.37 ms of the ~1.45 ms a window costs an inference
 * worker; with PFFFT (wasm SIMD) ~0.1 ms, copies in and out of wasm memory
 * included (the whole band envelope: 0.46 → 0.20 ms). `npm run
 * bench -- --only stft` reports the ratio as `fft_real16384_speedup`.
 *
 * Precision: PFFFT computes in float32 where fft.js uses float64 (the
 * samples are float32 already). On sim-12k's order front end the z-scored
 * dB spectrogram the CNN sees differs by 3.6e-6 RMS (5e-4 at worst, in
 * near-empty bins) between the two engines, and its confusion matrices on
 * the simulator's four target conditions are identical.
 *
 * The module is instantiated once per thread, at import (top-level await),
 * so the DSP API stays synchronous. If it cannot load, or FAULTLINE_FFT=fft.js,
 * `pffftPlan` returns undefined and callers use fft.js (`fftEngine` says
 * which runs).
 */

/** The Emscripten module's exports this file uses. */
export interface PffftModule {
  HEAPF32: Float32Array;
  _pffft_new_setup(n: number, kind: number): number;
  _pffft_transform_ordered(
    setup: number,
    input: number,
    output: number,
    work: number,
    direction: number,
  ): void;
  _pffft_aligned_malloc(bytes: number): number;
  _pffft_aligned_free(ptr: number): void;
}

const REAL = 0;
const COMPLEX = 1;
const FORWARD = 0;
const BACKWARD = 1;

/** Smallest size PFFFT's SIMD build takes for a real transform (2·4²; complex: 4²). */
const MIN_REAL = 32;
/**
 * Largest size given to PFFFT: 2^18 points (a 22 s signal at 12 kHz). Its
 * scratch buffers and setups live as long as the thread (see below), so a
 * one-off transform of a long recording (CLI) goes to fft.js, whose memory
 * the GC takes back; the live path's transforms are 16384 points.
 */
const MAX_SIZE = 2 ** 18;

async function load(): Promise<{ mod: PffftModule; engine: string } | undefined> {
  // FAULTLINE_FFT=fft.js forces the fallback (to compare engines, or should
  // the wasm module ever misbehave on a target).
  if (globalThis.process?.env?.FAULTLINE_FFT === 'fft.js') return undefined;
  try {
    const m = await import('@echogarden/pffft-wasm/simd');
    return { mod: await m.default(), engine: 'pffft-wasm-simd' };
  } catch {
    try {
      const m = await import('@echogarden/pffft-wasm');
      return { mod: await m.default(), engine: 'pffft-wasm' };
    } catch {
      return undefined;
    }
  }
}

const loaded = await load();
const mod = loaded?.mod;

/** Which FFT runs the large transforms in this thread: PFFFT (wasm) or fft.js. */
export const fftEngine: string = loaded?.engine ?? 'fft.js';

/** A plan with fft.js's method names and layouts. */
export interface FftPlan {
  readonly size: number;
  /**
   * Spectrum of the real signal `input` (`size` samples): bins 0…size/2 as
   * [re, im] pairs in out[0 … size + 1], the layout of fft.js's
   * realTransform (it leaves the upper half to completeSpectrum, and so
   * does this).
   */
  realTransform(out: Float64Array, input: ArrayLike<number>): void;
  /**
   * Inverse transform of `size` complex values ([re, im] interleaved),
   * divided by `size` like fft.js's inverseTransform.
   */
  inverseTransform(out: Float64Array, input: Float64Array): void;
}

/**
 * One set of scratch buffers in wasm memory for every plan of the thread:
 * a transform runs start to end within one call, so they are never shared
 * by two at once. Grown (never shrunk) to the largest size met.
 */
let capacity = 0;
let bufIn = 0;
let bufOut = 0;
let bufWork = 0;

function scratch(m: PffftModule, floats: number): void {
  if (floats <= capacity) return;
  if (capacity > 0) for (const p of [bufIn, bufOut, bufWork]) m._pffft_aligned_free(p);
  bufIn = m._pffft_aligned_malloc(floats * 4);
  bufOut = m._pffft_aligned_malloc(floats * 4);
  bufWork = m._pffft_aligned_malloc(floats * 4);
  if (!bufIn || !bufOut || !bufWork)
    throw new RangeError(`PFFFT: out of wasm memory for ${floats} floats`);
  capacity = floats;
}

/**
 * Setups by kind and size, kept for the life of the thread: a setup holds
 * its twiddles (~size floats), the sizes in use are few powers of two, and
 * plans handed out must stay valid (no eviction that could free one in use).
 */
const setups = new Map<string, number>();

function setup(m: PffftModule, kind: number, n: number): number {
  const key = `${kind}/${n}`;
  let s = setups.get(key);
  if (s === undefined) {
    s = m._pffft_new_setup(n, kind);
    if (!s)
      throw new RangeError(
        `PFFFT cannot plan a ${kind === REAL ? 'real' : 'complex'} FFT of ${n} points`,
      );
    setups.set(key, s);
  }
  return s;
}

/**
 * Copies `input` to wasm memory, runs the transform of setup `s` (n points)
 * and returns where its output starts in HEAPF32. Read HEAPF32 afresh after
 * this: growing the scratch buffers may grow the memory and replace the view.
 */
function run(
  m: PffftModule,
  s: number,
  n: number,
  input: ArrayLike<number>,
  direction: number,
): number {
  scratch(m, 2 * n);
  m.HEAPF32.set(input, bufIn >> 2);
  m._pffft_transform_ordered(s, bufIn, bufOut, bufWork, direction);
  return bufOut >> 2;
}

/**
 * A PFFFT plan of `size` points (a power of two, 32 … 2^18), or undefined
 * when PFFFT is not loaded or the size is outside that range.
 */
export function pffftPlan(size: number): FftPlan | undefined {
  if (
    !mod ||
    !Number.isInteger(size) ||
    size < MIN_REAL ||
    size > MAX_SIZE ||
    (size & (size - 1)) !== 0
  ) {
    return undefined;
  }
  const m = mod;
  const n = size;
  // Set up lazily: a plan used only one way costs only that way's twiddles.
  let real = 0;
  let complex = 0;
  return Object.freeze({
    size: n,
    realTransform(out: Float64Array, input: ArrayLike<number>): void {
      if (input.length !== n)
        throw new RangeError(`input must have ${n} samples, got ${input.length}`);
      if (out.length < n + 2)
        throw new RangeError(`output must hold ${n + 2} values, got ${out.length}`);
      real ||= setup(m, REAL, n);
      const o = run(m, real, n, input, FORWARD);
      const heap = m.HEAPF32;
      // PFFFT's ordered real layout is fft.js's except for the first pair,
      // which packs the two real-only bins: [X0, X(n/2), re X1, im X1, …].
      out.set(heap.subarray(o + 2, o + n), 2);
      out[0] = heap[o];
      out[1] = 0;
      out[n] = heap[o + 1];
      out[n + 1] = 0;
    },
    inverseTransform(out: Float64Array, input: Float64Array): void {
      if (input.length !== 2 * n || out.length < 2 * n) {
        throw new RangeError(`complex transforms of ${n} points take and give ${2 * n} values`);
      }
      complex ||= setup(m, COMPLEX, n);
      const o = run(m, complex, n, input, BACKWARD);
      const heap = m.HEAPF32;
      const scale = 1 / n;
      for (let i = 0; i < 2 * n; i++) out[i] = heap[o + i] * scale;
    },
  });
}
