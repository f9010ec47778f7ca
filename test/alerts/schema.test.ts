import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { alertFromChange } from '../../src/alerts/build.js';
import { alertId, alertJsonSchema, parseAlert } from '../../src/alerts/schema.js';
import { ackSchema, alertSchema } from '../../src/contract/alert.js';
import { isFaultlineError } from '../../src/errors.js';
import { exampleAlert } from './example.js';

const REQUIRED = [
  'id',
  'site',
  'machine',
  'sensor',
  'state',
  'previousState',
  'faultClass',
  'confidence',
  'isoZone',
  'velocityRmsMmS',
  'reason',
  'modelVersion',
  'time',
] as const;

test('a valid alert passes; each required field missing fails', () => {
  assert.deepEqual(parseAlert(exampleAlert), exampleAlert);
  for (const field of REQUIRED) {
    const bad: Record<string, unknown> = { ...exampleAlert };
    delete bad[field];
    assert.throws(
      () => parseAlert(bad),
      (e) => isFaultlineError(e, 'FL_ERR_ALERT_SCHEMA') && e.message.includes(field),
      `missing ${field} must fail`,
    );
  }
});

test('bad values fail with the field named', () => {
  const cases: Array<[string, unknown]> = [
    ['confidence', 1.2],
    ['confidence', Number.NaN],
    ['isoZone', 'E'],
    ['state', 'broken'],
    ['time', '2025-05-02T10:30:00+02:00'], // UTC only
    ['time', 'yesterday'],
    ['machine', 'pump/3'], // would break the topic
    ['id', 'not-a-uuid'],
    ['velocityRmsMmS', -1],
  ];
  for (const [field, value] of cases) {
    assert.throws(
      () => parseAlert({ ...exampleAlert, [field]: value }),
      (e) => isFaultlineError(e, 'FL_ERR_ALERT_SCHEMA') && e.message.includes(field),
      `${field} = ${String(value)}`,
    );
  }
  assert.ok(alertSchema.safeParse({ ...exampleAlert, evidence: undefined }).success);
  assert.ok(
    alertSchema.safeParse({
      ...exampleAlert,
      acknowledged: { by: 'ana', time: '2025-05-02T09:00:00Z', comment: 'on it' },
    }).success,
  );
});

test('alert.schema.json is the zod schema, draft 2020-12', () => {
  const file = JSON.parse(
    readFileSync(new URL('../../src/alerts/alert.schema.json', import.meta.url), 'utf8'),
  );
  const { title, ...rest } = file;
  assert.equal(title, 'Faultline alert');
  assert.deepEqual(rest, alertJsonSchema(), 'regenerate: npx tsx src/alerts/write-schema.ts');
  assert.equal(file.$schema, 'https://json-schema.org/draft/2020-12/schema');
  assert.deepEqual([...file.required].sort(), [...REQUIRED].sort());
  // The JSON Schema's own patterns agree with zod on a few values.
  const re = (p: string) => new RegExp(file.properties[p].pattern);
  assert.ok(re('id').test(exampleAlert.id));
  assert.ok(re('time').test(exampleAlert.time));
  assert.ok(!re('time').test('2025-05-02T10:30:00+02:00'));
  assert.ok(!re('machine').test('a/b'));
});

test('alert ids are stable per transition and distinct across transitions', () => {
  const t = Date.UTC(2025, 0, 1);
  const a = alertId('s', 'm', '1', t, 'alarm');
  assert.equal(a, alertId('s', 'm', '1', t, 'alarm'));
  assert.notEqual(a, alertId('s', 'm', '1', t + 1, 'alarm'));
  assert.notEqual(a, alertId('s', 'm', '1', t, 'warning'));
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

  const change = {
    machine: 'pump3',
    from: 'warning' as const,
    to: 'alarm' as const,
    t: Date.UTC(2025, 4, 2, 8, 30),
    faultClass: 'inner',
    confidence: 0.93,
    reason: 'fault p ≥ 0.90 in 4 of last 5 windows',
  };
  const ctx = {
    site: 'plant1',
    sensor: '7',
    isoZone: 'C' as const,
    velocityRmsMmS: 5.2,
    modelVersion: 'cnn-1.0.0',
    evidence: exampleAlert.evidence,
  };
  assert.deepEqual(alertFromChange(change, ctx), exampleAlert);
});

test('ack schema', () => {
  assert.ok(ackSchema.safeParse({ id: exampleAlert.id, by: 'ana' }).success);
  assert.ok(!ackSchema.safeParse({ id: exampleAlert.id }).success);
  assert.ok(!ackSchema.safeParse({ id: 'x', by: 'ana' }).success);
});
