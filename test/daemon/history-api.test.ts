/**
 * `GET /api/machines/:id/history` end to end: a real gateway (embedded
 * broker, SQLite store, the API on a free port) over a store seeded with a
 * week of windows before it starts. Raw windows are kept 2 days, so the week
 * is answered from the hourly rollup and the last hours from the raw windows.
 * Expected numbers are computed here from the seeded values.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { historyAnswerSchema } from '../../src/contract/api.js';
import { parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { silentLogger } from '../../src/daemon/log.js';
import { SqliteHistoryStore } from '../../src/store/sqlite.js';
import { type HistoryPoint, probsPoint, vibrationPoint } from '../../src/store/types.js';
import { simModelDir } from '../support/gateway-fixture.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const EVERY = 5 * 60_000;
const NOW = Date.now();
/** Seven whole days before today, then today up to 10 minutes ago. */
const DAY0 = Math.floor(NOW / DAY) * DAY - 7 * DAY;
const LAST = NOW - 10 * 60_000;

/** Velocity rises by 1 mm/s a day; kurtosis stays 3; p(outer) is the day over 10. */
const velocity = (t: number) => 1 + Math.floor((t - DAY0) / DAY);

let dir: string;
let gw: Gateway;

async function api(route: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gw.apiUrl}${route}`, {
    headers: { authorization: `Bearer ${gw.token}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-history-api-'));
  const stateDir = path.join(dir, 'state');
  const where = { site: 't', machine: 'pump-1', sensor: '1' };
  const points: HistoryPoint[] = [];
  for (let t = DAY0; t <= LAST; t += EVERY) {
    points.push(
      vibrationPoint(where, t, {
        rmsG: 0.3,
        velocityRmsMmS: velocity(t),
        isoZone: 'A',
        kurtosis: 3,
      }),
      probsPoint(where, t, { normal: 1 - velocity(t) / 10, outer: velocity(t) / 10 }),
    );
  }
  // the week is written before the gateway starts, as an earlier run of it would have
  await mkdir(stateDir, { recursive: true });
  const seed = new SqliteHistoryStore({
    file: path.join(stateDir, 'history.db'),
    pointRetentionMs: 30 * DAY,
  });
  await seed.writePoints(points);
  await seed.close();
  gw = await Gateway.start({
    config: parseConfig({
      site: 't',
      gatewayId: 'gw-history',
      stateDir,
      model: await simModelDir(),
      machines: [{ id: 'pump-1', sensors: [{ id: 1, sampleRate: 12000 }] }],
      broker: { port: 0 },
      http: { port: 0 },
      pipeline: { workers: 1 },
      store: { pointRetentionDays: 2 },
    }),
    fleet: false,
    log: silentLogger(),
  });
});

after(async () => {
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

test('a week per day comes from the hourly rollup, one bucket per day', async () => {
  const since = new Date(DAY0).toISOString();
  const { status, body } = await api(
    `/api/machines/pump-1/history?measure=velocity_rms,kurtosis,prob.outer&since=${since}&step=1d`,
  );
  assert.equal(status, 200, JSON.stringify(body));
  const a = historyAnswerSchema.parse(body);
  assert.equal(a.source, 'hourly', 'older than the 2-day raw retention');
  assert.equal(a.stepMs, DAY);
  assert.equal(a.since, since);
  const v = a.series.velocity_rms;
  assert.ok(v.length >= 7, `${v.length} days`);
  for (let d = 0; d < 7; d++) {
    assert.equal(v[d].t, DAY0 + d * DAY);
    assert.equal(v[d].n, DAY / EVERY, `day ${d}: every window of the day`);
    assert.equal(v[d].mean, 1 + d);
    assert.equal(v[d].min, 1 + d);
    assert.equal(v[d].max, 1 + d);
    assert.equal(a.series.kurtosis[d].mean, 3);
    assert.ok(Math.abs(a.series['prob.outer'][d].mean - (1 + d) / 10) < 1e-12);
  }
});

test('the last hours come from the raw windows, since/until in ms, step in minutes', async () => {
  const since = Math.floor((NOW - 6 * HOUR) / HOUR) * HOUR;
  const until = since + 3 * HOUR;
  const { status, body } = await api(
    `/api/machines/pump-1/history?measure=velocity_rms&since=${since}&until=${until}&step=30m`,
  );
  assert.equal(status, 200, JSON.stringify(body));
  const a = historyAnswerSchema.parse(body);
  assert.equal(a.source, 'raw');
  assert.equal(a.stepMs, 30 * 60_000);
  assert.deepEqual(
    a.series.velocity_rms.map((b) => [b.t, b.n]),
    Array.from({ length: 6 }, (_, i) => [since + i * 30 * 60_000, 6]),
  );
  // defaults: velocity_rms over the last 24 h, a step giving at most ~300 buckets
  const d = historyAnswerSchema.parse((await api('/api/machines/pump-1/history')).body);
  assert.deepEqual(Object.keys(d.series), ['velocity_rms']);
  assert.equal(d.stepMs, 5 * 60_000);
  assert.ok(d.series.velocity_rms.length > 250);
});

test('bad queries are 400 FL_ERR_API_REQUEST naming the problem; an unknown machine is 404', async () => {
  const cases: [string, RegExp][] = [
    ['measure=velocity_rms,torque', /unknown measure "torque"/],
    ['step=1s&since=2020-01-01T00:00:00Z', /more than 5000/],
    ['step=fortnight', /step must be like/],
    ['since=2030-01-01T00:00:00Z&until=2029-01-01T00:00:00Z', /must be before until/],
    ['since=yesterday', /since must be an ISO 8601 time/],
  ];
  for (const [query, message] of cases) {
    const { status, body } = await api(`/api/machines/pump-1/history?${query}`);
    assert.equal(status, 400, query);
    assert.equal(body.error, 'FL_ERR_API_REQUEST', query);
    assert.match(String(body.message), message, query);
  }
  const missing = await api('/api/machines/nope/history');
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error, 'FL_ERR_API_NOT_FOUND');
});
