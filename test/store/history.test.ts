/**
 * History queries (min/mean/max per time bucket) and the hourly rollup, the
 * same tests (./history-suite.ts) on both stores: SQLite in a temp file and
 * InfluxDB on a real influxd (skipped only when influxd is not installed,
 * never under CI=true).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe } from 'node:test';
import { InfluxHistoryStore } from '../../src/store/influx.js';
import { SqliteHistoryStore } from '../../src/store/sqlite.js';
import { type Influxd, influxdSkip, startInfluxd } from '../support/influxd.js';
import { type HistoryBackend, historySuite, seedPoints, seedStart } from './history-suite.js';

const skipInflux = influxdSkip;
const DAY = 86_400_000;
const t0 = seedStart();

describe('history on SQLite', () => {
  let dir: string;
  let b: HistoryBackend;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fl-history-sqlite-'));
    const store = new SqliteHistoryStore({ file: path.join(dir, 'h.db'), pointRetentionMs: DAY });
    await store.writePoints(seedPoints(t0));
    b = {
      store,
      rawRetentionMs: DAY,
      // the SQLite store rolls up completed hours itself; this makes it happen now
      rollUp: async () => void store.rollUp(),
    };
  });
  after(async () => {
    await b?.store.close();
    await rm(dir, { recursive: true, force: true });
  });
  historySuite(
    () => b,
    () => t0,
  );
});

describe('history on InfluxDB', { skip: skipInflux, timeout: 120_000 }, () => {
  let influxd: Influxd;
  let dir: string;
  let b: HistoryBackend;
  before(async () => {
    influxd = await startInfluxd();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fl-history-influx-'));
    const store = await InfluxHistoryStore.open({
      port: influxd.port,
      queueDir: path.join(dir, 'q'),
      retentionDuration: '1d',
    });
    await store.writePoints(seedPoints(t0));
    b = {
      store,
      rawRetentionMs: DAY,
      // the test influxd runs no continuous queries (they fire on the hour): backfill instead
      rollUp: (since, until) => store.rollUp(since, until),
    };
  });
  after(async () => {
    await b?.store.close();
    await influxd?.stop();
    await rm(dir, { recursive: true, force: true });
  });
  historySuite(
    () => b,
    () => t0,
  );
});
