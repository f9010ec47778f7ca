import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearingFrequencies, CWRU_DE_BEARING } from '../../src/contract/bearing.js';
import type { BearingGeometry } from '../../src/contract/machine.js';
import {
  BEARING_TABLE,
  formatGeometry,
  geometryProblems,
  knownBearings,
  lookupBearing,
  sameBearing,
  tableDesignationOf,
} from '../../src/data/bearings.js';

function geometryOf(text: string): BearingGeometry {
  const r = lookupBearing(text);
  assert.ok(r.ok, `${text}: ${r.ok ? '' : r.message}`);
  return r.entry.geometry;
}

/** Defect factors (× shaft speed) of a geometry. */
const orders = (g: BearingGeometry) => bearingFrequencies(g, 1);

const close = (actual: number, expected: number, tol: number, what: string): void =>
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: ${actual} differs from ${expected} by more than ${tol}`,
  );

test('CWRU 6205 and 6203: the defect factors CWRU publishes (BPFI, BPFO, FTF, 2·BSF)', () => {
  const de = orders(geometryOf('6205'));
  close(de.BPFI, 5.4152, 1e-4, '6205 BPFI');
  close(de.BPFO, 3.5848, 1e-4, '6205 BPFO');
  close(de.FTF, 0.39828, 5e-5, '6205 FTF');
  close(2 * de.BSF, 4.7135, 1e-3, '6205 2·BSF');
  assert.deepEqual(geometryOf('6205'), CWRU_DE_BEARING);
  const fe = orders(geometryOf('6203'));
  close(fe.BPFI, 4.9469, 1e-3, '6203 BPFI');
  close(fe.BPFO, 3.053, 1e-3, '6203 BPFO');
  close(fe.FTF, 0.3817, 1e-3, '6203 FTF');
  close(2 * fe.BSF, 3.9874, 2e-3, '6203 2·BSF');
});

test('MFPT geometry: BPFI 4.755·fr, BPFO 3.245·fr, and the files’ own 118.875 / 81.125 Hz at 25 Hz', () => {
  const g = geometryOf('MFPT');
  const o = orders(g);
  close(o.BPFI, 4.755, 5e-4, 'MFPT BPFI');
  close(o.BPFO, 3.245, 5e-4, 'MFPT BPFO');
  // The stored BSF (63.91 Hz) is matched within 0.1 %, as MANIFEST.md says.
  close(o.BSF, 63.91 / 25, 0.001 * (63.91 / 25), 'MFPT BSF');
  const hz = bearingFrequencies(g, 25);
  close(hz.BPFI, 118.875, 0.01, 'MFPT BPFI Hz');
  close(hz.BPFO, 81.125, 0.01, 'MFPT BPFO Hz');
});

test('IMS ZA-2115 at 2000 rpm and XJTU-SY UER204 at 2400 rpm give the frequencies published with them', () => {
  const ims = bearingFrequencies(geometryOf('ZA-2115'), 2000 / 60);
  close(ims.BPFO, 236.4, 0.1, 'ZA-2115 BPFO');
  close(ims.BPFI, 296.9, 0.1, 'ZA-2115 BPFI');
  close(ims.BSF, 139.9, 0.1, 'ZA-2115 BSF');
  close(ims.FTF, 14.8, 0.05, 'ZA-2115 FTF');
  const xjtu = bearingFrequencies(geometryOf('UER204'), 40);
  close(xjtu.BPFO, 123.32, 0.01, 'UER204 BPFO');
  close(xjtu.BPFI, 196.68, 0.01, 'UER204 BPFI');
});

test('every entry: valid geometry, a source, a unit, unique names', () => {
  const names = new Set<string>();
  for (const e of BEARING_TABLE) {
    assert.deepEqual(geometryProblems(e.geometry), [], e.designation);
    assert.ok(e.source.length > 40, `${e.designation} names a source`);
    assert.ok(e.unit === 'in' || e.unit === 'mm');
    for (const n of [e.designation, ...e.aliases]) {
      const key = n.toUpperCase().replace(/[^A-Z0-9]/g, '');
      assert.ok(!names.has(key), `${n} is listed twice`);
      names.add(key);
      assert.equal(lookupBearing(n).ok, true, n);
    }
    assert.equal(tableDesignationOf(e.geometry), e.designation);
    assert.ok(Object.isFrozen(e.geometry), `${e.designation} geometry is frozen`);
  }
  assert.ok(Object.isFrozen(BEARING_TABLE));
  assert.deepEqual(knownBearings(), [...knownBearings()].sort());
});

test('lenient designations: case, spaces, makers, suffixes; ambiguous and unknown ones refused', () => {
  for (const [text, want] of [
    ['6205', '6205'],
    ['6205-2RS', '6205'],
    ['6205-2rs', '6205'],
    ['SKF 6205-2RS JEM', '6205'],
    ['skf 6205-2rs jem', '6205'],
    ['6205ZZ', '6205'],
    ['6205-2RSH/C3', '6205'],
    ['  6205 C3 ', '6205'],
    ['6203-2RS JEM SKF', '6203'],
    ['ZA-2115', 'ZA-2115'],
    ['za 2115', 'ZA-2115'],
    ['Rexnord ZA-2115', 'ZA-2115'],
    ['ZA2115', 'ZA-2115'],
    ['LDK UER204', 'UER204'],
    ['mfpt', 'MFPT'],
  ] as const) {
    const r = lookupBearing(text);
    assert.ok(r.ok, `${text}: ${r.ok ? '' : r.message}`);
    assert.equal(r.entry.designation, want, text);
  }
  for (const text of ['62052RS', '6305', '62050', '2115', 'SKF', '', 'W6205']) {
    const r = lookupBearing(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) {
      assert.equal(r.reason, 'unknown', text);
      assert.match(r.message, /known: 6203, 6205, MFPT, UER204, ZA-2115/);
      assert.match(r.message, /n_balls, ball_d, pitch_d and contact_angle_deg/);
    }
  }
  const amb = lookupBearing('6205 or 6203');
  assert.equal(amb.ok, false);
  if (!amb.ok) {
    assert.equal(amb.reason, 'ambiguous');
    assert.match(amb.message, /6205 and 6203/);
  }
});

test('geometryProblems: integer balls ≥ 3, 0 < d < D, 0 ≤ angle < 90, NaN and infinities', () => {
  const ok: BearingGeometry = {
    balls: 8,
    ballDiameter: 0.235,
    pitchDiameter: 1.245,
    contactAngleDeg: 0,
  };
  assert.deepEqual(geometryProblems(ok), []);
  const bad = (g: Partial<BearingGeometry>, re: RegExp) => {
    const p = geometryProblems({ ...ok, ...g });
    assert.equal(p.length, 1, `${JSON.stringify(g)}: ${p.join('; ')}`);
    assert.match(p[0], re);
  };
  bad({ balls: 2 }, /n_balls 2 must be an integer ≥ 3/);
  bad({ balls: 8.5 }, /n_balls 8.5/);
  bad({ balls: Number.NaN }, /n_balls NaN/);
  bad({ ballDiameter: 0 }, /ball_d 0 must be a positive/);
  bad({ ballDiameter: 1.245 }, /must be smaller than pitch_d 1.245/);
  bad({ ballDiameter: 2 }, /must be smaller than pitch_d/);
  bad({ pitchDiameter: Number.POSITIVE_INFINITY }, /pitch_d Infinity/);
  bad({ contactAngleDeg: 90 }, /contact_angle_deg 90 must be in \[0, 90\)/);
  bad({ contactAngleDeg: -1 }, /contact_angle_deg -1/);
  assert.deepEqual(geometryProblems({ ...ok, contactAngleDeg: 89.9 }), []);
  assert.deepEqual(geometryProblems({ ...ok, balls: 3 }), []);
});

test('sameBearing compares ratios (any unit): 6205 in inches equals it in mm, not a 6203', () => {
  const mm: BearingGeometry = {
    balls: 9,
    ballDiameter: 0.3126 * 25.4,
    pitchDiameter: 1.537 * 25.4,
    contactAngleDeg: 0,
  };
  assert.ok(sameBearing(CWRU_DE_BEARING, mm));
  assert.ok(sameBearing(CWRU_DE_BEARING, { ...mm, ballDiameter: 7.94, pitchDiameter: 39.04 }));
  assert.ok(!sameBearing(CWRU_DE_BEARING, { ...mm, balls: 8 }));
  assert.ok(!sameBearing(CWRU_DE_BEARING, { ...mm, contactAngleDeg: 15 }));
  assert.ok(!sameBearing(CWRU_DE_BEARING, geometryOf('6203')));
  assert.equal(formatGeometry(CWRU_DE_BEARING), '9 × 0.3126 / 1.537, 0°');
  assert.equal(tableDesignationOf(mm), undefined);
});
