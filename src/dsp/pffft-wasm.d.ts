/** The parts of @echogarden/pffft-wasm (an Emscripten module, untyped) that src/dsp/pffft.ts uses. */
declare module '@echogarden/pffft-wasm/simd' {
  import type { PffftModule } from './pffft.js';

  const factory: () => Promise<PffftModule>;
  export default factory;
}
declare module '@echogarden/pffft-wasm' {
  import type { PffftModule } from './pffft.js';

  const factory: () => Promise<PffftModule>;
  export default factory;
}
