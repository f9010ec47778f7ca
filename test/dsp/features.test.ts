import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bearingFrequencies, CWRU_DE_BEARING } from '../../src/contract/bearing.js';
import { ISO_20816_3_BOUNDARIES } from '../../src/contract/iso-zones.js';
import {
  amplitudeSpectrum,
  crestFactor,
  defectEvidence,
  envelopeSpectrum,
  isoZone,
  kurtosis,
  rms,
  STANDARD_GRAVITY,
  timeStatistics,
  velocityRms,
  vibrationSummary,
} from '../../src/dsp/index.js';
import { isFaultlineError } from '../../src/errors.js';
import { add, gaussian, impactTrain, readCwruDe, tone } from './synth.js';

const code = (fn: () => unknown, c: string) =>
  assert.throws(fn, (e: unknown) => isFaultlineError(e) && e.code === c);
const close = (a: number, b: number, rel: number, what: string) =>
  assert.ok(Math.abs(a / b - 1) <= rel, `${what}: ${a} vs ${b} (±${rel * 100} %)`);

describe('time-domain indicators', () => {
  it('sine: RMS a/√2, crest √2, kurtosis 1.5; Gaussian noise: kurtosis ≈ 3', () => {
    const x = tone(12000, 12000, 50, 2);
    close(rms(x), 2 / Math.SQRT2, 1e-4, 'rms');
    close(crestFactor(x), Math.SQRT2, 1e-3, 'crest');
    close(kurtosis(x), 1.5, 1e-3, 'kurtosis');
    close(kurtosis(gaussian(200000, 3)), 3, 0.03, 'gaussian kurtosis');
  });

  it('impacts raise crest factor and kurtosis', () => {
    const x = impactTrain(12000, 12000, 100, { noise: 0.05 });
    assert.ok(kurtosis(x) > 6 && crestFactor(x) > 4);
  });

  it('constant input gives 0, not NaN; bad input gives signal codes', () => {
    const c = new Float32Array(100).fill(3);
    assert.equal(crestFactor(c), 0);
    assert.equal(kurtosis(c), 0);
    code(() => rms(new Float32Array(0)), 'FL_ERR_SIGNAL_EMPTY');
    code(() => kurtosis(Float32Array.of(1, Number.NaN)), 'FL_ERR_SIGNAL_NONFINITE');
    code(() => crestFactor([1, Number.NEGATIVE_INFINITY]), 'FL_ERR_SIGNAL_NONFINITE');
  });
});

describe('timeStatistics', () => {
  it('matches the single-purpose indicators and vibrationSummary, without the FFT', () => {
    const x = add(tone(12000, 12000, 50, 2), gaussian(12000, 9, 0.1)).map((v) => v + 0.3);
    const t = timeStatistics(x);
    close(
      t.rmsG,
      rms(x.map((v, _i, a) => v - a.reduce((s, u) => s + u, 0) / a.length)),
      1e-6,
      'rms',
    );
    close(t.crestFactor, crestFactor(x), 1e-9, 'crest');
    assert.equal(t.kurtosis, kurtosis(x));
    const v = vibrationSummary(x, 12000);
    assert.deepEqual(t, {
      rmsG: v.rmsG,
      peakG: v.peakG,
      crestFactor: v.crestFactor,
      kurtosis: v.kurtosis,
    });
    code(() => timeStatistics(new Float32Array(0)), 'FL_ERR_SIGNAL_EMPTY');
    code(() => timeStatistics([1, Number.NaN]), 'FL_ERR_SIGNAL_NONFINITE');
  });
});

describe('velocity RMS (frequency-domain integration)', () => {
  // a g at f Hz → v_peak = a·g₀/(2πf) m/s → RMS in mm/s.
  const analytic = (a: number, f: number) =>
    ((a * STANDARD_GRAVITY) / (2 * Math.PI * f) / Math.SQRT2) * 1000;
  for (const [a, f] of [
    [1, 29.95],
    [0.3, 100],
    [0.05, 159.2],
    [2, 517.3],
    [5, 900],
  ] as const) {
    it(`${a} g at ${f} Hz → ${analytic(a, f).toFixed(3)} mm/s within 1 %`, () => {
      close(velocityRms(tone(12000, 12000, f, a, 0.3), 12000), analytic(a, f), 0.01, 'velocity');
    });
  }

  it('ignores content outside 10–1000 Hz and sums tones in quadrature', () => {
    const x = add(tone(12000, 12000, 60, 0.5), tone(12000, 12000, 3000, 5));
    add(x, tone(12000, 12000, 4, 0.5));
    add(x, tone(12000, 12000, 250, 0.5));
    close(
      velocityRms(x, 12000),
      Math.hypot(analytic(0.5, 60), analytic(0.5, 250)),
      0.01,
      'velocity',
    );
  });

  it('checks its band and input', () => {
    code(() => velocityRms(tone(100, 1000, 50), 1000, { lowHz: 0 }), 'FL_ERR_DSP_PARAMS');
    code(() => velocityRms(new Float32Array(0), 1000), 'FL_ERR_SIGNAL_EMPTY');
    code(() => velocityRms(new Float32Array(2 ** 22 + 1), 12000), 'FL_ERR_SIGNAL_TOO_LONG');
  });
});

describe('ISO 20816-3 zones', () => {
  it('holds the standard table', () => {
    assert.deepEqual(ISO_20816_3_BOUNDARIES[1].rigid, [2.3, 4.5, 7.1]);
    assert.deepEqual(ISO_20816_3_BOUNDARIES[1].flexible, [3.5, 7.1, 11.0]);
    assert.deepEqual(ISO_20816_3_BOUNDARIES[2].rigid, [1.4, 2.8, 4.5]);
    assert.deepEqual(ISO_20816_3_BOUNDARIES[2].flexible, [2.3, 4.5, 7.1]);
  });

  it('a boundary value takes the lower zone; just above it, the next', () => {
    for (const group of [1, 2] as const) {
      for (const foundation of ['rigid', 'flexible'] as const) {
        const [ab, bc, cd] = ISO_20816_3_BOUNDARIES[group][foundation];
        assert.equal(isoZone(0, group, foundation), 'A');
        assert.equal(isoZone(ab, group, foundation), 'A');
        assert.equal(isoZone(ab + 1e-9, group, foundation), 'B');
        assert.equal(isoZone(bc, group, foundation), 'B');
        assert.equal(isoZone(bc + 1e-9, group, foundation), 'C');
        assert.equal(isoZone(cd, group, foundation), 'C');
        assert.equal(isoZone(cd + 1e-9, group, foundation), 'D');
      }
    }
    code(() => isoZone(Number.NaN), 'FL_ERR_DSP_PARAMS');
    code(() => isoZone(1, 3 as 1), 'FL_ERR_DSP_PARAMS');
  });

  it('summary: 0.5 g at 50 Hz is 11.0 mm/s → zone D for group 2 rigid', () => {
    const s = vibrationSummary(tone(12000, 12000, 50, 0.5), 12000);
    close(s.velocityRmsMmS, 11.04, 0.01, 'v');
    assert.equal(s.isoZone, 'D');
    close(s.rmsG, 0.5 / Math.SQRT2, 1e-3, 'rms');
  });
});

describe('bearing defect frequencies', () => {
  it('CWRU 6205 factors match the data-set manifest (BPFI 5.4152, BPFO 3.5848, 2·BSF 4.7135, FTF 0.3983)', () => {
    const f = bearingFrequencies(CWRU_DE_BEARING, 1);
    close(f.BPFI, 5.4152, 1e-4, 'BPFI');
    close(f.BPFO, 3.5848, 1e-4, 'BPFO');
    close(2 * f.BSF, 4.7135, 1e-4, '2·BSF');
    close(f.BSF, 2.357, 1e-3, 'BSF');
    close(f.FTF, 0.3983, 1e-3, 'FTF');
    // BPFO + BPFI = n·fr for any geometry
    const g = bearingFrequencies(
      { balls: 13, ballDiameter: 10, pitchDiameter: 60, contactAngleDeg: 15 },
      29.5,
    );
    close(g.BPFO + g.BPFI, 13 * 29.5, 1e-12, 'BPFO+BPFI');
    code(
      () => bearingFrequencies({ ...CWRU_DE_BEARING, pitchDiameter: 0.1 }, 30),
      'FL_ERR_DSP_PARAMS',
    );
  });
});

describe('envelope spectrum', () => {
  it('a pure AM tone: the envelope spectrum shows the modulation frequency and depth', () => {
    const fs = 12000;
    const n = 16384;
    // On a bin (50 · fs/n ≈ 36.6 Hz), so Hann scalloping (up to −1.4 dB between bins) does not blur the depth.
    const fm = (50 * fs) / n;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++)
      x[i] =
        (1 + 0.5 * Math.cos((2 * Math.PI * fm * i) / fs)) * Math.sin((2 * Math.PI * 3000 * i) / fs);
    const env = envelopeSpectrum(x, fs, { lowHz: 2500, highHz: 3500, maxHz: 200 });
    let kPeak = 1;
    for (let k = 1; k < env.amplitude.length; k++)
      if (env.amplitude[k] > env.amplitude[kPeak]) kPeak = k;
    close(env.freqHz[kPeak], fm, 1e-9, 'modulation frequency');
    close(env.amplitude[kPeak], 0.5, 0.05, 'modulation depth');
  });

  it('synthetic outer-race fault: peaks at BPFO within ±2 % and the evidence names BPFO', () => {
    const fs = 12000;
    const fr = 1750 / 60;
    const freqs = bearingFrequencies(CWRU_DE_BEARING, fr);
    const x = impactTrain(fs * 2, fs, freqs.BPFO, {
      resonanceHz: 3000,
      tauS: 0.0015,
      noise: 0.5,
      seed: 4,
    });
    add(x, tone(fs * 2, fs, fr, 0.3)); // 1× line, outside the band
    const env = envelopeSpectrum(x, fs, { lowHz: 2000, highHz: 4500, maxHz: 500 });
    let kPeak = 1;
    for (let k = 5; k < env.amplitude.length; k++)
      if (env.amplitude[k] > env.amplitude[kPeak]) kPeak = k;
    close(env.freqHz[kPeak], freqs.BPFO, 0.02, 'envelope peak');
    const ev = defectEvidence(env, freqs);
    assert.equal(ev.best, 'BPFO');
    assert.ok(ev.defects[0].harmonics[0].ratio > 10);
  });

  it('noise alone names no defect', () => {
    const env = envelopeSpectrum(gaussian(24000, 12), 12000);
    assert.equal(defectEvidence(env, bearingFrequencies(CWRU_DE_BEARING, 29.95)).best, null);
  });

  it('amplitudeSpectrum: a sine reads its amplitude', () => {
    const s = amplitudeSpectrum(tone(4096, 4096, 100, 0.7), 4096);
    close(s.amplitude[100], 0.7, 1e-3, 'amplitude');
  });

  it('rejects bad bands and input', () => {
    code(
      () => envelopeSpectrum(gaussian(100, 1), 12000, { lowHz: 5000, highHz: 7000 }),
      'FL_ERR_DSP_PARAMS',
    );
    code(() => envelopeSpectrum(new Float32Array(0), 12000), 'FL_ERR_SIGNAL_EMPTY');
    code(
      () => envelopeSpectrum(Float32Array.of(0, Number.NaN, 1), 12000),
      'FL_ERR_SIGNAL_NONFINITE',
    );
    const t0 = performance.now();
    code(() => envelopeSpectrum(new Float32Array(2 ** 22 + 1), 12000), 'FL_ERR_SIGNAL_TOO_LONG');
    assert.ok(performance.now() - t0 < 1000, 'the bound is checked before any work');
  });
});

describe('envelope evidence on real CWRU files (2–5 kHz band)', () => {
  const cases: [number, 'BPFI' | 'BPFO'][] = [
    [105, 'BPFI'],
    [170, 'BPFI'],
    [212, 'BPFI'],
    [131, 'BPFO'],
    [236, 'BPFO'],
  ];
  for (const [n, expected] of cases) {
    it(`${n}.mat → ${expected}`, async (t) => {
      const rec = await readCwruDe(n);
      if (!rec) return t.skip('CWRU data not found (set FAULTLINE_CWRU_DIR)');
      const env = envelopeSpectrum(rec.x, 12000, { lowHz: 2000, highHz: 5000 });
      const ev = defectEvidence(env, bearingFrequencies(CWRU_DE_BEARING, rec.rpm / 60));
      assert.equal(
        ev.best,
        expected,
        JSON.stringify(ev.defects.map((d) => [d.name, d.score.toFixed(1)])),
      );
      assert.ok(ev.defects[0].score > 2 * ev.defects[1].score);
    });
  }

  it('97.mat (normal, 48 kHz) → no defect line', async (t) => {
    const rec = await readCwruDe(97);
    if (!rec) return t.skip('CWRU data not found (set FAULTLINE_CWRU_DIR)');
    const env = envelopeSpectrum(rec.x, 48000, { lowHz: 2000, highHz: 5000 });
    assert.equal(defectEvidence(env, bearingFrequencies(CWRU_DE_BEARING, rec.rpm / 60)).best, null);
  });
});
