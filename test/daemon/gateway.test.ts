/**
 * The gateway end to end on loopback: embedded aedes broker, a simulated
 * fleet of one healthy and one faulty machine publishing frames over MQTT
 * (twice real time), a model trained here on simulator data, the SQLite
 * store and the API on free ports.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import type { Alert } from '../../src/alerts/schema.js';
import { mqtt311Connect } from '../../src/daemon/broker.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { SimulatedFleet } from '../../src/daemon/fleet.js';
import { Gateway, type MachineView } from '../../src/daemon/gateway.js';
import { trainSimModel } from '../../src/daemon/sim-model.js';
import { isFaultlineError } from '../../src/errors.js';

let dir: string;
let modelDir: string;
let gw: Gateway;
let sub: MqttClient;
const received: { topic: string; payload: unknown; retain: boolean }[] = [];
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

function input(stateDir: string): GatewayConfigInput {
  return {
    site: 't',
    gatewayId: 'gw-test',
    stateDir,
    model: modelDir,
    machines: [
      {
        id: 'healthy-1',
        sensors: [{ id: 1, sampleRate: 12000 }],
        simulate: { fault: 'none', seed: 21 },
      },
      {
        id: 'faulty-2',
        sensors: [{ id: 2, sampleRate: 12000 }],
        simulate: { fault: 'outer', severity: 0.8, seed: 22 },
      },
    ],
    broker: { port: 0 },
    http: { port: 0 },
    fleet: { speed: 2 },
    pipeline: { workers: 1 },
  };
}

async function api(
  route: string,
  init: RequestInit & { token?: string | null } = {},
): Promise<Response> {
  const token = init.token === undefined ? gw.token : init.token;
  const headers: Record<string, string> = {
    ...(init.body ? { 'content-type': 'application/json' } : {}),
  };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(`${gw.apiUrl}${route}`, { ...init, headers });
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-gateway-'));
  modelDir = path.join(dir, 'model');
  await trainSimModel(modelDir); // the demo's model (≈ 20 s): a weaker quick model flags healthy machines
  const configFile = path.join(dir, 'gateway.json');
  await writeFile(configFile, JSON.stringify(input(path.join(dir, 'state'))));
  gw = await Gateway.start({
    config: parseConfig(input(path.join(dir, 'state'))),
    configFile,
    fleet: false,
    log: quiet,
  });
  // subscribe before the sensors start, so no alert can be missed
  sub = mqtt311Connect(gw.brokerUrl, { clientId: 'observer', reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    sub.once('connect', () => resolve());
    sub.once('error', reject);
  });
  sub.on('message', (topic, payload, packet) => {
    if (topic.endsWith('/raw')) return; // sensor frames are binary
    received.push({ topic, payload: JSON.parse(payload.toString()), retain: packet.retain });
  });
  await sub.subscribeAsync('faultline/t/#', { qos: 1 });
  const fleet = await SimulatedFleet.start({
    site: 't',
    machines: gw.config.machines,
    link: { url: gw.brokerUrl, connect: mqtt311Connect },
    speed: 2,
    durationS: 16,
    log: () => {},
  });
  await fleet.done();
});

after(async () => {
  await sub?.endAsync();
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

test('the API refuses requests without or with a wrong token, and serves them with it', async () => {
  assert.equal((await api('/api/machines', { token: null })).status, 401);
  const wrong = await api('/api/machines', { token: 'x'.repeat(40) });
  assert.equal(wrong.status, 401);
  assert.equal(((await wrong.json()) as { error: string }).error, 'FL_ERR_API_AUTH');
  assert.equal((await api('/api/gateway', { token: null })).status, 401);
  assert.equal((await fetch(`${gw.apiUrl}/api/machines?token=nope`)).status, 401);
  assert.equal((await api('/api/machines')).status, 200);
  assert.equal(
    (await fetch(`${gw.apiUrl}/api/machines?token=${encodeURIComponent(gw.token)}`)).status,
    200,
  );
  assert.equal((await fetch(`${gw.apiUrl}/healthz`)).status, 200, 'healthz needs no token');
  const doc = (await (await api('/api/openapi.json')).json()) as {
    openapi: string;
    paths: Record<string, unknown>;
  };
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(doc.paths['/api/machines'] && doc.paths['/api/alerts/{id}/ack']);
});

test('GET /api/machines: the faulty machine is in warning or alarm with evidence, the healthy one ok', async () => {
  const machines = (await (await api('/api/machines')).json()) as MachineView[];
  const byId = Object.fromEntries(machines.map((m) => [m.id, m]));
  assert.deepEqual(Object.keys(byId).sort(), ['faulty-2', 'healthy-1']);
  const f = byId['faulty-2'];
  assert.ok(f.state === 'warning' || f.state === 'alarm', `faulty-2 is ${f.state}`);
  assert.equal(f.faultClass, 'outer race');
  assert.ok(f.diagnosis && f.diagnosis.probs.outer > 0.5, `p(outer) ${f.diagnosis?.probs.outer}`);
  assert.equal(f.diagnosis?.rpm, 1797);
  assert.ok(f.evidence, 'evidence present');
  assert.ok(f.ingest.frames > 300, `frames ${f.ingest.frames}`);
  assert.match(f.model?.version ?? '', /^v1-/);
  const h = byId['healthy-1'];
  assert.equal(h.state, 'ok');
  assert.equal(h.diagnosis?.faultClass, 'normal');
  const one = (await (await api('/api/machines/faulty-2')).json()) as MachineView;
  assert.equal(one.id, 'faulty-2');
  assert.equal((await api('/api/machines/nope')).status, 404);
  const health = (await (await api('/api/gateway')).json()) as {
    broker: { connected: boolean };
    store: { kind: string };
    pipeline: { windowsOut: number };
  };
  assert.equal(health.broker.connected, true);
  assert.equal(health.store.kind, 'sqlite');
  assert.ok(health.pipeline.windowsOut > 100);
});

test('alerts go out over MQTT for the faulty machine only, with retained state and presence', async () => {
  const alerts = await until('an alert of faulty-2', () => {
    const a = received.filter((m) => m.topic === 'faultline/t/faulty-2/alert');
    return a.length > 0 ? a : undefined;
  });
  const first = alerts[0].payload as Alert;
  assert.equal(first.machine, 'faulty-2');
  assert.ok(['watch', 'warning', 'alarm'].includes(first.state));
  assert.equal(first.faultClass, 'outer race');
  assert.equal(
    received.filter((m) => m.topic === 'faultline/t/healthy-1/alert').length,
    0,
    'no alert for the healthy machine',
  );
  assert.ok(
    received.some(
      (m) =>
        m.topic === 'faultline/t/gateway/gw-test/status' &&
        (m.payload as { status: string }).status === 'online',
    ),
  );
  assert.ok(received.some((m) => m.topic === 'faultline/t/healthy-1/state'));
  // and the store has them
  const stored = (await (await api('/api/alerts?machine=faulty-2')).json()) as Alert[];
  assert.ok(stored.some((a) => a.id === first.id));
  assert.equal(((await (await api('/api/alerts?machine=healthy-1')).json()) as Alert[]).length, 0);
  const future = (await (
    await api(
      `/api/alerts?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
    )
  ).json()) as Alert[];
  assert.equal(future.length, 0);
  assert.equal((await api('/api/alerts?since=yesterday')).status, 400);
});

test('acknowledgements over the API and over MQTT are recorded in the store', async () => {
  const stored = (await (await api('/api/alerts?machine=faulty-2')).json()) as Alert[];
  assert.ok(stored.length >= 1);
  const res = await api(`/api/alerts/${stored[0].id}/ack`, {
    method: 'POST',
    body: JSON.stringify({ by: 'ana', comment: 'checking' }),
  });
  assert.equal(res.status, 200);
  const acked = (await res.json()) as Alert;
  assert.equal(acked.acknowledged?.by, 'ana');
  assert.equal(acked.acknowledged?.comment, 'checking');
  assert.equal(
    (await api(`/api/alerts/${stored[0].id}/ack`, { method: 'POST', body: JSON.stringify({}) }))
      .status,
    400,
  );
  assert.equal(
    (
      await api('/api/alerts/00000000-0000-8000-8000-000000000000/ack', {
        method: 'POST',
        body: JSON.stringify({ by: 'x' }),
      })
    ).status,
    404,
  );
  if (stored.length > 1) {
    await sub.publishAsync(
      'faultline/t/faulty-2/alert/ack',
      JSON.stringify({ id: stored[1].id, by: 'ben' }),
      { qos: 1 },
    );
    await until(
      'the MQTT ack in the store',
      async () => {
        const a = (await (await api('/api/alerts?machine=faulty-2')).json()) as Alert[];
        return a.find((x) => x.id === stored[1].id)?.acknowledged?.by === 'ben' ? true : undefined;
      },
      5000,
    );
  }
});

test('rollback without an earlier version is refused; unknown machines are 404', async () => {
  const r = await api('/api/machines/faulty-2/rollback', { method: 'POST' });
  assert.equal(r.status, 400);
  assert.match(((await r.json()) as { message: string }).message, /no earlier model version/);
  assert.equal((await api('/api/machines/nope/rollback', { method: 'POST' })).status, 404);
  assert.equal((await api('/api/machines/nope/adapt', { method: 'POST', body: '{}' })).status, 404);
  assert.equal(
    (
      await api('/api/machines/faulty-2/adapt', {
        method: 'POST',
        body: JSON.stringify({ strategy: 'magic' }),
      })
    ).status,
    400,
  );
});

test('reload keeps the running configuration when the file is bad, takes a good one', async () => {
  const file = gw.configFile as string;
  await writeFile(file, '{"machines": [{"id": "x", "sensors": [{"id": 1, "sampleRate": -1}]}]}');
  assert.equal(await gw.reload(), false);
  assert.equal(gw.config.machines.length, 2, 'old configuration kept');
  const h = (await (await api('/api/gateway')).json()) as {
    reload: { ok: boolean; error: string };
  };
  assert.equal(h.reload.ok, false);
  assert.match(
    h.reload.error,
    /machines\[0\]\.sensors\[0\]\.sampleRate: expected a positive number/,
  );
  await writeFile(file, JSON.stringify({ ...input(gw.stateDir), alerts: { windows: 6 } }));
  assert.equal(await gw.reload(), true);
  assert.equal(gw.config.alerts.windows, 6);
  assert.ok(Object.isFrozen(gw.config));
});

test('a port already in use is a clear FL_ERR_CONFIG naming the setting', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const cfg = { ...input(path.join(dir, 'state2')), broker: { port } };
    await assert.rejects(
      Gateway.start({ config: parseConfig(cfg), fleet: false, log: quiet }),
      (e) =>
        isFaultlineError(e, 'FL_ERR_CONFIG') &&
        /already in use/.test(e.message) &&
        /`broker\.port`/.test(e.message),
    );
    const cfg2 = { ...input(path.join(dir, 'state3')), http: { port } };
    await assert.rejects(
      Gateway.start({ config: parseConfig(cfg2), fleet: false, log: quiet }),
      (e) =>
        isFaultlineError(e, 'FL_ERR_CONFIG') &&
        /already in use/.test(e.message) &&
        /`http\.port`/.test(e.message),
    );
  } finally {
    blocker.close();
  }
});
