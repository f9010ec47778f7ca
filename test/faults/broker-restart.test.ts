/**
 * Fault: the MQTT broker (mosquitto) is stopped mid-stream and started again.
 *
 * Real parts: mosquitto with persistence, the gateway as a child process
 * (external broker), one simulated machine publishing over MQTT (the
 * gateway's own fleet) and one serial machine fed through a socat pty by
 * this test. While the broker is away the serial machine keeps being
 * diagnosed and the MQTT machine goes silent, so alerts are raised during
 * the outage; they must all reach an observer holding a QoS 1 persistent
 * session (each at least once, duplicates only with the same id), and MQTT
 * ingestion must resume.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { Alert } from '../../src/contract/alert.js';
import type { MachineView } from '../../src/contract/machine.js';
import type { GatewayHealth } from '../../src/daemon/gateway.js';
import {
  FAST_ALERTS,
  type GatewayProcess,
  type SerialSensor,
  simModelDir,
  sleep,
  startGatewayProcess,
  startSerialSensor,
  until,
  writeConfig,
} from '../support/gateway-fixture.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';
import { type PtyPair, startPtyPair } from '../support/socat.js';

const SITE = 'fb';
/**
 * Least broker outage, ms. The outage lasts at least this long and until
 * both machines went silent and the serial one came back (each waited for,
 * not assumed to fit into a fixed time).
 */
const OUTAGE_MS = 12_000;
let dir: string;
let broker: Mosquitto;
let pty: PtyPair;
let gw: GatewayProcess | undefined;
let observer: MqttClient;
let sensor: SerialSensor | undefined;
const received = new Map<string, number>(); // alert id → deliveries

const skip = !(await haveMosquitto()) ? 'mosquitto not installed' : false;

function connectObserver(url: string): Promise<MqttClient> {
  const c = mqtt.connect(url, {
    protocolVersion: 5,
    clientId: 'fl-fault-observer',
    clean: false,
    properties: { sessionExpiryInterval: 3600 },
    reconnectPeriod: 250,
  });
  c.on('error', () => undefined);
  c.on('message', (_topic, payload) => {
    const a = JSON.parse(payload.toString()) as Alert;
    received.set(a.id, (received.get(a.id) ?? 0) + 1);
  });
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

before(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-fault-broker-'));
  const model = await simModelDir();
  broker = await startMosquitto();
  pty = await startPtyPair();
  observer = await connectObserver(broker.url);
  await observer.subscribeAsync(`faultline/${SITE}/+/alert`, { qos: 1 });
  const config = await writeConfig(dir, {
    site: SITE,
    gatewayId: 'gw-fb',
    stateDir: path.join(dir, 'state'),
    model,
    machines: [
      {
        id: 'mqtt-m',
        sensors: [{ id: 1, sampleRate: 12_000 }],
        simulate: { fault: 'outer', severity: 0.8, seed: 31 },
      },
      { id: 'serial-m', sensors: [{ id: 2, sampleRate: 12_000, serial: pty.a }] },
    ],
    alerts: FAST_ALERTS,
    broker: { embedded: false, url: broker.url },
    http: { port: 0 },
    pipeline: { workers: 1 },
  });
  gw = await startGatewayProcess(config);
  sensor = await startSerialSensor({ path: pty.b, sensorId: 2, fault: 'inner' });
});

after(async () => {
  await sensor?.stop();
  await gw?.stop();
  await observer?.endAsync().catch(() => undefined);
  await broker?.stop();
  await pty?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('broker restart mid-stream: every alert raised meanwhile arrives (by id), ingestion resumes', {
  skip,
  timeout: 600_000,
}, async () => {
  const g = gw as GatewayProcess;
  const machine = (id: string) => g.get<MachineView>(`/api/machines/${id}`);
  // both machines diagnosed and alerting before the fault
  await until(
    'alerts of both machines before the fault',
    async () => {
      const a = await g.get<Alert[]>('/api/alerts?limit=1000');
      return new Set(a.map((x) => x.machine)).size === 2 && received.size > 0;
    },
    120_000,
  );
  const framesBefore = (await machine('mqtt-m')).ingest.frames;

  // ── fault: broker down; the serial machine goes quiet and comes back meanwhile
  const outageStart = Date.now();
  await broker.kill();
  await (sensor as SerialSensor).stop();
  // no frames from either machine: both turn silent (silentAfterMs + a tick)
  await until(
    'both machines to turn silent',
    async () =>
      (await machine('mqtt-m')).state === 'silent' &&
      (await machine('serial-m')).state === 'silent',
    60_000,
  );
  sensor = await startSerialSensor({ path: pty.b, sensorId: 2, fault: 'inner', seed: 6 });
  // the serial machine is diagnosed again while the broker is still away
  await until(
    'the serial machine to leave silent',
    async () => (await machine('serial-m')).state !== 'silent',
    120_000,
  );
  await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStart)));
  const queuedDuringOutage = (await g.get<GatewayHealth>('/api/gateway')).alerts.queued;
  await broker.restart();
  const outageEnd = Date.now();

  // ── recovery
  await until(
    'MQTT ingestion to resume',
    async () => (await machine('mqtt-m')).ingest.frames > framesBefore + 50,
    120_000,
  );
  const resumedAt = Date.now();
  await until(
    'the MQTT machine to leave silent',
    async () => (await machine('mqtt-m')).state !== 'silent',
    120_000,
  );
  await (sensor as SerialSensor).stop();
  sensor = undefined;
  await until(
    'the publisher queue to empty',
    async () => {
      const h = await g.get<GatewayHealth>('/api/gateway');
      return h.alerts.queued === 0 && h.alerts.connected;
    },
    60_000,
  );
  const stored = await g.get<Alert[]>('/api/alerts?limit=10000');
  const meanwhile = stored.filter(
    (a) => Date.parse(a.time) >= outageStart && Date.parse(a.time) <= outageEnd,
  );
  if (process.env.FL_DEBUG)
    console.log(
      stored.map((a) => `${a.time} ${a.machine} ${a.previousState}->${a.state}`).join('\n'),
      outageStart,
      outageEnd,
    );
  assert.ok(
    meanwhile.length >= 2,
    `alerts raised during the outage: ${meanwhile.length} (queued then: ${queuedDuringOutage})`,
  );
  assert.ok(
    meanwhile.some((a) => a.state === 'silent'),
    'the outage made a machine silent, and that was alerted',
  );
  const missing = await until(
    'every stored alert to reach the observer',
    () => {
      const m = stored.filter((a) => !received.has(a.id));
      return m.length === 0 ? [] : undefined;
    },
    60_000,
  ).catch(() => stored.filter((a) => !received.has(a.id)));
  const health = await g.get<GatewayHealth>('/api/gateway');
  const dups = [...received.values()].filter((n) => n > 1).length;
  const strangers = [...received.keys()].filter((id) => !stored.some((a) => a.id === id));
  console.log(
    `# broker-restart: outage ${outageEnd - outageStart} ms, alerts stored ${stored.length}, raised during outage ${meanwhile.length}, received ${received.size} (duplicates by id: ${dups}), lost ${missing.length}, publisher dropped ${health.alerts.dropped}, ingestion resumed ${resumedAt - outageEnd} ms after the broker`,
  );
  assert.deepEqual(
    missing.map((a) => `${a.machine} ${a.state} ${a.time}`),
    [],
    'alerts lost',
  );
  assert.equal(health.alerts.dropped, 0, 'publisher dropped alerts');
  assert.deepEqual(strangers, [], 'received alerts the gateway never stored');
});
