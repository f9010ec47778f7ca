/**
 * `Tile` for the wasm backend as block copies on the heap.
 *
 * tfjs's batch-norm gradient tiles the per-channel 1/σ to the full activation
 * shape (`[1,1,1,C]` → `[N,H,W,C]`); the stock wasm Tile computes an index per
 * output element and takes ~290 ms for the 4 M elements of the reference CNN's
 * first layer. Tiling is a copy of contiguous runs: write each innermost run
 * once, then replicate every finished block by doubling `copyWithin` (memmove),
 * so the cost is a few passes of memory traffic (~2 ms; ./impl/tile.ts).
 */
import * as tf from '../tf.js';
import { tileImpl } from './impl/tile.js';
import type { KernelArgs, WasmBackend } from './kernel-scope.js';

/** Kernel function: inputs {x}, attrs {reps} → x tiled `reps[d]` times along each axis d. */
export function tileWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs;
  const reps = (args.attrs as { reps: number[] }).reps;
  const shape = x.shape;
  const outShape = shape.map((s, i) => s * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype) as tf.TensorInfo;
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  // Views after allocating: heap growth detaches older views.
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  tileImpl(src, shape, reps, dst);
  return out;
}
