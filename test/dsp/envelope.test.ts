/**
 * The decimated band envelope (createBandEnvelope with `decimate`) against
 * the full-rate one: shifting the band to baseband leaves the modulus
 * unchanged, so the decimated envelope must be the full-rate envelope taken
 * every D samples (each with its own mean removed), and its spectrum must
 * keep the defect lines. The forward spectrum it exposes must be the one
 * velocity RMS would take itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearingFrequencies, CWRU_DE_BEARING } from '../../src/contract/bearing.js';
import { defectEvidence } from '../../src/dsp/bearing.js';
import {
  amplitudeSpectrum,
  bandEnvelopeGeometry,
  createBandEnvelope,
} from '../../src/dsp/envelope.js';
import { velocityRms, velocityRmsFromSpectrum } from '../../src/dsp/features.js';
import { add, gaussian, impactTrain, tone } from './synth.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s / a.length);
}

describe('decimated band envelope', () => {
  it('picks the largest power-of-two decimation whose rate holds twice the band', () => {
    // 2–5 kHz at 12 kHz over 12 000 samples: N = 16384, 4096 band bins → D = 2 (6 kHz).
    const g = bandEnvelopeGeometry(12000, 12000, { lowHz: 2000, highHz: 5000, decimate: true });
    assert.equal(g.fftSize, 16384);
    assert.equal(g.decimation, 2);
    assert.equal(g.rate, 6000);
    assert.equal(g.outLength, 6000);
    // A 500 Hz band: rate ≥ 1 kHz → D = 8 (1.5 kHz).
    const narrow = bandEnvelopeGeometry(12000, 12000, {
      lowHz: 3000,
      highHz: 3500,
      decimate: true,
    });
    assert.equal(narrow.decimation, 8);
    assert.ok(narrow.rate >= 2 * 500, `rate ${narrow.rate}`);
    assert.equal(narrow.outLength, 1500);
    // Odd length: the last envelope sample is at input sample (outLength − 1)·D ≤ length − 1.
    const odd = bandEnvelopeGeometry(12000, 9999, { lowHz: 2000, highHz: 5000, decimate: true });
    assert.equal(odd.outLength, Math.ceil(9999 / odd.decimation));
    assert.equal(bandEnvelopeGeometry(12000, 12000, { lowHz: 2000, highHz: 5000 }).decimation, 1);
  });

  for (const [name, length, lowHz, highHz] of [
    ['2–5 kHz, 12 000 samples', 12000, 2000, 5000],
    ['3–3.5 kHz, odd length', 9999, 3000, 3500],
    ['0.5–2.5 kHz, power of two', 8192, 500, 2500],
  ] as const) {
    it(`equals the full-rate envelope every D samples (${name})`, () => {
      const fs = 12000;
      const x = impactTrain(length, fs, 107.4, { resonanceHz: 3200, noise: 0.3, seed: 7 });
      const full = createBandEnvelope(fs, length, { lowHz, highHz }).compute(x);
      const plan = createBandEnvelope(fs, length, { lowHz, highHz, decimate: true });
      assert.ok(plan.decimation > 1);
      const dec = plan.compute(x);
      assert.equal(dec.length, plan.outLength);
      // Subsample the full-rate envelope and remove its own mean (the plans remove theirs).
      const sub = new Float64Array(dec.length);
      let m = 0;
      for (let i = 0; i < sub.length; i++) {
        sub[i] = full[i * plan.decimation];
        m += sub[i];
      }
      m /= sub.length;
      for (let i = 0; i < sub.length; i++) sub[i] -= m;
      const err = maxAbsDiff(dec, sub);
      assert.ok(err < 1e-5 * Math.max(1e-12, rms(sub)), `max error ${err} vs rms ${rms(sub)}`);
    });
  }

  it('keeps the defect line: outer-race impacts read BPFO from the decimated envelope', () => {
    const fs = 12000;
    const rpm = 1797;
    const bf = bearingFrequencies(CWRU_DE_BEARING, rpm / 60);
    const x = impactTrain(12000, fs, bf.BPFO, { resonanceHz: 3500, noise: 0.2, seed: 3 });
    const plan = createBandEnvelope(fs, x.length, { lowHz: 2000, highHz: 5000, decimate: true });
    const es = amplitudeSpectrum(plan.compute(x), plan.rate, 1000);
    const ev = defectEvidence(es, bf);
    assert.equal(ev.best, 'BPFO');
    let kPeak = 1;
    for (let k = 2; k < es.amplitude.length; k++) {
      if (es.amplitude[k] > es.amplitude[kPeak]) kPeak = k;
    }
    assert.ok(
      Math.abs(es.freqHz[kPeak] - bf.BPFO) / bf.BPFO < 0.02,
      `peak ${es.freqHz[kPeak]} Hz vs BPFO ${bf.BPFO}`,
    );
  });

  it('exposes the forward spectrum velocity RMS takes (one FFT per window, not two)', () => {
    const fs = 12000;
    const x = add(tone(12000, fs, 159.2, 0.5), gaussian(12000, 5, 0.05));
    for (let i = 0; i < x.length; i++) x[i] += 0.3; // a DC offset the mean removal must drop
    const plan = createBandEnvelope(fs, x.length, { lowHz: 2000, highHz: 5000, decimate: true });
    plan.compute(x);
    const fromPlan = velocityRmsFromSpectrum(plan.lastSpectrum(), plan.fftSize, x.length, fs);
    const own = velocityRms(x, fs);
    assert.ok(Math.abs(fromPlan - own) <= 1e-9 * own, `${fromPlan} vs ${own}`);
    // 0.5 g at 159.2 Hz ≈ 0.5·9806.65/(2π·159.2)/√2 mm/s.
    const expect = (0.5 * 9806.65) / (2 * Math.PI * 159.2) / Math.SQRT2;
    assert.ok(Math.abs(own - expect) / expect < 0.02, `${own} vs ${expect}`);
    assert.throws(
      () => velocityRmsFromSpectrum(plan.lastSpectrum(), 1000, x.length, fs),
      /not an N-point transform/,
    );
  });
});
