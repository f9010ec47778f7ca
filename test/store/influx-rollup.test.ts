/**
 * The InfluxDB rollup's setup on a real influxd with authentication on: an
 * admin user gets the raw and hourly retention policies and the continuous
 * query created; a read/write user (as the gateway should run) creates
 * nothing, says what an admin has to run, and once that is run works.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { InfluxDB } from 'influx';
import { InfluxHistoryStore, type InfluxStoreOptions } from '../../src/store/influx.js';
import { HOUR_MS, MEASUREMENTS } from '../../src/store/types.js';
import { type Influxd, influxdSkip, startInfluxd } from '../support/influxd.js';
import { seedPoints, seedStart } from './history-suite.js';

const skip = influxdSkip;

describe('InfluxDB rollup setup with authentication on', { skip, timeout: 120_000 }, () => {
  let influxd: Influxd;
  let dir: string;
  let admin: InfluxDB;
  const stores: InfluxHistoryStore[] = [];
  const open = async (o: Partial<InfluxStoreOptions>) => {
    const s = await InfluxHistoryStore.open({
      port: influxd.port,
      queueDir: path.join(dir, `q${stores.length}`),
      backoff: { minMs: 50, maxMs: 200 },
      ...o,
    });
    stores.push(s);
    return s;
  };
  const cqs = async (db: string) => {
    const rows = (await admin.query('SHOW CONTINUOUS QUERIES')) as unknown as {
      groups(): { name: string; rows: { name: string; query: string }[] }[];
    };
    return rows.groups().find((g) => g.name === db)?.rows ?? [];
  };

  before(async () => {
    influxd = await startInfluxd({ auth: true });
    dir = await mkdtemp(path.join(os.tmpdir(), 'fl-influx-rollup-'));
    // the first user of an auth-enabled influxd must be an admin, and may be created unauthenticated
    await new InfluxDB({ port: influxd.port }).createUser('root', 'root-pw', true);
    // (the client wants a database for any query; the statements name theirs)
    admin = new InfluxDB({
      port: influxd.port,
      username: 'root',
      password: 'root-pw',
      database: 'plant1',
    });
  });
  after(async () => {
    for (const s of stores) await s.close().catch(() => {});
    await influxd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('as admin: raw and hourly retention policies and the continuous query are created', async () => {
    const s = await open({
      username: 'root',
      password: 'root-pw',
      database: 'plant1',
      retentionDuration: '30d',
      hourlyRetentionDuration: '1826d',
    });
    assert.deepEqual(s.notices, []);
    const rps = await admin.showRetentionPolicies('plant1');
    const rp = (name: string) => rps.find((r) => r.name === name);
    assert.equal(rp('faultline')?.duration, '720h0m0s');
    assert.equal(rp('faultline')?.default, true, 'raw windows go to the default policy');
    assert.equal(rp('faultline_hourly')?.duration, '43824h0m0s');
    const [cq] = await cqs('plant1');
    assert.equal(cq?.name, 'faultline_hourly_rollup');
    assert.match(
      cq.query,
      /INTO "?plant1"?\."?faultline_hourly"?\.:MEASUREMENT FROM "?plant1"?\."?faultline"?\./,
    );
    assert.match(cq.query, /GROUP BY time\(1h\), \*/);

    // a new duration is applied on the next open; the continuous query is kept
    const s2 = await open({
      username: 'root',
      password: 'root-pw',
      database: 'plant1',
      hourlyRetentionDuration: '3650d',
    });
    assert.deepEqual(s2.notices, []);
    const again = await admin.showRetentionPolicies('plant1');
    assert.equal(again.find((r) => r.name === 'faultline_hourly')?.duration, '87600h0m0s');
    assert.equal((await cqs('plant1')).length, 1);
  });

  test('as a read/write user: nothing created, a notice with the statements; once an admin ran them, it works', async () => {
    await admin.createDatabase('plant2');
    await admin.createUser('gw', 'gw-pw');
    // read and write on its database, nothing more: how the gateway should run (InfluxDB
    // privileges replace each other, so READ then WRITE would leave WRITE only)
    await admin.query('GRANT ALL ON "plant2" TO "gw"');
    const s = await open({ username: 'gw', password: 'gw-pw', database: 'plant2' });
    assert.equal(s.notices.length, 1);
    const notice = s.notices[0];
    assert.match(notice, /not an admin/);
    const statements = notice
      .slice(notice.indexOf('has to run: ') + 'has to run: '.length)
      .split('; ');
    assert.deepEqual(
      statements.map((x) => x.split(' ').slice(0, 3).join(' ')),
      ['CREATE RETENTION POLICY', 'CREATE RETENTION POLICY', 'CREATE CONTINUOUS QUERY'],
    );
    assert.equal((await admin.showRetentionPolicies('plant2')).length, 1, 'only autogen');
    await s.close();

    for (const st of statements) await admin.query(st);
    const t0 = seedStart();
    const ok = await open({ username: 'gw', password: 'gw-pw', database: 'plant2' });
    assert.deepEqual(ok.notices, [], 'everything is there now');
    await ok.writePoints(seedPoints(t0));
    assert.equal(ok.stats().queued, 0, 'written straight to the database');
    await ok.rollUp(t0, t0 + 3 * HOUR_MS);
    const r = await ok.history({
      machine: 'pump1',
      measures: { v: { measurement: MEASUREMENTS.vibration, field: 'velocity_rms_mm_s' } },
      since: t0,
      until: t0 + 3 * HOUR_MS,
      stepMs: HOUR_MS,
      source: 'hourly',
    });
    assert.deepEqual(
      r.series.v.map((b) => b.n),
      [60, 60, 60],
    );
  });
});
