/**
 * `MaxPoolGrad` for the wasm backend as one pass over the wasm heap.
 *
 * The stock wasm kernel spends ~95 ms on the first pooling layer of the
 * reference CNN (batch 64, 64×64×16). Routing each output gradient to its
 * window's maximum is pure data movement, which plain JS over the heap's typed
 * arrays does in a few ms (./impl/max-pool-grad.ts): for each window, in NHWC
 * order so the inner loop runs over contiguous channels, find the first maximum
 * (TensorFlow's and tfjs-cpu's tie rule) and add dy there.
 */
import * as tf from '../tf.js';
import { maxPoolGradImpl } from './impl/max-pool-grad.js';
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
  // Allocate first: growing the heap detaches earlier typed-array views.
  const out = backend.makeOutput(input.shape, 'float32') as tf.TensorInfo;
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  maxPoolGradImpl(x, g, info, dx);
  return out;
}
