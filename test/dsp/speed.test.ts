import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateShaftSpeed } from '../../src/dsp/index.js';
import { isFaultlineError } from '../../src/errors.js';
import { add, gaussian, impactTrain, readCwruDe, tone } from './synth.js';

const fs = 12000;

/** Shaft harmonics (amplitudes 1/h, random phases) + noise + strong fixed-frequency content. */
function machine(rpm: number, seed: number): Float32Array {
  const fr = rpm / 60;
  const x = gaussian(fs, seed, 0.3);
  for (let h = 1; h <= 8; h++) add(x, tone(fs, fs, h * fr, 0.5 / h, seed * h));
  // Fixed-frequency content 10× stronger than the 1× line: a 377 Hz tone
  // (a neighbouring machine), a 1234 Hz tone, and a 3 kHz resonance rung by
  // impacts unrelated to the shaft.
  add(x, tone(fs, fs, 377, 5));
  add(x, tone(fs, fs, 1234, 5));
  add(x, impactTrain(fs, fs, 7.3 * fr, { amp: 3, noise: 0, seed }));
  return x;
}

describe('estimateShaftSpeed on synthetic machines', () => {
  for (const rpm of [720, 1000, 1497, 1797, 2350, 3300]) {
    it(`finds ${rpm} rpm within 1 % among strong fixed lines and a resonance`, () => {
      const est = estimateShaftSpeed(machine(rpm, rpm), fs, { minRpm: 600, maxRpm: 3600 });
      assert.ok(Math.abs(est.rpm / rpm - 1) < 0.01, `estimated ${est.rpm.toFixed(1)} rpm`);
      assert.ok(est.harmonicsFound >= 4);
    });
  }

  it('picks the fundamental, not a sub- or super-harmonic, with only 3 harmonics', () => {
    const fr = 25;
    const x = gaussian(fs, 2, 0.05);
    for (let h = 1; h <= 3; h++) add(x, tone(fs, fs, h * fr, 1, h));
    const est = estimateShaftSpeed(x, fs, { minRpm: 600, maxRpm: 3600 });
    assert.ok(Math.abs(est.shaftHz / fr - 1) < 0.005, `got ${est.shaftHz} Hz`);
  });

  it('throws FL_ERR_SPEED_UNKNOWN on noise, and signal codes on bad input', () => {
    const code = (fn: () => unknown, c: string) =>
      assert.throws(fn, (e: unknown) => isFaultlineError(e) && e.code === c);
    code(() => estimateShaftSpeed(gaussian(fs, 5), fs), 'FL_ERR_SPEED_UNKNOWN');
    code(() => estimateShaftSpeed(new Float32Array(fs), fs), 'FL_ERR_SPEED_UNKNOWN');
    code(() => estimateShaftSpeed(new Float32Array(0), fs), 'FL_ERR_SIGNAL_EMPTY');
    code(() => estimateShaftSpeed(Float32Array.of(1, Number.NaN), fs), 'FL_ERR_SIGNAL_NONFINITE');
    code(() => estimateShaftSpeed(new Float32Array(2 ** 22 + 1), fs), 'FL_ERR_SIGNAL_TOO_LONG');
    code(
      () => estimateShaftSpeed(gaussian(100, 1), fs, { minRpm: 2000, maxRpm: 1000 }),
      'FL_ERR_DSP_PARAMS',
    );
  });
});

describe('estimateShaftSpeed on CWRU (stored rpm as reference)', () => {
  // One file per class and load: normal is at 48 kHz, so it is left out here.
  for (const n of [105, 119, 132, 172, 188, 199, 210, 224, 237]) {
    it(`${n}.mat: 1 s windows within 1.5 % of the stored rpm`, async (t) => {
      const rec = await readCwruDe(n);
      if (!rec) return t.skip('CWRU data not found (set FAULTLINE_CWRU_DIR)');
      for (let w = 0; w < 4; w++) {
        const seg = rec.x.subarray(w * 2 * fs, w * 2 * fs + fs);
        const est = estimateShaftSpeed(seg, fs, { minRpm: 1000, maxRpm: 2000 });
        assert.ok(
          Math.abs(est.rpm / rec.rpm - 1) < 0.015,
          `window ${w}: ${est.rpm.toFixed(1)} vs ${rec.rpm}`,
        );
      }
    });
  }
});
