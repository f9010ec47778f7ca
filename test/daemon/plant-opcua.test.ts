/**
 * The OPC UA server (issue #15) on a running gateway with the simulated
 * fleet, against node-opcua's client on loopback: the machines browse and
 * read as `GET /api/machines` shows them; a faulty machine's alarm arrives
 * as an Alarms & Conditions event on the Server object; an Acknowledge from
 * the client is the gateway's ack (`GET /api/alerts`), and an API ack
 * acknowledges the condition. Bad credentials are refused, and a client
 * killed mid-session leaves the gateway serving.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  AttributeIds,
  ClientMonitoredItem,
  type ClientSession,
  ClientSubscription,
  constructEventFilter,
  DataType,
  MessageSecurityMode,
  makeBrowsePath,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  StatusCodes,
  TimestampsToReturn,
  UserTokenType,
  type Variant,
} from 'node-opcua';
import type { Alert } from '../../src/contract/alert.js';
import type { MachineView } from '../../src/contract/machine.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { isFaultlineError } from '../../src/errors.js';
import { quiet, repoRoot, simModelDir } from '../support/gateway-fixture.js';

let dir: string;
let gw: Gateway;
let endpoint: string;
const clients: OPCUAClient[] = [];
const USER = { userName: 'op', password: 'correct horse battery' };

const machines: GatewayConfigInput['machines'] = [
  { id: 'pump-1', sensors: [{ id: 1, sampleRate: 12000 }], simulate: { fault: 'none', seed: 5 } },
  {
    id: 'fan-2',
    sensors: [{ id: 2, sampleRate: 12000 }],
    simulate: { fault: 'outer', severity: 0.8, seed: 6 },
  },
  {
    id: 'mill-3',
    sensors: [{ id: 3, sampleRate: 12000 }],
    simulate: { fault: 'inner', severity: 0.8, seed: 7 },
  },
];

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 150_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function api<T>(route: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${gw.apiUrl}${route}`, {
    ...init,
    headers: {
      authorization: `Bearer ${gw.token}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
  });
  assert.ok(res.ok, `${route}: ${res.status}`);
  return (await res.json()) as T;
}

/** A client with its PKI in the test's folder (never the user's home). */
async function connect(
  identity: { userName: string; password: string } | null = USER,
  mode: 'None' | 'SignAndEncrypt' = 'None',
): Promise<ClientSession> {
  const client = OPCUAClient.create({
    applicationName: 'faultline-test-client',
    endpointMustExist: false,
    securityMode: MessageSecurityMode[mode],
    securityPolicy: mode === 'None' ? SecurityPolicy.None : SecurityPolicy.Basic256Sha256,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
    clientCertificateManager: new OPCUACertificateManager({
      rootFolder: path.join(dir, 'client-pki'),
      automaticallyAcceptUnknownCertificate: true,
    }),
  });
  clients.push(client);
  await client.connect(endpoint);
  return client.createSession(
    identity ? { type: UserTokenType.UserName, ...identity } : { type: UserTokenType.Anonymous },
  );
}

/** The node id of Objects/Faultline/plant/<rest…>. */
async function nodeOf(session: ClientSession, ...rest: string[]): Promise<string> {
  const p = ['/Objects/1:Faultline/1:plant', ...rest.map((r) => `1:${r}`)].join('/');
  const r = await session.translateBrowsePath(makeBrowsePath('RootFolder', p));
  assert.equal(r.statusCode, StatusCodes.Good, p);
  return (r.targets?.[0]?.targetId ?? '').toString();
}

before(async () => {
  const modelDir = await simModelDir();
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-opcua-'));
  gw = await Gateway.start({
    config: parseConfig({
      site: 'plant',
      gatewayId: 'gw-opcua',
      stateDir: path.join(dir, 'state'),
      model: modelDir,
      machines,
      broker: { port: 0 },
      http: { port: 0 },
      fleet: { speed: 2 },
      pipeline: { workers: 1 },
      outputs: {
        opcua: {
          port: 0,
          securityModes: ['None', 'SignAndEncrypt'],
          users: [{ username: USER.userName, password: USER.password }],
        },
      },
    }),
    log: quiet,
  });
  endpoint = gw.opcuaEndpoint ?? '';
  assert.match(endpoint, /^opc\.tcp:\/\/127\.0\.0\.1:[1-9]\d*$/);
});

after(async () => {
  for (const c of clients) await c.disconnect().catch(() => undefined);
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

test('config: OPC UA off by default; no users needs allowAnonymous; defaults', () => {
  assert.equal(parseConfig({ machines }).outputs.opcua, undefined);
  assert.throws(
    () => parseConfig({ machines, outputs: { opcua: {} } }),
    (e) => isFaultlineError(e, 'FL_ERR_CONFIG') && /outputs\.opcua\.users/.test(e.message),
  );
  const d = parseConfig({ machines, outputs: { opcua: { allowAnonymous: true } } }).outputs.opcua;
  assert.deepEqual(d, {
    host: '127.0.0.1',
    port: 4840,
    securityModes: ['Sign', 'SignAndEncrypt'],
    users: [],
    allowAnonymous: true,
  });
  assert.throws(
    () => parseConfig({ machines, outputs: { opcua: { users: [{ username: 'x' }] } } }),
    (e) => isFaultlineError(e, 'FL_ERR_CONFIG') && /password/.test(e.message),
  );
});

test('a self-signed certificate was generated under the state dir', async () => {
  const own = path.join(dir, 'state', 'opcua', 'pki', 'own');
  assert.ok((await stat(path.join(own, 'certs', 'faultline-gateway.pem'))).size > 0);
  assert.ok((await stat(path.join(own, 'private', 'private_key.pem'))).size > 0);
});

test('bad credentials and anonymous sessions are refused', { timeout: 60_000 }, async () => {
  await assert.rejects(connect({ userName: USER.userName, password: 'wrong' }));
  await assert.rejects(connect({ userName: 'nobody', password: USER.password }));
  await assert.rejects(connect(null));
});

interface AlarmEvent {
  eventType: string;
  eventId: Buffer;
  source: string;
  message: string;
  severity: number;
  active: boolean;
  acked: boolean;
  retain: boolean;
  conditionId: string;
}

const EVENT_FIELDS = [
  'EventType',
  'EventId',
  'SourceName',
  'Message',
  'Severity',
  'ActiveState.Id',
  'AckedState.Id',
  'Retain',
  'ConditionId',
];
const REFRESH_START = 'ns=0;i=2787'; // RefreshStartEventType
const REFRESH_END = 'ns=0;i=2788'; // RefreshEndEventType

function alarmEvent(values: Variant[]): AlarmEvent {
  const v = values.map((x) => x.value);
  return {
    eventType: String(v[0]),
    eventId: v[1] as Buffer,
    source: String(v[2] ?? ''),
    message: String((v[3] as { text?: string } | null)?.text ?? ''),
    severity: Number(v[4]),
    active: v[5] === true,
    acked: v[6] === true,
    retain: v[7] === true,
    conditionId: String(v[8] ?? ''),
  };
}

/** The latest alert of `machine` when it is warning or alarm, unacknowledged. */
async function alarmingAlert(machine: string): Promise<Alert | undefined> {
  const alerts = await api<Alert[]>(`/api/alerts?machine=${machine}`);
  const last = [...alerts].sort((a, b) => a.time.localeCompare(b.time)).at(-1);
  return last && (last.state === 'warning' || last.state === 'alarm') && !last.acknowledged
    ? last
    : undefined;
}

// first after start, but the subscription comes only once the faults alarmed (a SCADA client
// connecting late): ConditionRefresh must replay the retained conditions
test('alarms: ConditionRefresh replays the alarms raised before the client; Acknowledge in OPC UA acks the alert; an API ack acks the condition', {
  timeout: 300_000,
}, async () => {
  await until('fan-2 and mill-3 alarming in /api/alerts', async () =>
    (await alarmingAlert('fan-2')) && (await alarmingAlert('mill-3')) ? true : undefined,
  );
  const session = await connect();
  const sub = ClientSubscription.create(session, {
    requestedPublishingInterval: 200,
    requestedMaxKeepAliveCount: 20,
    publishingEnabled: true,
  });
  const events: AlarmEvent[] = [];
  const item = ClientMonitoredItem.create(
    sub,
    { nodeId: 'i=2253', attributeId: AttributeIds.EventNotifier }, // the Server object
    { queueSize: 1000, filter: constructEventFilter(EVENT_FIELDS), discardOldest: true },
    TimestampsToReturn.Neither,
  );
  item.on('changed', (values: unknown) => events.push(alarmEvent(values as Variant[])));
  await new Promise((r) => sub.once('started', r));
  await until(
    'the event monitored item created',
    async () => (item.monitoredItemId !== undefined ? true : undefined),
    30_000,
  );
  /** ConditionRefresh: the events between its RefreshStartEvent and RefreshEndEvent. */
  const conditionRefresh = async () => {
    const from = events.length;
    const refresh = await session.call({
      objectId: 'i=2782', // ConditionType
      methodId: 'i=3875', // ConditionType.ConditionRefresh
      inputArguments: [{ dataType: DataType.UInt32, value: sub.subscriptionId }],
    });
    assert.equal(refresh.statusCode, StatusCodes.Good);
    return until('RefreshStartEvent … RefreshEndEvent', async () => {
      const s = events.findIndex((e, i) => i >= from && e.eventType === REFRESH_START);
      const e = events.findIndex((x, i) => s >= 0 && i > s && x.eventType === REFRESH_END);
      return s >= 0 && e > s ? events.slice(s + 1, e) : undefined;
    });
  };
  const replayed = await conditionRefresh();
  const replayedOf = (machine: string) =>
    replayed.find((e) => e.source === machine && e.active && !e.acked && e.retain);
  const fan = replayedOf('fan-2');
  const mill = replayedOf('mill-3');
  assert.ok(fan, `fan-2 replayed: ${JSON.stringify(replayed.map((e) => e.source))}`);
  assert.ok(mill, `mill-3 replayed: ${JSON.stringify(replayed.map((e) => e.source))}`);
  assert.ok(!replayed.some((e) => e.source === 'pump-1'), 'pump-1 (healthy) not replayed');

  // the latest event of each machine: a state change may follow the refresh
  const latest = (machine: string) =>
    [...events].reverse().find((e) => e.source === machine && e.conditionId) as AlarmEvent;
  const alertIdOf = (e: AlarmEvent) => /alert ([0-9a-f-]{36})/.exec(e.message)?.[1] ?? '';

  // OPC UA → gateway
  assert.ok(fan.severity >= 500, `severity ${fan.severity}`);
  assert.match(fan.message, /outer/);
  const fanNow = latest('fan-2');
  const fanAlert = alertIdOf(fanNow);
  const res = await session.call({
    objectId: fanNow.conditionId,
    methodId: 'i=9111', // AcknowledgeableConditionType.Acknowledge
    inputArguments: [
      { dataType: DataType.ByteString, value: fanNow.eventId },
      { dataType: DataType.LocalizedText, value: { text: 'bearing ordered' } },
    ],
  });
  assert.equal(res.statusCode, StatusCodes.Good);
  const acked = await until('the OPC UA ack in /api/alerts', async () => {
    const alerts = await api<Alert[]>('/api/alerts?machine=fan-2');
    return alerts.find((a) => a.id === fanAlert && a.acknowledged)?.acknowledged;
  });
  assert.equal(acked.by, USER.userName);
  assert.equal(acked.comment, 'bearing ordered');
  const fanAcked = await until('the acked event', async () =>
    events.find((e) => e.source === 'fan-2' && e.acked),
  );
  // acknowledged but still active: still retained (Part 9), so a later refresh shows it
  if (fanAcked.active) assert.ok(fanAcked.retain, 'an active, acknowledged alarm is retained');

  // gateway (API) → OPC UA: the alert the condition follows now
  const millAlert = await until('mill-3 alarming', () => alarmingAlert('mill-3'));
  await api(`/api/alerts/${millAlert.id}/ack`, {
    method: 'POST',
    body: JSON.stringify({ by: 'ben', comment: 'seen on the console' }),
  });
  const millAcked = await until('the API ack as an OPC UA event', async () =>
    [...events].reverse().find((e) => e.source === 'mill-3' && e.acked),
  );
  assert.match(millAcked.message, /mill-3/);
  const health = await api<{ outputs?: { opcua?: { acks: number; sessions: number } } }>(
    '/api/gateway',
  );
  assert.ok(Number(health.outputs?.opcua?.acks) >= 1);

  // a second refresh: the acknowledged alarms that are still active are replayed, retained
  const again = await conditionRefresh();
  for (const m of ['fan-2', 'mill-3']) {
    if (!latest(m).active) continue;
    const e = again.find((x) => x.source === m);
    assert.ok(e?.active && e.retain, `${m} replayed again: ${JSON.stringify(e)}`);
  }
  await sub.terminate();
  await session.close();
});

test('the machines browse and read as /api/machines shows them', { timeout: 180_000 }, async () => {
  const session = await connect();
  const site = await nodeOf(session);
  const browsed = await session.browse(site);
  const names = (browsed.references ?? []).map((r) => r.browseName.name);
  for (const m of machines) assert.ok(names.includes(m.id), `${m.id} in ${names}`);

  const fields = ['state', 'faultClass', 'confidence', 'velocityRms', 'isoZone', 'modelVersion'];
  const ids = new Map<string, string[]>();
  for (const m of machines)
    ids.set(m.id, await Promise.all(fields.map((f) => nodeOf(session, m.id, f))));
  const readAll = async () => {
    const out: Record<string, Record<string, unknown>> = {};
    for (const [m, nodes] of ids) {
      const dvs = await session.read(
        nodes.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })),
      );
      out[m] = Object.fromEntries(
        fields.map((f, i) => [f, dvs[i].statusCode.isGood() ? dvs[i].value.value : null]),
      );
    }
    return out;
  };
  // read just before and after the API's view: equal reads mean nothing moved in between
  const agreed = await until('every machine diagnosed, a quiet moment', async () => {
    const a = await readAll();
    const views = await api<MachineView[]>('/api/machines');
    const b = await readAll();
    if (views.some((v) => v.state === 'starting' || !v.diagnosis)) return undefined;
    return JSON.stringify(a) === JSON.stringify(b) ? { views, read: b } : undefined;
  });
  for (const v of agreed.views) {
    const r = agreed.read[v.id];
    assert.equal(r.state, v.state, `${v.id} state`);
    assert.equal(r.faultClass, v.faultClass, `${v.id} faultClass`);
    assert.ok(Math.abs(Number(r.confidence) - Number(v.confidence)) < 1e-9, `${v.id} confidence`);
    assert.ok(
      Math.abs(Number(r.velocityRms) - Number(v.diagnosis?.velocityRmsMmS)) < 1e-9,
      `${v.id} velocity`,
    );
    assert.equal(r.isoZone, v.diagnosis?.isoZone);
    assert.equal(typeof r.modelVersion, 'string');
  }
  const shelved = await session.read({
    nodeId: await nodeOf(session, 'pump-1', 'shelved'),
    attributeId: AttributeIds.Value,
  });
  assert.equal(shelved.value.value, false);
  await session.close();
});

test('a client killed mid-session leaves the gateway serving', { timeout: 120_000 }, async () => {
  const script = `
    import { OPCUAClient, OPCUACertificateManager, UserTokenType } from 'node-opcua';
    const client = OPCUAClient.create({ endpointMustExist: false,
      clientCertificateManager: new OPCUACertificateManager({ rootFolder: ${JSON.stringify(path.join(dir, 'child-pki'))} }) });
    await client.connect(${JSON.stringify(endpoint)});
    const s = await client.createSession({ type: UserTokenType.UserName, userName: ${JSON.stringify(USER.userName)}, password: ${JSON.stringify(USER.password)} });
    await s.createSubscription2({ requestedPublishingInterval: 100, publishingEnabled: true });
    console.log('ready');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (c) => reject(new Error(`client exited ${c}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const session = await connect();
  const dv = await session.read({
    nodeId: await nodeOf(session, 'pump-1', 'state'),
    attributeId: AttributeIds.Value,
  });
  assert.equal(typeof dv.value.value, 'string');
  await session.close();
  assert.ok((await fetch(`${gw.apiUrl}/api/healthz`)).status < 500, 'gateway alive');
});
