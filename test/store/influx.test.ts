/**
 * InfluxHistoryStore against a real influxd: direct writes, an outage with
 * store-and-forward, the queue bound, and a queue that outlives its process.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alertId, parseAlert } from '../../src/alerts/schema.js';
import { DiskQueue } from '../../src/store/disk-queue.js';
import { InfluxHistoryStore, type InfluxStoreOptions } from '../../src/store/influx.js';
import {
  type HistoryPoint,
  healthPoint,
  MEASUREMENTS,
  vibrationPoint,
} from '../../src/store/types.js';
import { exampleAlert } from '../alerts/example.js';
import { type Influxd, influxdSkip, startInfluxd } from '../support/influxd.js';

const skip = influxdSkip;

// Recent times: InfluxDB silently drops points older than the retention policy.
const T0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
const where = { site: 'plant1', machine: 'pump1', sensor: '7' };

/** n vibration points 10 ms apart from `start`; velocity encodes the index. */
function points(machine: string, start: number, n: number): HistoryPoint[] {
  return Array.from({ length: n }, (_, i) =>
    vibrationPoint({ ...where, machine }, T0 + (start + i) * 10, {
      rmsG: 0.1,
      velocityRmsMmS: start + i,
      isoZone: 'A',
    }),
  );
}

describe('InfluxHistoryStore on a real influxd', { skip, timeout: 60_000 }, () => {
  let influxd: Influxd;
  let tmp: string;
  const stores: InfluxHistoryStore[] = [];
  const open = async (name: string, extra: Partial<InfluxStoreOptions> = {}) => {
    const s = await InfluxHistoryStore.open({
      port: influxd.port,
      queueDir: path.join(tmp, name),
      backoff: { minMs: 50, maxMs: 400 },
      requestTimeoutMs: 2000,
      now: () => T0 + 1_800_000,
      ...extra,
    });
    stores.push(s);
    return s;
  };
  const count = async (s: InfluxHistoryStore, machine: string) => {
    const rows = await s.recentHistory(machine, {
      measurement: MEASUREMENTS.vibration,
      since: T0,
      limit: 100_000,
    });
    return rows;
  };

  before(async () => {
    influxd = await startInfluxd();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fl-store-'));
  });
  after(async () => {
    for (const s of stores) await s.close().catch(() => {});
    await influxd?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  test('acks of two alerts in the same millisecond both stand, each with its verdict', async () => {
    // this store's clock is fixed, so both acks carry the same timestamp
    const s = await open('same-ms-acks', { retentionDuration: '30d' });
    const [a, b] = [1, 2].map((i) => {
      const t = T0 + i * 1000;
      return parseAlert({
        ...exampleAlert,
        machine: 'pump-same-ms',
        id: alertId('plant1', 'pump-same-ms', '7', t, 'alarm'),
        time: new Date(t).toISOString(),
      });
    });
    await s.writeAlert(a);
    await s.writeAlert(b);
    await s.ack(a.id, 'ana', undefined, { kind: 'confirmed', faultClass: 'inner' });
    await s.ack(b.id, 'bo', undefined, { kind: 'false-alarm' });
    const acked = new Map(
      (await s.queryAlerts({ machine: 'pump-same-ms' })).map((x) => [x.id, x.acknowledged]),
    );
    assert.equal(acked.get(a.id)?.by, 'ana');
    assert.deepEqual(acked.get(a.id)?.verdict, { kind: 'confirmed', faultClass: 'inner' });
    assert.equal(acked.get(b.id)?.by, 'bo');
    assert.deepEqual(acked.get(b.id)?.verdict, { kind: 'false-alarm' });
  });

  test('creates database and retention policy; points and alerts read back', async () => {
    const s = await open('direct', { retentionDuration: '30d' });
    assert.ok((await s.influx.getDatabaseNames()).includes('faultline'));
    const rps = await s.influx.showRetentionPolicies('faultline');
    const rp = rps.find((r) => r.name === 'faultline');
    assert.equal(rp?.duration, '720h0m0s');
    assert.equal(rp?.default, true);

    await s.writePoints([
      ...points('pump1', 0, 50),
      healthPoint(where, T0 + 100, { state: 'watch', faultClass: 'inner', confidence: 0.6 }),
    ]);
    const rows = await count(s, 'pump1');
    assert.equal(rows.length, 50);
    assert.deepEqual(rows[0].tags, where);
    assert.equal(rows[0].fields.velocity_rms_mm_s, 0);
    assert.equal(rows[49].time, T0 + 490);
    const h = await s.recentHistory('pump1', { measurement: MEASUREMENTS.health, since: T0 });
    assert.equal(h[0].fields.state, 'watch');
    assert.equal(h[0].fields.severity, 1);

    const t1 = T0 + 1000;
    const a1 = parseAlert({
      ...exampleAlert,
      machine: 'pump1',
      id: alertId('plant1', 'pump1', '7', t1, 'alarm'),
      time: new Date(t1).toISOString(),
    });
    const t2 = t1 + 60_000;
    const a2 = parseAlert({
      ...exampleAlert,
      machine: 'pump1',
      id: alertId('plant1', 'pump1', '7', t2, 'ok'),
      state: 'ok',
      previousState: 'alarm',
      time: new Date(t2).toISOString(),
    });
    await s.writeAlert(a1);
    await s.writeAlert(a2);
    await s.ack(a1.id, 'ana', 'bearing ordered');
    const alerts = await s.queryAlerts({ machine: 'pump1' });
    assert.deepEqual(
      alerts.map((a) => a.id),
      [a2.id, a1.id],
    );
    assert.deepEqual(alerts[1].acknowledged, {
      by: 'ana',
      time: new Date(T0 + 1_800_000).toISOString(),
      comment: 'bearing ordered',
    });
    assert.deepEqual(
      (await s.queryAlerts({ unacknowledged: true })).map((a) => a.id),
      [a2.id],
    );
    assert.equal(s.stats().queued, 0);
    assert.equal(s.stats().connected, true);

    // Re-opening alters an existing policy to the configured duration.
    const s2 = await open('direct2', { retentionDuration: '7d' });
    const rp2 = (await s2.influx.showRetentionPolicies('faultline')).find(
      (r) => r.name === 'faultline',
    );
    assert.equal(rp2?.duration, '168h0m0s');
  });

  test('influxd down → points queue on disk → influxd back → all written in order, none lost', async () => {
    const s = await open('outage');
    await s.writePoints(points('pump2', 0, 100));
    assert.equal(s.stats().written, 100);

    await influxd.kill();
    const N = 20_000;
    const t0 = Date.now();
    for (let b = 0; b < N / 500; b++) await s.writePoints(points('pump2', 100 + b * 500, 500));
    const queueMs = Date.now() - t0;
    const st = s.stats();
    assert.equal(st.connected, false);
    assert.equal(st.queued, N, JSON.stringify(st));
    assert.equal(st.dropped, 0);
    assert.ok(st.lastError, 'the outage is reported');
    assert.ok((await readdir(path.join(tmp, 'outage'))).some((f) => f.startsWith('seg-')));

    const t1 = Date.now();
    await influxd.restart();
    const upMs = Date.now() - t1;
    const t2 = Date.now();
    assert.equal(await s.drain(20_000), true);
    const drainMs = Date.now() - t2;
    const rows = await count(s, 'pump2');
    assert.equal(rows.length, 100 + N, 'zero points lost');
    for (let i = 0; i < rows.length; i++) {
      assert.equal(rows[i].fields.velocity_rms_mm_s, i, `point ${i} in place`);
      if (i > 0) assert.ok(rows[i].time > rows[i - 1].time);
    }
    const end = s.stats();
    assert.equal(end.flushed, N);
    assert.equal(end.connected, true);
    assert.equal(end.queued, 0);
    assert.equal(
      (await readdir(path.join(tmp, 'outage'))).filter((f) => f.startsWith('seg-')).length,
      0,
    );
    // Direct writes resume once the queue is empty.
    await s.writePoints(points('pump2', 100 + N, 10));
    assert.equal(s.stats().written, 110);
    console.log(
      `queued ${N} points in ${queueMs} ms (${Math.round((N / queueMs) * 1000)} points/s to disk); ` +
        `influxd back in ${upMs} ms; queue flushed in ${drainMs} ms ` +
        `(${Math.round((N / drainMs) * 1000)} points/s)`,
    );
  });

  test('the queue bound drops the oldest and counts them', async () => {
    await influxd.kill();
    try {
      const s = await open('bound', { queue: { maxPoints: 1000, segmentPoints: 100 } });
      const problems: number[] = [];
      s.on('problem', (p) => problems.push(p.points));
      for (let b = 0; b < 15; b++) await s.writePoints(points('pump3', b * 100, 100));
      assert.equal(s.stats().queued, 1000);
      assert.equal(s.stats().dropped, 500);
      assert.equal(
        problems.reduce((a, b) => a + b, 0),
        500,
      );
      await influxd.restart();
      assert.equal(await s.drain(10_000), true, JSON.stringify(s.stats()));
      const rows = await count(s, 'pump3');
      assert.equal(rows.length, 1000);
      assert.equal(rows[0].fields.velocity_rms_mm_s, 500, 'the oldest 500 were dropped');
      assert.equal(rows[999].fields.velocity_rms_mm_s, 1499);
    } finally {
      await influxd.restart().catch(() => {});
    }
  });

  test('alerts and acks have their own queue: a points overflow never drops them', async () => {
    await influxd.kill();
    try {
      const s = await open('lanes', { queue: { maxPoints: 1000, segmentPoints: 100 } });
      const t = T0 + 5000;
      const a = parseAlert({
        ...exampleAlert,
        machine: 'pump5',
        id: alertId('plant1', 'pump5', '7', t, 'alarm'),
        time: new Date(t).toISOString(),
      });
      // the alert first, so with one queue it would be the oldest record: the first dropped
      await s.writeAlert(a);
      await s.ack(a.id, 'ana', 'seen');
      for (let b = 0; b < 15; b++) await s.writePoints(points('pump5', b * 100, 100));
      const st = s.stats();
      assert.equal(st.queued, 1000, JSON.stringify(st));
      assert.equal(st.dropped, 500, 'points were dropped by their bound');
      assert.equal(st.queuedAlerts, 2, 'the alert and its ack are still queued');
      assert.ok(
        (await readdir(path.join(tmp, 'lanes', 'events'))).some((f) => f.startsWith('seg-')),
      );
      await influxd.restart();
      assert.equal(await s.drain(30_000), true, JSON.stringify(s.stats()));
      const alerts = await s.queryAlerts({ machine: 'pump5' });
      assert.deepEqual(
        alerts.map((x) => x.id),
        [a.id],
      );
      assert.equal(alerts[0].acknowledged?.by, 'ana');
      assert.equal(s.stats().queuedAlerts, 0);
    } finally {
      await influxd.restart().catch(() => {});
    }
  });

  test('the queue survives a process restart and flushes at the next open', async () => {
    await influxd.kill();
    const dir = 'restart';
    const first = await open(dir);
    for (let b = 0; b < 5; b++) await first.writePoints(points('pump4', b * 200, 200));
    assert.equal(first.stats().queued, 1000);
    await first.close(); // the "process" ends with 1000 points on disk

    // What the next process finds on disk.
    const q = await DiskQueue.open<HistoryPoint>({ dir: path.join(tmp, dir) });
    assert.equal(q.size, 1000);
    await q.close();

    await influxd.restart();
    const second = await open(dir);
    assert.equal(await second.drain(10_000), true);
    const rows = await count(second, 'pump4');
    assert.equal(rows.length, 1000);
    assert.deepEqual(
      rows.map((r) => r.fields.velocity_rms_mm_s),
      Array.from({ length: 1000 }, (_, i) => i),
    );
    assert.equal(second.stats().flushed, 1000, JSON.stringify(second.stats()));
  });
});
