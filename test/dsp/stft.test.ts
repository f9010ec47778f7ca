import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createStft, makeWindow, normalise, stft } from '../../src/dsp/index.js';
import { isFaultlineError } from '../../src/errors.js';
import { add, gaussian, tone } from './synth.js';

/** Single-sided amplitude |X_k|·(1 or 2)/Σw of x·w by the O(n²) definition. */
function naiveAmplitude(x: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  const n = x.length;
  let wSum = 0;
  for (let i = 0; i < n; i++) wSum += w[i];
  const out = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < n; i++) {
      const a = (-2 * Math.PI * k * i) / n;
      re += x[i] * w[i] * Math.cos(a);
      im += x[i] * w[i] * Math.sin(a);
    }
    out[k] = ((k === 0 || k === n / 2 ? 1 : 2) * Math.hypot(re, im)) / wSum;
  }
  return out;
}

const throwsCode = (fn: () => unknown, code: string) =>
  assert.throws(fn, (e: unknown) => isFaultlineError(e) && e.code === code);

describe('stft against a naive DFT', () => {
  it('one rect frame with one band per bin equals the single-sided DFT amplitude', () => {
    const n = 64;
    const x = add(gaussian(n, 3), tone(n, 1000, 123.4, 2));
    const spec = stft(x, 1000, {
      nfft: n,
      frames: 1,
      freqBins: n / 2 + 1,
      window: 'rect',
      scale: 'linear',
      normalisation: 'none',
    });
    const ref = naiveAmplitude(x, makeWindow('rect', n));
    assert.equal(spec.data.length, n / 2 + 1);
    for (let k = 0; k <= n / 2; k++)
      assert.ok(Math.abs(spec.data[k] - ref[k]) < 1e-5 * (1 + ref[k]), `bin ${k}`);

    // Parseval: mean square = A0² + ½ΣA_k² + A_{N/2}² for the single-sided amplitudes.
    let ms = 0;
    for (const v of x) ms += v * v;
    ms /= n;
    let fromSpec = spec.data[0] ** 2 + spec.data[n / 2] ** 2;
    for (let k = 1; k < n / 2; k++) fromSpec += 0.5 * spec.data[k] ** 2;
    assert.ok(Math.abs(fromSpec / ms - 1) < 1e-5, `Parseval ${fromSpec} vs ${ms}`);
  });

  for (const kind of ['hann', 'hamming', 'blackman'] as const) {
    it(`every ${kind} frame matches the naive DFT of its segment`, () => {
      const nfft = 32;
      const x = gaussian(300, 7);
      const plan = createStft(
        {
          nfft,
          frames: 9,
          freqBins: nfft / 2 + 1,
          window: kind,
          scale: 'linear',
          normalisation: 'none',
        },
        1,
        x.length,
      );
      const { data, frames } = plan.compute(x);
      assert.equal(plan.frameStarts[0], 0);
      assert.equal(
        plan.frameStarts[frames - 1],
        x.length - nfft,
        'last frame ends at the window end',
      );
      const w = makeWindow(kind, nfft);
      for (let t = 0; t < frames; t++) {
        const ref = naiveAmplitude(x.subarray(plan.frameStarts[t], plan.frameStarts[t] + nfft), w);
        for (let k = 0; k <= nfft / 2; k++) {
          assert.ok(
            Math.abs(data[k * frames + t] - ref[k]) < 1e-5 * (1 + ref[k]),
            `frame ${t} bin ${k}`,
          );
        }
      }
    });
  }

  it('pools bins into bands as the RMS of their amplitudes, and dB = 20·log10', () => {
    const nfft = 64;
    const x = gaussian(nfft, 11);
    const lin = stft(x, 64, {
      nfft,
      frames: 1,
      freqBins: 8,
      fMin: 0,
      fMax: 32,
      scale: 'linear',
      normalisation: 'none',
    });
    const db = stft(x, 64, {
      nfft,
      frames: 1,
      freqBins: 8,
      fMin: 0,
      fMax: 32,
      scale: 'db',
      normalisation: 'none',
      epsilon: 1e-9,
    });
    const ref = naiveAmplitude(x, makeWindow('hann', nfft));
    // 8 bands of 4 Hz over 0–32 Hz; bins are 1 Hz: band b = bins 4b…4b+3 (+ bin 32 in the last).
    for (let b = 0; b < 8; b++) {
      const bins = b === 7 ? [28, 29, 30, 31, 32] : [4 * b, 4 * b + 1, 4 * b + 2, 4 * b + 3];
      const expect = Math.sqrt(bins.reduce((s, k) => s + ref[k] ** 2, 0) / bins.length);
      assert.ok(Math.abs(lin.data[b] - expect) < 1e-5 * (1 + expect), `band ${b}`);
      assert.ok(Math.abs(db.data[b] - 20 * Math.log10(expect)) < 1e-3, `band ${b} dB`);
    }
  });
});

describe('stft defaults (1 s at 12 kHz → 64 × 64)', () => {
  const plan = createStft({}, 12000, 12000);

  it('has the documented shape, hop and band layout', () => {
    assert.deepEqual([...plan.shape], [64, 64]);
    assert.ok(Math.abs(plan.hop - (12000 - 512) / 63) < 1e-9);
    assert.equal(plan.bandEdges[64], 6000);
    assert.equal(plan.params.scale, 'db');
  });

  // Tones at least one FFT bin (23.4 Hz) away from a band edge: pooling is by bin centre.
  for (const f of [150, 1000, 2950, 4321, 5850]) {
    it(`a ${f} Hz tone lands in band ${Math.floor(f / 93.75)}`, () => {
      const x = add(tone(12000, 12000, f, 0.5), gaussian(12000, f, 0.001));
      const { data, frames } = plan.compute(x);
      const mean = (b: number) =>
        data.subarray(b * frames, (b + 1) * frames).reduce((s, v) => s + v, 0) / frames;
      let best = 0;
      for (let b = 1; b < 64; b++) if (mean(b) > mean(best)) best = b;
      assert.equal(best, Math.floor(f / 93.75));
    });
  }

  it('z-scores each spectrogram and writes into the given array', () => {
    const out = new Float32Array(64 * 64);
    const spec = plan.compute(gaussian(12000, 5), out);
    assert.equal(spec.data, out);
    const mean = out.reduce((s, v) => s + v, 0) / out.length;
    const std = Math.sqrt(out.reduce((s, v) => s + (v - mean) ** 2, 0) / out.length);
    assert.ok(Math.abs(mean) < 1e-4 && Math.abs(std - 1) < 1e-4);
  });
});

describe('stft of impulses (analytic references)', () => {
  it('a single impulse gives a flat spectrum of height 2·w[n]/Σw', () => {
    const nfft = 128;
    const x = new Float32Array(nfft);
    x[40] = 1;
    const w = makeWindow('hann', nfft);
    const wSum = w.reduce((s, v) => s + v, 0);
    const spec = stft(x, 1, {
      nfft,
      frames: 1,
      freqBins: nfft / 2 + 1,
      scale: 'linear',
      normalisation: 'none',
    });
    for (let k = 1; k < nfft / 2; k++)
      assert.ok(Math.abs(spec.data[k] - (2 * w[40]) / wSum) < 1e-6, `bin ${k}`);
  });

  it('an impulse train of period nfft/8 puts lines on every 8th bin and nothing between', () => {
    const nfft = 256;
    const x = new Float32Array(nfft);
    for (let i = 5; i < nfft; i += nfft / 8) x[i] = 1;
    const spec = stft(x, 1, {
      nfft,
      frames: 1,
      window: 'rect',
      freqBins: nfft / 2 + 1,
      scale: 'linear',
      normalisation: 'none',
    });
    for (let k = 1; k < nfft / 2; k++) {
      const expect = k % 8 === 0 ? (2 * 8) / nfft : 0;
      assert.ok(Math.abs(spec.data[k] - expect) < 1e-6, `bin ${k}: ${spec.data[k]} vs ${expect}`);
    }
  });
});

describe('normalisation', () => {
  it('min-max maps to [0, 1]; constant input gives zeros, not NaN', () => {
    const d = Float32Array.from([3, -1, 7, 5]);
    normalise(d, 'minmax');
    assert.deepEqual([...d], [0.5, 0, 1, 0.75]);
    for (const mode of ['zscore', 'minmax'] as const) {
      const c = new Float32Array(16).fill(-42);
      normalise(c, mode);
      assert.ok(c.every((v) => v === 0));
    }
  });

  it('a silent window yields a finite spectrogram (epsilon floor)', () => {
    const spec = createStft({}, 12000, 12000).compute(new Float32Array(12000));
    assert.ok(spec.data.every((v) => v === 0));
    const raw = createStft({ normalisation: 'none' }, 12000, 12000).compute(
      new Float32Array(12000),
    );
    assert.ok(
      raw.data.every((v) => Math.abs(v + 120) < 1e-3),
      'silence reads −120 dB (epsilon 1e-6)',
    );
  });
});

describe('stft edge cases', () => {
  const plan = createStft({ nfft: 64, frames: 4, freqBins: 8 }, 1000, 256);

  it('rejects NaN and Infinity with FL_ERR_SIGNAL_NONFINITE', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const x = new Float32Array(256);
      x[100] = bad;
      throwsCode(() => plan.compute(x), 'FL_ERR_SIGNAL_NONFINITE');
    }
  });

  it('rejects empty, short and long input with stable codes', () => {
    throwsCode(() => stft(new Float32Array(0), 1000), 'FL_ERR_SIGNAL_EMPTY');
    throwsCode(() => plan.compute(new Float32Array(255)), 'FL_ERR_SIGNAL_TOO_SHORT');
    throwsCode(() => plan.compute(new Float32Array(257)), 'FL_ERR_SIGNAL_TOO_LONG');
    throwsCode(() => createStft({}, 12000, 2 ** 26 + 1), 'FL_ERR_SIGNAL_TOO_LONG');
    throwsCode(() => plan.compute(new Float32Array(256), new Float32Array(3)), 'FL_ERR_DSP_PARAMS');
  });

  it('rejects bad parameters with FL_ERR_DSP_PARAMS', () => {
    const bad: object[] = [
      { nfft: 500 },
      { nfft: 1 },
      { freqBins: 0 },
      { frames: 1.5 },
      { fMax: 7000 },
      { fMin: 3000, fMax: 2000 },
      { window: 'kaiser' },
      { scale: 'ln' },
      { normalisation: 'l2' },
      { epsilon: 0 },
    ];
    for (const p of bad) throwsCode(() => createStft(p, 12000, 12000), 'FL_ERR_DSP_PARAMS');
    throwsCode(() => createStft({ nfft: 1024 }, 12000, 1000), 'FL_ERR_DSP_PARAMS');
    throwsCode(() => createStft({}, Number.NaN, 12000), 'FL_ERR_DSP_PARAMS');
  });
});
