/**
 * `Conv2DBackpropFilter` for the wasm backend, which has none (tensorflow/tfjs#8474),
 * composed from XNNPACK's forward `Conv2D` and two `Transpose`s.
 *
 * Forward (NHWC, stride s, top/left padding pt/pl):
 *   y[n,oh,ow,co] = Σ_{i,j,ci} x[n, oh·s+i−pt, ow·s+j−pl, ci] · f[i,j,ci,co]
 * so the filter gradient
 *   df[i,j,ci,co] = Σ_{n,oh,ow} x[n, oh·s+i−pt, ow·s+j−pl, ci] · dy[n,oh,ow,co]
 * is itself a stride-1 convolution whose "batch" is ci, whose input channels
 * are n and whose filter is dy dilated by s:
 *   input  x'  = transpose(x,  [3,1,2,0])   [Ci, H, W, N]
 *   filter dy' = transpose(dy, [1,2,0,3])   [Ho, Wo, N, Co], dilation s
 *   out        = conv(x', dy')               [Ci, kh, kw, Co] → transpose → [kh, kw, Ci, Co]
 * The bottom/right padding is whatever makes the output exactly kh × kw; when
 * that is negative (VALID with stride 2 ignores the last rows) the unused rows
 * of x' are sliced off instead.
 *
 * That dilated convolution is slow in XNNPACK when its filter is strided
 * (stride > 1 → dilation) or the "batch" Ci is tiny (first layer): ~1 GMAC/s.
 * There we use the column form: im2col of x written directly transposed,
 * colsᵀ [kh·kw·Ci, N·Ho·Wo], by a plain loop over the heap (./impl/im2col.ts),
 * and one GEMM
 *   df = colsᵀ · dy   ([kh·kw·Ci, N·Ho·Wo] × [N·Ho·Wo, Co]).
 * (Writing cols [N·Ho·Wo, kh·kw·Ci] and transposing it costs one more pass
 * over the largest buffer: ~1.6× slower for the shipped CNN.)
 */
import * as tf from '../tf.js';
import { im2colTransposedImpl } from './impl/im2col.js';
import {
  COLUMN_FORM_MAX_CHANNELS,
  type ConvGradAttrs,
  type KernelArgs,
  KernelScope,
  nhwcConvInfo,
  type WasmBackend,
} from './kernel-scope.js';

interface BackpropFilterAttrs extends ConvGradAttrs {
  filterShape: [number, number, number, number];
}

/** Kernel function: inputs {x [N,H,W,Ci], dy [N,Ho,Wo,Co]} → df [kh,kw,Ci,Co]. */
export function conv2DBackpropFilterWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs;
  const attrs = args.attrs as unknown as BackpropFilterAttrs;
  const info = nhwcConvInfo(
    'Conv2DBackpropFilter',
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs,
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, padInfo } = info;
  const { outHeight: ho, outWidth: wo, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw } = info;
  // Rows/columns of x' the dilated dy' reaches past (or stops short of) the input.
  const bottom = kh + (ho - 1) * sh - h - padInfo.top;
  const right = kw + (wo - 1) * sw - w - padInfo.left;

  const scope = new KernelScope(backend);
  try {
    if (sh > 1 || sw > 1 || ci < COLUMN_FORM_MAX_CHANNELS) {
      return scope.keep(viaIm2col(scope, x, dy, info));
    }
    let xt = scope.run(tf.Transpose, { x }, { perm: [3, 1, 2, 0] });
    if (bottom < 0 || right < 0) {
      xt = scope.run(
        tf.Slice,
        { x: xt },
        { begin: [0, 0, 0, 0], size: [ci, h + Math.min(bottom, 0), w + Math.min(right, 0), n] },
      );
    }
    const dyt = scope.run(tf.Transpose, { x: dy }, { perm: [1, 2, 0, 3] });
    const conv = scope.run(
      tf.Conv2D,
      { x: xt, filter: dyt },
      {
        strides: [1, 1],
        dilations: [sh, sw],
        pad: [
          [0, 0],
          [padInfo.top, Math.max(bottom, 0)],
          [padInfo.left, Math.max(right, 0)],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
    );
    return scope.keep(scope.run(tf.Transpose, { x: conv }, { perm: [1, 2, 0, 3] }));
  } finally {
    scope.dispose();
  }
}

/** df via a transposed im2col and one GEMM (see the module comment). */
function viaIm2col(
  scope: KernelScope,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: n, inChannels: ci, outHeight: ho, outWidth: wo, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw } = info;
  const k = kh * kw * ci;
  const p = n * ho * wo;
  // x as [Ci, N, H, W], the layout im2colTransposedImpl reads fastest.
  const planes = scope.run(tf.Transpose, { x }, { perm: [3, 0, 1, 2] });
  const colsTInfo = scope.alloc([k, p]);
  // Views after the allocation: heap growth detaches older views.
  const colsT = scope.backend.typedArrayFromHeap(colsTInfo) as Float32Array;
  const xs = scope.backend.typedArrayFromHeap(planes) as Float32Array;
  im2colTransposedImpl(xs, info, colsT);
  const g = scope.run(tf.Reshape, { x: dy }, { shape: [p, co] });
  const df = scope.run(
    tf.BatchMatMul,
    { a: colsTInfo, b: g },
    { transposeA: false, transposeB: false },
  );
  return scope.run(tf.Reshape, { x: df }, { shape: [kh, kw, ci, co] });
}
