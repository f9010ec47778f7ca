/**
 * The one TensorFlow.js namespace of Faultline.
 *
 * Every model file imports `tf` from here, never from a backend package, so the
 * same code runs on tfjs-node, wasm and cpu. It is what the `@tensorflow/tfjs`
 * umbrella would give, without the parts the gateway never loads (webgl, the
 * converter, tfjs-data): tfjs-core and tfjs-layers, the cpu backend as the
 * last resort, and core's gradients and chained ops (./tf-registrations.ts
 * says why those need a step of their own). The wasm backend and the optional
 * `@tensorflow/tfjs-node` register themselves into this same engine. Call
 * `initBackend()` (./backend.ts) once before the first op so the fastest
 * working backend is active.
 */
import '@tensorflow/tfjs-backend-cpu';
import './tf-registrations.js';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
