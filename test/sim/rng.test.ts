import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/sim/rng.js';

test('xoshiro128** matches the reference C implementation', () => {
  // State and outputs from the test data of edorfaus/xoshiro-6502 (test-rom/testdata.asm),
  // generated there with the authors' C code (prng.di.unimi.it/xoshiro128starstar.c).
  const r = Rng.fromState(0x964d4a0c, 0xd40ab895, 0xad7fdecb, 0x3006f0f0);
  assert.deepEqual(
    [r.nextUint32(), r.nextUint32(), r.nextUint32(), r.nextUint32()],
    [0xf1391922, 0x6fe53806, 0xa5be2840, 0xf510ee70],
  );
});

test('same seed and stream give the same numbers; other seeds and streams do not', () => {
  const draw = (r: Rng) => Array.from({ length: 8 }, () => r.nextUint32());
  assert.deepEqual(draw(new Rng(42)), draw(new Rng(42)));
  assert.deepEqual(draw(new Rng(42, 3)), draw(new Rng(42, 3)));
  assert.notDeepEqual(draw(new Rng(42)), draw(new Rng(43)));
  assert.notDeepEqual(draw(new Rng(42, 1)), draw(new Rng(42, 2)));
  // Seeds are taken mod 2^32 and truncated: -1 and 2^32-1 are one stream.
  assert.deepEqual(draw(new Rng(-1)), draw(new Rng(2 ** 32 - 1)));
  for (const x of draw(new Rng(0))) assert.ok(Number.isInteger(x) && x >= 0 && x < 2 ** 32);
});

test('uniform() covers [0, 1) evenly', () => {
  const r = new Rng(5);
  const bins = new Array(10).fill(0);
  const n = 200_000;
  for (let i = 0; i < n; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
    bins[Math.floor(u * 10)]++;
  }
  // Each bin ~ n/10 ± 3σ (σ = sqrt(n·0.1·0.9) ≈ 134).
  for (const b of bins) assert.ok(Math.abs(b - n / 10) < 500, `bin count ${b}`);
});

/** Mean, variance, kurtosis and tail fractions of a sample. */
function moments(x: ArrayLike<number>) {
  const n = x.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i];
  m /= n;
  let v = 0;
  let k = 0;
  let t2 = 0;
  let t3 = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - m;
    v += d * d;
    k += d ** 4;
    if (Math.abs(x[i]) > 2) t2++;
    if (Math.abs(x[i]) > 3) t3++;
  }
  v /= n;
  return { mean: m, variance: v, kurtosis: k / n / (v * v), p2: t2 / n, p3: t3 / n };
}

// Two-sided normal tail probabilities P(|Z| > 2), P(|Z| > 3).
const P2 = 0.0455003;
const P3 = 0.0026998;

for (const [name, draw] of [
  [
    'gaussian() (polar Box–Muller)',
    (n: number) => {
      const r = new Rng(11);
      return Float64Array.from({ length: n }, () => r.gaussian());
    },
  ],
  [
    'fillGaussian() (ziggurat)',
    (n: number) => {
      const a = new Float64Array(n);
      new Rng(11).fillGaussian(a, 1);
      return a;
    },
  ],
] as const) {
  test(`${name} has N(0,1) moments and tails`, () => {
    const n = 1_000_000;
    const s = moments(draw(n));
    // Standard errors at n = 1e6: mean 0.001, variance 0.0014, kurtosis 0.005.
    assert.ok(Math.abs(s.mean) < 0.005, `mean ${s.mean}`);
    assert.ok(Math.abs(s.variance - 1) < 0.007, `variance ${s.variance}`);
    assert.ok(Math.abs(s.kurtosis - 3) < 0.03, `kurtosis ${s.kurtosis}`);
    assert.ok(Math.abs(s.p2 - P2) < 0.0012, `P(|z|>2) ${s.p2}`);
    assert.ok(Math.abs(s.p3 - P3) < 0.0003, `P(|z|>3) ${s.p3}`);
  });
}

test('fillGaussian gives the same sequence however the array is split', () => {
  const whole = new Float64Array(1000);
  new Rng(9).fillGaussian(whole, 0.5);
  const parts = new Float64Array(1000);
  const r = new Rng(9);
  r.fillGaussian(parts, 0.5, 0, 1);
  r.fillGaussian(parts, 0.5, 1, 333);
  r.fillGaussian(parts, 0.5, 333, 333);
  r.fillGaussian(parts, 0.5, 333, 1000);
  assert.deepEqual(parts, whole);
  for (const v of whole) assert.ok(Number.isFinite(v));
});

test('gaussian() keeps its spare deviate across calls (pairs are not wasted)', () => {
  const a = new Rng(3);
  const b = new Rng(3);
  const fromA = [a.gaussian(), a.gaussian(), a.gaussian(), a.gaussian()];
  const fromB = [b.gaussian(), b.gaussian(), b.gaussian(), b.gaussian()];
  assert.deepEqual(fromA, fromB);
  assert.notEqual(fromA[0], fromA[1]);
});
