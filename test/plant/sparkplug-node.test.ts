/**
 * The Sparkplug B edge node alone on a real mosquitto: its NDEATH will
 * carries the bdSeq of its NBIRTH when the link dies without a DISCONNECT,
 * an NCMD rebirth request brings every birth again, a silent machine is
 * reported dead and born again when it speaks, and stray NCMD payloads are
 * ignored.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import mqtt from 'mqtt';
import { get } from 'sparkplug-payload';
import type { MachineMetrics } from '../../src/contract/metrics.js';
import {
  DEVICE_METRICS,
  NODE_METRICS,
  sparkplugDeviceTopic,
} from '../../src/contract/sparkplug.js';
import { isFaultlineError } from '../../src/errors.js';
import { type SparkplugDevice, SparkplugNode } from '../../src/plant/sparkplug-node.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';
import { metric, num, observeSparkplug, type SparkplugObserver } from '../support/sparkplug.js';

const skip = !(await haveMosquitto()) ? 'mosquitto not installed' : false;
let broker: Mosquitto;
let obs: SparkplugObserver;
const nodes: SparkplugNode[] = [];

before(async () => {
  if (skip) return;
  broker = await startMosquitto({ persistence: false });
  obs = await observeSparkplug(broker.url, 'g');
});
after(async () => {
  for (const n of nodes) await n.close();
  await obs?.close();
  await broker?.stop();
});

const reading = (machine: string, o: Partial<MachineMetrics> = {}): MachineMetrics => ({
  site: 's',
  machine,
  state: 'ok',
  faultClass: 'normal',
  confidence: 0.01,
  velocityRmsMmS: 1.5,
  isoZone: 'A',
  modelVersion: 'v1',
  lastWindow: new Date(1000).toISOString(),
  intervalS: 1,
  time: new Date().toISOString(),
  ...o,
});

test('the will is an NDEATH with the NBIRTH’s bdSeq; rebirth on NCMD; silent machines die and return', {
  skip,
  timeout: 60_000,
}, async () => {
  let devices: SparkplugDevice[] = [{ reading: reading('m1'), frames: 1 }];
  const node = new SparkplugNode({
    connect: (opts) => mqtt.connect(broker.url, opts),
    groupId: 'g',
    edgeNodeId: 'n1',
    site: 's',
    gatewayId: 'gw',
    intervalMs: 200,
    devices: () => devices,
  });
  nodes.push(node);
  node.start();
  const birth = await obs.next((m) => m.type === 'NBIRTH' && m.node === 'n1');
  const b0 = num(metric(birth.payload, NODE_METRICS.bdSeq)?.value);
  const db = await obs.next((m) => m.type === 'DBIRTH' && m.device === 'm1');
  assert.equal(metric(db.payload, DEVICE_METRICS.state.name)?.value, 'ok');
  assert.equal(num(metric(db.payload, DEVICE_METRICS.lastWindow.name)?.value), 1000);

  // a change goes out as DDATA with only the changed metrics
  let at = obs.messages.length;
  devices = [{ reading: reading('m1', { velocityRmsMmS: 2.5 }), frames: 2 }];
  const dd = await obs.next((m) => m.type === 'DDATA' && m.device === 'm1', 10_000, at);
  assert.deepEqual(
    (dd.payload.metrics ?? []).map((m) => m.name),
    [DEVICE_METRICS.velocityRms.name],
  );

  // stray and malformed commands are ignored; a rebirth request is honoured with the same bdSeq
  const host = await mqtt.connectAsync(broker.url);
  await host.publishAsync('spBv1.0/g/NCMD/n1', Buffer.from('not protobuf'));
  at = obs.messages.length;
  const spb = get('spBv1.0');
  const cmd = spb?.encodePayload({
    timestamp: Date.now(),
    metrics: [{ name: NODE_METRICS.rebirth, type: 'Boolean', value: true }],
  });
  await host.publishAsync('spBv1.0/g/NCMD/n1', Buffer.from(cmd ?? []));
  const again = await obs.next((m) => m.type === 'NBIRTH' && m.node === 'n1', 10_000, at);
  assert.equal(num(metric(again.payload, NODE_METRICS.bdSeq)?.value), b0);
  await obs.next((m) => m.type === 'DBIRTH' && m.device === 'm1', 10_000, at);
  await host.endAsync();

  // a silent machine is dead to the host until it speaks again
  at = obs.messages.length;
  devices = [{ reading: reading('m1', { state: 'silent' }), frames: 2 }];
  await obs.next((m) => m.type === 'DDEATH' && m.device === 'm1', 10_000, at);
  devices = [{ reading: reading('m1'), frames: 3 }];
  await obs.next((m) => m.type === 'DBIRTH' && m.device === 'm1', 10_000, at);

  // the link dies without a DISCONNECT: the broker publishes the will
  at = obs.messages.length;
  const client = (node as unknown as { client: mqtt.MqttClient }).client;
  client.stream.destroy();
  const death = await obs.next((m) => m.type === 'NDEATH' && m.node === 'n1', 30_000, at);
  assert.equal(num(metric(death.payload, NODE_METRICS.bdSeq)?.value), b0);
  // and MQTT.js reconnects: a new birth with the next bdSeq, the will updated to match
  const reborn = await obs.next((m) => m.type === 'NBIRTH' && m.node === 'n1', 30_000, at);
  assert.equal(num(metric(reborn.payload, NODE_METRICS.bdSeq)?.value), (b0 + 1) % 256);
  at = obs.messages.length;
  client.stream.destroy();
  const death2 = await obs.next((m) => m.type === 'NDEATH' && m.node === 'n1', 30_000, at);
  assert.equal(num(metric(death2.payload, NODE_METRICS.bdSeq)?.value), (b0 + 1) % 256);
});

test('topics: names that cannot be topic levels are refused; bad options are TypeErrors', () => {
  assert.equal(sparkplugDeviceTopic('g', 'DDATA', 'n', 'm'), 'spBv1.0/g/DDATA/n/m');
  assert.throws(
    () => sparkplugDeviceTopic('g', 'DDATA', 'n', 'a/b'),
    (e) => isFaultlineError(e, 'FL_ERR_TOPIC_LEVEL'),
  );
  const o = {
    connect: () => {
      throw new Error('not reached');
    },
    groupId: 'g',
    edgeNodeId: 'n',
    site: 's',
    gatewayId: 'gw',
    devices: () => [],
  };
  assert.throws(() => new SparkplugNode({ ...o, intervalMs: 10 }), TypeError);
  assert.throws(
    () => new SparkplugNode({ ...o, groupId: '+', intervalMs: 1000 }),
    (e) => isFaultlineError(e, 'FL_ERR_TOPIC_LEVEL'),
  );
});
