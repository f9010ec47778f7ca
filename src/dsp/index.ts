/** The dsp stage's public API (see each module for details). */
export * from './bearing.js';
export * from './envelope.js';
export * from './features.js';
export { type FftPlan, fftEngine, fftPlan } from './fftutil.js';
export * from './frontend.js';
export * from './iso20816.js';
export * from './order.js';
export * from './signal.js';
export * from './speed.js';
export * from './stft.js';
export * from './window.js';
