/**
 * Periodic metrics (issue #15): a gateway on a real mosquitto with the
 * simulated fleet publishes faultline/<site>/<machine>/metrics every
 * `outputs.metrics.intervalS`, and a plain MQTT subscriber receives readings
 * that validate against the contract's schema. Off unless configured.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { AlertPublisher } from '../../src/alerts/publisher.js';
import { type MachineMetrics, machineMetricsSchema } from '../../src/contract/metrics.js';
import { metricsTopic } from '../../src/contract/topics.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { isFaultlineError } from '../../src/errors.js';
import { quiet, simModelDir } from '../support/gateway-fixture.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';

const skip = !(await haveMosquitto()) ? 'mosquitto not installed' : false;
let broker: Mosquitto;
let dir: string;
let gw: Gateway | undefined;
let sub: MqttClient | undefined;

before(async () => {
  if (skip) return;
  broker = await startMosquitto({ persistence: false });
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-metrics-'));
});
after(async () => {
  await sub?.endAsync(true).catch(() => undefined);
  await gw?.close();
  await broker?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const machines: GatewayConfigInput['machines'] = [
  { id: 'pump-1', sensors: [{ id: 1, sampleRate: 12000 }], simulate: { fault: 'none', seed: 3 } },
  {
    id: 'fan-2',
    sensors: [{ id: 2, sampleRate: 12000 }],
    simulate: { fault: 'outer', severity: 0.8, seed: 4 },
  },
];

test('config: no plant output unless configured; metrics interval bounded', () => {
  const c = parseConfig({ machines });
  assert.deepEqual(c.outputs, {});
  assert.equal(parseConfig({ machines, outputs: { metrics: {} } }).outputs.metrics?.intervalS, 10);
  assert.throws(
    () => parseConfig({ machines, outputs: { metrics: { intervalS: 0.1 } } }),
    (e) => isFaultlineError(e, 'FL_ERR_CONFIG') && /outputs\.metrics\.intervalS/.test(e.message),
  );
});

test('publishMetrics: QoS 0 when connected, dropped and counted when offline, invalid refused', async () => {
  // a client that never connects (nothing listens on port 1)
  const client = mqtt.connect('mqtt://127.0.0.1:1', { reconnectPeriod: 0 });
  client.on('error', () => undefined);
  const pub = new AlertPublisher({ client, site: 's', gatewayId: 'g', log: () => undefined });
  const m: MachineMetrics = {
    site: 's',
    machine: 'm',
    state: 'starting',
    faultClass: null,
    confidence: null,
    velocityRmsMmS: null,
    isoZone: null,
    modelVersion: null,
    lastWindow: null,
    intervalS: 5,
    time: new Date().toISOString(),
  };
  assert.equal(pub.publishMetrics(m), false);
  assert.equal(pub.stats().metricsDropped, 1);
  assert.throws(
    () => pub.publishMetrics({ ...m, confidence: 2 }),
    (e) => isFaultlineError(e, 'FL_ERR_ALERT_SCHEMA') && /confidence/.test(e.message),
  );
  await pub.close();
});

test('a real subscriber receives ≥ 2 metrics per machine, each valid against the schema', {
  skip,
  timeout: 180_000,
}, async () => {
  const got = new Map<string, MachineMetrics[]>();
  sub = await mqtt.connectAsync(broker.url, { clientId: 'metrics-observer' });
  sub.on('message', (topic, payload, packet) => {
    assert.equal(packet.retain, false, 'metrics are not retained');
    const m = machineMetricsSchema.parse(JSON.parse(payload.toString('utf8')));
    assert.equal(topic, metricsTopic(m.site, m.machine));
    got.set(m.machine, [...(got.get(m.machine) ?? []), m]);
  });
  await sub.subscribeAsync('faultline/plant/+/metrics', { qos: 0 });
  gw = await Gateway.start({
    config: parseConfig({
      site: 'plant',
      gatewayId: 'gw-metrics',
      stateDir: path.join(dir, 'state'),
      model: await simModelDir(),
      machines,
      broker: { embedded: false, url: broker.url },
      http: { port: 0 },
      fleet: { speed: 2 },
      pipeline: { workers: 1 },
      outputs: { metrics: { intervalS: 1 } },
    }),
    log: quiet,
  });
  const deadline = Date.now() + 90_000;
  const diagnosed = () =>
    ['pump-1', 'fan-2'].every((id) => (got.get(id) ?? []).filter((m) => m.lastWindow).length >= 2);
  while (!diagnosed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  assert.ok(diagnosed(), `metrics received: ${JSON.stringify([...got.entries()])}`);
  for (const id of ['pump-1', 'fan-2']) {
    const list = got.get(id) ?? [];
    const last = list[list.length - 1];
    assert.equal(last.intervalS, 1);
    assert.notEqual(last.state, 'starting');
    assert.ok(last.velocityRmsMmS !== null && last.velocityRmsMmS > 0);
    assert.ok(last.isoZone !== null);
    assert.ok(last.modelVersion);
    // a period apart, give or take the timer's jitter
    const dt = Date.parse(last.time) - Date.parse(list[list.length - 2].time);
    assert.ok(dt >= 500 && dt <= 3000, `period ${dt} ms`);
  }
  // the gateway's view agrees with the latest reading of each machine
  const views = gw.machines();
  const fan = views.find((v) => v.id === 'fan-2');
  const fanLast = (got.get('fan-2') ?? []).at(-1);
  assert.equal(fanLast?.modelVersion, fan?.model?.version);
  assert.ok(gw.health().alerts.metricsPublished >= 4);

  // a dead broker: readings are dropped and counted, nothing crashes; once back they flow again
  await broker.kill();
  const dropped = gw.health().alerts.metricsDropped;
  const until = Date.now() + 20_000;
  while (gw.health().alerts.metricsDropped <= dropped && Date.now() < until)
    await new Promise((r) => setTimeout(r, 100));
  assert.ok(gw.health().alerts.metricsDropped > dropped, 'dropped while the broker is away');
  assert.ok((await fetch(`${gw.apiUrl}/api/healthz`)).status < 500, 'gateway alive');
  await broker.restart();
  const seen = (got.get('pump-1') ?? []).length;
  const back = Date.now() + 60_000;
  while ((got.get('pump-1') ?? []).length <= seen && Date.now() < back)
    await new Promise((r) => setTimeout(r, 100));
  assert.ok((got.get('pump-1') ?? []).length > seen, 'metrics again after the broker came back');
});
