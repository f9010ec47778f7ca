import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { alertId, parseAlert } from '../../src/alerts/schema.js';
import { isFaultlineError } from '../../src/errors.js';
import { SqliteHistoryStore } from '../../src/store/sqlite.js';
import { healthPoint, MEASUREMENTS, vibrationPoint } from '../../src/store/types.js';
import { exampleAlert } from '../alerts/example.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 1);
let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-sqlite-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const where = { site: 'plant1', machine: 'pump1', sensor: '7' };
const alertAt = (t: number, state: 'alarm' | 'ok' = 'alarm') =>
  parseAlert({
    ...exampleAlert,
    machine: 'pump1',
    state,
    id: alertId('plant1', 'pump1', '7', t, state),
    time: new Date(t).toISOString(),
  });

test('alerts, acks and points survive closing and reopening the database', async () => {
  const file = path.join(dir, 'history.db');
  let clock = NOW;
  const s1 = new SqliteHistoryStore({ file, now: () => clock });
  const a1 = alertAt(NOW - 2000);
  const a2 = alertAt(NOW - 1000, 'ok');
  await s1.writeAlert(a1);
  await s1.writeAlert(a2);
  await s1.writeAlert(a1); // re-publication: same id, stored once
  clock = NOW + 5000;
  await s1.ack(a1.id, 'ana', 'bearing ordered');
  await s1.writePoints(
    Array.from({ length: 100 }, (_, i) =>
      vibrationPoint(where, NOW - 100_000 + i * 1000, {
        rmsG: 0.2,
        velocityRmsMmS: i,
        isoZone: 'B',
      }),
    ),
  );
  await s1.writePoints([
    healthPoint(where, NOW, { state: 'alarm', faultClass: 'inner', confidence: 0.9 }),
  ]);
  await s1.close();
  await assert.rejects(s1.queryAlerts(), (e) => isFaultlineError(e, 'FL_ERR_STORE_CLOSED'));

  const s2 = new SqliteHistoryStore({ file, now: () => clock });
  const alerts = await s2.queryAlerts({ machine: 'pump1' });
  assert.deepEqual(
    alerts.map((a) => a.id),
    [a2.id, a1.id],
  );
  assert.deepEqual(alerts[1].acknowledged, {
    by: 'ana',
    time: new Date(NOW + 5000).toISOString(),
    comment: 'bearing ordered',
  });
  assert.deepEqual(parseAlert(alerts[1]), alerts[1], 'stored alerts still satisfy the schema');
  assert.deepEqual(
    (await s2.queryAlerts({ unacknowledged: true })).map((a) => a.id),
    [a2.id],
  );
  const hist = await s2.recentHistory('pump1', {
    measurement: MEASUREMENTS.vibration,
    since: NOW - 50_000,
  });
  assert.equal(hist.length, 50);
  assert.equal(hist[0].fields.velocity_rms_mm_s, 50);
  assert.deepEqual(hist[0].tags, where);
  const last10 = await s2.recentHistory('pump1', {
    measurement: MEASUREMENTS.vibration,
    since: 0,
    limit: 10,
  });
  assert.deepEqual(
    last10.map((p) => p.fields.velocity_rms_mm_s),
    [90, 91, 92, 93, 94, 95, 96, 97, 98, 99],
  );
  await s2.close();
});

test('pruning removes rows beyond retention, at open and on demand', async () => {
  const file = path.join(dir, 'prune.db');
  let clock = NOW;
  const s = new SqliteHistoryStore({
    file,
    now: () => clock,
    pointRetentionMs: DAY,
    alertRetentionMs: 10 * DAY,
    pruneEveryWrites: 1_000_000,
  });
  await s.writePoints([
    vibrationPoint(where, NOW - 2 * DAY, { rmsG: 1, velocityRmsMmS: 1, isoZone: 'A' }),
    vibrationPoint(where, NOW - 1000, { rmsG: 1, velocityRmsMmS: 2, isoZone: 'A' }),
  ]);
  await s.writeAlert(alertAt(NOW - 11 * DAY));
  await s.writeAlert(alertAt(NOW - DAY));
  assert.deepEqual(s.prune(), { points: 1, alerts: 1, hourly: 0 });
  assert.deepEqual(s.prune(), { points: 0, alerts: 0, hourly: 0 });
  await s.close();

  clock = NOW + 2 * DAY; // reopening later prunes what aged out meanwhile
  const s2 = new SqliteHistoryStore({ file, now: () => clock, pointRetentionMs: DAY });
  assert.equal(
    (await s2.recentHistory('pump1', { measurement: MEASUREMENTS.vibration, since: 0 })).length,
    0,
  );
  assert.equal((await s2.queryAlerts()).length, 1, 'alerts keep their 90-day default');
  await s2.close();
});

test('bad input: malformed points are TypeErrors, an unusable path a FaultlineError', async () => {
  const s = new SqliteHistoryStore({ file: ':memory:' });
  await assert.rejects(
    s.writePoints([{ measurement: 'x', time: Number.NaN, tags: where, fields: { a: 1 } }]),
    TypeError,
  );
  await assert.rejects(
    s.writePoints([
      { measurement: 'x', time: 1, tags: where, fields: { a: Number.POSITIVE_INFINITY } },
    ]),
    TypeError,
  );
  await s.close();
  assert.throws(
    () => new SqliteHistoryStore({ file: path.join(dir, 'missing', 'sub', 'x.db') }),
    (e) => isFaultlineError(e, 'FL_ERR_STORE_QUEUE'),
  );
});

test('alerts and acks are durable at commit: WAL with synchronous=FULL', async () => {
  const s = new SqliteHistoryStore({ file: path.join(dir, 'durable.db'), now: () => NOW });
  try {
    assert.deepEqual(s.durability(), { journalMode: 'wal', synchronous: 'FULL' });
    // the setting is the connection's: it holds across alert and ack writes
    const a = alertAt(NOW - 1000);
    await s.writeAlert(a);
    await s.ack(a.id, 'op');
    assert.equal(s.durability().synchronous, 'FULL');
  } finally {
    await s.close();
  }
});

test('retention: raw windows go after their days, their hours stay in the rollup for years', async () => {
  const HOUR = 3_600_000;
  const s = new SqliteHistoryStore({
    file: path.join(dir, 'rollup.db'),
    now: () => NOW,
    pointRetentionMs: DAY,
    hourlyRetentionMs: 10 * DAY,
    pruneEveryWrites: 1_000_000,
  });
  const at = (start: number, n: number) =>
    Array.from({ length: n }, (_, i) =>
      vibrationPoint(where, start + i * 600_000, { rmsG: 0.1, velocityRmsMmS: i, isoZone: 'A' }),
    );
  // two hours three days ago, one hour twenty days ago (older than the rollup keeps)
  await s.writePoints([...at(NOW - 3 * DAY, 12), ...at(NOW - 20 * DAY, 6)]);
  // the old hour: one row per numeric field (rms_g, velocity_rms_mm_s, iso_zone_num)
  assert.deepEqual(s.prune(), { points: 18, alerts: 0, hourly: 3 });
  const q = {
    machine: 'pump1',
    measures: { v: { measurement: MEASUREMENTS.vibration, field: 'velocity_rms_mm_s' } },
    since: NOW - 4 * DAY,
    until: NOW,
    stepMs: HOUR,
  };
  const r = await s.history(q);
  assert.equal(r.source, 'hourly', 'older than the raw retention: read from the rollup');
  assert.deepEqual(r.series.v, [
    { t: NOW - 3 * DAY, n: 6, min: 0, mean: 2.5, max: 5 },
    { t: NOW - 3 * DAY + HOUR, n: 6, min: 6, mean: 8.5, max: 11 },
  ]);
  const raw = await s.history({ ...q, source: 'raw' });
  assert.deepEqual(raw.series.v, [], 'the raw windows themselves are gone');
  const old = await s.history({ ...q, since: NOW - 21 * DAY });
  assert.equal(old.series.v.length, 2, 'the 20-day-old hour is past the rollup retention');
  await s.close();
});
