/**
 * The front end's envelope hand-off (FrontEnd.lastEnvelope, reusableEnvelope):
 * the live pipeline reads the envelope evidence from the envelope the
 * order-mode front end already computed, so it must be exactly the one a
 * separate band-envelope plan gives, and must never be handed out for
 * another window, band or rate.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearingFrequencies, CWRU_DE_BEARING } from '../../src/contract/bearing.js';
import { defectEvidence } from '../../src/dsp/bearing.js';
import { amplitudeSpectrum, createBandEnvelope } from '../../src/dsp/envelope.js';
import { createFrontEnd, type FrontEndConfig, reusableEnvelope } from '../../src/dsp/frontend.js';
import { impactTrain } from './synth.js';
import { SIM_12K_V1 } from './v1-configs.js';

// The simulator model's front end as shipped before version 2 (order mode,
// 2–5 kHz envelope, 12 000-sample windows): models of that kind keep loading,
// and the live pipeline reads their envelope evidence through this hand-off.
// (models/sim-12k itself is now a version-2 model without an envelope to reuse.)
const shipped: FrontEndConfig = SIM_12K_V1;
const fs = shipped.sampleRate;
const n = shipped.windowLength;
const band = { lowHz: 2000, highHz: 5000 };

/** Impacts at an outer-race rate ringing 3.5 kHz, in noise. */
function window(seed: number): Float32Array {
  return impactTrain(n, fs, 107.4, { resonanceHz: 3500, noise: 0.2, seed });
}

describe('reusableEnvelope', () => {
  // The shipped model decimates its envelope; models made before the option
  // (no `decimate`) compute it at the full rate. Both must hand off exactly
  // the envelope a separate plan gives.
  const legacy: FrontEndConfig = {
    ...shipped,
    order: { ...shipped.order, envelope: { lowHz: 2000, highHz: 5000 } },
  };
  for (const [name, cfg, decimation] of [
    ['shipped (decimated)', shipped, 2],
    ['legacy (full rate)', legacy, 1],
  ] as const) {
    it(`${name}: is the band envelope of the window, bit for bit, and gives the same evidence`, () => {
      const fe = createFrontEnd(cfg);
      const e = cfg.order.envelope;
      assert.ok(e);
      assert.deepEqual({ lowHz: e.lowHz, highHz: e.highHz }, band);
      for (const seed of [1, 2]) {
        const x = window(seed);
        fe.process(x, 1797);
        const reused = reusableEnvelope(fe, x, fs, band);
        assert.ok(reused, 'the front end computed the envelope of this window');
        assert.equal(reused.decimation, decimation);
        assert.equal(reused.rate, fs / decimation);
        const plan = createBandEnvelope(fs, n, { ...band, decimate: e.decimate === true });
        const direct = plan.compute(x);
        assert.equal(reused.data.length, Math.ceil(n / decimation));
        assert.deepEqual(reused.data, direct);
        assert.deepEqual(reused.spectrum, plan.lastSpectrum());
        const bf = bearingFrequencies(CWRU_DE_BEARING, 1797 / 60);
        const a = defectEvidence(amplitudeSpectrum(reused.data, reused.rate, 1000), bf);
        const b = defectEvidence(amplitudeSpectrum(direct, plan.rate, 1000), bf);
        assert.deepEqual(a, b);
        assert.equal(a.best, 'BPFO');
      }
    });
  }

  it('leaves the front end output unchanged', () => {
    const x = window(3);
    const a = createFrontEnd(shipped).process(x, 1797);
    const fe = createFrontEnd(shipped);
    const b = fe.process(x, 1797);
    reusableEnvelope(fe, x, fs, band);
    assert.deepEqual(a, b);
  });

  it('refuses another window, band, rate, mode or a failed call', () => {
    const fe = createFrontEnd(shipped);
    const x = window(4);
    assert.equal(reusableEnvelope(fe, x, fs, band), undefined, 'before any call');
    fe.process(x, 1797);
    assert.equal(reusableEnvelope(fe, x.slice(), fs, band), undefined, 'same samples, other array');
    assert.equal(reusableEnvelope(fe, x, fs, { lowHz: 2000, highHz: 4000 }), undefined);
    assert.equal(reusableEnvelope(fe, x, 24000, band), undefined);
    const y = window(5);
    fe.process(y, 1797);
    assert.equal(reusableEnvelope(fe, x, fs, band), undefined, 'a later window replaced it');
    assert.ok(reusableEnvelope(fe, y, fs, band));
    const bad = y.slice();
    bad[7] = Number.NaN;
    assert.throws(() => fe.process(bad, 1797));
    assert.equal(reusableEnvelope(fe, y, fs, band), undefined, 'after a failed call');
    assert.equal(reusableEnvelope(fe, bad, fs, band), undefined);

    const raw = createFrontEnd({ ...shipped, order: { ...shipped.order, envelope: null } });
    raw.process(x, 1797);
    assert.equal(raw.lastEnvelope, undefined);
    assert.equal(reusableEnvelope(raw, x, fs, band), undefined);
    const time = createFrontEnd({ sampleRate: fs, windowLength: n, mode: 'time' });
    time.process(x);
    assert.equal(reusableEnvelope(time, x, fs, band), undefined);
  });
});
