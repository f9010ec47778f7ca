/**
 * The order-line map (src/dsp/order-lines.ts): shapes and channel-last
 * layout, its band envelope against a naive-DFT reference, defect lines on
 * the same fault-axis rows for two bearings at two speeds, shaft orders,
 * normalisation (band, joint, a dead band), gain invariance, the errors, and
 * the default bands at the analysis rates users bring.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CWRU_DE_BEARING } from '../../src/contract/bearing.js';
import type { BearingGeometry } from '../../src/contract/machine.js';
import {
  checkOrderLineParams,
  createOrderLineMap,
  defaultBands,
  LEVEL_SCALE_DB,
  lineChannels,
  type OrderLineParams,
  profileBands,
  samplesForRevolutions,
} from '../../src/dsp/order-lines.js';
import { isFaultlineError } from '../../src/errors.js';
import { impactTrain } from './synth.js';

/** MFPT's bearing (../shared/data/mfpt/MANIFEST.md): 8 rollers of 0.235 in on a 1.245 in pitch, 0°. */
const MFPT_BEARING: BearingGeometry = {
  balls: 8,
  ballDiameter: 0.235,
  pitchDiameter: 1.245,
  contactAngleDeg: 0,
};

/**
 * Defect orders (multiples of the shaft rate) from the kinematic formulas,
 * written out here rather than taken from src/dsp/bearing.ts.
 */
function defectOrders(g: BearingGeometry): { BPFO: number; BPFI: number } {
  const r = (g.ballDiameter / g.pitchDiameter) * Math.cos((g.contactAngleDeg * Math.PI) / 180);
  return { BPFO: (g.balls / 2) * (1 - r), BPFI: (g.balls / 2) * (1 + r) };
}

/** The version-2 defaults (src/dsp/frontend.ts resolveV2), written out. */
function params(over: Partial<OrderLineParams> = {}): OrderLineParams {
  return {
    bands: [{ lowHz: 1000, highHz: 5400 }],
    axes: ['shaft', 'BPFO', 'BPFI', 'BSF2'],
    revolutions: 4,
    samplesPerRev: 64,
    frameRevolutions: 2,
    rows: 32,
    frames: 16,
    maxOrder: 16,
    faultSpan: 4,
    normalisation: 'band',
    ...over,
  };
}

const FS = 12000;

const throwsCode = (fn: () => unknown, code: string, re?: RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(isFaultlineError(e), String(e));
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });

/** Channel c, row-major [rows, frames], read from a channel-last map with explicit index math. */
function channel(out: Float32Array, [F, T, K]: readonly number[], c: number): Float32Array {
  const v = new Float32Array(F * T);
  for (let f = 0; f < F; f++) for (let t = 0; t < T; t++) v[f * T + t] = out[(f * T + t) * K + c];
  return v;
}

/** Time-averaged value of each row of channel c. */
function rowMeans(out: Float32Array, shape: readonly number[], c: number): number[] {
  const [F, T] = shape;
  const v = channel(out, shape, c);
  return Array.from({ length: F }, (_, f) => {
    let s = 0;
    for (let t = 0; t < T; t++) s += v[f * T + t];
    return s / T;
  });
}

const argmax = (a: readonly number[]) => a.indexOf(Math.max(...a));

function meanSd(v: ArrayLike<number>): { mean: number; sd: number } {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  const mean = s / v.length;
  let s2 = 0;
  for (let i = 0; i < v.length; i++) s2 += (v[i] - mean) ** 2;
  return { mean, sd: Math.sqrt(s2 / v.length) };
}

/** Impacts at `order` × the shaft rate ringing 3 kHz, each decaying over a quarter of its period. */
function defectTrain(rpm: number, order: number, seed: number, n?: number): Float32Array {
  const rate = (order * rpm) / 60;
  const len = n ?? samplesForRevolutions(4, FS, rpm);
  return impactTrain(len, FS, rate, { resonanceHz: 3000, tauS: 0.25 / rate, noise: 0.1, seed });
}

describe('order-line map: shapes and layout', () => {
  it('samplesForRevolutions: revolutions × fs × 60 / rpm, rounded up, plus one', () => {
    assert.equal(samplesForRevolutions(4, 12000, 600), 4801); // 0.4 s
    assert.equal(samplesForRevolutions(4, 12000, 300), 9601);
    assert.equal(samplesForRevolutions(4, 12000, 1797), 1604); // 1602.67 → 1603, + 1
    assert.equal(samplesForRevolutions(4, 48828, 1500), 7814); // 7812.48 → 7813, + 1
  });

  it('shape is [rows, frames, bands × axes]; channel bi·A + ai is that band read on that axis', () => {
    const bands = [
      { lowHz: 1000, highHz: 3000 },
      { lowHz: 3000, highHz: 5400 },
    ];
    const axes = ['shaft', 'BPFO'] as const;
    const p = params({ bands, axes: [...axes], rows: 24, frames: 12 });
    const map = createOrderLineMap(p, FS);
    assert.deepEqual(map.shape, [24, 12, 4]);
    assert.equal(lineChannels(p), 4);
    const rpm = 1200;
    const x = defectTrain(rpm, defectOrders(CWRU_DE_BEARING).BPFO, 3);
    const out = new Float32Array(24 * 12 * 4);
    map.compute(x, rpm, out, CWRU_DE_BEARING);
    for (let bi = 0; bi < 2; bi++) {
      for (let ai = 0; ai < 2; ai++) {
        // The same band on the same axis alone: with `band` normalisation each
        // channel is z-scored on its own, so it must be that channel exactly.
        const one = createOrderLineMap(
          params({ bands: [bands[bi]], axes: [axes[ai]], rows: 24, frames: 12 }),
          FS,
        );
        const ref = new Float32Array(24 * 12);
        one.compute(x, rpm, ref, CWRU_DE_BEARING);
        assert.deepEqual(channel(out, map.shape, bi * 2 + ai), ref, `band ${bi}, axis ${axes[ai]}`);
      }
    }
  });

  it('the band envelope is |analytic band| of the window (naive DFT reference, ≤ 1e-4 of its peak)', () => {
    const band = { lowHz: 2000, highHz: 4000 };
    const map = createOrderLineMap(params({ bands: [band], axes: ['shaft'] }), FS);
    const rpm = 1800;
    const n = samplesForRevolutions(4, FS, rpm);
    const x = defectTrain(rpm, 3.5, 9, n + 300); // longer than needed: only the first n count
    map.compute(x, rpm, new Float32Array(32 * 16));
    const e = map.lastEnvelope();
    assert.ok(e);
    assert.deepEqual(e.band, band);
    const D = Math.round(FS / e.rate);
    assert.equal(FS / D, e.rate);
    // Reference: the window's own n samples, mean removed, zero-padded to the
    // next power of two N; keep bins inside the band, double them, back to
    // time, modulus, mean removed.
    let N = 1;
    while (N < n) N *= 2;
    let m = 0;
    for (let i = 0; i < n; i++) m += x[i];
    m /= n;
    const kLo = Math.ceil((band.lowHz * N) / FS);
    const kHi = Math.floor((band.highHz * N) / FS);
    const re = new Float64Array(kHi + 1);
    const im = new Float64Array(kHi + 1);
    for (let k = kLo; k <= kHi; k++) {
      for (let i = 0; i < n; i++) {
        const a = (-2 * Math.PI * k * i) / N;
        re[k] += (x[i] - m) * Math.cos(a);
        im[k] += (x[i] - m) * Math.sin(a);
      }
    }
    const len = Math.ceil(n / D);
    assert.equal(e.data.length, len);
    const ref = new Float64Array(len);
    for (let j = 0; j < len; j++) {
      let zr = 0;
      let zi = 0;
      for (let k = kLo; k <= kHi; k++) {
        const a = (2 * Math.PI * k * j * D) / N;
        zr += re[k] * Math.cos(a) - im[k] * Math.sin(a);
        zi += re[k] * Math.sin(a) + im[k] * Math.cos(a);
      }
      ref[j] = (2 / N) * Math.hypot(zr, zi);
    }
    const rm = ref.reduce((a, b) => a + b, 0) / len;
    let peak = 0;
    let err = 0;
    for (let j = 0; j < len; j++) {
      peak = Math.max(peak, Math.abs(ref[j] - rm));
      err = Math.max(err, Math.abs(e.data[j] - (ref[j] - rm)));
    }
    assert.ok(peak > 0.05, `envelope peak ${peak}`);
    assert.ok(err <= 1e-4 * peak + 1e-6, `max error ${err} (peak ${peak})`);
  });
});

describe('order-line map: lines land on fixed rows', () => {
  const p = params();
  const map = createOrderLineMap(p, FS);
  const [F, T, K] = map.shape;
  // Fault row r reads (r + 1)/rows × faultSpan × f_defect: the defect line
  // itself is on row rows/faultSpan − 1 = 7, its harmonics on 15, 23, 31.
  const defectRow = p.rows / p.faultSpan - 1;

  for (const [name, bearing] of [
    ['CWRU 6205', CWRU_DE_BEARING],
    ['MFPT', MFPT_BEARING],
  ] as const) {
    for (const rpm of [600, 1800]) {
      it(`${name} at ${rpm} rpm: BPFO impacts peak on BPFO row ${defectRow}, BPFI impacts on BPFI row ${defectRow}; shaft axis at the defect's order`, () => {
        const orders = defectOrders(bearing);
        for (const [fault, c] of [
          ['BPFO', 1],
          ['BPFI', 2],
        ] as const) {
          const out = new Float32Array(F * T * K);
          map.compute(defectTrain(rpm, orders[fault], rpm + c), rpm, out, bearing);
          const rows = rowMeans(out, map.shape, c);
          assert.equal(
            argmax(rows),
            defectRow,
            `${fault} axis rows ${rows.map((v) => v.toFixed(2))}`,
          );
          // Harmonics on their rows too: local maxima.
          for (const h of [15, 23])
            assert.ok(rows[h] > rows[h - 2] && rows[h] > rows[h + 2], `${fault} harmonic row ${h}`);
          // The other defect's axis does not put this line on row 7.
          assert.notEqual(argmax(rowMeans(out, map.shape, 3 - c)), defectRow);
          // shaft axis: row r covers orders [r, r + 1) × maxOrder/rows.
          const shaftRow = Math.floor(orders[fault] / (p.maxOrder / p.rows));
          assert.equal(argmax(rowMeans(out, map.shape, 0)), shaftRow, `${fault} shaft row`);
        }
      });
    }
  }

  it("a bearing passed per window wins over the params' bearing", () => {
    const withCwru = createOrderLineMap(params({ axes: ['BPFO'], bearing: CWRU_DE_BEARING }), FS);
    const x = defectTrain(900, defectOrders(MFPT_BEARING).BPFO, 5);
    const own = new Float32Array(32 * 16);
    const given = new Float32Array(32 * 16);
    withCwru.compute(x, 900, own);
    withCwru.compute(x, 900, given, MFPT_BEARING);
    assert.equal(argmax(rowMeans(given, [32, 16, 1], 0)), defectRow);
    // Read on the 6205's BPFO instead, MFPT's line (3.245 / 3.585 of it) is not on row 7.
    assert.notEqual(argmax(rowMeans(own, [32, 16, 1], 0)), defectRow);
  });
});

describe('order-line map: normalisation', () => {
  const bands = [
    { lowHz: 2500, highHz: 3500 }, // rings: the resonance
    { lowHz: 4600, highHz: 5600 }, // quiet: noise only
  ];
  const rpm = 1200;
  const x = defectTrain(rpm, 3.585, 4);
  const run = (normalisation: 'band' | 'joint', sig = x) => {
    const map = createOrderLineMap(params({ bands, axes: ['shaft'], normalisation }), FS);
    const out = new Float32Array(32 * 16 * 2);
    map.compute(sig, rpm, out);
    return out;
  };

  it('band: each channel mean 0, sd 1; joint: one z-score, the ringing band above the quiet one', () => {
    const band = run('band');
    const joint = run('joint');
    for (let c = 0; c < 2; c++) {
      const s = meanSd(channel(band, [32, 16, 2], c));
      assert.ok(
        Math.abs(s.mean) < 1e-5 && Math.abs(s.sd - 1) < 1e-4,
        `band ch ${c} ${s.mean} ${s.sd}`,
      );
    }
    const all = meanSd(joint);
    assert.ok(
      Math.abs(all.mean) < 1e-5 && Math.abs(all.sd - 1) < 1e-4,
      `joint ${all.mean} ${all.sd}`,
    );
    const loud = meanSd(channel(joint, [32, 16, 2], 0));
    const quiet = meanSd(channel(joint, [32, 16, 2], 1));
    assert.ok(loud.mean > quiet.mean + 0.5, `joint channel means ${loud.mean} ${quiet.mean}`);
    // One affine map over all channels: z-scoring a joint channel on its own gives the band channel.
    for (let c = 0; c < 2; c++) {
      const j = channel(joint, [32, 16, 2], c);
      const b = channel(band, [32, 16, 2], c);
      const s = meanSd(j);
      for (let i = 0; i < j.length; i++)
        assert.ok(Math.abs((j[i] - s.mean) / s.sd - b[i]) < 1e-3, `ch ${c} value ${i}`);
    }
  });

  it('a dead window stays zeros, never NaN, in either normalisation', () => {
    const zero = new Float32Array(x.length);
    for (const n of ['band', 'joint'] as const) {
      const out = run(n, zero);
      assert.ok(
        out.every((v) => v === 0),
        `${n}: ${out.find((v) => v !== 0)}`,
      );
    }
  });

  it('gain does not matter (10⁻⁶ g and 10⁶ g give the unit-gain map within 1e-3)', () => {
    const ref = run('band');
    for (const g of [1e-6, 1e6]) {
      const out = run(
        'band',
        x.map((v) => v * g),
      );
      let err = 0;
      for (let i = 0; i < out.length; i++) err = Math.max(err, Math.abs(out[i] - ref[i]));
      assert.ok(err < 1e-3, `gain ${g}: max difference ${err}`);
    }
  });
});

describe('order-line map: level normalisation', () => {
  const bands = [{ lowHz: 2000, highHz: 4000 }];
  const order = 3.585;
  const map = createOrderLineMap(params({ bands, axes: ['shaft'], normalisation: 'level' }), FS);
  const at = (x: Float32Array, rpm: number, p = map) => {
    const out = new Float32Array(32 * 16);
    p.compute(x, rpm, out);
    return out;
  };
  /** An outer-race defect whose impacts grow with speed (a ring of fixed time, 0.5 ms). */
  const defect = (rpm: number) =>
    impactTrain(samplesForRevolutions(4, FS, rpm), FS, (order * rpm) / 60, {
      amp: rpm / 1800,
      tauS: 0.0005,
      noise: 0.001,
      seed: 9,
    });
  const lineRow = Math.floor(order / (16 / 32));
  const rowLevel = (out: Float32Array) => rowMeans(out, [32, 16, 1], 0)[lineRow];

  it('keeps the level: a gain g moves every value by 20·log10(g) / LEVEL_SCALE_DB', () => {
    const x = defect(1200);
    const ref = at(x, 1200);
    for (const g of [0.01, 10]) {
      const out = at(
        x.map((v) => v * g),
        1200,
      );
      const want = (20 * Math.log10(g)) / LEVEL_SCALE_DB;
      for (let i = 0; i < out.length; i += 37)
        assert.ok(Math.abs(out[i] - ref[i] - want) < 1e-3, `gain ${g} value ${i}`);
    }
  });

  it('levelRef (dB) is read as 0: every value moves by −levelRef / LEVEL_SCALE_DB', () => {
    const x = defect(900);
    const base = at(x, 900);
    const shifted = createOrderLineMap(
      params({ bands, axes: ['shaft'], normalisation: 'level', levelRef: 25 }),
      FS,
    );
    const out = at(x, 900, shifted);
    for (let i = 0; i < out.length; i += 29)
      assert.ok(Math.abs(out[i] - base[i] + 25 / LEVEL_SCALE_DB) < 1e-4, `value ${i}`);
    assert.throws(
      () => checkOrderLineParams(params({ normalisation: 'level', levelRef: Number.NaN }), FS),
      /levelRef/,
    );
  });

  it('the speed law: one defect whose impacts grow with speed reads within 3 dB at 600 and 1,800 rpm', () => {
    const slow = rowLevel(at(defect(600), 600)) * LEVEL_SCALE_DB;
    const fast = rowLevel(at(defect(1800), 1800)) * LEVEL_SCALE_DB;
    assert.ok(
      Math.abs(slow - fast) < 3,
      `line at 600 rpm ${slow.toFixed(1)} dB, 1800 rpm ${fast.toFixed(1)} dB`,
    );
  });
});

describe('order-line map: errors', () => {
  const map = createOrderLineMap(params(), FS);
  const out = new Float32Array(32 * 16 * 4);

  it('a window too short for the revolutions: FL_ERR_SIGNAL_TOO_SHORT naming the speed', () => {
    const x = defectTrain(600, 3.585, 1);
    map.compute(x, 600, out, CWRU_DE_BEARING); // exactly enough
    throwsCode(
      () => map.compute(x.subarray(0, x.length - 1), 600, out, CWRU_DE_BEARING),
      'FL_ERR_SIGNAL_TOO_SHORT',
      /4800 samples at 12000 Hz .* at 600 rpm; the model reads 4; use speeds ≥ 601 rpm or longer windows/,
    );
    // The same samples hold 4 revolutions at a higher speed.
    map.compute(x.subarray(0, x.length - 1), 601, out, CWRU_DE_BEARING);
  });

  it('no bearing for a fault axis: FL_ERR_DSP_PARAMS saying what to give', () => {
    const x = defectTrain(1800, 3.585, 1);
    throwsCode(() => map.compute(x, 1800, out), 'FL_ERR_DSP_PARAMS', /BPFO lines but no bearing/);
    // The shaft axis needs none.
    createOrderLineMap(params({ axes: ['shaft'] }), FS).compute(x, 1800, new Float32Array(512));
  });

  it('bad speed, output size, NaN samples', () => {
    const x = defectTrain(1800, 3.585, 1);
    for (const rpm of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      throwsCode(() => map.compute(x, rpm, out, CWRU_DE_BEARING), 'FL_ERR_DSP_PARAMS', /rpm/);
    throwsCode(
      () => map.compute(x, 1800, new Float32Array(10), CWRU_DE_BEARING),
      'FL_ERR_DSP_PARAMS',
      /output has 10 values, the map needs 2048/,
    );
    const bad = x.slice();
    bad[100] = Number.NaN;
    throwsCode(() => map.compute(bad, 1800, out, CWRU_DE_BEARING), 'FL_ERR_SIGNAL_NONFINITE');
    throwsCode(
      () => map.compute(new Float32Array(0), 1800, out, CWRU_DE_BEARING),
      'FL_ERR_SIGNAL_TOO_SHORT',
    );
  });

  it('bad params are refused with the field named', () => {
    const cases: [Partial<OrderLineParams>, RegExp][] = [
      [{ bands: [] }, /frontEnd\.lines\.bands must hold 1…16 bands/],
      [{ bands: [{ lowHz: 3000, highHz: 2000 }] }, /frontEnd\.lines\.bands\[0\]/],
      [
        {
          bands: [
            { lowHz: 1000, highHz: 2000 },
            { lowHz: 1000, highHz: 6500 },
          ],
        },
        /frontEnd\.lines\.bands\[1\] .* ≤ 6000 Hz/,
      ],
      [{ bands: [{ lowHz: Number.NaN, highHz: 2000 }] }, /frontEnd\.lines\.bands\[0\]/],
      [{ axes: [] }, /frontEnd\.lines\.axes/],
      [{ axes: ['BPFO', 'BPFO'] }, /frontEnd\.lines\.axes/],
      [{ axes: ['FTF' as never] }, /frontEnd\.lines\.axes/],
      [{ samplesPerRev: 4 }, /frontEnd\.lines\.samplesPerRev/],
      [{ samplesPerRev: 48 }, /samplesPerRev × frameRevolutions must be a power of two/],
      [{ frameRevolutions: 1.5 }, /samplesPerRev × frameRevolutions/],
      [{ revolutions: 1 }, /frontEnd\.lines\.revolutions/],
      [{ revolutions: 2000 }, /frontEnd\.lines\.revolutions/],
      [{ revolutions: Number.NaN }, /frontEnd\.lines\.revolutions/],
      [{ rows: 2 }, /frontEnd\.lines\.rows/],
      [{ rows: 10.5 }, /frontEnd\.lines\.rows/],
      [{ frames: 0 }, /frontEnd\.lines\.frames/],
      [{ maxOrder: 33 }, /frontEnd\.lines\.maxOrder must be in \(0, samplesPerRev\/2 = 32\]/],
      [{ maxOrder: 0 }, /frontEnd\.lines\.maxOrder/],
      [{ faultSpan: 0 }, /frontEnd\.lines\.faultSpan/],
      [{ faultSpan: Number.NaN }, /frontEnd\.lines\.faultSpan/],
      [{ normalisation: 'global' as never }, /frontEnd\.lines\.normalisation/],
    ];
    for (const [over, re] of cases) {
      throwsCode(() => checkOrderLineParams(params(over), FS), 'FL_ERR_DSP_PARAMS', re);
      throwsCode(() => createOrderLineMap(params(over), FS), 'FL_ERR_DSP_PARAMS', re);
    }
    checkOrderLineParams(params(), FS);
  });
});

describe('default bands at the analysis rates users bring', () => {
  for (const fs of [8000, 12000, 25600, 48828, 100000]) {
    it(`${fs} Hz: defaultBands and profileBands lie below Nyquist and build a map`, () => {
      const wide = defaultBands(fs);
      assert.equal(wide.length, 1);
      const profile = profileBands(fs);
      assert.ok(profile.length >= 3, `${profile.length} profile bands`);
      for (const b of [...wide, ...profile]) {
        assert.ok(b.lowHz >= 0 && b.highHz > b.lowHz, JSON.stringify(b));
        assert.ok(b.highHz < fs / 2, `${JSON.stringify(b)} at ${fs} Hz`);
      }
      // Contiguous from 500 Hz to 0.475 × the rate; none narrower than 750 Hz.
      assert.equal(profile[0].lowHz, 500);
      assert.equal(profile[profile.length - 1].highHz, 0.475 * fs);
      for (let i = 1; i < profile.length; i++)
        assert.equal(profile[i].lowHz, profile[i - 1].highHz);
      for (const b of profile) assert.ok(b.highHz - b.lowHz >= 750, JSON.stringify(b));
      for (const bands of [wide, [...wide, ...profile]]) {
        const p = params({ bands, axes: ['shaft'], normalisation: 'joint' });
        checkOrderLineParams(p, fs);
        const map = createOrderLineMap(p, fs);
        const rpm = 1500;
        const x = impactTrain(samplesForRevolutions(4, fs, rpm), fs, 3.585 * 25, {
          resonanceHz: Math.min(3000, 0.3 * fs),
          noise: 0.1,
        });
        const out = new Float32Array(32 * 16 * bands.length);
        map.compute(x, rpm, out);
        assert.ok(out.every(Number.isFinite));
      }
    });
  }
});
