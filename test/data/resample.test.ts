import assert from 'node:assert/strict';
import { test } from 'node:test';
import { designResampler, resample, resampledLength } from '../../src/data/resample.js';
import { isFaultlineError } from '../../src/errors.js';

/** A unit-amplitude sine of `f` Hz sampled at `fs` Hz, phase 0.3 rad. */
function tone(f: number, fs: number, n: number): Float64Array {
  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin((2 * Math.PI * f * i) / fs + 0.3);
  return x;
}

/**
 * Largest deviation of `y` (at `toRate`) from the ideal tone at the same
 * instants, over the interior (edges, where the kernel runs off the input, are
 * skipped), relative to the unit amplitude.
 */
function toneError(
  y: Float32Array,
  f: number,
  fromRate: number,
  toRate: number,
  halfWidth: number,
): number {
  const skip = Math.ceil(((halfWidth + 2) * toRate) / fromRate);
  let worst = 0;
  for (let i = skip; i < y.length - skip; i++) {
    const ideal = Math.sin((2 * Math.PI * f * i) / toRate + 0.3);
    worst = Math.max(worst, Math.abs(y[i] - ideal));
  }
  return worst;
}

/** RMS of `y` over the interior, in dB relative to a unit sine (RMS 1/√2). */
function levelDb(y: Float32Array, skip: number): number {
  let sq = 0;
  for (let i = skip; i < y.length - skip; i++) sq += y[i] * y[i];
  const rms = Math.sqrt(sq / (y.length - 2 * skip));
  return 20 * Math.log10(rms / Math.SQRT1_2);
}

const CASES = [
  {
    from: 48000,
    to: 12000,
    pass: [50, 1000, 3000, 5000, 5400],
    stop: [6050, 7000, 9000, 15000, 23900],
  },
  { from: 44100, to: 12000, pass: [120, 2500, 5300], stop: [6100, 8000, 20000] },
  { from: 12000, to: 48000, pass: [60, 1000, 4000, 5400], stop: [] },
  { from: 48000, to: 12345.6, pass: [440, 3000, 5500], stop: [6300, 10000, 22000] },
];

for (const c of CASES) {
  test(`${c.from} → ${c.to} Hz: passband tones within 1 %, tones above the new Nyquist down ≥ 60 dB`, () => {
    const d = designResampler(c.from, c.to);
    const n = Math.round(c.from * 0.5); // 0.5 s
    for (const f of c.pass) {
      const y = resample(tone(f, c.from, n), c.from, c.to);
      assert.equal(y.length, resampledLength(n, c.from, c.to));
      const err = toneError(y, f, c.from, c.to, d.halfWidth);
      assert.ok(err < 0.01, `${f} Hz: deviation ${err}`);
    }
    for (const f of c.stop) {
      const y = resample(tone(f, c.from, n), c.from, c.to);
      const skip = Math.ceil(((d.halfWidth + 2) * c.to) / c.from);
      const db = levelDb(y, skip);
      assert.ok(db <= -60, `${f} Hz aliased at ${db.toFixed(1)} dB`);
    }
  });
}

test('the rational path is used for integer rates and the arbitrary one otherwise', () => {
  const d = designResampler(48000, 12000);
  assert.equal(d.up, 1);
  assert.equal(d.down, 4);
  assert.equal(d.stopbandHz, 6000);
  assert.equal(d.passbandHz, 5400);
  assert.match(d.describe, /ratio 1\/4/);
  const a = designResampler(48000, 12345.6);
  assert.equal(a.up, 0);
  assert.match(a.describe, /arbitrary/);
  const r = designResampler(44100, 12000);
  assert.deepEqual([r.up, r.down], [40, 147]);
});

test('DC is kept exactly and a decimated impulse sums to one', () => {
  const ones = new Float64Array(4000).fill(1);
  const y = resample(ones, 48000, 12000);
  for (let i = 100; i < y.length - 100; i++)
    assert.ok(Math.abs(y[i] - 1) < 1e-6, `y[${i}] = ${y[i]}`);
  const imp = new Float64Array(4001);
  imp[2000] = 1;
  const h = resample(imp, 48000, 12000);
  // Each output is one filter tap; over one phase they sum to the DC gain, 1/4 of the input taps.
  const sum = h.reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(sum * 4 - 1) < 1e-3, `impulse sum ${sum}`);
});

test('lengths, identity, empty input and bad parameters', () => {
  // Output instants t = 4j must fall on or before the last input sample (index n − 1).
  assert.equal(resampledLength(243938, 48000, 12000), Math.floor((243938 - 1) / 4) + 1);
  assert.equal(resampledLength(243938, 48000, 12000), 60985);
  assert.equal(resampledLength(0, 48000, 12000), 0);
  assert.equal(resampledLength(10, 12000, 48000), 37);
  assert.equal(resample(new Float64Array(0), 48000, 12000).length, 0);
  const x = new Float32Array([1, 2, 3]);
  const same = resample(x, 1000, 1000);
  assert.deepEqual([...same], [1, 2, 3]);
  assert.notEqual(same, x);
  for (const [from, to] of [
    [0, 12000],
    [48000, -1],
    [Number.NaN, 12000],
    [48000, Number.POSITIVE_INFINITY],
  ]) {
    assert.throws(
      () => resample(x, from, to),
      (e) => isFaultlineError(e, 'FL_ERR_DSP_PARAMS'),
    );
  }
  assert.throws(
    () => designResampler(48000, 12000, { passband: 1 }),
    (e) => isFaultlineError(e, 'FL_ERR_DSP_PARAMS'),
  );
  assert.throws(
    () => designResampler(48000, 12000, { attenuationDb: 10 }),
    (e) => isFaultlineError(e, 'FL_ERR_DSP_PARAMS'),
  );
});

test('decimating 5 s at 48 kHz takes well under a second', () => {
  const x = tone(1000, 48000, 243938);
  const t0 = performance.now();
  resample(x, 48000, 12000);
  assert.ok(performance.now() - t0 < 1000);
});
