/**
 * MQTT link end to end through a real mosquitto on loopback:
 *   runSensorStream → MQTT sink → mosquitto → MqttSource → blocks
 * compared bit-exactly with what was encoded; persistent sessions, broker
 * restarts, shared subscriptions and corrupt payloads.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { rawTopic } from '../../src/contract/topics.js';
import { isFaultlineError } from '../../src/errors.js';
import { encodeFrame } from '../../src/ingest/frame.js';
import { MqttSource } from '../../src/ingest/mqtt-source.js';
import { runSensorStream, type SentFrame } from '../../src/sim/sensor-stream.js';
import { openMqttSink } from '../../src/sim/sinks.js';
import { assertSameFrame, collect, frameKey, testSignal, waitFor } from '../support/links.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';

const FAST = { initialMs: 50, maxMs: 400 };
const skip =
  !(await haveMosquitto()) && process.env.CI !== 'true' ? 'mosquitto not installed' : false;

describe('MQTT link through mosquitto', { skip }, () => {
  let broker: Mosquitto;
  before(async () => {
    broker = await startMosquitto();
  });
  after(async () => {
    await broker?.stop();
  });

  const id = (what: string) => `t-${what}-${randomUUID().slice(0, 8)}`;

  /** Streams `n` frames per sensor to site/machine through a fresh MQTT sink. */
  async function publish(
    site: string,
    machine: string,
    sensors: number[],
    n: number,
    opts: { firstSeq?: number; format?: 'int16' | 'float32' } = {},
  ): Promise<SentFrame[]> {
    const sink = await openMqttSink({
      url: broker.url,
      clientId: id('pub'),
      site,
      machine,
      inflight: 16,
    });
    const sent: SentFrame[] = [];
    try {
      await runSensorStream({
        sensors: sensors.map((sensorId) => ({ sensorId, source: testSignal(sensorId), rpm: 1730 })),
        sampleRate: 12_000,
        frameSamples: 256,
        format: opts.format ?? 'int16',
        speed: Number.POSITIVE_INFINITY,
        maxFrames: n,
        firstSeq: opts.firstSeq,
        sink,
        onFrame: (f) => sent.push(f),
      });
    } finally {
      await sink.close();
    }
    return sent;
  }

  for (const format of ['int16', 'float32'] as const) {
    test(`${format}: three sensors arrive with exact samples and their topic`, async () => {
      const source = new MqttSource({
        url: broker.url,
        clientId: id('sub'),
        site: 'plant1',
        machine: 'pump3',
        backoff: FAST,
      });
      await source.start();
      try {
        const arrived = collect(source, 3 * 20);
        const sent = await publish('plant1', 'pump3', [1, 2, 3], 20, { format });
        // a different machine on the same broker must not leak into the subscription
        await publish('plant1', 'fan9', [1], 5);
        const got = await arrived;
        const byKey = new Map(sent.map((f) => [frameKey(f.header.sensorId, f.header.seq), f]));
        for (const b of got) {
          assertSameFrame(b, byKey.get(frameKey(b.sensorId, b.seq)) as SentFrame);
          assert.deepEqual(b.origin, {
            link: 'mqtt',
            topic: rawTopic('plant1', 'pump3', b.sensorId),
            site: 'plant1',
            machine: 'pump3',
            sensor: String(b.sensorId),
          });
        }
        await new Promise((r) => setTimeout(r, 100));
        const st = source.stats();
        assert.equal(st.blocks, 60, 'messages of another machine were delivered');
        assert.equal(st.badFrames, 0);
        assert.equal(st.missingFrames, 0);
      } finally {
        await source.close();
      }
    });
  }

  test('persistent session: QoS 1 messages published while the source was offline arrive on reconnect', async () => {
    const clientId = id('persist');
    const first = new MqttSource({
      url: broker.url,
      clientId,
      site: 's',
      machine: 'persist',
      backoff: FAST,
    });
    await first.start();
    const before = collect(first, 5);
    const sent1 = await publish('s', 'persist', [4], 5);
    await before;
    await first.close();

    const sent2 = await publish('s', 'persist', [4], 25, { firstSeq: 5 }); // nobody listening now
    const again = new MqttSource({
      url: broker.url,
      clientId,
      site: 's',
      machine: 'persist',
      backoff: FAST,
    });
    const arrived = collect(again, 25);
    await again.start();
    try {
      const got = await arrived;
      const all = new Map([...sent1, ...sent2].map((f) => [f.header.seq, f]));
      for (const b of got) assertSameFrame(b, all.get(b.seq) as SentFrame);
      assert.deepEqual(
        got.map((b) => b.seq),
        Array.from({ length: 25 }, (_, i) => 5 + i),
      );
    } finally {
      await again.close();
    }
  });

  test('broker killed and restarted (persistence on): the source reconnects and resumes, gaps counted', async () => {
    const source = new MqttSource({
      url: broker.url,
      clientId: id('restart'),
      site: 's',
      machine: 'restart',
      backoff: FAST,
    });
    await source.start();
    try {
      const first = collect(source, 10);
      await publish('s', 'restart', [5], 10);
      await first;
      let tConnected = 0;
      source.on('state', (st) => {
        if (st === 'connected') tConnected = performance.now();
      });
      const tKill = performance.now();
      await broker.kill();
      await waitFor(() => source.state === 'reconnecting', 'the source to notice', 3000);
      const tNoticed = performance.now();
      await new Promise((r) => setTimeout(r, 500));
      await broker.restart();
      const tBack = performance.now();
      await waitFor(() => source.state === 'connected', 'the source to reconnect', 5000);
      process.stdout.write(
        `# mqtt: broker loss noticed after ${(tNoticed - tKill).toFixed(0)} ms; broker back (accepting) ${(tBack - tKill).toFixed(0)} ms after the kill; source reconnected ${(tConnected - tKill).toFixed(0)} ms after the kill\n`,
      );
      // seq 10…14 were lost with the broker down; 15… arrive
      const second = collect(source, 10);
      const sent = await publish('s', 'restart', [5], 10, { firstSeq: 15 });
      const got = await second;
      for (const [i, b] of got.entries()) assertSameFrame(b, sent[i]);
      assert.equal(got[0].gap, 5);
      const st = source.stats();
      assert.equal(st.reconnects, 1);
      assert.equal(st.gaps['s/restart/5'], 5);
      assert.equal(st.blocks, 20);
    } finally {
      await source.close();
    }
  });

  test('MQTT 5 shared subscription splits one stream between two gateways', async () => {
    const group = id('grp');
    const a = new MqttSource({
      url: broker.url,
      clientId: id('sa'),
      site: 'sh',
      machine: 'm',
      shareGroup: group,
    });
    const b = new MqttSource({
      url: broker.url,
      clientId: id('sb'),
      site: 'sh',
      machine: 'm',
      shareGroup: group,
    });
    await a.start();
    await b.start();
    try {
      assert.deepEqual(a.topics, [`$share/${group}/faultline/sh/m/+/raw`]);
      const seen = new Set<string>();
      for (const s of [a, b]) s.on('data', (blk) => seen.add(frameKey(blk.sensorId, blk.seq)));
      await publish('sh', 'm', [1, 2], 20);
      await waitFor(() => seen.size === 40, 'all 40 frames over both gateways');
      assert.equal(a.stats().blocks + b.stats().blocks, 40, 'a frame went to both gateways');
      assert.ok(a.stats().blocks > 0 && b.stats().blocks > 0, 'the broker did not share the load');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('corrupt payloads are counted by reason; valid ones still pass; foreign topics warn', async () => {
    const source = new MqttSource({
      url: broker.url,
      clientId: id('bad'),
      topics: ['faultline/bad/#'],
    });
    const warnings: string[] = [];
    source.on('warning', (w) => warnings.push(w.message));
    await source.start();
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: id('raw') });
    try {
      const header = {
        version: 1,
        sensorId: 11,
        seq: 0,
        t0Us: 1_000_000n,
        sampleRate: 12_000,
        channels: 1,
        format: 'int16' as const,
        scale: 1 / 2048,
        sampleCount: 64,
        rpm: 0,
      };
      const good = encodeFrame(
        header,
        new Int16Array(64).map((_, i) => i * 100 - 3000),
      );
      const flipped = Buffer.from(good);
      flipped[50] ^= 0x10;
      const topic = rawTopic('bad', 'm', 11);
      await pub.publishAsync(topic, Buffer.from(good), { qos: 1 });
      await pub.publishAsync(topic, flipped, { qos: 1 });
      await pub.publishAsync(topic, Buffer.from('not a frame at all'), { qos: 1 });
      await pub.publishAsync(topic, Buffer.alloc(0), { qos: 1 });
      await pub.publishAsync(topic, Buffer.from(good.subarray(0, good.length - 7)), { qos: 1 });
      await pub.publishAsync('faultline/bad/m/11/status', Buffer.from('x'), { qos: 1 });
      const ok = encodeFrame({ ...header, seq: 1 }, new Int16Array(64));
      await pub.publishAsync(topic, Buffer.from(ok), { qos: 1 });
      await waitFor(
        () => source.stats().blocks === 2 && source.stats().badFrames === 4,
        'the six payloads',
        5000,
      );
      const st = source.stats();
      // the cut frame fails its CRC first: its last four bytes are no CRC (PROTOCOL.md check order)
      assert.deepEqual(st.badFramesByReason, {
        FL_ERR_FRAME_CRC: 2,
        FL_ERR_FRAME_MAGIC: 1,
        FL_ERR_FRAME_LENGTH: 1,
      });
      assert.ok(warnings.some((w) => w.includes('faultline/bad/m/11/status')));
    } finally {
      await pub.endAsync();
      await source.close();
    }
  });

  test('an unreachable broker gives FL_ERR_MQTT_CONNECT naming the URL', async () => {
    const source = new MqttSource({
      url: 'mqtt://127.0.0.1:1',
      clientId: id('none'),
      connectTimeoutMs: 1000,
    });
    await assert.rejects(source.start(), (err: unknown) => {
      assert.ok(isFaultlineError(err, 'FL_ERR_MQTT_CONNECT'), String(err));
      assert.match(err.message, /mqtt:\/\/127\.0\.0\.1:1/);
      return true;
    });
    assert.equal(source.state, 'closed');
  });

  test('invalid filters are refused', () => {
    assert.throws(() => new MqttSource({ url: broker.url, topics: ['faultline/a+/#'] }), /invalid/);
    assert.throws(
      () => new MqttSource({ url: broker.url, topics: ['faultline/#/raw'] }),
      /invalid/,
    );
    assert.throws(() => new MqttSource({ url: broker.url, site: 'a/b' }), /topic level/);
  });
});
