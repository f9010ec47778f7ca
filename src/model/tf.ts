/**
 * The one TensorFlow.js namespace of Faultline.
 *
 * Every model file imports `tf` from here, never from a backend package, so the
 * same code runs on tfjs-node, wasm and cpu: `@tensorflow/tfjs-node` re-exports
 * `@tensorflow/tfjs` and only adds a backend, and the wasm backend registers
 * itself into this same engine. Call `initBackend()` (./backend.ts) once
 * before the first op so the fastest working backend is active.
 */
export * from '@tensorflow/tfjs';
