/**
 * Display summaries of the inference worker (src/diagnose/display.ts): the
 * pooled envelope spectrum against a direct reference (max over each group of
 * a naive DFT amplitude spectrum), the view's frequency range, and the
 * spectrogram pooling against a direct mean.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { envelopeView, envelopeViewMaxHz, spectrogramView } from '../../src/diagnose/display.js';
import { amplitudeSpectrum } from '../../src/dsp/envelope.js';

describe('envelopeView', () => {
  test('pools to ≤ maxBins keeping each group’s peak; a 107 Hz line stays at 107 Hz with its amplitude', () => {
    const fs = 12000;
    const n = 12000;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 107.5 * i) / fs) + 0.01;
    const es = amplitudeSpectrum(x, fs, 1000);
    const v = envelopeView(es, 500, 256);
    assert.ok(v.freqHz.length <= 256 && v.freqHz.length === v.amplitude.length);
    const k = Math.ceil(Math.floor(500 / es.binHz) / 256);
    assert.ok(Math.abs(v.df - k * es.binHz) < 1e-9);
    // independent reference: the max of the raw bins of each group
    for (let i = 0; i < v.amplitude.length; i++) {
      const a = 1 + i * k;
      const b = Math.min(Math.floor(500 / es.binHz), a + k - 1);
      const ref = Math.max(...Array.from(es.amplitude.subarray(a, b + 1)));
      assert.ok(Math.abs(v.amplitude[i] - ref) <= 1e-3 * Math.max(ref, 1e-6), `bin ${i}`);
    }
    let top = 0;
    v.amplitude.forEach((a, i) => {
      if (a > v.amplitude[top]) top = i;
    });
    assert.ok(Math.abs(v.freqHz[top] - 107.5) <= v.df, `peak at ${v.freqHz[top]} Hz`);
    assert.ok(v.amplitude[top] > 0.25 && v.amplitude[top] < 0.31, `${v.amplitude[top]} g`);
    assert.ok(v.freqHz[0] > 0, 'DC left out');
    assert.ok((v.freqHz.at(-1) ?? 0) <= 500);
  });

  test('fewer bins than maxBins are kept one to one; bad arguments are a RangeError', () => {
    const es = { freqHz: new Float64Array(11), amplitude: new Float32Array(11).fill(1), binHz: 10 };
    es.amplitude[3] = 5;
    const v = envelopeView(es, 1000, 256);
    assert.equal(v.amplitude.length, 10);
    assert.equal(v.freqHz[2], 30);
    assert.equal(v.amplitude[2], 5);
    assert.throws(() => envelopeView(es, 0), RangeError);
    assert.throws(() => envelopeView(es, 100, 0), RangeError);
    assert.deepEqual(envelopeView({ ...es, amplitude: new Float32Array(1) }, 100).amplitude, []);
  });

  test('range: 3.2 × BPFI within 100 Hz … the limit; 500 Hz without a speed', () => {
    assert.equal(envelopeViewMaxHz(162.2, 1000), 3.2 * 162.2);
    assert.equal(envelopeViewMaxHz(10, 1000), 100);
    assert.equal(envelopeViewMaxHz(400, 1000), 1000);
    assert.equal(envelopeViewMaxHz(undefined, 1000), 500);
    assert.equal(envelopeViewMaxHz(Number.NaN, 300), 300);
  });
});

describe('spectrogramView', () => {
  test('mean-pools [F, T] to ≤ 32 × 32 in [freq, time] layout; newFrames from the hop', () => {
    const F = 64;
    const T = 40;
    const spec = new Float32Array(F * T).map((_, i) => Math.floor(i / T) + (i % T) / 100);
    const v = spectrogramView(spec, F, T, 0.25);
    assert.equal(v.freqBins, 32);
    assert.equal(v.frames, 20);
    assert.equal(v.data.length, 32 * 20);
    // cell (f, t) = mean over rows 2f, 2f+1 and columns 2t, 2t+1
    for (const [f, t] of [
      [0, 0],
      [5, 7],
      [31, 19],
    ]) {
      let ref = 0;
      for (const ff of [2 * f, 2 * f + 1])
        for (const tt of [2 * t, 2 * t + 1]) ref += spec[ff * T + tt] / 4;
      assert.ok(Math.abs(v.data[f * v.frames + t] - ref) < 0.006, `(${f}, ${t})`);
    }
    assert.equal(v.newFrames, 5);
    // a partial last group is averaged over its own cells, not diluted
    const odd = spectrogramView(new Float32Array(33 * 1).fill(2), 33, 1, 1);
    assert.equal(odd.freqBins, 17);
    assert.ok(odd.data.every((x) => x === 2));
    assert.equal(odd.newFrames, 1);
  });
});
