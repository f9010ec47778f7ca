/**
 * Operators' verdicts end to end (issue #16, the data): a real in-process
 * gateway (embedded broker, its simulated fleet of three faulty machines,
 * the simulator-trained model, SQLite) takes a confirmed verdict over the
 * API, a false alarm over MQTT and an unknown over the API; the windows
 * around the alerts land in <stateDir>/verdicts with their labels, the
 * machine view counts them, and a restart over the same state dir keeps
 * the verdicts and the counts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { type Alert, alertSchema } from '../../src/contract/alert.js';
import { type MachineView, machineViewSchema } from '../../src/contract/machine.js';
import { mqtt311Connect } from '../../src/daemon/broker.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { fileName, type VerdictSidecar } from '../../src/daemon/verdict-files.js';
import { quiet, simModelDir, until as waitUntil } from '../support/gateway-fixture.js';

let dir: string;
let stateDir: string;
let model: string;
let gw: Gateway;

function input(fleetSpeed = 1): GatewayConfigInput {
  return {
    site: 'v',
    gatewayId: 'gw-verdicts',
    stateDir,
    model,
    machines: [
      {
        id: 'pump-a',
        sensors: [{ id: 1, sampleRate: 12000 }],
        simulate: { fault: 'outer', severity: 0.8, seed: 61 },
      },
      {
        id: 'pump-b',
        sensors: [{ id: 2, sampleRate: 12000 }],
        simulate: { fault: 'inner', severity: 0.8, seed: 62 },
      },
      {
        id: 'pump-c',
        sensors: [{ id: 3, sampleRate: 12000 }],
        simulate: { fault: 'outer', severity: 0.8, seed: 63 },
      },
    ],
    broker: { port: 0 },
    http: { port: 0 },
    fleet: { speed: fleetSpeed },
    pipeline: { workers: 1 },
    verdicts: { windows: 64, aroundS: 10 },
  };
}

async function api(route: string, body?: unknown): Promise<Response> {
  return fetch(`${gw.apiUrl}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${gw.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function machine(id: string): Promise<MachineView> {
  return machineViewSchema.parse(await (await api(`/api/machines/${id}`)).json());
}

async function alertsOf(id: string): Promise<Alert[]> {
  return (await (await api(`/api/alerts?machine=${id}`)).json()) as Alert[];
}

/** The fixture's `until` with this file's longer default deadline. */
const until = <T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 120_000,
): Promise<T> => waitUntil(what, fn, timeoutMs);

async function sidecar(m: string, alertId: string): Promise<VerdictSidecar> {
  const f = path.join(stateDir, 'verdicts', fileName(m), `${fileName(alertId)}.json`);
  return JSON.parse(await readFile(f, 'utf8')) as VerdictSidecar;
}

/** The first alert of each machine, once all three have one. */
const firstAlerts = new Map<string, Alert>();

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-verdicts-'));
  stateDir = path.join(dir, 'state');
  model = await simModelDir();
  gw = await Gateway.start({ config: parseConfig(input()), log: quiet });
  for (const m of ['pump-a', 'pump-b', 'pump-c']) {
    firstAlerts.set(m, await until(`an alert on ${m}`, async () => (await alertsOf(m)).at(-1)));
  }
});

after(async () => {
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

test('a confirmed class the model does not have is a 400 naming the classes; nothing is acked', async () => {
  const a = firstAlerts.get('pump-a') as Alert;
  const res = await api(`/api/alerts/${a.id}/ack`, {
    by: 'ana',
    verdict: { kind: 'confirmed', faultClass: 'cavitation' },
  });
  assert.equal(res.status, 400);
  const e = (await res.json()) as { error: string; message: string };
  assert.equal(e.error, 'FL_ERR_API_REQUEST');
  assert.match(e.message, /cavitation.*ball, inner, normal, outer/);
  // a verdict of another shape is refused by the schema
  const bad = await api(`/api/alerts/${a.id}/ack`, { by: 'ana', verdict: { kind: 'maybe' } });
  assert.equal(bad.status, 400);
  const still = (await alertsOf('pump-a')).find((x) => x.id === a.id);
  assert.equal(still?.acknowledged, undefined);
});

test('confirmed over the API: stored with the ack, shown on the alert, windows labelled with the class', async () => {
  const a = firstAlerts.get('pump-a') as Alert;
  const res = await api(`/api/alerts/${a.id}/ack`, {
    by: 'ana',
    comment: 'outer race spalled',
    verdict: { kind: 'confirmed', faultClass: 'outer' },
  });
  assert.equal(res.status, 200);
  const acked = alertSchema.parse(await res.json());
  assert.deepEqual(acked.acknowledged?.verdict, { kind: 'confirmed', faultClass: 'outer' });
  const listed = (await alertsOf('pump-a')).find((x) => x.id === a.id);
  assert.deepEqual(listed?.acknowledged?.verdict, { kind: 'confirmed', faultClass: 'outer' });

  // the answer came after the files were written
  const s = await sidecar('pump-a', a.id);
  assert.equal(s.label, 'outer');
  assert.equal(s.machine, 'pump-a');
  assert.equal(s.by, 'ana');
  assert.equal(s.sampleRate, 12000);
  assert.ok(s.windows >= 1 && s.windows <= 64, `${s.windows} windows`);
  assert.equal(s.rows.length, s.windows);
  const alertMs = Date.parse(a.time);
  for (const r of s.rows) assert.ok(Math.abs(Date.parse(r.arrivedAt) - alertMs) <= 10_000);
  const npy = await readFile(path.join(stateDir, 'verdicts', 'pump-a', s.samplesFile));
  assert.equal(npy.subarray(1, 6).toString('latin1'), 'NUMPY');
  const headerLen = npy.readUInt16LE(8);
  assert.equal((10 + headerLen) % 64, 0);
  assert.match(
    npy.subarray(10, 10 + headerLen).toString('latin1'),
    new RegExp(`'shape': \\(${s.windows}, ${s.windowLength}\\)`),
  );
  assert.equal(npy.length, 10 + headerLen + s.windows * s.windowLength * 4);
  const samples = new Float32Array(npy.buffer.slice(npy.byteOffset + 10 + headerLen));
  assert.ok(samples.some((x) => x !== 0) && samples.every(Number.isFinite));

  const view = await machine('pump-a');
  assert.deepEqual(view.verdicts, { outer: s.windows });
});

test('false alarm over MQTT: recorded, windows labelled normal, counted', async () => {
  const a = firstAlerts.get('pump-b') as Alert;
  const client = mqtt311Connect(gw.brokerUrl, { clientId: 'console-b', reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  try {
    await client.publishAsync(
      'faultline/v/pump-b/alert/ack',
      JSON.stringify({ id: a.id, by: 'ben', verdict: { kind: 'false-alarm' } }),
      { qos: 1 },
    );
  } finally {
    await client.endAsync();
  }
  const view = await until('the false alarm counted on pump-b', async () => {
    const v = await machine('pump-b');
    return v.verdicts?.normal ? v : undefined;
  });
  const s = await sidecar('pump-b', a.id);
  assert.equal(s.label, 'normal');
  assert.deepEqual(s.verdict, { kind: 'false-alarm' });
  assert.deepEqual(view.verdicts, { normal: s.windows });
  const listed = (await alertsOf('pump-b')).find((x) => x.id === a.id);
  assert.equal(listed?.acknowledged?.by, 'ben');
  assert.deepEqual(listed?.acknowledged?.verdict, { kind: 'false-alarm' });
});

test('unknown: stored with the ack, labels nothing', async () => {
  const a = firstAlerts.get('pump-c') as Alert;
  const res = await api(`/api/alerts/${a.id}/ack`, { by: 'cy', verdict: { kind: 'unknown' } });
  assert.equal(res.status, 200);
  assert.deepEqual(alertSchema.parse(await res.json()).acknowledged?.verdict, { kind: 'unknown' });
  await assert.rejects(stat(path.join(stateDir, 'verdicts', 'pump-c')), { code: 'ENOENT' });
  assert.deepEqual((await machine('pump-c')).verdicts, {});
});

test('a restart over the same state dir keeps the verdicts on the alerts and the counts', async () => {
  const before = {
    a: (await machine('pump-a')).verdicts,
    b: (await machine('pump-b')).verdicts,
  };
  await gw.close();
  gw = await Gateway.start({ config: parseConfig(input()), fleet: false, log: quiet });
  assert.deepEqual((await machine('pump-a')).verdicts, before.a);
  assert.deepEqual((await machine('pump-b')).verdicts, before.b);
  const a = (await alertsOf('pump-a')).find((x) => x.id === firstAlerts.get('pump-a')?.id);
  assert.deepEqual(a?.acknowledged?.verdict, { kind: 'confirmed', faultClass: 'outer' });
  const c = (await alertsOf('pump-c')).find((x) => x.id === firstAlerts.get('pump-c')?.id);
  assert.deepEqual(c?.acknowledged?.verdict, { kind: 'unknown' });
  // no temp or backup files left beside the verdicts
  for (const m of ['pump-a', 'pump-b']) {
    for (const f of await readdir(path.join(stateDir, 'verdicts', m)))
      assert.match(f, /\.(npy|json)$/);
  }
});
