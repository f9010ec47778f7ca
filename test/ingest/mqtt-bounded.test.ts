/**
 * MqttSource under hostile topics, through a real mosquitto: 10,000 distinct
 * raw topics that route to no configured sensor make no per-topic state
 * (memory stays flat), a frame claiming another sensor than its topic is
 * dropped before any sequence state is made for it, and `maxSensors` caps
 * the state of a source that accepts every topic.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { MqttSource } from '../../src/ingest/mqtt-source.js';
import type { IngestedBlock } from '../../src/ingest/source.js';
import { testFrame } from '../support/frames.js';
import { until } from '../support/gateway-fixture.js';
import { heapMiB } from '../support/heap.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';

const skip = !(await haveMosquitto()) ? 'mosquitto not installed' : false;
let broker: Mosquitto;
let pub: MqttClient;
const sources: MqttSource[] = [];

before(async () => {
  if (skip) return;
  broker = await startMosquitto({ persistence: false });
  pub = await mqtt.connectAsync(broker.url, { clientId: `pub-${randomUUID().slice(0, 8)}` });
});

after(async () => {
  for (const s of sources) await s.close().catch(() => undefined);
  await pub?.endAsync(true).catch(() => undefined);
  await broker?.stop();
});

const frame = (sensorId: number, seq: number) => testFrame(sensorId, seq, { fill: seq });

async function source(o: { accept?: (w: { machine: string }) => boolean; maxSensors?: number }) {
  const s = new MqttSource({
    url: broker.url,
    clientId: `sub-${randomUUID().slice(0, 8)}`,
    clean: true,
    topics: ['faultline/b/+/+/raw'],
    ...o,
  });
  sources.push(s);
  const got: IngestedBlock[] = [];
  s.on('data', (b: IngestedBlock) => got.push(b));
  await s.start();
  return { s, got };
}

test('10,000 garbage topics make no state and keep memory flat; a routed sensor still arrives', {
  skip,
  timeout: 600_000,
}, async () => {
  const { s, got } = await source({ accept: (w) => w.machine === 'pump' });
  const trackers = (s as unknown as { trackers: Map<string, unknown> }).trackers;
  await pub.publishAsync('faultline/b/pump/1/raw', frame(1, 0), { qos: 1 });
  await until('the routed frame', () => got.length === 1);
  const heap0 = heapMiB();
  const N = 10_000;
  for (let i = 0; i < N; i++) {
    // each a new machine and sensor: before, each made a tracker and a gap counter
    pub.publish(`faultline/b/junk-${i}/${i % 65_536}/raw`, frame(i % 65_536, i), { qos: 0 });
    if (i % 500 === 499) await pub.publishAsync('faultline/b/pump/1/raw', frame(1, i), { qos: 1 });
  }
  await pub.publishAsync('faultline/b/pump/1/raw', frame(1, N + 1), { qos: 1 });
  await until('the last routed frame', () => got.at(-1)?.seq === N + 1, 120_000);
  const stats = s.stats();
  await until(
    'every garbage frame counted',
    () => (s.stats().badFramesByReason.FL_ERR_INGEST_UNROUTED ?? 0) === N,
    120_000,
  );
  const heap1 = heapMiB();
  console.log(
    `# 10,000 garbage topics: heap ${heap0.toFixed(1)} → ${heap1.toFixed(1)} MiB, trackers ${trackers.size}, gap keys ${Object.keys(stats.gaps).length}`,
  );
  assert.equal(trackers.size, 1);
  assert.ok(Object.keys(stats.gaps).length <= 1);
  assert.ok(heap1 - heap0 < 8, `heap grew ${(heap1 - heap0).toFixed(1)} MiB`);
});

test('a frame claiming another sensor than its topic is dropped before it makes state', {
  skip,
}, async () => {
  const { s, got } = await source({});
  const trackers = (s as unknown as { trackers: Map<string, { stats(): unknown[] }> }).trackers;
  for (let id = 100; id < 200; id++) pub.publish('faultline/b/fan/7/raw', frame(id, 1), { qos: 0 });
  await pub.publishAsync('faultline/b/fan/7/raw', frame(7, 1), { qos: 1 });
  await until('the honest frame', () => got.length === 1);
  assert.equal(got[0].sensorId, 7);
  assert.equal(s.stats().badFramesByReason.FL_ERR_INGEST_TOPIC, 100);
  assert.equal(trackers.get('b/fan')?.stats().length, 1);
});

test('maxSensors caps the state of a source that accepts every topic', { skip }, async () => {
  const { s, got } = await source({ maxSensors: 3 });
  for (let id = 1; id <= 5; id++)
    await pub.publishAsync(`faultline/b/m/${id}/raw`, frame(id, 1), { qos: 1 });
  await until('5 frames handled', () => got.length + (s.stats().badFrames ?? 0) === 5);
  assert.deepEqual(
    got.map((b) => b.sensorId),
    [1, 2, 3],
  );
  assert.equal(s.stats().badFramesByReason.FL_ERR_INGEST_LIMIT, 2);
});

test('a configured topic whose sensor level is a name, not the id, still delivers', {
  skip,
}, async () => {
  const { got } = await source({ accept: (w) => w.machine === 'named' });
  await pub.publishAsync('faultline/b/named/accel-1/raw', frame(3, 1), { qos: 1 });
  await until('the frame on the named topic', () => got.length === 1);
  assert.equal(got[0].sensorId, 3);
});
