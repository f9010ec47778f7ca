/**
 * Fast gradient kernels for the wasm backend, registered for `'wasm'` only:
 * the model files stay the same on every backend, only the kernels differ.
 *
 * - `Conv2DBackpropFilter`: missing upstream (tensorflow/tfjs#8474), so without
 *   it a conv net cannot train on wasm at all.
 * - `Conv2DBackpropInput`: upstream is a scalar loop; ours is one XNNPACK conv.
 * - `MaxPoolGrad`: upstream is a generic loop; ours is a direct pass over the heap.
 * - `Tile`: upstream computes an index per element; ours copies blocks (batch-norm gradient).
 * - `BatchMatMul`: upstream's transposed cases are a scalar loop; ours transposes first.
 * - `Sum`, `Mean` over the leading axes: upstream transposes first; ours is a column sum (batch norm).
 *
 * Their loops over the heap are pure functions in ./impl/ (like tfjs-backend-cpu's
 * `*Impl` functions): typed arrays and a plain geometry in, a caller-given output
 * written, tested with no backend at all (test/model/kernel-impl.test.ts). The
 * files here are the tfjs plumbing around them (BatchMatMul has no loop of its own).
 */
import * as tf from '../tf.js';
import { batchMatMulWasm } from './batch-mat-mul.js';
import { conv2DBackpropFilterWasm } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputWasm } from './conv2d-backprop-input.js';
import { captureWasmKernel } from './kernel-scope.js';
import { maxPoolGradWasm } from './max-pool-grad.js';
import { meanWasm, sumWasm } from './reduce-leading.js';
import { tileWasm } from './tile.js';

/** The kernels {@link registerWasmGradKernels} installs, by tfjs kernel name. */
export const WASM_GRAD_KERNELS: Readonly<Record<string, tf.KernelFunc>> = {
  [tf.Conv2DBackpropFilter]: conv2DBackpropFilterWasm as tf.KernelFunc,
  [tf.Conv2DBackpropInput]: conv2DBackpropInputWasm as tf.KernelFunc,
  [tf.MaxPoolGrad]: maxPoolGradWasm as tf.KernelFunc,
  [tf.Tile]: tileWasm as tf.KernelFunc,
  [tf.BatchMatMul]: batchMatMulWasm as tf.KernelFunc,
  [tf.Sum]: sumWasm as tf.KernelFunc,
  [tf.Mean]: meanWasm as tf.KernelFunc,
};

let registered: string[] | undefined;

/**
 * Installs {@link WASM_GRAD_KERNELS} for the wasm backend, replacing the stock
 * kernels of the same name (they stay callable through `wasmKernelFunc`).
 * Call after the wasm backend is initialised; idempotent. Returns the names.
 */
export function registerWasmGradKernels(): string[] {
  if (registered) return registered;
  const names: string[] = [];
  for (const [kernelName, kernelFunc] of Object.entries(WASM_GRAD_KERNELS)) {
    // Keep the stock kernel reachable (fallbacks, benchmarks) before replacing it.
    if (captureWasmKernel(kernelName)) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
    names.push(kernelName);
  }
  registered = names;
  return names;
}
