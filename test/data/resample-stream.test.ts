/**
 * The streaming resampler against the one-shot `resample()` (the reference:
 * same filter, whole signal at once) and against ideal tones.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resample } from '../../src/data/resample.js';
import {
  STREAM_MAX_RATE_HZ,
  STREAM_MIN_RATE_HZ,
  StreamResampler,
} from '../../src/data/resample-stream.js';
import { isFaultlineError } from '../../src/errors.js';

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Broadband test signal: two tones, a chirp-like term and noise (float32). */
function signal(n: number, fs: number, seed: number): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / fs;
    x[i] =
      Math.sin(2 * Math.PI * 1000 * t) +
      0.5 * Math.sin(2 * Math.PI * 4321 * t + 1) +
      0.2 * Math.sin(2 * Math.PI * (200 + 800 * t) * t) +
      0.3 * (r() - 0.5);
  }
  return x;
}

/** Pushes `x` in chunks of the given sizes; returns the outputs, checking they come in order. */
function run(r: StreamResampler, x: Float32Array, sizes: number[]): Float32Array {
  const out: number[] = [];
  let at = 0;
  for (const n of sizes) {
    r.push(x.subarray(at, at + n), 1, 0, n, (y, first) => {
      assert.equal(first, out.length, 'outputs come in order, none skipped');
      for (const v of y) out.push(v);
    });
    at += n;
  }
  assert.equal(at, x.length);
  return Float32Array.from(out);
}

/** Random chunk sizes (1 … max, with some single samples and some long runs) summing to n. */
function chunking(n: number, seed: number, max = 3000): number[] {
  const r = rng(seed);
  const sizes: number[] = [];
  for (let left = n; left > 0; ) {
    const u = r();
    const k = Math.min(left, u < 0.1 ? 1 : u > 0.95 ? 5 * max : 1 + Math.floor(r() * max));
    sizes.push(k);
    left -= k;
  }
  return sizes;
}

const RATES: [number, number][] = [
  [26_667, 12_000],
  [48_828, 12_000],
  [8_000, 12_000],
  [26_666.67, 12_000], // a non-integer (measured) rate: the fine table
];

describe('StreamResampler', () => {
  test('chunked output equals one-shot output, for random chunkings', () => {
    for (const [from, to] of RATES) {
      const n = Math.round(from * 1.5);
      const x = signal(n, from, 3);
      const whole = run(new StreamResampler(from, to), x, [n]);
      const ref = resample(x, from, to);
      // The stream holds back the outputs that need input not yet pushed (≈ H samples).
      const r = new StreamResampler(from, to);
      const held = Math.ceil(((r.design.halfWidth + 1) * to) / from) + 1;
      assert.ok(whole.length >= ref.length - held && whole.length <= ref.length, `${from}`);
      let worst = 0;
      for (let i = 0; i < whole.length; i++) worst = Math.max(worst, Math.abs(whole[i] - ref[i]));
      // Same filter; 26 667 → 12 000 reads it from the fine table where resample() built L = 4000 rows.
      assert.ok(worst < 2e-5, `${from} → ${to}: one-shot differs by ${worst}`);
      for (const seed of [1, 2, 3]) {
        const chunked = run(new StreamResampler(from, to), x, chunking(n, seed));
        assert.equal(chunked.length, whole.length);
        let d = 0;
        for (let i = 0; i < chunked.length; i++) d = Math.max(d, Math.abs(chunked[i] - whole[i]));
        assert.equal(d, 0, `${from} → ${to}, chunking ${seed}: seams differ by ${d}`);
      }
    }
  });

  test('the modes: polyphase for a small L, the fine table otherwise', () => {
    assert.equal(new StreamResampler(8_000, 12_000).mode, 'polyphase'); // 3/2
    assert.equal(new StreamResampler(48_828, 12_000).mode, 'polyphase'); // 1000/4069
    assert.equal(new StreamResampler(26_667, 12_000).mode, 'fine'); // 4000/8889
    assert.equal(new StreamResampler(26_666.67, 12_000).mode, 'fine');
  });

  test('a tone keeps its frequency, amplitude and phase; out-of-band tones are removed', () => {
    for (const [from, to] of RATES) {
      // Inside the passband: 0.9 × the lower Nyquist (3.6 kHz for the 8 kHz sensor, else 5.4 kHz).
      const edge = 0.45 * Math.min(from, to);
      for (const f of [120, 1000, 3300, ...(edge > 5000 ? [5000] : [])]) {
        const n = Math.round(from);
        const x = new Float32Array(n);
        for (let i = 0; i < n; i++) x[i] = 2 * Math.sin((2 * Math.PI * f * i) / from + 0.3);
        const r = new StreamResampler(from, to);
        const y = run(r, x, chunking(n, f));
        // Output o is the signal at input position o·from/to: the ideal is the same tone at o/to s.
        const skip = Math.ceil(((r.design.halfWidth + 2) * to) / from);
        let worst = 0;
        for (let o = skip; o < y.length; o++) {
          worst = Math.max(worst, Math.abs(y[o] - 2 * Math.sin((2 * Math.PI * f * o) / to + 0.3)));
        }
        assert.ok(worst < 2 * 1e-3, `${from} → ${to}, ${f} Hz: off by ${worst} (amplitude 2)`);
      }
    }
    // 9 kHz at 26 667 Hz would fold to 3 kHz at 12 kHz: the anti-alias filter takes it out.
    const from = 26_667;
    const x = new Float32Array(from);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * 9000 * i) / from);
    const r = new StreamResampler(from, 12_000);
    const y = run(r, x, chunking(x.length, 9));
    const skip = r.design.halfWidth;
    let sq = 0;
    for (let o = skip; o < y.length; o++) sq += y[o] * y[o];
    const db = 20 * Math.log10(Math.sqrt(sq / (y.length - skip)) / Math.SQRT1_2);
    assert.ok(db < -75, `aliased tone at ${db.toFixed(1)} dB`);
  });

  test('inputPosition maps outputs to input samples (no group delay)', () => {
    const r = new StreamResampler(26_667, 12_000);
    assert.equal(r.inputPosition(0), 0);
    assert.ok(Math.abs(r.inputPosition(12_000) - 26_667) < 1e-6);
    const p = new StreamResampler(8_000, 12_000);
    assert.equal(p.inputPosition(3), 2);
  });

  test('state is bounded: nothing grows with block size or stream length', () => {
    const r = new StreamResampler(26_667, 12_000);
    const bytes = r.stateBytes;
    // 2H history + one 1024-sample slice in, one slice out: a few KB per stream.
    assert.ok(bytes < 8 * 1024, `${bytes} bytes per stream`);
    const x = signal(200_000, 26_667, 5);
    let produced = 0;
    for (const n of [1, 17, 512, 100_000, 4096]) {
      r.push(x.subarray(0, n), 1, 0, n, (y) => {
        produced += y.length;
      });
      assert.equal(r.stateBytes, bytes);
    }
    for (let k = 0; k < 200; k++) r.push(x, 1, 0, 512, () => undefined);
    assert.equal(r.stateBytes, bytes);
    assert.ok(produced > 0);
    // The taps are shared by every stream with the same rates (≈ 1.8 MB here), not per stream.
    assert.ok(r.tapBytes < 4 * 1024 * 1024);
  });

  test('picks one channel of interleaved blocks', () => {
    const from = 26_667;
    const n = 8000;
    const x = signal(n, from, 7);
    const inter = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) {
      inter[3 * i] = 99;
      inter[3 * i + 1] = x[i];
      inter[3 * i + 2] = -99;
    }
    const mono = run(new StreamResampler(from, 12_000), x, [n]);
    const out: number[] = [];
    new StreamResampler(from, 12_000).push(inter, 3, 1, n, (y) => {
      out.push(...y);
    });
    assert.deepEqual(Float32Array.from(out), mono);
  });

  test('restart starts a new stream: the outputs are those of a fresh resampler', () => {
    const from = 48_828;
    const x = signal(20_000, from, 8);
    const fresh = run(new StreamResampler(from, 12_000), x, [7000, 13_000]);
    const r = new StreamResampler(from, 12_000);
    run(r, signal(5000, from, 9), [5000]);
    r.restart();
    assert.equal(r.consumed, 0);
    assert.equal(r.produced, 0);
    assert.deepEqual(run(r, x, [3000, 17_000]), fresh);
  });

  test('refuses rates it cannot serve, with FL_ERR_DSP_PARAMS', () => {
    for (const [from, to] of [
      [STREAM_MIN_RATE_HZ - 1, 12_000],
      [STREAM_MAX_RATE_HZ + 1, 12_000],
      [Number.NaN, 12_000],
      [Number.POSITIVE_INFINITY, 12_000],
      [-26_667, 12_000],
      [26_667, 0],
    ]) {
      assert.throws(
        () => new StreamResampler(from, to),
        (e) =>
          isFaultlineError(e, 'FL_ERR_DSP_PARAMS') &&
          e.message.includes(String(from === 26_667 ? to : from)),
        `${from} → ${to}`,
      );
    }
    // The extremes it accepts.
    assert.equal(new StreamResampler(STREAM_MAX_RATE_HZ, 12_000).mode, 'polyphase');
    assert.ok(new StreamResampler(STREAM_MIN_RATE_HZ, 12_000));
    // An empty push produces nothing.
    let calls = 0;
    new StreamResampler(26_667, 12_000).push(new Float32Array(0), 1, 0, 0, () => calls++);
    assert.equal(calls, 0);
  });
});
