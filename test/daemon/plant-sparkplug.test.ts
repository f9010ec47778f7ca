/**
 * Sparkplug B (issue #15) on a running gateway with the simulated fleet and a
 * real mosquitto: a subscriber decoding with sparkplug-payload sees the
 * NBIRTH, a DBIRTH per machine with every metric, then DDATA; a broker
 * restart brings new births with the next bdSeq; a clean stop sends a DDEATH
 * per machine and the NDEATH.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { get } from 'sparkplug-payload';
import { machineStateSchema } from '../../src/contract/health.js';
import { DEVICE_METRICS, NODE_METRICS } from '../../src/contract/sparkplug.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { isFaultlineError } from '../../src/errors.js';
import { quiet, simModelDir } from '../support/gateway-fixture.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';
import { metric, num, observeSparkplug, type SparkplugObserver } from '../support/sparkplug.js';

const skip = !(await haveMosquitto()) ? 'mosquitto not installed' : false;
let broker: Mosquitto;
let dir: string;
let gw: Gateway | undefined;
let obs: SparkplugObserver | undefined;

const machines: GatewayConfigInput['machines'] = [
  { id: 'pump-1', sensors: [{ id: 1, sampleRate: 12000 }], simulate: { fault: 'none', seed: 7 } },
  {
    id: 'fan-2',
    sensors: [{ id: 2, sampleRate: 12000 }],
    simulate: { fault: 'outer', severity: 0.8, seed: 8 },
  },
];
const ids = ['pump-1', 'fan-2'];

before(async () => {
  if (skip) return;
  broker = await startMosquitto({ persistence: false });
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-spb-'));
});
after(async () => {
  await obs?.close().catch(() => undefined);
  await gw?.close();
  await broker?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('config: Sparkplug off by default; the edge node id defaults to the gateway id', () => {
  assert.equal(parseConfig({ machines }).outputs.sparkplug, undefined);
  assert.deepEqual(parseConfig({ machines, outputs: { sparkplug: {} } }).outputs.sparkplug, {
    groupId: 'faultline',
    intervalS: 10,
  });
  assert.throws(
    () => parseConfig({ machines, outputs: { sparkplug: { groupId: 'a/b' } } }),
    (e) => isFaultlineError(e, 'FL_ERR_CONFIG') && /outputs\.sparkplug\.groupId/.test(e.message),
  );
});

test('NBIRTH, a DBIRTH per machine, then DDATA; new births after a broker restart; deaths on stop', {
  skip,
  timeout: 240_000,
}, async () => {
  obs = await observeSparkplug(broker.url, 'fl');
  const g = await Gateway.start({
    config: parseConfig({
      site: 'plant',
      gatewayId: 'gw-spb',
      stateDir: path.join(dir, 'state'),
      model: await simModelDir(),
      machines,
      broker: { embedded: false, url: broker.url },
      http: { port: 0 },
      fleet: { speed: 2 },
      pipeline: { workers: 1 },
      outputs: { sparkplug: { groupId: 'fl', intervalS: 1 } },
    }),
    log: quiet,
  });
  gw = g;
  const o = obs;
  const nbirth = await o.next((m) => m.type === 'NBIRTH');
  assert.equal(nbirth.topic, 'spBv1.0/fl/NBIRTH/gw-spb');
  assert.equal(nbirth.seq, 0);
  const bdSeq = num(metric(nbirth.payload, NODE_METRICS.bdSeq)?.value);
  assert.equal(metric(nbirth.payload, NODE_METRICS.rebirth)?.value, false);
  assert.equal(metric(nbirth.payload, NODE_METRICS.site)?.value, 'plant');
  const at = o.messages.indexOf(nbirth);
  for (const id of ids) {
    const db = await o.next((m) => m.type === 'DBIRTH' && m.device === id, 30_000, at);
    assert.equal(db.topic, `spBv1.0/fl/DBIRTH/gw-spb/${id}`);
    for (const def of Object.values(DEVICE_METRICS)) {
      const m = metric(db.payload, def.name);
      assert.ok(m, `${id} DBIRTH has ${def.name}`);
      assert.equal(m.type, def.type, def.name);
    }
    const state = metric(db.payload, DEVICE_METRICS.state.name)?.value;
    assert.ok(machineStateSchema.safeParse(state).success, `state ${state}`);
    const vel = metric(db.payload, DEVICE_METRICS.velocityRms.name);
    assert.equal(vel?.properties?.engUnit?.value, 'mm/s');
  }
  // DDATA once the machines are diagnosed: the velocity changes window after window
  for (const id of ids) {
    const dd = await o.next(
      (m) =>
        m.type === 'DDATA' &&
        m.device === id &&
        typeof metric(m.payload, DEVICE_METRICS.velocityRms.name)?.value === 'number',
      90_000,
      at,
    );
    assert.ok(num(metric(dd.payload, DEVICE_METRICS.velocityRms.name)?.value) > 0);
  }
  // seq counts every message of this birth, 0–255, in order
  const run = o.messages.slice(at).filter((m) => m.seq !== undefined);
  const cut = run.findIndex((m, i) => i > 0 && m.type === 'NBIRTH');
  for (const [i, m] of (cut < 0 ? run : run.slice(0, cut)).entries()) {
    assert.equal(m.seq, i % 256, `${m.topic} seq`);
  }

  // a dead broker: no crash; once back, births again with the next bdSeq
  const before = o.messages.length;
  await broker.kill();
  await new Promise((r) => setTimeout(r, 2500));
  assert.ok((await fetch(`${g.apiUrl}/api/healthz`)).status < 500, 'gateway alive');
  await broker.restart();
  await o.client.reconnect();
  await o.client.subscribeAsync('spBv1.0/fl/#', { qos: 1 }).catch(() => undefined);
  const reborn = await o.next((m) => m.type === 'NBIRTH', 60_000, before);
  assert.ok(num(metric(reborn.payload, NODE_METRICS.bdSeq)?.value) > bdSeq, 'next bdSeq');
  for (const id of ids) {
    const db = await o.next(
      (m) => m.type === 'DBIRTH' && m.device === id,
      30_000,
      o.messages.indexOf(reborn),
    );
    // the model version agrees with the API's view of the machine
    const view = g.machines().find((v) => v.id === id);
    assert.equal(metric(db.payload, DEVICE_METRICS.modelVersion.name)?.value, view?.model?.version);
  }

  // a clean stop: DDEATH per machine, then NDEATH with the birth's bdSeq
  const stopAt = o.messages.length;
  await g.close();
  gw = undefined;
  for (const id of ids) await o.next((m) => m.type === 'DDEATH' && m.device === id, 10_000, stopAt);
  const nd = await o.next((m) => m.type === 'NDEATH', 10_000, stopAt);
  assert.equal(
    num(metric(nd.payload, NODE_METRICS.bdSeq)?.value),
    num(metric(reborn.payload, NODE_METRICS.bdSeq)?.value),
  );
});

test('on the embedded broker (MQTT 3.1.1) too: NBIRTH and a DBIRTH per machine, before any window', {
  timeout: 120_000,
}, async () => {
  const own = await mkdtemp(path.join(os.tmpdir(), 'fl-spb-emb-'));
  const g = await Gateway.start({
    config: parseConfig({
      site: 'plant',
      gatewayId: 'gw-emb',
      stateDir: own,
      model: await simModelDir(),
      machines,
      broker: { port: 0 },
      http: { port: 0 },
      pipeline: { workers: 1 },
      outputs: { sparkplug: { groupId: 'emb', intervalS: 1 } },
    }),
    fleet: false,
    log: quiet,
  });
  let o: SparkplugObserver | undefined;
  try {
    o = await observeSparkplug(g.brokerUrl, 'emb');
    // the node may have been born before the observer subscribed: ask for a rebirth
    await o.client.publishAsync(
      'spBv1.0/emb/NCMD/gw-emb',
      Buffer.from(
        get('spBv1.0')?.encodePayload({
          metrics: [{ name: NODE_METRICS.rebirth, type: 'Boolean', value: true }],
        }) ?? [],
      ),
    );
    await o.next((m) => m.type === 'NBIRTH');
    for (const id of ids) {
      const db = await o.next((m) => m.type === 'DBIRTH' && m.device === id, 10_000);
      assert.equal(metric(db.payload, DEVICE_METRICS.state.name)?.value, 'starting');
      assert.equal(metric(db.payload, DEVICE_METRICS.velocityRms.name)?.value, null);
    }
    assert.equal(g.health().outputs?.sparkplug?.connected, true);
  } finally {
    await o?.close();
    await g.close();
    await rm(own, { recursive: true, force: true });
  }
});
