/**
 * `MaxPoolGrad` for the wasm backend as one pass over the wasm heap.
 *
 * The stock wasm kernel spends ~95 ms on the first pooling layer of the
 * reference CNN (batch 64, 64×64×16). Routing each output gradient to its
 * window's maximum is pure data movement, which plain JS over the heap's typed
 * arrays does in a few ms: for each window, in NHWC order so the inner loop
 * runs over contiguous channels, find the first maximum (row-major scan, strict
 * `>`, padding ignored — TensorFlow's and tfjs-cpu's tie rule) and add dy there.
 * Overlapping windows (stride < size) accumulate, as they must.
 */
import * as tf from '../tf.js';
import type { KernelArgs, WasmBackend } from './kernel-scope.js';

interface MaxPoolGradAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Kernel function: inputs {dy [N,Ho,Wo,C], input x [N,H,W,C], output} → dx [N,H,W,C]. */
export function maxPoolGradWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, input } = args.inputs;
  const attrs = args.attrs as unknown as MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c } = info;
  const { outHeight: ho, outWidth: wo, filterHeight: fh, filterWidth: fw } = info;
  const { strideHeight: sh, strideWidth: sw, padInfo } = info;

  // Allocate first: growing the heap detaches earlier typed-array views.
  const out = backend.makeOutput(input.shape, 'float32') as tf.TensorInfo;
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);

  // One output row of windows at a time: per-(window, channel) running max and
  // its heap index, so the inner loop is a contiguous run over channels.
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
        if (at >= 0) dx[at] += g[gBase + q];
      }
    }
  }
  return out;
}
