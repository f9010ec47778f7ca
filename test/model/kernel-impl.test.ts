/**
 * The pure loops of the wasm kernels (src/model/kernels/impl/) on plain typed
 * arrays, with no tfjs at all: each against a naive reference written here from
 * the definition of the operation (textbook nested loops), on small random
 * inputs, with padding, strides > 1 and edge shapes. test/model/kernels.test.ts
 * checks the registered kernels around them against tfjs's cpu backend.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { col2imImpl, im2colTransposedImpl } from '../../src/model/kernels/impl/im2col.js';
import { maxPoolGradImpl } from '../../src/model/kernels/impl/max-pool-grad.js';
import { reduceLeadingImpl } from '../../src/model/kernels/impl/reduce-leading.js';
import { type TileArray, tileImpl } from '../../src/model/kernels/impl/tile.js';
import type { WindowGeometry } from '../../src/model/kernels/impl/window-geometry.js';

/** Deterministic values in [-1, 1). */
function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** Values from a handful of levels, so pooling windows hold ties. */
function coarse(size: number, seed: number): Float32Array {
  return values(size, seed).map((v) => Math.round(v * 2) / 2);
}

function assertClose(actual: Float32Array, expected: ArrayLike<number>, what: string, tol = 1e-5) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const [a, e] = [actual[i], expected[i]];
    if (Object.is(a, e)) continue; // also NaN and ±Infinity
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) {
      assert.fail(`${what}: element ${i} is ${a}, the reference says ${e}`);
    }
  }
}

type Pad = 'same' | 'valid' | number;

/**
 * Window geometry by TensorFlow's definition of the padding modes (written out
 * here, not taken from tfjs): VALID keeps whole windows, SAME gives ⌈H/s⌉
 * outputs with the odd padding row at the bottom, a number pads all sides.
 */
function geometry(
  [n, h, w, c]: number[],
  [kh, kw]: number[],
  stride: number | [number, number],
  pad: Pad,
): WindowGeometry {
  const [sh, sw] = typeof stride === 'number' ? [stride, stride] : stride;
  const along = (size: number, k: number, s: number): [out: number, before: number] => {
    if (pad === 'valid') return [Math.ceil((size - k + 1) / s), 0];
    if (pad === 'same') {
      const out = Math.ceil(size / s);
      return [out, Math.floor(Math.max((out - 1) * s + k - size, 0) / 2)];
    }
    return [Math.floor((size + 2 * pad - k) / s) + 1, pad];
  };
  const [ho, top] = along(h, kh, sh);
  const [wo, left] = along(w, kw, sw);
  return {
    batchSize: n,
    inHeight: h,
    inWidth: w,
    inChannels: c,
    outHeight: ho,
    outWidth: wo,
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
    padInfo: { top, left },
  };
}

/** x[n, oh·sh+i−pt, ow·sw+j−pl, c] of an NHWC array, 0 in the padding. */
function tap(x: Float32Array, g: WindowGeometry, b: number, hh: number, ww: number, q: number) {
  if (hh < 0 || hh >= g.inHeight || ww < 0 || ww >= g.inWidth) return 0;
  return x[((b * g.inHeight + hh) * g.inWidth + ww) * g.inChannels + q];
}

/** NHWC → one plane per channel, [C, N, H, W]. */
function toPlanes(x: Float32Array, g: WindowGeometry): Float32Array {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c } = g;
  const planes = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let hh = 0; hh < h; hh++)
      for (let ww = 0; ww < w; ww++)
        for (let q = 0; q < c; q++)
          planes[((q * n + b) * h + hh) * w + ww] = x[((b * h + hh) * w + ww) * c + q];
  return planes;
}

/** [rows, inner] · [inner, cols], in float64. */
function matmul(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  rows: number,
  inner: number,
  cols: number,
) {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let k = 0; k < inner; k++) s += a[r * inner + k] * b[k * cols + c];
      out[r * cols + c] = s;
    }
  return out;
}

const convCases: { x: number[]; f: number[]; stride: number | [number, number]; pad: Pad }[] = [
  { x: [2, 7, 7, 3], f: [3, 3], stride: 1, pad: 'same' },
  { x: [2, 7, 7, 3], f: [3, 3], stride: 2, pad: 'same' },
  { x: [2, 8, 8, 2], f: [3, 3], stride: 2, pad: 'valid' }, // the last row and column unused
  { x: [1, 9, 6, 1], f: [3, 3], stride: [2, 1], pad: 'same' },
  { x: [3, 8, 7, 4], f: [2, 2], stride: 2, pad: 'same' }, // even kernel: asymmetric SAME
  { x: [2, 10, 10, 2], f: [5, 5], stride: 3, pad: 'valid' },
  { x: [1, 5, 5, 2], f: [1, 1], stride: 3, pad: 'valid' }, // stride past the kernel: gaps
  { x: [2, 6, 6, 2], f: [3, 3], stride: 1, pad: 1 },
  { x: [1, 4, 4, 1], f: [3, 3], stride: 2, pad: 2 }, // windows mostly in the padding
  { x: [1, 2, 3, 2], f: [5, 5], stride: 1, pad: 'same' }, // kernel larger than the input
  { x: [1, 1, 1, 1], f: [1, 1], stride: 1, pad: 'valid' },
  { x: [2, 0, 4, 2], f: [1, 1], stride: 1, pad: 'valid' }, // empty input
];
const label = (c: (typeof convCases)[number]) =>
  `x ${c.x}, kernel ${c.f}, stride ${c.stride}, pad ${c.pad}`;

describe('im2colTransposedImpl', () => {
  for (const [at, c] of convCases.entries()) {
    const g = geometry(c.x, c.f, c.stride, c.pad);
    const { batchSize: n, inChannels: ci, outHeight: ho, outWidth: wo } = g;
    const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = g;
    const taps = kh * kw * ci;
    const pixels = n * ho * wo;
    const x = values(n * g.inHeight * g.inWidth * ci, 11 + at);

    it(`writes colsᵀ[tap, pixel] = x at that tap, 0 in the padding (${label(c)})`, () => {
      const out = new Float32Array(taps * pixels).fill(Number.NaN); // every value must be written
      im2colTransposedImpl(toPlanes(x, g), g, out);
      const expected = new Float32Array(taps * pixels);
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++)
          for (let q = 0; q < ci; q++)
            for (let b = 0; b < n; b++)
              for (let oh = 0; oh < ho; oh++)
                for (let ow = 0; ow < wo; ow++) {
                  const t = (i * kw + j) * ci + q;
                  const p = (b * ho + oh) * wo + ow;
                  const hh = oh * sh - g.padInfo.top + i;
                  const ww = ow * sw - g.padInfo.left + j;
                  expected[t * pixels + p] = tap(x, g, b, hh, ww, q);
                }
      assertClose(out, expected, 'colsᵀ', 0);
    });

    it(`gives the filter gradient as colsᵀ · dy (${label(c)})`, () => {
      const co = 3;
      const dy = values(pixels * co, 101 + at);
      const colsT = new Float32Array(taps * pixels);
      im2colTransposedImpl(toPlanes(x, g), g, colsT);
      // df[i,j,ci,co] = Σ_{n,oh,ow} x[n, oh·sh+i−pt, ow·sw+j−pl, ci] · dy[n,oh,ow,co]
      const df = new Float64Array(taps * co);
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++)
          for (let q = 0; q < ci; q++)
            for (let o = 0; o < co; o++) {
              let s = 0;
              for (let b = 0; b < n; b++)
                for (let oh = 0; oh < ho; oh++)
                  for (let ow = 0; ow < wo; ow++) {
                    const hh = oh * sh - g.padInfo.top + i;
                    const ww = ow * sw - g.padInfo.left + j;
                    s += tap(x, g, b, hh, ww, q) * dy[((b * ho + oh) * wo + ow) * co + o];
                  }
              df[((i * kw + j) * ci + q) * co + o] = s;
            }
      assertClose(Float32Array.from(matmul(colsT, dy, taps, pixels, co)), df, 'df');
    });
  }
});

describe('col2imImpl', () => {
  for (const [at, c] of convCases.entries()) {
    const g = geometry(c.x, c.f, c.stride, c.pad);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci } = g;
    const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = g;
    const { strideHeight: sh, strideWidth: sw } = g;
    const taps = kh * kw * ci;
    const pixels = n * ho * wo;

    it(`adds each column back at its tap, dropping the padding (${label(c)})`, () => {
      const cols = values(pixels * taps, 23 + at);
      const out = new Float32Array(n * h * w * ci).fill(7); // overwritten, not added to
      col2imImpl(cols, g, out);
      const expected = new Float64Array(out.length);
      for (let b = 0; b < n; b++)
        for (let oh = 0; oh < ho; oh++)
          for (let ow = 0; ow < wo; ow++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const hh = oh * sh - g.padInfo.top + i;
                const ww = ow * sw - g.padInfo.left + j;
                if (hh < 0 || hh >= h || ww < 0 || ww >= w) continue;
                for (let q = 0; q < ci; q++) {
                  const row = (b * ho + oh) * wo + ow;
                  expected[((b * h + hh) * w + ww) * ci + q] +=
                    cols[row * taps + (i * kw + j) * ci + q];
                }
              }
      assertClose(out, expected, 'dx');
    });

    it(`gives the input gradient from cols = dy · fᵀ (${label(c)})`, () => {
      const co = 3;
      const dy = values(pixels * co, 211 + at);
      const f = values(taps * co, 307 + at); // [kh, kw, Ci, Co]
      const fT = new Float32Array(co * taps);
      for (let t = 0; t < taps; t++) for (let o = 0; o < co; o++) fT[o * taps + t] = f[t * co + o];
      const dx = new Float32Array(n * h * w * ci);
      col2imImpl(Float32Array.from(matmul(dy, fT, pixels, co, taps)), g, dx);
      // dx[n,hh,ww,ci] = Σ dy[n,oh,ow,co] · f[i,j,ci,co] over hh = oh·sh−pt+i, ww = ow·sw−pl+j
      const expected = new Float64Array(dx.length);
      for (let b = 0; b < n; b++)
        for (let hh = 0; hh < h; hh++)
          for (let ww = 0; ww < w; ww++)
            for (let q = 0; q < ci; q++) {
              let s = 0;
              for (let oh = 0; oh < ho; oh++)
                for (let ow = 0; ow < wo; ow++) {
                  const i = hh - oh * sh + g.padInfo.top;
                  const j = ww - ow * sw + g.padInfo.left;
                  if (i < 0 || i >= kh || j < 0 || j >= kw) continue;
                  for (let o = 0; o < co; o++)
                    s +=
                      dy[((b * ho + oh) * wo + ow) * co + o] * f[((i * kw + j) * ci + q) * co + o];
                }
              expected[((b * h + hh) * w + ww) * ci + q] = s;
            }
      assertClose(dx, expected, 'dx');
    });
  }
});

/**
 * Max-pool gradient by its definition: each window's dy goes to the window's
 * first maximum in a row-major scan (a later pixel wins only if strictly
 * larger), padding taking no part; a window wholly in the padding sends nothing.
 */
function maxPoolGradReference(x: Float32Array, dy: Float32Array, g: WindowGeometry) {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c } = g;
  const dx = new Float64Array(x.length);
  for (let b = 0; b < n; b++)
    for (let oh = 0; oh < g.outHeight; oh++)
      for (let ow = 0; ow < g.outWidth; ow++)
        for (let q = 0; q < c; q++) {
          let at = -1;
          for (let i = 0; i < g.filterHeight; i++)
            for (let j = 0; j < g.filterWidth; j++) {
              const hh = oh * g.strideHeight - g.padInfo.top + i;
              const ww = ow * g.strideWidth - g.padInfo.left + j;
              if (hh < 0 || hh >= h || ww < 0 || ww >= w) continue;
              const k = ((b * h + hh) * w + ww) * c + q;
              if (at < 0 || x[k] > x[at]) at = k;
            }
          if (at >= 0) dx[at] += dy[((b * g.outHeight + oh) * g.outWidth + ow) * c + q];
        }
  return dx;
}

describe('maxPoolGradImpl', () => {
  const cases: { x: number[]; size: number[]; stride: number | [number, number]; pad: Pad }[] = [
    { x: [2, 8, 8, 3], size: [2, 2], stride: 2, pad: 'valid' },
    { x: [2, 7, 7, 3], size: [2, 2], stride: 2, pad: 'same' }, // odd size: a padded last row
    { x: [1, 7, 9, 2], size: [3, 3], stride: 1, pad: 'same' }, // overlapping windows accumulate
    { x: [2, 9, 6, 2], size: [3, 2], stride: [2, 3], pad: 'valid' },
    { x: [1, 5, 5, 1], size: [2, 2], stride: 2, pad: 2 }, // first windows wholly in the padding
    { x: [1, 3, 3, 4], size: [5, 5], stride: 1, pad: 'same' }, // window larger than the input
    { x: [1, 1, 1, 1], size: [1, 1], stride: 1, pad: 'valid' },
    { x: [0, 4, 4, 2], size: [2, 2], stride: 2, pad: 'valid' }, // empty batch
  ];
  for (const [at, c] of cases.entries()) {
    it(`routes dy to each window's first maximum for x ${c.x}, pool ${c.size}/${c.stride} ${c.pad}`, () => {
      const g = geometry(c.x, c.size, c.stride, c.pad);
      const x = coarse(
        c.x.reduce((a, b) => a * b, 1),
        31 + at,
      );
      const dy = values(g.batchSize * g.outHeight * g.outWidth * g.inChannels, 41 + at);
      const out = new Float32Array(x.length).fill(9);
      maxPoolGradImpl(x, dy, g, out);
      assertClose(out, maxPoolGradReference(x, dy, g), 'dx');
    });
  }

  it('keeps the tie rule with NaN: a NaN seen first holds its window, a later one never wins', () => {
    const g = geometry([1, 2, 6, 1], [2, 2], 2, 'valid');
    const nan = Number.NaN;
    // Windows: NaN first | a number, then NaNs | NaN only.
    const x = Float32Array.from([nan, 5, 1, nan, nan, nan, 3, 4, nan, nan, nan, nan]);
    const out = new Float32Array(x.length);
    maxPoolGradImpl(x, Float32Array.from([10, 20, 30]), g, out);
    assert.deepEqual([...out], [10, 0, 20, 0, 30, 0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('reduceLeadingImpl', () => {
  /** Σ over rows of [rows, cols] in float64, over rows again for the mean. */
  function reference(x: Float32Array, rows: number, cols: number, mean: boolean) {
    const out = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += x[r * cols + c];
      out[c] = mean && rows > 0 ? s / rows : s;
    }
    return out;
  }
  for (const [rows, cols] of [
    [1, 1],
    [3, 5], // fewer rows than one sweep of four
    [4, 2],
    [9, 3], // a remainder after the sweeps
    [64, 16],
    [7, 1],
    [0, 4], // empty reduction: 0, for the mean too
    [5, 0],
  ]) {
    for (const mean of [false, true]) {
      it(`${mean ? 'averages' : 'sums'} the ${rows} rows of [${rows}, ${cols}]`, () => {
        const x = values(rows * cols, rows * 31 + cols);
        const out = new Float32Array(cols).fill(Number.NaN);
        reduceLeadingImpl(x, { rows, cols }, mean, out);
        assertClose(out, reference(x, rows, cols, mean), 'out', 1e-6);
      });
    }
  }

  it('propagates NaN and infinities per column, and overflows float32 as a float32 sum would', () => {
    const big = 3e38;
    const x = Float32Array.from([
      Number.NaN,
      1,
      big,
      Number.POSITIVE_INFINITY,
      2,
      1,
      big,
      0,
      3,
      1,
      big,
      0,
    ]);
    const out = new Float32Array(4);
    reduceLeadingImpl(x, { rows: 3, cols: 4 }, false, out);
    assert.ok(Number.isNaN(out[0]));
    assert.equal(out[1], 3);
    assert.equal(out[2], Number.POSITIVE_INFINITY); // 9e38 does not fit a float32
    assert.equal(out[3], Number.POSITIVE_INFINITY);
    reduceLeadingImpl(x, { rows: 3, cols: 4 }, true, out);
    assert.equal(out[2], Math.fround(big)); // the float64 sum does not overflow before the mean
  });

  it('does not lose small terms next to a huge one (float64 accumulators)', () => {
    const x = new Float32Array(1 + 4096).fill(1);
    x[0] = 2 ** 24; // in float32, 2²⁴ + 1 rounds back to 2²⁴
    const out = new Float32Array(1);
    reduceLeadingImpl(x, { rows: x.length, cols: 1 }, false, out);
    assert.equal(out[0], 2 ** 24 + 4096);
  });
});

describe('tileImpl', () => {
  /** out[index] = x[index mod shape], axis by axis. */
  function reference(x: TileArray, shape: number[], reps: number[], out: TileArray) {
    const outShape = shape.map((s, d) => s * reps[d]);
    const size = outShape.reduce((a, b) => a * b, 1);
    for (let o = 0; o < size; o++) {
      let rest = o;
      let src = 0;
      let stride = 1;
      for (let d = shape.length - 1; d >= 0; d--) {
        const coord = rest % outShape[d];
        rest = Math.floor(rest / outShape[d]);
        src += (coord % shape[d]) * stride;
        stride *= shape[d];
      }
      out[o] = x[src];
    }
  }
  const cases: { shape: number[]; reps: number[] }[] = [
    { shape: [], reps: [] },
    { shape: [3], reps: [4] },
    { shape: [1, 1, 1, 16], reps: [2, 5, 7, 1] }, // batch norm's 1/σ to a whole activation
    { shape: [2, 3], reps: [3, 2] },
    { shape: [2, 1, 3], reps: [1, 4, 1] },
    { shape: [3, 70], reps: [2, 3] }, // innermost run longer than the plain-loop limit
    { shape: [1, 100], reps: [3, 1] },
    { shape: [2, 2, 2], reps: [1, 1, 1] },
    { shape: [2, 0, 3], reps: [2, 2, 2] }, // empty
    { shape: [2, 3], reps: [0, 2] },
  ];
  for (const { shape, reps } of cases) {
    const size = shape.reduce((a, b) => a * b, 1);
    const outSize = shape.reduce((a, s, d) => a * s * reps[d], 1);
    it(`tiles float32 [${shape}] × [${reps}]`, () => {
      const x = values(size, size + 3);
      const out = new Float32Array(outSize).fill(Number.NaN);
      tileImpl(x, shape, reps, out);
      const expected = new Float32Array(outSize);
      reference(x, shape, reps, expected);
      assertClose(out, expected, 'out', 0);
    });
  }

  it('tiles int32 and bool values exactly', () => {
    const ints = Int32Array.from([-2147483648, 7, 2147483647, 0, -1, 3]);
    const outInts = new Int32Array(6 * 6);
    const expectedInts = new Int32Array(6 * 6);
    tileImpl(ints, [2, 3], [3, 2], outInts);
    reference(ints, [2, 3], [3, 2], expectedInts);
    assert.deepEqual(outInts, expectedInts);
    const bools = Uint8Array.from([1, 0, 0, 1, 1]);
    const outBools = new Uint8Array(5 * 40);
    const expectedBools = new Uint8Array(5 * 40);
    tileImpl(bools, [5], [40], outBools);
    reference(bools, [5], [40], expectedBools);
    assert.deepEqual(outBools, expectedBools);
  });
});
