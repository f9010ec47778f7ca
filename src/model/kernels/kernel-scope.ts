/**
 * Plumbing for kernels composed from other kernels of the wasm backend.
 *
 * A composed kernel calls the backend's own kernel functions directly (not
 * through `tf.engine().runKernel`), so the intermediates are raw `TensorInfo`s
 * the engine never sees: nothing is recorded on the gradient tape and nothing
 * shows up twice in `tf.profile`. The price is manual disposal, which this
 * scope does: every intermediate is released in `dispose()` unless `keep()`
 * handed it out as the kernel's result.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import * as tf from '../tf.js';

export type WasmBackend = BackendWasm;

/** What the engine passes a kernel function (inputs by name, backend, attributes). */
export interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: object;
  attrs?: tf.NamedAttrMap;
}

/** Attribute map accepted by a kernel function (same as tfjs's NamedAttrMap). */
export type Attrs = tf.NamedAttrMap;

/** Kernel functions captured before we replace them (e.g. the original wasm Conv2DBackpropInput). */
const captured = new Map<string, tf.KernelFunc>();

/**
 * The kernel function the wasm backend registered for `kernelName`, as it was
 * before Faultline replaced any kernel. Throws when the backend lacks it.
 */
export function wasmKernelFunc(kernelName: string): tf.KernelFunc {
  const saved = captured.get(kernelName);
  if (saved) return saved;
  const config = tf.getKernel(kernelName, 'wasm');
  if (!config) throw new Error(`the wasm backend has no '${kernelName}' kernel`);
  return config.kernelFunc;
}

/** Remember the current wasm kernel for `kernelName` so it can still be called after an override. */
export function captureWasmKernel(kernelName: string): tf.KernelFunc | undefined {
  const existing = captured.get(kernelName);
  if (existing) return existing;
  const config = tf.getKernel(kernelName, 'wasm');
  if (!config) return undefined;
  captured.set(kernelName, config.kernelFunc);
  return config.kernelFunc;
}

/** Owns the intermediates of one composed-kernel call. */
export class KernelScope {
  private readonly temps = new Set<tf.TensorInfo>();

  constructor(readonly backend: WasmBackend) {}

  /** Runs the wasm backend's `kernelName` and tracks its output for disposal. */
  run(kernelName: string, inputs: Record<string, tf.TensorInfo>, attrs: Attrs = {}): tf.TensorInfo {
    const out = wasmKernelFunc(kernelName)({ inputs, attrs, backend: this.backend });
    if (Array.isArray(out)) throw new Error(`kernel '${kernelName}' returned several outputs`);
    this.temps.add(out);
    return out;
  }

  /** Allocates an output buffer on the backend and tracks it. */
  alloc(shape: number[], dtype: tf.DataType = 'float32'): tf.TensorInfo {
    const out = this.backend.makeOutput(shape, dtype) as tf.TensorInfo;
    this.temps.add(out);
    return out;
  }

  /** Stops tracking `t` (it becomes the caller's, typically the kernel's result). */
  keep(t: tf.TensorInfo): tf.TensorInfo {
    this.temps.delete(t);
    return t;
  }

  /** Releases every tracked intermediate (reshape views only drop a reference). */
  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.clear();
  }
}

/** Attributes shared by the convolution gradient kernels (Conv2DBackpropFilter/Input). */
export interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Geometry of the forward convolution whose gradient `kernelName` computes,
 * x `[N,H,W,Ci]` * filter `[kh,kw,Ci,Co]`. NHWC only: the composed gradients
 * are built from the wasm backend's NHWC forward kernels.
 */
/**
 * Below this many input channels (or with any stride > 1) the column forms of
 * the conv gradients (im2col, col2im) beat the stock conv kernels on wasm.
 */
export const COLUMN_FORM_MAX_CHANNELS = 8;

export function nhwcConvInfo(
  kernelName: string,
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: ConvGradAttrs,
): tf.backend_util.Conv2DInfo {
  const info = tf.backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
  if (info.dataFormat !== 'channelsLast') {
    throw new Error(
      `${kernelName} on wasm supports NHWC only, got dataFormat '${attrs.dataFormat}'`,
    );
  }
  return info;
}
