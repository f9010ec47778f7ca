/**
 * `Tile` for the wasm backend as block copies on the heap.
 *
 * tfjs's batch-norm gradient tiles the per-channel 1/σ to the full activation
 * shape (`[1,1,1,C]` → `[N,H,W,C]`); the stock wasm Tile computes an index per
 * output element and takes ~290 ms for the 4 M elements of the reference CNN's
 * first layer. Tiling is a copy of contiguous runs: write each innermost run
 * once, then replicate every finished block by doubling `copyWithin` (memmove),
 * so the cost is a few passes of memory traffic (~2 ms).
 */
import * as tf from '../tf.js';
import type { KernelArgs, WasmBackend } from './kernel-scope.js';

/** Innermost blocks at most this long are written with a plain loop (fewer native calls). */
const SMALL_RUN = 64;

/** Kernel function: inputs {x}, attrs {reps} → x tiled `reps[d]` times along each axis d. */
export function tileWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs;
  const reps = (args.attrs as { reps: number[] }).reps;
  const shape = x.shape;
  const rank = shape.length;
  const outShape = shape.map((s, i) => s * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype) as tf.TensorInfo;
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  // Views after allocating: heap growth detaches older views.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  if (rank === 0) {
    dst[0] = src[0];
    return out;
  }
  const inStride = tf.util.computeStrides(shape);
  const outStride = tf.util.computeStrides(outShape);
  inStride.push(1);
  outStride.push(1);

  /** Replicates dst[at, at+len) until it spans len·times elements. */
  const replicate = (at: number, len: number, times: number): void => {
    const total = len * times;
    for (let filled = len; filled < total; ) {
      const n = Math.min(filled, total - filled);
      dst.copyWithin(at + filled, at, at + n);
      filled += n;
    }
  };
  /** Writes the output block of axis d whose input block starts at inAt. */
  const fill = (d: number, inAt: number, outAt: number): void => {
    const len = shape[d] * outStride[d];
    if (d === rank - 1) {
      if (len * reps[d] <= SMALL_RUN) {
        let o = outAt;
        for (let r = 0; r < reps[d]; r++)
          for (let i = 0; i < shape[d]; i++) dst[o++] = src[inAt + i];
        return;
      }
      dst.set(src.subarray(inAt, inAt + shape[d]), outAt);
    } else {
      for (let i = 0; i < shape[d]; i++)
        fill(d + 1, inAt + i * inStride[d], outAt + i * outStride[d]);
    }
    replicate(outAt, len, reps[d]);
  };
  fill(0, 0, 0);
  return out;
}
