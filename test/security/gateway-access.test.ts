/**
 * Access to a whole gateway (in this process): its embedded broker with
 * accounts and TLS, its HTTP/WebSocket API, and acknowledgements.
 *
 * - the gateway's own clients and the simulated fleet work over the
 *   embedded broker's TLS with the gateway account; an anonymous client is
 *   refused;
 * - state-changing requests and the WebSocket upgrade from another Origin
 *   are refused (403) even with the cookie; `?token=` counts only on `/`
 *   and `/api/stream`; a malformed cookie is a 401;
 * - http.tls serves HTTPS; plain HTTP off loopback warns;
 * - an ack naming an alert of another machine than its topic (or none) is
 *   dropped; the first ack stands, later ones are appended; a store failure
 *   answers 503, not 200.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import type { Alert } from '../../src/contract/alert.js';
import { startApi } from '../../src/daemon/api.js';
import { parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import type { SqliteHistoryStore } from '../../src/store/sqlite.js';
import { FAST_ALERTS, quiet, simModelDir, until } from '../support/gateway-fixture.js';
import { makeTestPki, type TestPki } from '../support/tls.js';

const PW = { gw: 'pw-gateway-0123', s1: 'pw-sensor-1', con: 'pw-console-1' };
let dir: string;
let pki: TestPki;
let gw: Gateway;
let ca: Buffer;
const clients: MqttClient[] = [];

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-sec-gwaccess-'));
  pki = await makeTestPki(dir);
  ca = await readFile(pki.ca);
  gw = await Gateway.start({
    config: parseConfig({
      site: 'ga',
      gatewayId: 'gw-access',
      stateDir: path.join(dir, 'state'),
      model: await simModelDir(),
      machines: [
        {
          id: 'ok-1',
          sensors: [{ id: 1, sampleRate: 12_000 }],
          simulate: { fault: 'none', seed: 31 },
        },
        {
          id: 'bad-2',
          sensors: [{ id: 2, sampleRate: 12_000 }],
          simulate: { fault: 'outer', severity: 0.8, seed: 32 },
        },
      ],
      alerts: FAST_ALERTS,
      broker: {
        port: 0,
        username: 'gw',
        password: PW.gw,
        users: [
          { username: 's1', password: PW.s1, role: 'sensor', sensors: [1] },
          { username: 'con', password: PW.con, role: 'console' },
        ],
        tls: { certPath: pki.serverCert, keyPath: pki.serverKey },
        caPath: pki.ca,
      },
      http: { port: 0 },
      pipeline: { workers: 1 },
      fleet: { speed: 2 },
    }),
    log: quiet,
  });
});

after(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => undefined);
  await gw?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const api = (route: string, init: RequestInit = {}, token: string | null = gw.token) =>
  fetch(`${gw.apiUrl}${route}`, {
    ...init,
    headers: {
      ...(init.body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.headers as Record<string, string> | undefined),
    },
  });

const alertsOf = async (machine: string) =>
  (await (await api(`/api/alerts?machine=${machine}`)).json()) as Alert[];

async function mqttClient(user?: keyof typeof PW): Promise<MqttClient> {
  const c = await mqtt.connectAsync(gw.brokerUrl, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 30_000,
    ca,
    ...(user ? { username: user, password: PW[user] } : {}),
  });
  clients.push(c);
  return c;
}

test('the gateway runs on its own TLS broker with accounts; anonymous clients are refused', {
  timeout: 300_000,
}, async () => {
  assert.match(gw.brokerUrl, /^mqtts:\/\//);
  await until(
    'both machines receiving frames over the TLS broker',
    () => gw.health().broker.connected && gw.machines().every((m) => (m.ingest?.frames ?? 0) > 0),
    180_000,
  );
  const anon = await mqttClient().then(
    () => 'connected',
    (e: Error) => e.message,
  );
  assert.match(anon, /Bad username or password|Not authorized/i);
  assert.doesNotMatch(JSON.stringify(gw.health()), new RegExp(PW.gw));
});

test('another Origin cannot post or open the stream; the own Origin and no Origin can', async () => {
  const host = new URL(gw.apiUrl).host;
  const cookie = `faultline_token=${encodeURIComponent(gw.token)}`;
  const ack = (headers: Record<string, string>) =>
    api(
      '/api/alerts/00000000-0000-8000-8000-000000000000/ack',
      { method: 'POST', body: JSON.stringify({ by: 'mallory' }), headers },
      null,
    );
  const evil = await ack({ cookie, origin: 'https://evil.example' });
  assert.equal(evil.status, 403);
  assert.equal(((await evil.json()) as { error: string }).error, 'FL_ERR_API_ORIGIN');
  assert.equal((await ack({ cookie, origin: 'null' })).status, 403);
  // same origin, and a script without an Origin: past the check (404: no such alert)
  assert.equal((await ack({ cookie, origin: `http://${host}` })).status, 404);
  assert.equal((await ack({ cookie })).status, 404);

  const open = (origin?: string) =>
    new Promise<string>((resolve) => {
      const ws = new WebSocket(`${gw.apiUrl.replace('http', 'ws')}/api/stream`, {
        headers: { cookie, ...(origin ? { origin } : {}) },
      });
      ws.once('open', () => {
        ws.close();
        resolve('open');
      });
      ws.once('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode}`));
      ws.once('error', (e) => resolve(`error ${e.message}`));
    });
  assert.equal(await open('https://evil.example'), 'refused 403');
  assert.equal(await open(`http://${host}`), 'open');
});

test('?token= counts only on / and /api/stream; a malformed cookie is a 401', async () => {
  const t = encodeURIComponent(gw.token);
  assert.equal((await api(`/api/machines?token=${t}`, {}, null)).status, 401);
  assert.match(
    (await api(`/?token=${t}`, {}, null)).headers.get('set-cookie') ?? '',
    /faultline_token=/,
  );
  const stream = await new Promise<string>((resolve) => {
    const ws = new WebSocket(`${gw.apiUrl.replace('http', 'ws')}/api/stream?token=${t}`);
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode}`));
  });
  assert.equal(stream, 'open');
  for (const bad of ['%E0%A4%A', '%', '%zz']) {
    const r = await api('/api/machines', { headers: { cookie: `faultline_token=${bad}` } }, null);
    assert.equal(r.status, 401, `cookie ${bad}`);
  }
});

test('http.tls serves HTTPS; plain HTTP off loopback warns', async () => {
  const warnings: string[] = [];
  const secure = await startApi(gw, {
    host: '127.0.0.1',
    port: 0,
    token: gw.token,
    tls: { certPath: pki.serverCert, keyPath: pki.serverKey },
    log: (m) => warnings.push(m),
  });
  try {
    assert.match(secure.url, /^https:\/\/localhost:\d+$/);
    const status = await new Promise<number>((resolve, reject) => {
      https
        .get(`${secure.url}/healthz`, { ca }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
    assert.equal(status, 200);
  } finally {
    await secure.close();
  }
  assert.equal(warnings.length, 0);
  const plain = await startApi(gw, {
    host: '0.0.0.0',
    port: 0,
    token: gw.token,
    log: (m) => warnings.push(m),
  });
  await plain.close();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /plain HTTP on 0\.0\.0\.0.*http\.tls/);
});

test('acks: a forged one is dropped, the first stands, later ones are appended, a store error is a 503', {
  timeout: 300_000,
}, async () => {
  const alerts = await until(
    'two alerts of bad-2',
    async () => {
      const a = await alertsOf('bad-2');
      return a.length >= 2 ? a : undefined;
    },
    240_000,
  );
  const [a0, a1] = alerts;
  const con = await mqttClient('con');
  const received = () => gw.health().alerts.acks;
  // forged: bad-2's alert acked on ok-1's topic, and an id that names no alert
  const before = received();
  await con.publishAsync('faultline/ga/ok-1/alert/ack', JSON.stringify({ id: a0.id, by: 'eve' }), {
    qos: 1,
  });
  await con.publishAsync(
    'faultline/ga/bad-2/alert/ack',
    JSON.stringify({ id: '00000000-0000-8000-8000-00000000beef', by: 'eve' }),
    { qos: 1 },
  );
  await until('both forged acks received', () => received() >= before + 2);
  // a positive control after them on the same connection: the right machine's topic
  await con.publishAsync('faultline/ga/bad-2/alert/ack', JSON.stringify({ id: a1.id, by: 'bo' }), {
    qos: 1,
  });
  await until('the control ack stored', async () =>
    (await alertsOf('bad-2')).find((a) => a.id === a1.id)?.acknowledged?.by === 'bo'
      ? true
      : undefined,
  );
  assert.equal((await alertsOf('bad-2')).find((a) => a.id === a0.id)?.acknowledged, undefined);

  // the first ack stands: a later API ack and a later MQTT ack do not overwrite it
  const first = await api(`/api/alerts/${a0.id}/ack`, {
    method: 'POST',
    body: JSON.stringify({ by: 'ana', comment: 'bearing ordered' }),
  });
  assert.equal(first.status, 200);
  assert.equal(((await first.json()) as Alert).acknowledged?.by, 'ana');
  const second = await api(`/api/alerts/${a0.id}/ack`, {
    method: 'POST',
    body: JSON.stringify({ by: 'carl' }),
  });
  assert.equal(second.status, 200);
  assert.equal(((await second.json()) as Alert).acknowledged?.by, 'ana');
  const n = received();
  await con.publishAsync('faultline/ga/bad-2/alert/ack', JSON.stringify({ id: a0.id, by: 'dan' }), {
    qos: 1,
  });
  const store = (gw as unknown as { parts: { store: SqliteHistoryStore } }).parts.store;
  await until('the later MQTT ack appended', () =>
    received() > n && store.ackHistory(a0.id).length === 3 ? true : undefined,
  );
  assert.deepEqual(
    store.ackHistory(a0.id).map((k) => k.by),
    ['ana', 'carl', 'dan'],
  );
  const now = (await alertsOf('bad-2')).find((a) => a.id === a0.id);
  assert.equal(now?.acknowledged?.by, 'ana');
  assert.equal(now?.acknowledged?.comment, 'bearing ordered');

  // the store fails under the API: 503 with the store's code, never 200
  await store.close();
  const failed = await api(`/api/alerts/${a1.id}/ack`, {
    method: 'POST',
    body: JSON.stringify({ by: 'fay' }),
  });
  assert.equal(failed.status, 503);
  assert.equal(((await failed.json()) as { error: string }).error, 'FL_ERR_STORE_CLOSED');
});
