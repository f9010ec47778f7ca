/**
 * Alarm handling through a real in-process gateway on loopback (embedded
 * broker, SQLite, API, the simulated fleet publishing two faulty machines
 * over MQTT at twice real time, the cached simulator model): webhook
 * notifications to a real node:http receiver checking the signature,
 * shelving (a shelved faulty machine is diagnosed and stored but raises no
 * alert, no notification; shown as shelved on the view and the state topic;
 * audited in the store), a shelf running out by itself, and the alarm-rate
 * figures of GET /api/gateway.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { type AlarmRate, shelveResultSchema } from '../../src/contract/alarms.js';
import type { Alert, HealthStatePayload } from '../../src/contract/alert.js';
import { gatewayHealthSchema, type HistoryAnswer } from '../../src/contract/api.js';
import { type MachineView, machineViewSchema } from '../../src/contract/machine.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import {
  type ObservedMessage,
  observeSite,
  quiet,
  simModelDir,
  streamFleet,
  until,
} from '../support/gateway-fixture.js';

const SECRET = 'gateway-webhook-secret-42';
let dir: string;
let gw: Gateway;
let sub: MqttClient;
let hook: http.Server;
const hooked: { alert: Alert; valid: boolean }[] = [];
const received: ObservedMessage[] = [];

function input(stateDir: string, model: string, hookUrl: string): GatewayConfigInput {
  return {
    site: 's',
    gatewayId: 'gw-alarms',
    stateDir,
    model,
    machines: [
      {
        id: 'shelved-1',
        sensors: [{ id: 1, sampleRate: 12000 }],
        simulate: { fault: 'outer', severity: 0.8, seed: 41 },
        // the states must hold after the fleet stops (no `silent` while the test looks)
        silentAfterS: 3600,
      },
      {
        id: 'live-2',
        sensors: [{ id: 2, sampleRate: 12000 }],
        simulate: { fault: 'outer', severity: 0.8, seed: 42 },
        silentAfterS: 3600,
      },
    ],
    notify: { webhook: { url: hookUrl, secret: SECRET }, retryInitialMs: 100 },
    broker: { port: 0 },
    http: { port: 0 },
    pipeline: { workers: 1 },
  };
}

async function api<T>(route: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${gw.apiUrl}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${gw.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as T };
}

const machine = async (id: string) => (await api<MachineView>(`/api/machines/${id}`)).json;
const alertsOn = (id: string) =>
  received.filter((r) => r.topic === `faultline/s/${id}/alert`).map((r) => r.payload as Alert);
const lastState = (id: string) =>
  received.filter((r) => r.topic === `faultline/s/${id}/state`).at(-1)?.payload as
    | HealthStatePayload
    | undefined;
const alarmRate = async () => {
  const h = (await api<{ alarmRate: AlarmRate }>('/api/gateway')).json;
  gatewayHealthSchema.parse(h);
  return h.alarmRate;
};

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-alarms-'));
  hook = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const ts = String(req.headers['x-faultline-timestamp']);
      const want = `sha256=${createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`;
      const valid = req.headers['x-faultline-signature'] === want;
      hooked.push({ alert: JSON.parse(body) as Alert, valid });
      res.statusCode = valid ? 200 : 401;
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/faultline`;
  gw = await Gateway.start({
    config: parseConfig(input(path.join(dir, 'state'), await simModelDir(), hookUrl)),
    fleet: false,
    log: quiet,
  });
  sub = await observeSite(gw, 's', received);
});

after(async () => {
  await sub?.endAsync();
  await gw?.close();
  await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
  await rm(dir, { recursive: true, force: true });
});

test('shelve: bad bodies and unknown machines are refused', async () => {
  const bad = [
    { by: 'ana', reason: 'x' },
    { by: 'ana', reason: 'x', durationS: 60, until: new Date(Date.now() + 60_000).toISOString() },
    { by: '', reason: 'x', durationS: 60 },
    { by: 'ana', reason: 'x', durationS: 31 * 86_400 },
    { by: 'ana', reason: 'x', until: new Date(Date.now() - 60_000).toISOString() },
    { by: 'ana', reason: 'x', durationS: 60, extra: 1 },
  ];
  for (const body of bad) {
    const r = await api<{ error: string }>('/api/machines/shelved-1/shelve', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.error, 'FL_ERR_API_REQUEST');
  }
  const r = await api<{ error: string }>('/api/machines/nope/shelve', {
    by: 'ana',
    reason: 'x',
    durationS: 60,
  });
  assert.equal(r.status, 404);
  assert.equal((await api('/api/machines/nope/unshelve', { by: 'ana' })).status, 404);
  assert.equal((await machine('shelved-1')).shelved, null, 'nothing shelved');
});

test('a shelved faulty machine is diagnosed and stored but raises no alert or notification', async () => {
  const r = await api('/api/machines/shelved-1/shelve', {
    by: 'ana',
    reason: 'bearing swap',
    durationS: 3600,
  });
  assert.equal(r.status, 200);
  const res = shelveResultSchema.parse(r.json);
  assert.equal(res.shelved?.by, 'ana');
  const view = machineViewSchema.parse(await machine('shelved-1'));
  assert.equal(view.shelved?.reason, 'bearing swap');
  await until('the shelf on the state topic', () => lastState('shelved-1')?.shelved?.by === 'ana');

  await streamFleet(gw, 's', 16);

  // the live machine alerts, over MQTT and the signed webhook
  await until('a live-2 alert on MQTT', () => alertsOn('live-2').length > 0);
  await until('a live-2 webhook', () => hooked.some((h) => h.alert.machine === 'live-2'));
  assert.ok(
    hooked.every((h) => h.valid),
    'every webhook is signed with the secret',
  );
  // the shelved one went into a fault state all the same, silently
  const shelved = await until('shelved-1 in warning or alarm', async () => {
    const m = await machine('shelved-1');
    return m.state === 'warning' || m.state === 'alarm' ? m : undefined;
  });
  assert.equal(shelved.shelved?.by, 'ana');
  assert.equal(shelved.faultClass, 'outer race');
  assert.deepEqual(alertsOn('shelved-1'), [], 'no MQTT alert');
  assert.ok(!hooked.some((h) => h.alert.machine === 'shelved-1'), 'no notification');
  const stored = await api<Alert[]>('/api/alerts?machine=shelved-1');
  assert.deepEqual(stored.json, [], 'no alert in the store');
  // its windows are stored
  const history = await until('shelved-1 windows in the store', async () => {
    const h = (await api<HistoryAnswer>('/api/machines/shelved-1/history?measure=velocity_rms'))
      .json;
    const buckets = Object.values(h.series)[0] ?? [];
    return buckets.length > 0 ? h : undefined;
  });
  assert.ok(history.series);
  // and its state topic says so
  const st = lastState('shelved-1');
  assert.ok(st?.state === 'warning' || st?.state === 'alarm', `state ${st?.state}`);
  assert.equal(st?.shelved?.until, shelved.shelved?.until);

  const health = (await api<{ notify: { kind: string; delivered: number }[] }>('/api/gateway'))
    .json;
  assert.equal(health.notify[0].kind, 'webhook');
  assert.ok(health.notify[0].delivered >= 1);
});

test('alarm rates: the live machine counts, the shelved one does not; an ack ends the standing alarm', async () => {
  const rate = await until('live-2 counted', async () => {
    const a = await alarmRate();
    return a.machines['live-2'].last24h > 0 ? a : undefined;
  });
  const annunciated = alertsOn('live-2').filter(
    (a) => a.state === 'warning' || a.state === 'alarm',
  );
  assert.equal(rate.machines['live-2'].last24h, annunciated.length);
  assert.equal(rate.machines['shelved-1'].last24h, 0);
  assert.equal(rate.machines['shelved-1'].standing, 0, 'shelved: not standing');
  assert.equal(rate.site.last24h, annunciated.length);
  assert.equal(rate.site.perDay7d, Math.round((annunciated.length / 7) * 100) / 100);
  const live = await machine('live-2');
  const latest = (await api<Alert[]>('/api/alerts?machine=live-2&limit=1')).json[0];
  assert.equal(latest.state, live.state, 'the latest alert announced the current state');
  assert.equal(rate.machines['live-2'].standing, 1);
  assert.equal((await api(`/api/alerts/${latest.id}/ack`, { by: 'ben' })).status, 200);
  await until('no standing alarm', async () => (await alarmRate()).site.standing === 0);
});

test('unshelve by hand, and a shelf that runs out by itself; both audited in the store', async () => {
  const r = await api<{ shelved: unknown }>('/api/machines/shelved-1/unshelve', { by: 'ana' });
  assert.equal(r.status, 200);
  assert.equal(r.json.shelved, null);
  assert.equal((await machine('shelved-1')).shelved, null);
  await until('unshelved on the state topic', () => lastState('shelved-1')?.shelved === null);

  assert.equal(
    (await api('/api/machines/live-2/shelve', { by: 'carl', reason: 'quick check', durationS: 1 }))
      .status,
    200,
  );
  assert.equal((await machine('live-2')).shelved?.by, 'carl');
  await until('live-2 unshelved by itself', async () => (await machine('live-2')).shelved === null);
  await until('expiry on the state topic', () => lastState('live-2')?.shelved === null);

  const db = new Database(path.join(dir, 'state', 'history.db'), { readonly: true });
  try {
    const events = await until('four audit events stored', () => {
      const rows = db
        .prepare(
          "SELECT machine, tags, fields FROM points WHERE measurement = 'events' ORDER BY time_ms",
        )
        .all() as { machine: string; tags: string; fields: string }[];
      return rows.length >= 4 ? rows : undefined;
    });
    const seen = events.map((e) => {
      const tags = JSON.parse(e.tags) as { kind: string };
      const fields = JSON.parse(e.fields) as { by: string; reason: string };
      return [e.machine, tags.kind, fields.by, fields.reason];
    });
    assert.deepEqual(seen, [
      ['shelved-1', 'shelve', 'ana', 'bearing swap'],
      ['shelved-1', 'unshelve', 'ana', 'bearing swap'],
      ['live-2', 'shelve', 'carl', 'quick check'],
      ['live-2', 'unshelve', 'expiry', 'quick check'],
    ]);
  } finally {
    db.close();
  }
});
