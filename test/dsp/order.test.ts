import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  angularResample,
  createFrontEnd,
  frontEndMinRpm,
  resolveFrontEndConfig,
} from '../../src/dsp/index.js';
import { isFaultlineError } from '../../src/errors.js';
import { add, gaussian, impactTrain, tone } from './synth.js';

const throwsCode = (fn: () => unknown, code: string) =>
  assert.throws(fn, (e: unknown) => isFaultlineError(e) && e.code === code);

describe('angularResample', () => {
  it('a 3.5-order tone becomes a sine of period samplesPerRev/3.5 (interior, ≤ 2e-3)', () => {
    for (const rpm of [600, 1797, 3000]) {
      const fs = 12000;
      const fr = rpm / 60;
      const x = tone(fs, fs, 3.5 * fr, 1);
      const spr = 64;
      const out = angularResample(x, fs, fr, spr, 4 * spr);
      for (let j = 32; j < out.length - 32; j++) {
        const expect = Math.sin((2 * Math.PI * 3.5 * j) / spr);
        assert.ok(
          Math.abs(out[j] - expect) < 2e-3,
          `${rpm} rpm sample ${j}: ${out[j]} vs ${expect}`,
        );
      }
    }
  });

  it('attenuates a tone above the output Nyquist by more than 50 dB (anti-alias)', () => {
    const fs = 12000;
    const fr = 30;
    // 64 samples/rev at 30 Hz → 1920 Hz output rate, Nyquist 960 Hz; 1500 Hz would alias to 420 Hz.
    const out = angularResample(tone(fs, fs, 1500), fs, fr, 64, 1024);
    const r = Math.sqrt(out.subarray(64, 960).reduce((s, v) => s + v * v, 0) / 896);
    assert.ok(20 * Math.log10(r / Math.SQRT1_2) < -50, `alias residue ${r}`);
  });

  it('keeps a tone below the cut-off when downsampling (gain within 0.5 %)', () => {
    const fs = 12000;
    const out = angularResample(tone(fs, fs, 300), fs, 30, 64, 1024);
    const r = Math.sqrt(out.subarray(64, 960).reduce((s, v) => s + v * v, 0) / 896);
    assert.ok(Math.abs(r / Math.SQRT1_2 - 1) < 5e-3, `rms ${r}`);
  });

  it('machines taking turns at different speeds: cached weights give the direct result, bit for bit', () => {
    // Calls 1 of each speed run the direct path, calls 2+ the cached weights
    // (several speeds stay cached at once); every call must equal the first.
    const fs = 12000;
    const x = add(gaussian(fs, 21), tone(fs, fs, 333, 0.5));
    const speeds = [1797, 1200, 1500, 2400, 1797.5];
    const first = new Map<number, Float32Array>();
    for (let round = 0; round < 4; round++) {
      for (const rpm of speeds) {
        const out = angularResample(x, fs, rpm / 60, 128, 2048);
        const ref = first.get(rpm);
        if (!ref) first.set(rpm, out);
        else assert.deepEqual(out, ref, `${rpm} rpm, round ${round}`);
      }
    }
    // More speeds than the cache holds, in turn: still exact.
    for (let round = 0; round < 3; round++) {
      for (let rpm = 1000; rpm < 2800; rpm += 300) {
        const out = angularResample(x, fs, rpm / 60, 128, 2048);
        const ref = first.get(rpm);
        if (!ref) first.set(rpm, out);
        else assert.deepEqual(out, ref, `${rpm} rpm, round ${round}`);
      }
    }
  });

  it('throws FL_ERR_SIGNAL_TOO_SHORT when the window holds too few revolutions', () => {
    throwsCode(
      () => angularResample(new Float32Array(12000), 12000, 5, 128, 1024),
      'FL_ERR_SIGNAL_TOO_SHORT',
    );
    throwsCode(
      () => angularResample(new Float32Array(12000), 12000, 0, 128, 1024),
      'FL_ERR_DSP_PARAMS',
    );
    const x = new Float32Array(12000);
    x[5] = Number.NaN;
    throwsCode(() => angularResample(x, 12000, 30, 128, 1024), 'FL_ERR_SIGNAL_NONFINITE');
  });
});

/** Index of the band with the largest time-averaged value. */
function peakBand(data: Float32Array, [bins, frames]: readonly number[], from = 1): number {
  let best = from;
  let bestV = Number.NEGATIVE_INFINITY;
  for (let b = from; b < bins; b++) {
    let s = 0;
    for (let t = 0; t < frames; t++) s += data[b * frames + t];
    if (s > bestV) {
      bestV = s;
      best = b;
    }
  }
  return best;
}

/** Smooth pulses (Gaussian, σ = 2 ms) at `k` per revolution: the fundamental is the strongest line. */
function pulseTrain(n: number, fs: number, rpm: number, k: number): Float32Array {
  const x = gaussian(n, 9, 0.02);
  const period = (fs * 60) / (rpm * k);
  const sigma = 0.002 * fs;
  for (let c = 0; c < n + 5 * sigma; c += period) {
    for (let i = Math.max(0, Math.floor(c - 5 * sigma)); i < Math.min(n, c + 5 * sigma); i++) {
      x[i] += Math.exp(-0.5 * ((i - c) / sigma) ** 2);
    }
  }
  return x;
}

describe('front end: order mode keeps shaft-locked lines in place', () => {
  const k = 5;
  const fs = 12000;

  it('raw signal: the 5× line stays in one band in order mode and moves in time mode', () => {
    const order = createFrontEnd({ mode: 'order', order: { envelope: null }, stft: { fMax: 32 } });
    const time = createFrontEnd({ mode: 'time', stft: { nfft: 2048, fMax: 200 } });
    const bands: Record<string, number[]> = { order: [], time: [] };
    for (const rpm of [600, 1200]) {
      const x = pulseTrain(fs, fs, rpm, k);
      bands.order.push(peakBand(order.process(x, rpm), order.inputShape));
      bands.time.push(peakBand(time.process(x), time.inputShape));
    }
    // 5 orders in 0.5-order bands → band 10 at both speeds.
    assert.deepEqual(bands.order, [10, 10]);
    // 50 Hz and 100 Hz in 3.125 Hz bands → bands 16 and 32 (± 1: a line on a
    // band edge goes to the band of its nearest 5.86 Hz FFT bin).
    assert.ok(
      Math.abs(bands.time[0] - 16) <= 1 && Math.abs(bands.time[1] - 32) <= 1,
      `time bands ${bands.time}`,
    );
  });

  it('envelope (default): impacts at 5× ringing a 3 kHz resonance peak at order 5 at both speeds', () => {
    const fe = createFrontEnd({ mode: 'order' });
    const found = [600, 1200].map((rpm) =>
      peakBand(
        fe.process(impactTrain(fs, fs, (k * rpm) / 60, { noise: 0.1, seed: rpm }), rpm),
        fe.inputShape,
      ),
    );
    assert.deepEqual(found, [10, 10]);
  });

  it('estimates the speed when none is given', () => {
    const fe = createFrontEnd({
      mode: 'order',
      order: { envelope: null, minRpm: 900, maxRpm: 1700 },
    });
    // shaft harmonics at 1234 rpm plus noise
    const fr = 1234 / 60;
    const x = gaussian(fs, 4, 0.05);
    for (let h = 1; h <= 6; h++) add(x, tone(fs, fs, h * fr, 1 / h, h));
    fe.process(x);
    assert.ok(
      fe.lastRpm !== undefined && Math.abs(fe.lastRpm / 1234 - 1) < 0.01,
      `rpm ${fe.lastRpm}`,
    );
  });

  it('is invariant to sensor gain (RMS amplitude normalisation)', () => {
    const fe = createFrontEnd({ mode: 'order' });
    const x = impactTrain(fs, fs, 150, { seed: 3 });
    const a = fe.process(x, 1800).slice();
    const b = fe.process(
      x.map((v) => v * 37),
      1800,
    );
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-3, `cell ${i}`);
  });
});

describe('front-end config', () => {
  it('round-trips through JSON and rebuilds the same front end', () => {
    const cfg = resolveFrontEndConfig({ mode: 'order', order: { revolutions: 6 } });
    const again = resolveFrontEndConfig(JSON.parse(JSON.stringify(cfg)));
    assert.deepEqual(again, cfg);
    const x = impactTrain(12000, 12000, 100, { seed: 8 });
    const a = createFrontEnd(cfg).process(x, 1500);
    const b = createFrontEnd(again).process(x, 1500);
    assert.deepEqual(a, b);
    assert.ok(Math.abs(frontEndMinRpm(cfg) - 360) < 1);
  });

  it('time-mode defaults: 1 s at 12 kHz → [64, 64, 1], hop half a window', () => {
    const fe = createFrontEnd({});
    assert.deepEqual([...fe.inputShape], [64, 64, 1]);
    assert.equal(fe.config.hop, 6000);
    assert.equal(fe.config.mode, 'time');
    assert.ok(Object.isFrozen(fe.config.stft));
  });

  it('rejects bad configs and windows with stable codes', () => {
    for (const bad of [
      { mode: 'freq' as 'time' },
      { sampleRate: 0 },
      { windowLength: 8 },
      { hop: 0 },
      { stft: { nfft: 100 } },
      { order: { envelope: { lowHz: 5000, highHz: 7000 } } },
      { order: { minRpm: 2000, maxRpm: 1000 } },
      { mode: 'order' as const, stft: { fMax: 100 } },
    ]) {
      throwsCode(() => createFrontEnd(bad), 'FL_ERR_DSP_PARAMS');
    }
    const fe = createFrontEnd({ mode: 'order' });
    throwsCode(() => fe.process(new Float32Array(0)), 'FL_ERR_SIGNAL_EMPTY');
    throwsCode(() => fe.process(new Float32Array(11999)), 'FL_ERR_SIGNAL_TOO_SHORT');
    const x = new Float32Array(12000);
    x[0] = Number.POSITIVE_INFINITY;
    throwsCode(() => fe.process(x, 1800), 'FL_ERR_SIGNAL_NONFINITE');
    throwsCode(() => fe.process(new Float32Array(12000), 100), 'FL_ERR_SIGNAL_TOO_SHORT');
    throwsCode(() => fe.process(new Float32Array(12000), -5), 'FL_ERR_DSP_PARAMS');
    throwsCode(() => fe.process(gaussian(12000, 1)), 'FL_ERR_SPEED_UNKNOWN');
  });
});
