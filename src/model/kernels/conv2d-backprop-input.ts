/**
 * `Conv2DBackpropInput` for the wasm backend as one XNNPACK forward `Conv2D`
 * (the stock wasm kernel is a scalar loop, ~10× slower).
 *
 * The input gradient of a stride-s convolution is the "full" convolution of dy,
 * dilated by s (s−1 zeros between samples), with the filter rotated 180° and its
 * in/out channels swapped:
 *   dyDil[n, oh·s, ow·s, co] = dy[n, oh, ow, co]
 *   f'[i, j, co, ci]         = f[kh−1−i, kw−1−j, ci, co]
 *   dx = conv(dyDil, f'), stride 1, padding top kh−1−pt, bottom so that the output is H.
 * The zero insertion is a reshape to [N,Ho,1,Wo,1,Co] and a `PadV2` to
 * [N,Ho,s,Wo,s,Co]; its trailing s−1 zero rows count towards the bottom padding
 * (sliced off when the padding needed is smaller).
 *
 * With stride > 1 three quarters of that convolution multiply zeros, and with
 * few input channels (the first layer, whose dx tfjs computes although nobody
 * uses it) XNNPACK's GEMM runs with a 1-wide output. There we use the column
 * form instead: cols = dy·fᵀ as one GEMM ([N·Ho·Wo, Co] × [Co, kh·kw·Ci]), then
 * scatter-add each column patch back into dx (col2im) in a plain loop over the
 * heap (./impl/im2col.ts). Same multiply count as the forward conv, no zeros.
 */
import * as tf from '../tf.js';
import { col2imImpl } from './impl/im2col.js';
import {
  COLUMN_FORM_MAX_CHANNELS,
  type ConvGradAttrs,
  type KernelArgs,
  KernelScope,
  nhwcConvInfo,
  type WasmBackend,
} from './kernel-scope.js';

interface BackpropInputAttrs extends ConvGradAttrs {
  inputShape: [number, number, number, number];
}

/** Kernel function: inputs {dy [N,Ho,Wo,Co], filter [kh,kw,Ci,Co]} → dx [N,H,W,Ci]. */
export function conv2DBackpropInputWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { dy, filter } = args.inputs;
  const attrs = args.attrs as unknown as BackpropInputAttrs;
  const info = nhwcConvInfo(
    'Conv2DBackpropInput',
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs,
  );
  const { batchSize: n, inHeight: h, inWidth: w, padInfo } = info;
  const { outHeight: ho, outWidth: wo, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const top = kh - 1 - padInfo.top;
  const left = kw - 1 - padInfo.left;
  // Padding after the zero-inserted dy (which already ends in s−1 zero rows).
  const bottom = h - ho * sh + padInfo.top;
  const right = w - wo * sw + padInfo.left;

  const scope = new KernelScope(backend);
  try {
    if (sh > 1 || sw > 1 || info.inChannels < COLUMN_FORM_MAX_CHANNELS) {
      return scope.keep(viaCol2im(scope, dy, filter, info));
    }
    let g = dy;
    if (sh > 1 || sw > 1) {
      const g6 = scope.run(tf.Reshape, { x: dy }, { shape: [n, ho, 1, wo, 1, co] });
      const padded = scope.run(
        tf.PadV2,
        { x: g6 },
        {
          paddings: [
            [0, 0],
            [0, 0],
            [0, sh - 1],
            [0, 0],
            [0, sw - 1],
            [0, 0],
          ],
          constantValue: 0,
        },
      );
      g = scope.run(tf.Reshape, { x: padded }, { shape: [n, ho * sh, wo * sw, co] });
    }
    if (bottom < 0 || right < 0) {
      g = scope.run(
        tf.Slice,
        { x: g },
        {
          begin: [0, 0, 0, 0],
          size: [n, ho * sh + Math.min(bottom, 0), wo * sw + Math.min(right, 0), co],
        },
      );
    }
    const flipped = scope.run(tf.Reverse, { x: filter }, { dims: [0, 1] });
    const fT = scope.run(tf.Transpose, { x: flipped }, { perm: [0, 1, 3, 2] });
    const dx = scope.run(
      tf.Conv2D,
      { x: g, filter: fT },
      {
        strides: [1, 1],
        dilations: [1, 1],
        pad: [
          [0, 0],
          [top, Math.max(bottom, 0)],
          [left, Math.max(right, 0)],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    );
    return scope.keep(dx);
  } finally {
    scope.dispose();
  }
}

/** dx via one GEMM and a col2im scatter-add (see the module comment). */
function viaCol2im(
  scope: KernelScope,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { outHeight: ho, outWidth: wo, outChannels: co, filterHeight: kh, filterWidth: kw } = info;
  const k = kh * kw * ci;
  const g = scope.run(tf.Reshape, { x: dy }, { shape: [n * ho * wo, co] });
  const f2 = scope.run(tf.Reshape, { x: filter }, { shape: [k, co] });
  const fT = scope.run(tf.Transpose, { x: f2 }, { perm: [1, 0] });
  const colsInfo = scope.run(
    tf.BatchMatMul,
    { a: g, b: fT },
    { transposeA: false, transposeB: false },
  );
  const out = scope.alloc([n, h, w, ci]);
  // Views after the last allocation: heap growth detaches older views.
  const dx = scope.backend.typedArrayFromHeap(out) as Float32Array;
  const cols = scope.backend.typedArrayFromHeap(colsInfo) as Float32Array;
  col2imImpl(cols, info, dx);
  return out;
}
