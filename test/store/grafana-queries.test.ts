/**
 * The Grafana dashboard of docs/grafana against a real influxd holding the
 * gateway's own points (written through InfluxHistoryStore, the hourly
 * rollup run over them): every InfluxQL query of the dashboard — panels,
 * annotations, variables — with its variables and time macros substituted
 * as Grafana does, must parse and return rows, for one machine and for
 * several. The provisioning files must point at the dashboard's datasource.
 *
 * Skips without influxd (except with CI=true, where it fails).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { InfluxHistoryStore } from '../../src/store/influx.js';
import {
  type HistoryPoint,
  healthPoint,
  ingestPoint,
  probsPoint,
  vibrationPoint,
} from '../../src/store/types.js';
import { repoRoot } from '../support/gateway-fixture.js';
import { type Influxd, influxdSkip, startInfluxd } from '../support/influxd.js';

const skip = influxdSkip;

const grafanaDir = path.join(repoRoot, 'docs', 'grafana');
const HOUR = 3_600_000;
const NOW = Date.now();
/** Six whole hours of windows, one a minute, ending at the start of the current hour. */
const T0 = Math.floor(NOW / HOUR) * HOUR - 6 * HOUR;
const MACHINES = [
  { site: 't', machine: 'pump-1', sensor: '1' },
  { site: 't', machine: 'fan/2', sensor: '2' },
  // another site: the site variable must keep it out
  { site: 'elsewhere', machine: 'press-9', sensor: '1' },
];

interface Target {
  query: string;
  rawQuery?: boolean;
}
interface Panel {
  title: string;
  interval?: string;
  targets: Target[];
  datasource?: { uid?: string };
}
interface Dashboard {
  panels: Panel[];
  annotations: { list: { name: string; query?: string; datasource?: { uid?: string } }[] };
  templating: {
    list: { name: string; type: string; query: string; datasource?: { uid?: string } }[];
  };
}

/** Grafana's regex escaping of a variable's value inside `/^…$/`. */
const regexEscape = (v: string) => v.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

/** The query as Grafana sends it: constants, site and machine(s), $timeFilter, $__interval. */
function interpolate(
  q: string,
  d: Dashboard,
  o: { site: string; machines: string[]; interval: string; from: number; to: number },
): string {
  const vars: Record<string, string> = {
    site: regexEscape(o.site),
    machine:
      o.machines.length === 1
        ? regexEscape(o.machines[0])
        : `(${o.machines.map(regexEscape).join('|')})`,
    timeFilter: `time >= ${o.from}ms and time <= ${o.to}ms`,
    __interval: o.interval,
  };
  for (const v of d.templating.list) if (v.type === 'constant') vars[v.name] = v.query;
  const out = q.replace(/\$\{(\w+)\}|\$(\w+)/g, (all, a?: string, b?: string) => {
    const name = (a ?? b) as string;
    if (!Object.hasOwn(vars, name)) throw new Error(`unknown variable ${all} in ${q}`);
    return vars[name];
  });
  return out;
}

interface InfluxAnswer {
  results: {
    error?: string;
    series?: {
      name: string;
      tags?: Record<string, string>;
      columns: string[];
      values: unknown[][];
    }[];
  }[];
  error?: string;
}

describe('the Grafana dashboard on a real influxd with the gateway points', {
  skip,
  timeout: 120_000,
}, () => {
  let influxd: Influxd;
  let tmp: string;
  let store: InfluxHistoryStore;
  let dashboard: Dashboard;

  const query = async (q: string): Promise<InfluxAnswer> => {
    const url = `${influxd.url}/query?db=faultline&epoch=ms&q=${encodeURIComponent(q)}`;
    const res = await fetch(url);
    const body = (await res.json()) as InfluxAnswer;
    assert.equal(res.status, 200, `${q}: ${JSON.stringify(body)}`);
    return body;
  };
  const rows = (a: InfluxAnswer) =>
    (a.results[0]?.series ?? []).reduce((n, s) => n + s.values.length, 0);

  before(async () => {
    dashboard = JSON.parse(
      await readFile(path.join(grafanaDir, 'dashboards', 'faultline.json'), 'utf8'),
    );
    influxd = await startInfluxd();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'fl-grafana-'));
    store = await InfluxHistoryStore.open({ port: influxd.port, queueDir: path.join(tmp, 'q') });
    const points: HistoryPoint[] = [];
    MACHINES.forEach((w, k) => {
      for (let i = 0; i < 360; i++) {
        const t = T0 + i * 60_000;
        const v = 1 + k + (i % 10) / 10;
        points.push(
          vibrationPoint(w, t, {
            rmsG: 0.2,
            velocityRmsMmS: v,
            isoZone: v < 2.3 ? 'A' : 'B',
            rpm: 1797,
            peakG: 0.9,
            crestFactor: 4.5,
            kurtosis: 3 + i / 360,
            evidence: { score: 4, scores: { BPFO: 4, BPFI: 1.2, BSF: 1.1 } },
          }),
          probsPoint(w, t, { normal: 1 - i / 720, outer: i / 720 }),
        );
        if (i % 10 === 0)
          points.push(ingestPoint(w, t, { frames: 600, crcErrors: i % 3, gaps: 0, bytes: 9000 }));
      }
      points.push(
        healthPoint(w, T0, { state: 'ok', faultClass: 'normal', confidence: 0.9 }),
        healthPoint(w, T0 + 3 * HOUR, { state: 'warning', faultClass: 'outer', confidence: 0.8 }),
      );
    });
    await store.writePoints(points);
    const id = randomUUID();
    await store.writeAlert({
      id,
      site: 't',
      machine: 'pump-1',
      sensor: '1',
      state: 'warning',
      previousState: 'ok',
      faultClass: 'outer',
      confidence: 0.8,
      isoZone: 'B',
      velocityRmsMmS: 2.4,
      reason: 'fault p ≥ 0.70 in 3 of last 3 windows',
      modelVersion: 'v1',
      time: new Date(T0 + 3 * HOUR).toISOString(),
    });
    await store.ack(id, 'ann', 'checked on site');
    await store.rollUp(T0, T0 + 6 * HOUR);
  });

  after(async () => {
    await store?.close().catch(() => {});
    await influxd?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  test('every panel query is raw InfluxQL on the provisioned datasource', () => {
    assert.ok(dashboard.panels.length >= 8);
    for (const p of dashboard.panels) {
      assert.equal(p.datasource?.uid, 'faultline-influx', p.title);
      assert.ok(p.targets.length > 0, p.title);
      for (const t of p.targets) assert.equal(t.rawQuery, true, p.title);
    }
  });

  test('variables list the sites and that site’s machines', async () => {
    const opts = { site: 't', machines: ['pump-1'], interval: '10m', from: T0, to: NOW };
    const values = async (name: string) => {
      const v = dashboard.templating.list.find((x) => x.name === name);
      assert.ok(v, name);
      const a = await query(interpolate(v.query, dashboard, opts));
      assert.equal(a.results[0].error, undefined, v.query);
      return (a.results[0].series ?? []).flatMap((s) => s.values.map((r) => String(r[1]))).sort();
    };
    assert.deepEqual(await values('site'), ['elsewhere', 't']);
    assert.deepEqual(await values('machine'), ['fan/2', 'pump-1']);
  });

  test('every panel and annotation query parses and returns rows, for one machine and for two', async () => {
    const queries: { what: string; q: string; interval?: string }[] = [
      ...dashboard.panels.flatMap((p) =>
        p.targets.map((t) => ({ what: `panel "${p.title}"`, q: t.query, interval: p.interval })),
      ),
      ...dashboard.annotations.list
        .filter((a) => a.query)
        .map((a) => ({ what: `annotation "${a.name}"`, q: a.query as string })),
    ];
    assert.ok(queries.length >= 12, `${queries.length} queries`);
    for (const machines of [['pump-1'], ['pump-1', 'fan/2']]) {
      for (const { what, q, interval } of queries) {
        const sent = interpolate(q, dashboard, {
          site: 't',
          machines,
          interval: interval ?? '10m',
          from: T0 - HOUR,
          to: NOW + 60_000,
        });
        // the data arrive through the store's write path: give influxd a moment to have them all
        const a = await (async () => {
          const deadline = Date.now() + 30_000;
          for (;;) {
            const r = await query(sent);
            if (rows(r) > 0 || r.results[0]?.error || Date.now() > deadline) return r;
            await new Promise((res) => setTimeout(res, 200));
          }
        })();
        assert.equal(a.results[0]?.error, undefined, `${what}: ${sent}`);
        assert.ok(rows(a) > 0, `${what} returned no rows: ${sent}`);
        const machinesSeen = new Set(
          (a.results[0].series ?? []).map((s) => s.tags?.machine).filter(Boolean),
        );
        for (const m of machinesSeen)
          assert.ok(machines.includes(m as string), `${what}: ${m} leaked in`);
      }
    }
  });

  test('the hourly panel agrees with the raw windows: mean of each hour is sum / count', async () => {
    const panel = dashboard.panels.find((p) => /hourly/.test(p.title));
    assert.ok(panel);
    const opts = {
      site: 't',
      machines: ['pump-1'],
      interval: '1h',
      from: T0,
      to: T0 + 6 * HOUR - 1,
    };
    const hourly = await query(interpolate(panel.targets[0].query, dashboard, opts));
    const [series] = hourly.results[0].series ?? [];
    assert.ok(series, JSON.stringify(hourly));
    const col = (n: string) => series.columns.indexOf(n);
    assert.equal(series.values.length, 6);
    for (const r of series.values) {
      // minutes 0…59 of an hour: velocity 1 + (i % 10) / 10 → mean 1.45, min 1, max 1.9
      assert.ok(Math.abs(Number(r[col('mean')]) - 1.45) < 1e-9, JSON.stringify(r));
      assert.ok(Math.abs(Number(r[col('min')]) - 1) < 1e-9);
      assert.ok(Math.abs(Number(r[col('max')]) - 1.9) < 1e-9);
    }
  });

  test('provisioning: the datasource the dashboard names, its database, the dashboards folder', async () => {
    const ds = parseYaml(
      await readFile(
        path.join(grafanaDir, 'provisioning', 'datasources', 'faultline.yaml'),
        'utf8',
      ),
    ) as {
      apiVersion: number;
      datasources: { uid: string; type: string; jsonData: { dbName: string } }[];
    };
    assert.equal(ds.apiVersion, 1);
    const [source] = ds.datasources;
    assert.equal(source.uid, 'faultline-influx');
    assert.equal(source.type, 'influxdb');
    const database = dashboard.templating.list.find((v) => v.name === 'database');
    assert.equal(source.jsonData.dbName, database?.query);
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query'))
      assert.equal(v.datasource?.uid, source.uid, v.name);
    const prov = parseYaml(
      await readFile(path.join(grafanaDir, 'provisioning', 'dashboards', 'faultline.yaml'), 'utf8'),
    ) as { apiVersion: number; providers: { type: string; options: { path: string } }[] };
    assert.equal(prov.apiVersion, 1);
    assert.equal(prov.providers[0].type, 'file');
    assert.match(
      await readFile(path.join(grafanaDir, 'README.md'), 'utf8'),
      new RegExp(prov.providers[0].options.path),
    );
  });
});
