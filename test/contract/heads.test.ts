import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alertSchema, healthStatePayloadSchema } from '../../src/contract/alert.js';
import { headReadingsSchema } from '../../src/contract/heads.js';
import { headsText } from '../../src/contract/heads-text.js';
import { machineDiagnosisSchema } from '../../src/contract/machine.js';
import { headReadings } from '../../src/diagnose/result-diagnosis.js';

test('head readings: argmax class and its probability per head; heads the metadata lacks are left out', () => {
  const specs = [
    { name: 'location' as const, classes: ['ball', 'inner race', 'normal'], classifierLayer: 'a' },
    { name: 'size' as const, classes: ['0.007 in', '0.014 in'], classifierLayer: 'b' },
  ];
  const r = headReadings(
    { location: [0.05, 0.91, 0.04], size: [0.12, 0.88], colour: [1], condition: [0.5, 0.5] },
    specs,
  );
  assert.deepEqual(r, {
    location: { class: 'inner race', confidence: 0.91 },
    size: { class: '0.014 in', confidence: 0.88 },
  });
  // A probability vector of the wrong length is not read as a head.
  assert.deepEqual(headReadings({ size: [1, 0, 0] }, specs), {});
  assert.equal(headsText(r), 'inner race (0.91), size 0.014 in (0.88)');
  assert.equal(headsText(undefined), '');
  assert.equal(
    headsText({ condition: { class: 'load2', confidence: 0.7 } }),
    'condition load2 (0.70)',
  );
});

test('heads are an optional addition: payloads without them still parse, bad ones are refused', () => {
  const heads = { location: { class: 'outer race', confidence: 0.8 } };
  assert.deepEqual(headReadingsSchema.parse(heads), heads);
  for (const bad of [
    { location: { class: '', confidence: 0.5 } },
    { location: { class: 'x', confidence: 1.5 } },
    { location: { class: 'x' } },
  ])
    assert.equal(headReadingsSchema.safeParse(bad).success, false, JSON.stringify(bad));
  const state = {
    site: 's',
    machine: 'm',
    state: 'warning',
    since: '2026-01-01T00:00:00.000Z',
    faultClass: 'outer race',
    confidence: 0.9,
    time: '2026-01-01T00:00:01.000Z',
  };
  assert.equal(healthStatePayloadSchema.parse(state).heads, undefined);
  assert.deepEqual(healthStatePayloadSchema.parse({ ...state, heads }).heads, heads);
  assert.ok('heads' in alertSchema.shape && 'heads' in machineDiagnosisSchema.shape);
  assert.equal(alertSchema.shape.heads.safeParse(undefined).success, true);
});
