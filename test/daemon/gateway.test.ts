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
import WebSocket from 'ws';
import { z } from 'zod';
import { type Alert, alertSchema } from '../../src/contract/alert.js';
import {
  gatewayHealthSchema,
  type HistoryAnswer,
  healthzSchema,
  historyAnswerSchema,
  modelsSchema,
} from '../../src/contract/api.js';
import { bearingFrequencies, CWRU_DE_BEARING } from '../../src/contract/bearing.js';
import {
  adaptJobSchema,
  type MachineDiagnosis,
  type MachineView,
  machineDiagnosisSchema,
  machineViewSchema,
} from '../../src/contract/machine.js';
import { openApiDocument } from '../../src/contract/openapi.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { silentLogger } from '../../src/daemon/log.js';
import { isFaultlineError } from '../../src/errors.js';
import { loadModelArtifact, saveModelArtifact } from '../../src/model/artifact.js';
import { trainSimModel } from '../../src/sim/sim-model.js';
import {
  type ObservedMessage,
  observeSite,
  streamFleet,
  until,
} from '../support/gateway-fixture.js';

let dir: string;
let modelDir: string;
let gw: Gateway;
let sub: MqttClient;
const received: ObservedMessage[] = [];
const quiet = silentLogger();

function input(stateDir: string): GatewayConfigInput {
  return {
    site: 't',
    gatewayId: 'gw-test',
    stateDir,
    model: modelDir,
    machines: [
      {
        id: 'healthy-1',
        line: 'L1',
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
  sub = await observeSite(gw, 't', received);
  await streamFleet(gw, 't', 16);
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
  // ?token= is taken on / and /api/stream only (elsewhere it would land in logs and histories)
  assert.equal(
    (await fetch(`${gw.apiUrl}/api/machines?token=${encodeURIComponent(gw.token)}`)).status,
    401,
  );
  assert.equal((await fetch(`${gw.apiUrl}/healthz`)).status, 200, 'healthz needs no token');
  const doc = (await (await api('/api/openapi.json')).json()) as {
    openapi: string;
    paths: Record<string, unknown>;
  };
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(doc.paths['/api/machines'] && doc.paths['/api/alerts/{id}/ack']);
  assert.ok(doc.paths['/api/machines/{id}/promote'], 'promote is documented');
});

test('the static console is served without a token; everything under /api still needs it', async () => {
  const home = await fetch(`${gw.apiUrl}/`);
  assert.equal(home.status, 200);
  assert.match(home.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await home.text(), /<html/i);
  assert.equal(home.headers.get('set-cookie'), null, 'no cookie without a valid token');
  // a valid ?token= on the console sets the cookie; a wrong one gets the page but no cookie
  const withToken = await fetch(`${gw.apiUrl}/?token=${encodeURIComponent(gw.token)}`);
  assert.match(withToken.headers.get('set-cookie') ?? '', /faultline_token=/);
  const wrong = await fetch(`${gw.apiUrl}/?token=${'w'.repeat(43)}`);
  assert.equal(wrong.status, 200);
  assert.equal(wrong.headers.get('set-cookie'), null);
  for (const route of [
    '/api/machines',
    '/api/openapi.json',
    '/api/nope',
    '/%61pi/machines',
    '/api%2Fmachines',
    '/api/machines/healthy-1',
  ]) {
    assert.equal((await fetch(`${gw.apiUrl}${route}`)).status, 401, route);
  }
  assert.equal(
    (await fetch(`${gw.apiUrl}/api/machines/healthy-1/promote`, { method: 'POST', body: '{}' }))
      .status,
    401,
  );
  const ws = new WebSocket(`${gw.apiUrl.replace('http', 'ws')}/api/stream`);
  ws.on('error', () => {}); // the refused handshake is reported as an error too
  const status = await new Promise<number>((resolve) => {
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => resolve(101));
  });
  assert.equal(status, 401, 'the stream needs the token');
});

test('machines carry bearing, ISO class, nominal speed and line from the config', async () => {
  const machines = (await (await api('/api/machines')).json()) as MachineView[];
  const h = machines.find((m) => m.id === 'healthy-1');
  const f = machines.find((m) => m.id === 'faulty-2');
  assert.equal(h?.line, 'L1');
  assert.equal(f?.line, undefined);
  assert.deepEqual(h?.bearing, { ...CWRU_DE_BEARING });
  assert.equal(h?.bearingSource, 'default');
  assert.deepEqual(h?.iso, { group: 2, foundation: 'rigid' });
  assert.equal(h?.nominalRpm, undefined);
  assert.equal((f?.diagnosis as Partial<MachineDiagnosis>)?.envelope, undefined);
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
    stream?: { clients: number; refused: number; droppedSlow: number };
  };
  assert.equal(health.broker.connected, true);
  assert.equal(health.store.kind, 'sqlite');
  assert.ok(health.pipeline.windowsOut > 100);
  // the stream's counters (src/daemon/stream-hub.ts): nobody refused or dropped here
  assert.equal(typeof health.stream?.clients, 'number');
  assert.equal(health.stream?.refused, 0);
  assert.equal(health.stream?.droppedSlow, 0);
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

test('promote: a candidate that failed a guard needs force and a reason, and is audited', async () => {
  // A candidate that differs by one weight (so it has its own content hash) and failed a guard.
  const src = await loadModelArtifact(modelDir);
  const w = src.model.getWeights();
  const last = w[w.length - 1];
  const bumped = last.add(1e-4);
  src.model.setWeights([...w.slice(0, -1), bumped]);
  const candDir = path.join(dir, 'candidate');
  const { contentHash: _h, format: _f, formatVersion: _v, createdAt: _c, ...meta } = src.meta;
  await saveModelArtifact(candDir, src.model, {
    ...meta,
    adaptation: {
      strategy: 'dann',
      sourceModelHash: src.meta.contentHash,
      sourceModelDir: modelDir,
      promoted: false,
      guards: [{ name: 'class-collapse', passed: false, detail: 'test' }],
      selection: 'test',
    },
  });
  bumped.dispose();
  src.model.dispose();
  const reg = gw.registry;
  assert.ok(reg);
  const cand = await reg.register(candDir, { origin: 'test candidate', machine: 'faulty-2' });
  const before = reg.active('faulty-2')?.id;
  const post = (body: unknown, id = 'faulty-2') =>
    api(`/api/machines/${id}/promote`, { method: 'POST', body: JSON.stringify(body) });
  assert.equal((await post({ version: 'v99-nope', by: 'ana' })).status, 404);
  assert.equal((await post({ version: cand.id, by: 'ana' }, 'nope')).status, 404);
  assert.equal((await post({ version: cand.id })).status, 400, 'by is required');
  const refused = await post({ version: cand.id, by: 'ana' });
  assert.equal(refused.status, 409);
  const why = (await refused.json()) as { error: string; message: string };
  assert.equal(why.error, 'FL_ERR_API_CONFLICT');
  assert.match(why.message, /class-collapse.*force/);
  assert.equal((await post({ version: cand.id, by: 'ana', force: true })).status, 409, 'reason');
  assert.equal(reg.active('faulty-2')?.id, before, 'nothing changed');
  const ok = await post({ version: cand.id, by: 'ana', force: true, reason: 'vendor advice' });
  assert.equal(ok.status, 200);
  const r = (await ok.json()) as { from: string; to: string; forced: boolean };
  assert.deepEqual([r.from, r.to, r.forced], [before, cand.id, true]);
  assert.equal(reg.active('faulty-2')?.id, cand.id);
  const models = (await (await api('/api/models')).json()) as {
    audit: Record<string, { version: string; by: string; reason: string; forced: boolean }[]>;
  };
  const a = models.audit['faulty-2'].at(-1);
  assert.deepEqual(
    [a?.version, a?.by, a?.reason, a?.forced],
    [cand.id, 'ana', 'vendor advice', true],
  );
  const m = (await (await api('/api/machines/faulty-2')).json()) as MachineView;
  assert.equal(m.model?.version, cand.id);
});

test('a viewed machine gets spectrogram rows and an envelope spectrum over the stream; others do not', async () => {
  const ws = new WebSocket(`${gw.apiUrl.replace('http', 'ws')}/api/stream?token=${gw.token}`);
  const got: { type: string; data: MachineDiagnosis & { machines?: string[] } }[] = [];
  ws.on('message', (b) => got.push(JSON.parse(b.toString())));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ type: 'view', machines: ['faulty-2', 'nope'] }));
  const viewing = await until('viewing', () => got.find((m) => m.type === 'viewing'));
  assert.deepEqual(viewing.data.machines, ['faulty-2']);
  assert.equal(gw.viewerCount('faulty-2'), 1);
  await streamFleet(gw, 't', 3);
  const diags = await until('viewed diagnoses', () => {
    const d = got.filter((m) => m.type === 'diagnosis').map((m) => m.data);
    return d.filter((x) => x.machine === 'faulty-2' && x.envelope).length >= 5 ? d : undefined;
  });
  const bad = diags.filter((d) => d.machine === 'faulty-2');
  const ok = diags.filter((d) => d.machine === 'healthy-1');
  assert.ok(ok.length > 0);
  assert.ok(
    ok.every((d) => !d.spectrogram && !d.envelope),
    'unviewed machine: no payloads',
  );
  for (const d of diags) {
    const r = machineDiagnosisSchema.safeParse(d);
    assert.ok(r.success, `a stream diagnosis: ${r.success ? '' : z.prettifyError(r.error)}`);
  }
  const last = bad[bad.length - 1];
  assert.equal(last.modelVersion, gw.registry?.active('faulty-2')?.contentHash.slice(0, 12));
  const sp = last.spectrogram;
  assert.ok(sp, 'spectrogram present');
  assert.ok(sp.freqBins <= 32 && sp.frames <= 32 && sp.freqBins >= 8);
  assert.equal(sp.data.length, sp.freqBins * sp.frames);
  assert.ok(sp.data.every(Number.isFinite));
  // Time-mode models top the axis at their STFT's highest frequency; order-mode ones have no Hz axis.
  const meta = await gw.registry!.metadata(gw.registry!.active('faulty-2')!.id);
  const fe = meta.frontEnd;
  assert.equal(
    sp.newFrames,
    Math.max(1, Math.round(sp.frames * (meta.hop / meta.windowLength))),
    'hop / window of the model',
  );
  if (fe?.mode === 'order') assert.equal(sp.maxFreqHz, undefined);
  else assert.equal(sp.maxFreqHz, fe?.stft.fMax ?? 6000);
  const env = last.envelope;
  assert.ok(env, 'envelope present');
  const bf = bearingFrequencies(CWRU_DE_BEARING, 1797 / 60);
  assert.ok(env.freqHz.length <= 256 && env.freqHz.length === env.amplitude.length);
  assert.ok((env.freqHz.at(-1) ?? 0) <= 3.2 * bf.BPFI + env.df, 'up to ≈ 3.2 × BPFI');
  assert.ok((env.freqHz.at(-1) ?? 0) >= 3 * bf.BPFI - env.df, 'covers 3 × BPFI');
  // The simulated outer-race fault: the strongest envelope line is BPFO or a harmonic of it.
  let k = 0;
  env.amplitude.forEach((v, i) => {
    if (v > env.amplitude[k]) k = i;
  });
  const f = env.freqHz[k];
  const h = Math.round(f / bf.BPFO);
  assert.ok(h >= 1 && Math.abs(f - h * bf.BPFO) <= env.df + 1, `peak at ${f} Hz, BPFO ${bf.BPFO}`);
  ws.close();
  await until('viewer released', () => gw.viewerCount('faulty-2') === 0 || undefined);
});

test('real answers validate against the contract schemas the OpenAPI document is generated from', async () => {
  const check = async (route: string, schema: z.ZodType, open = false) => {
    const res = await api(route, open ? { token: null } : {});
    assert.equal(res.status, 200, route);
    const r = schema.safeParse(await res.json());
    assert.ok(r.success, `${route}: ${r.success ? '' : z.prettifyError(r.error)}`);
    return r.data;
  };
  const machines = (await check('/api/machines', z.array(machineViewSchema))) as MachineView[];
  assert.ok(
    machines.some((m) => m.diagnosis !== undefined),
    'a machine with a diagnosis',
  );
  await check('/api/machines/faulty-2', machineViewSchema);
  const alerts = (await check('/api/alerts', z.array(alertSchema))) as Alert[];
  assert.ok(alerts.length > 0, 'alerts to check');
  await check('/api/gateway', gatewayHealthSchema);
  await check('/api/models', modelsSchema);
  await check('/api/machines/faulty-2/adapt', z.array(adaptJobSchema));
  // the live windows' features reach the store and come back per bucket
  const measures = 'velocity_rms,kurtosis,peak,crest_factor,iso_zone,evidence_bpfo';
  const h = (await until('stored windows', async () => {
    const r = await check(
      `/api/machines/faulty-2/history?measure=${measures}&step=1m`,
      historyAnswerSchema,
    );
    return (r as HistoryAnswer).series.kurtosis.length > 0 ? r : undefined;
  })) as HistoryAnswer;
  assert.equal(h.source, 'raw');
  for (const name of measures.split(',')) {
    const b = h.series[name].at(-1);
    assert.ok(b && b.n > 0 && b.min <= b.mean && b.mean <= b.max, `${name}: ${JSON.stringify(b)}`);
  }
  await check('/healthz', healthzSchema, true);
  const doc = (await check(
    '/api/openapi.json',
    z.looseObject({ openapi: z.literal('3.1.0') }),
  )) as {
    paths: Record<string, unknown>;
  };
  assert.deepEqual(doc, JSON.parse(JSON.stringify(openApiDocument())));
});
