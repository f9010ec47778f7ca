/**
 * The column form of a stride-s convolution's gradients, as plain loops over
 * typed arrays (the wasm kernels call them on heap views; tests call them on
 * their own arrays). Forward, NHWC, top/left padding pt/pl:
 *   y[n,oh,ow,co] = Σ_{i,j,ci} x[n, oh·sh+i−pt, ow·sw+j−pl, ci] · f[i,j,ci,co]
 * Rows of the column matrix are output pixels p = (n·Ho + oh)·Wo + ow, its
 * columns the taps t = (i·kw + j)·Ci + ci; taps that fall in the padding are 0.
 */
import type { WindowGeometry } from './window-geometry.js';

/**
 * Writes the column matrix transposed, colsᵀ `[kh·kw·Ci, N·Ho·Wo]`, so that the
 * filter gradient is one GEMM df = colsᵀ · dy `[N·Ho·Wo, Co]`.
 *
 * @param xPlanes x as `[Ci, N, H, W]` (one plane per channel: each row of colsᵀ
 *   then reads one plane with stride sw and writes contiguously; NHWC order
 *   would touch a new cache line per element, ~2× slower for Ci = 16)
 * @param out colsᵀ, `kh·kw·Ci · N·Ho·Wo` values, every one written
 */
export function im2colTransposedImpl(
  xPlanes: Float32Array,
  geometry: WindowGeometry,
  out: Float32Array,
): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, padInfo } = geometry;
  const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = geometry;
  const { strideHeight: sh, strideWidth: sw } = geometry;
  const p = n * ho * wo;
  const plane = n * h * w;
  const { top, left } = padInfo;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      // Output columns whose input column ow·sw − left + j lies inside x.
      const off = j - left;
      const owFrom = Math.min(wo, Math.max(0, Math.ceil(-off / sw)));
      const owTo = Math.max(owFrom, Math.min(wo, Math.floor((w - 1 - off) / sw) + 1));
      for (let q = 0; q < ci; q++) {
        let o = ((i * kw + j) * ci + q) * p;
        for (let b = 0; b < n; b++) {
          for (let oh = 0; oh < ho; oh++, o += wo) {
            const hh = oh * sh - top + i;
            if (hh < 0 || hh >= h) {
              out.fill(0, o, o + wo); // padding row
              continue;
            }
            // Loops, not fill(): a builtin call per row costs more than the copy.
            for (let d = o; d < o + owFrom; d++) out[d] = 0;
            for (let d = o + owTo; d < o + wo; d++) out[d] = 0;
            let src = q * plane + (b * h + hh) * w + owFrom * sw + off;
            const end = o + owTo;
            for (let d = o + owFrom; d < end; d++, src += sw) out[d] = xPlanes[src];
          }
        }
      }
    }
  }
}

/**
 * Scatter-adds a column matrix back into the input it was taken from (col2im),
 * which makes the input gradient dx from cols = dy · fᵀ.
 *
 * @param cols `[N·Ho·Wo, kh·kw·Ci]`
 * @param out dx `[N, H, W, Ci]`, overwritten (zeroed first; taps in the padding are dropped)
 */
export function col2imImpl(cols: Float32Array, geometry: WindowGeometry, out: Float32Array): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, padInfo } = geometry;
  const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = geometry;
  const { strideHeight: sh, strideWidth: sw } = geometry;
  const k = kh * kw * ci;
  out.fill(0);
  const { top, left } = padInfo;
  // For one output pixel and filter row i, the taps j = 0…kw−1 land on kw
  // neighbouring input columns, which are contiguous in NHWC: one run of
  // kw·Ci values (clipped at the borders) instead of kw runs of Ci.
  let row = 0;
  for (let b = 0; b < n; b++) {
    for (let oh = 0; oh < ho; oh++) {
      const h0 = oh * sh - top;
      for (let ow = 0; ow < wo; ow++, row += k) {
        const w0 = ow * sw - left;
        const jFrom = w0 < 0 ? -w0 : 0;
        const jTo = Math.min(kw, w - w0);
        if (jTo <= jFrom) continue;
        const len = (jTo - jFrom) * ci;
        for (let i = 0; i < kh; i++) {
          const hh = h0 + i;
          if (hh < 0 || hh >= h) continue;
          let d = ((b * h + hh) * w + w0 + jFrom) * ci;
          let c = row + (i * kw + jFrom) * ci;
          const end = c + len;
          for (; c < end; c++, d++) out[d] += cols[c];
        }
      }
    }
  }
}
