/**
 * `Sum` and `Mean` for the wasm backend when the reduced axes are the leading
 * ones (`[0, 1, 2]` of an NHWC activation: per-channel sums of batch norm and
 * its gradient, bias gradients over the batch).
 *
 * The stock wasm kernels reduce only innermost axes, so for these they first
 * transpose the whole tensor (one extra pass and a temporary as large as the
 * input). Viewed as `[R, C]` (R = product of the reduced axes), the result is
 * a column sum: one pass over the heap adding each row into C accumulators,
 * in float64 (so it is also more accurate than a float32 running sum;
 * ./impl/reduce-leading.ts).
 * Anything else (other axes, int32, bool) goes to the stock kernel.
 */
import * as tf from '../tf.js';
import { reduceLeadingImpl } from './impl/reduce-leading.js';
import { type KernelArgs, type WasmBackend, wasmKernelFunc } from './kernel-scope.js';

interface ReduceAttrs {
  axis: number | number[];
  keepDims: boolean;
}

/** Rows R and columns C when `axis` is exactly the leading axes of `shape`; else undefined. */
function leadingSplit(shape: number[], axis: number | number[]): [number, number] | undefined {
  const rank = shape.length;
  const axes = tf.util.parseAxisParam(axis, shape);
  if (axes.length === 0 || axes.length === rank) return undefined;
  const sorted = [...axes].sort((a, b) => a - b);
  if (sorted.some((a, i) => a !== i)) return undefined;
  const k = sorted.length;
  const rows = tf.util.sizeFromShape(shape.slice(0, k));
  const cols = tf.util.sizeFromShape(shape.slice(k));
  return [rows, cols];
}

function reduceLeading(args: KernelArgs, kernelName: string, mean: boolean): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { x } = args.inputs;
  const { axis, keepDims } = args.attrs as unknown as ReduceAttrs;
  const split = x.dtype === 'float32' ? leadingSplit(x.shape, axis) : undefined;
  if (!split) return wasmKernelFunc(kernelName)(args) as tf.TensorInfo;
  const [rows, cols] = split;
  const k = tf.util.parseAxisParam(axis, x.shape).length; // the first k axes are reduced
  const rest = x.shape.slice(k);
  const outShape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...rest] : rest;
  const out = backend.makeOutput(outShape, 'float32') as tf.TensorInfo;
  // Views after the allocation: heap growth detaches older views.
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  // An empty reduction gives 0 for both, as on cpu (the stock kernel leaves
  // the output unwritten).
  reduceLeadingImpl(src, { rows, cols }, mean, dst);
  return out;
}

/** Kernel function: inputs {x}, attrs {axis, keepDims} → Σ over `axis`. */
export function sumWasm(args: KernelArgs): tf.TensorInfo {
  return reduceLeading(args, tf.Sum, false);
}

/** Kernel function: inputs {x}, attrs {axis, keepDims} → mean over `axis`. */
export function meanWasm(args: KernelArgs): tf.TensorInfo {
  return reduceLeading(args, tf.Mean, true);
}
