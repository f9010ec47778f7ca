/**
 * One body of history-query tests, run against each store (./history.test.ts):
 * SQLite in a temp file and InfluxDB on a real influxd. The expected numbers
 * are computed here from the points written, not read back from a store.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AggregateBucket,
  type HistoryPoint,
  type HistoryStore,
  HOUR_MS,
  MEASUREMENTS,
  probsPoint,
  vibrationPoint,
} from '../../src/store/types.js';
import { alertFor } from '../alerts/example.js';

/** A store under test, and how to roll its completed hours up now. */
export interface HistoryBackend {
  store: HistoryStore;
  /** Rolls [since, until) up into the hourly rollup. */
  rollUp(since: number, until: number): Promise<void>;
  /** Raw retention the store was opened with, ms. */
  rawRetentionMs: number;
}

const where = { site: 'plant1', machine: 'pump1', sensor: '7' };
const MIN = 60_000;

/** Three hours of windows, one a minute, ending 3 h before the current hour. */
export function seedStart(now = Date.now()): number {
  return Math.floor(now / HOUR_MS) * HOUR_MS - 6 * HOUR_MS;
}

function velocity(i: number): number {
  return 1 + (i % 7) * 0.5 + Math.floor(i / 60);
}
function kurt(i: number): number {
  return 3 + ((i * 13) % 11) / 10;
}

export function seedPoints(t0: number): HistoryPoint[] {
  const out: HistoryPoint[] = [];
  for (let i = 0; i < 180; i++) {
    const t = t0 + i * MIN;
    out.push(
      vibrationPoint(where, t, {
        rmsG: 0.2,
        velocityRmsMmS: velocity(i),
        isoZone: velocity(i) > 2.8 ? 'B' : 'A',
        kurtosis: kurt(i),
        crestFactor: 4,
        peakG: 0.8,
      }),
      probsPoint(where, t, { normal: 1 - i / 180, outer: i / 180 }),
    );
  }
  // another machine in the same store: must not leak into pump1's answer
  out.push(
    vibrationPoint({ ...where, machine: 'fan9' }, t0, {
      rmsG: 9,
      velocityRmsMmS: 99,
      isoZone: 'D',
    }),
  );
  return out;
}

/** Buckets computed here from the same values. */
function expected(t0: number, stepMs: number, f: (i: number) => number): AggregateBucket[] {
  const m = new Map<number, number[]>();
  for (let i = 0; i < 180; i++) {
    const b = Math.floor((t0 + i * MIN) / stepMs) * stepMs;
    m.set(b, [...(m.get(b) ?? []), f(i)]);
  }
  return [...m.entries()].map(([t, v]) => ({
    t,
    n: v.length,
    min: Math.min(...v),
    mean: v.reduce((a, b) => a + b, 0) / v.length,
    max: Math.max(...v),
  }));
}

function assertBuckets(actual: AggregateBucket[], want: AggregateBucket[], what: string): void {
  assert.equal(
    actual.length,
    want.length,
    `${what}: ${actual.length} buckets, want ${want.length}`,
  );
  actual.forEach((b, k) => {
    const w = want[k];
    assert.equal(b.t, w.t, `${what}[${k}].t`);
    assert.equal(b.n, w.n, `${what}[${k}].n`);
    for (const key of ['min', 'mean', 'max'] as const) {
      assert.ok(Math.abs(b[key] - w[key]) < 1e-9, `${what}[${k}].${key}: ${b[key]} vs ${w[key]}`);
    }
  });
}

const MEASURES = {
  velocity_rms: { measurement: MEASUREMENTS.vibration, field: 'velocity_rms_mm_s' },
  kurtosis: { measurement: MEASUREMENTS.vibration, field: 'kurtosis' },
  iso_zone: { measurement: MEASUREMENTS.vibration, field: 'iso_zone_num' },
  'prob.outer': { measurement: MEASUREMENTS.probs, field: 'outer' },
};

/** Registers the shared tests; `backend()` is called inside each (after `before` ran). */
export function historySuite(backend: () => HistoryBackend, t0: () => number): void {
  test("an ack's verdict comes back with its alert; an ack without one has none", async () => {
    const { store } = backend();
    // recent alerts: InfluxDB drops points older than its retention policy
    const confirmed = alertFor('verdict-m', 1, 'alarm', t0());
    const falseAlarm = alertFor('verdict-m', 2, 'warning', t0());
    const plain = alertFor('verdict-m', 3, 'warning', t0());
    for (const a of [confirmed, falseAlarm, plain]) await store.writeAlert(a);
    await store.ack(confirmed.id, 'ana', 'spall seen', { kind: 'confirmed', faultClass: 'outer' });
    await store.ack(falseAlarm.id, 'bo', undefined, { kind: 'false-alarm' });
    await store.ack(plain.id, 'cy');
    const byId = new Map(
      (await store.queryAlerts({ machine: 'verdict-m' })).map((a) => [a.id, a.acknowledged]),
    );
    assert.deepEqual(byId.get(confirmed.id)?.verdict, { kind: 'confirmed', faultClass: 'outer' });
    assert.equal(byId.get(confirmed.id)?.comment, 'spall seen');
    assert.deepEqual(byId.get(falseAlarm.id)?.verdict, { kind: 'false-alarm' });
    assert.equal(byId.get(plain.id)?.by, 'cy');
    assert.equal(byId.get(plain.id)?.verdict, undefined);
  });

  test('min/mean/max per hour and per 10 minutes over the raw windows', async () => {
    const { store } = backend();
    const start = t0();
    const r = await store.history({
      machine: 'pump1',
      measures: MEASURES,
      since: start,
      until: start + 3 * HOUR_MS,
      stepMs: HOUR_MS,
    });
    assert.equal(r.source, 'raw');
    assert.equal(r.stepMs, HOUR_MS);
    assertBuckets(r.series.velocity_rms, expected(start, HOUR_MS, velocity), 'velocity');
    assertBuckets(r.series.kurtosis, expected(start, HOUR_MS, kurt), 'kurtosis');
    assertBuckets(
      r.series['prob.outer'],
      expected(start, HOUR_MS, (i) => i / 180),
      'outer',
    );
    assertBuckets(
      r.series.iso_zone,
      expected(start, HOUR_MS, (i) => (velocity(i) > 2.8 ? 2 : 1)),
      'iso zone',
    );

    // since in the middle of a bucket: rounded down, so every bucket is whole
    const r10 = await store.history({
      machine: 'pump1',
      measures: { velocity_rms: MEASURES.velocity_rms },
      since: start + 25 * MIN,
      until: start + 60 * MIN,
      stepMs: 10 * MIN,
    });
    assert.equal(r10.since, start + 20 * MIN);
    const want = expected(start, 10 * MIN, velocity).filter(
      (b) => b.t >= start + 20 * MIN && b.t < start + 60 * MIN,
    );
    assertBuckets(r10.series.velocity_rms, want, 'velocity per 10 min');
  });

  test('an unknown field, an unknown machine and an empty range answer empty series', async () => {
    const { store } = backend();
    const start = t0();
    const q = { since: start, until: start + 3 * HOUR_MS, stepMs: HOUR_MS };
    const unknown = await store.history({
      ...q,
      machine: 'pump1',
      measures: { x: { measurement: MEASUREMENTS.vibration, field: 'no_such_field' } },
    });
    assert.deepEqual(unknown.series, { x: [] });
    const other = await store.history({ ...q, machine: 'nobody', measures: MEASURES });
    assert.deepEqual(Object.values(other.series), [[], [], [], []]);
    const before = await store.history({
      machine: 'pump1',
      measures: MEASURES,
      since: start - 2 * HOUR_MS,
      until: start,
      stepMs: HOUR_MS,
    });
    assert.deepEqual(before.series.velocity_rms, []);
  });

  test('the hourly rollup gives the raw numbers; ranges beyond raw retention read it', async () => {
    const b = backend();
    const start = t0();
    await b.rollUp(start, start + 3 * HOUR_MS);
    const q = {
      machine: 'pump1',
      measures: MEASURES,
      since: start,
      until: start + 3 * HOUR_MS,
    };
    const hourly = await b.store.history({ ...q, stepMs: HOUR_MS, source: 'hourly' });
    assert.equal(hourly.source, 'hourly');
    for (const [name, f] of [
      ['velocity_rms', velocity],
      ['kurtosis', kurt],
      ['prob.outer', (i: number) => i / 180],
    ] as const) {
      assertBuckets(hourly.series[name], expected(start, HOUR_MS, f), `hourly ${name}`);
    }
    // a 3-hour step over the rollup: one bucket of all 180 windows (mean weighted by count)
    const three = await b.store.history({ ...q, stepMs: 3 * HOUR_MS, source: 'hourly' });
    const wantThree = expected(start, 3 * HOUR_MS, velocity);
    assertBuckets(three.series.velocity_rms, wantThree, '3-hour buckets');
    // a sub-hour step over the rollup is raised to an hour
    const fine = await b.store.history({ ...q, stepMs: 5 * MIN, source: 'hourly' });
    assert.equal(fine.stepMs, HOUR_MS);

    // reaching back past the raw retention reads the rollup without being told
    const long = await b.store.history({
      ...q,
      since: Date.now() - b.rawRetentionMs - HOUR_MS,
      stepMs: 5 * MIN,
    });
    assert.equal(long.source, 'hourly');
    assert.equal(long.stepMs, HOUR_MS);
    assertBuckets(long.series.velocity_rms, expected(start, HOUR_MS, velocity), 'auto rollup');
    const recent = await b.store.history({ ...q, stepMs: 5 * MIN });
    assert.equal(recent.source, 'raw');
  });
}
