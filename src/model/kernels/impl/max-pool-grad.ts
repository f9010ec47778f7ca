/**
 * The gradient of max pooling as plain loops over typed arrays (the wasm
 * `MaxPoolGrad` kernel calls it on heap views).
 *
 * Each output gradient goes to its window's maximum: the first one in a
 * row-major scan, later pixels winning only when strictly larger, padding
 * ignored (TensorFlow's and tfjs-cpu's tie rule). Overlapping windows
 * (stride < size) accumulate, as they must.
 */
import type { WindowGeometry } from './window-geometry.js';

/**
 * @param x the pooled input `[N, H, W, C]`
 * @param dy the gradient of the pooled output `[N, Ho, Wo, C]`
 * @param out dx `[N, H, W, C]`, overwritten (zeroed first)
 */
export function maxPoolGradImpl(
  x: Float32Array,
  dy: Float32Array,
  geometry: WindowGeometry,
  out: Float32Array,
): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c } = geometry;
  const { outHeight: ho, outWidth: wo, filterHeight: fh, filterWidth: fw } = geometry;
  const { strideHeight: sh, strideWidth: sw, padInfo } = geometry;
  out.fill(0);

  // One output row of windows at a time: per-(window, channel) running max and
  // its index in x, so the inner loop is a contiguous run over channels.
  const rowLen = wo * c;
  const best = new Float32Array(rowLen);
  const bestAt = new Int32Array(rowLen);
  for (let b = 0; b < n; b++) {
    for (let oh = 0; oh < ho; oh++) {
      const h0 = oh * sh - padInfo.top;
      bestAt.fill(-1);
      for (let i = 0; i < fh; i++) {
        const hh = h0 + i;
        if (hh < 0 || hh >= h) continue;
        const rowBase = (b * h + hh) * w;
        for (let ow = 0; ow < wo; ow++) {
          const w0 = ow * sw - padInfo.left;
          const o = ow * c;
          for (let j = 0; j < fw; j++) {
            const ww = w0 + j;
            if (ww < 0 || ww >= w) continue;
            const base = (rowBase + ww) * c;
            for (let k = 0; k < c; k++) {
              const v = x[base + k];
              // The first in-window pixel seeds the max (so an all-NaN window still
              // routes its gradient somewhere); later ones win only if strictly larger.
              if (v > best[o + k] || bestAt[o + k] < 0) {
                best[o + k] = v;
                bestAt[o + k] = base + k;
              }
            }
          }
        }
      }
      const gBase = (b * ho + oh) * rowLen;
      for (let q = 0; q < rowLen; q++) {
        const at = bestAt[q];
        if (at >= 0) out[at] += dy[gBase + q];
      }
    }
  }
}
