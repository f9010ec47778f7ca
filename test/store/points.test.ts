/**
 * The point builders: the vibration point keeps its historical fields and
 * adds the window's features; unknown or non-finite values are left out
 * rather than poisoning the point.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertPoint,
  ISO_ZONE_NUMBER,
  MEASUREMENTS,
  vibrationPoint,
} from '../../src/store/types.js';

const where = { site: 'plant1', machine: 'pump1', sensor: '7' };

test('a vibration point carries the window features under stable field names', () => {
  const p = vibrationPoint(where, 1000, {
    rmsG: 0.5,
    velocityRmsMmS: 3.2,
    isoZone: 'C',
    rpm: 1797,
    peakG: 2,
    crestFactor: 4,
    kurtosis: 5.5,
    evidence: { score: 12.5, scores: { BPFO: 1.1, BPFI: 12.5, BSF: 2 } },
  });
  assertPoint(p);
  assert.equal(p.measurement, MEASUREMENTS.vibration);
  assert.deepEqual(p.fields, {
    rms_g: 0.5,
    velocity_rms_mm_s: 3.2,
    iso_zone: 'C',
    iso_zone_num: 3,
    rpm: 1797,
    peak_g: 2,
    crest_factor: 4,
    kurtosis: 5.5,
    evidence_score: 12.5,
    evidence_bpfo: 1.1,
    evidence_bpfi: 12.5,
    evidence_bsf: 2,
  });
});

test('missing or non-finite features are left out; the zone number follows the letter', () => {
  const p = vibrationPoint(where, 1000, {
    rmsG: 0.1,
    velocityRmsMmS: 0.2,
    isoZone: 'A',
    rpm: Number.NaN,
    kurtosis: Number.POSITIVE_INFINITY,
    evidence: { scores: {} },
  });
  assertPoint(p);
  assert.deepEqual(p.fields, {
    rms_g: 0.1,
    velocity_rms_mm_s: 0.2,
    iso_zone: 'A',
    iso_zone_num: 1,
  });
  assert.deepEqual(ISO_ZONE_NUMBER, { A: 1, B: 2, C: 3, D: 4 });
});
