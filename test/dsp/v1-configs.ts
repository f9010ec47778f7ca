/**
 * Front ends of models written before version 2, verbatim from the shipped
 * artifacts (models/sim-12k until e8ea972 retrained it, models/cwru-de12k),
 * and a deterministic signal to push through them. Kept here, not read from
 * models/, because the shipped models get retrained: these configs must keep
 * loading and computing what they computed, whatever models/ now holds.
 * No imports, so a script run against an older checkout can use it too.
 */
import type { FrontEndConfig } from '../../src/dsp/frontend.js';

/** models/sim-12k/faultline.json frontEnd as shipped 2026-11-28 (order mode, decimated 2–5 kHz envelope). */
export const SIM_12K_V1: FrontEndConfig = {
  version: 1,
  sampleRate: 12000,
  windowLength: 12000,
  hop: 3000,
  mode: 'order',
  stft: {
    window: 'hann',
    nfft: 256,
    freqBins: 64,
    frames: 32,
    fMin: 0,
    fMax: 32,
    scale: 'db',
    epsilon: 1e-6,
  },
  normalisation: 'zscore',
  amplitude: 'rms',
  order: {
    samplesPerRev: 128,
    revolutions: 16,
    minRpm: 600,
    maxRpm: 3600,
    envelope: { lowHz: 2000, highHz: 5000, decimate: true },
  },
};

/** models/cwru-de12k/faultline.json frontEnd as shipped 2026-11-28 (time mode, 2048 samples). */
export const CWRU_DE12K_V1: FrontEndConfig = {
  version: 1,
  sampleRate: 12000,
  windowLength: 2048,
  hop: 512,
  mode: 'time',
  stft: {
    window: 'hann',
    nfft: 256,
    freqBins: 64,
    frames: 32,
    fMin: 0,
    fMax: null,
    scale: 'db',
    epsilon: 1e-6,
  },
  normalisation: 'zscore',
  amplitude: 'rms',
  order: {
    samplesPerRev: 128,
    revolutions: 8,
    minRpm: 600,
    maxRpm: 3600,
    envelope: { lowHz: 2000, highHz: 5000 },
  },
};

/**
 * A fixed 12 kHz test signal of `n` samples: shaft harmonics at 1797 rpm
 * (1×, 2×, 3×), impacts at BPFO (3.5848 × shaft) ringing 3.2 kHz, and
 * pseudo-random noise from a 32-bit LCG (no library PRNG, so the values
 * never depend on code under test).
 */
export function v1Signal(n: number): Float32Array {
  const fs = 12000;
  const fr = 1797 / 60;
  const x = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const t = i / fs;
    x[i] =
      0.05 * Math.sin(2 * Math.PI * fr * t) +
      0.03 * Math.sin(2 * Math.PI * 2 * fr * t + 0.4) +
      0.02 * Math.sin(2 * Math.PI * 3 * fr * t + 1.1) +
      0.1 * (s / 2 ** 32 - 0.5);
  }
  const period = fs / (3.5848 * fr);
  for (let t0 = 0; t0 < n; t0 += period) {
    const start = Math.ceil(t0);
    for (let k = 0; k < 96 && start + k < n; k++) {
      const t = (start + k - t0) / fs;
      x[start + k] += 0.5 * Math.exp(-t / 0.002) * Math.sin(2 * Math.PI * 3200 * t);
    }
  }
  return x;
}
