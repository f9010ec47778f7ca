/**
 * Bridge end to end with real parts and injected corruption:
 *   simulator → pty a ══ socat ══ pty b → Bridge → mosquitto → MqttSource
 * Valid frames arrive bit-exact, bad ones are counted; the bridge survives
 * the broker going away (bounded queue, oldest dropped and counted).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Bridge, type BridgeOptions } from '../../src/ingest/bridge.js';
import { MqttSource } from '../../src/ingest/mqtt-source.js';
import type { IngestedBlock } from '../../src/ingest/source.js';
import { LinkFaultInjector, parseLinkFaultSpec } from '../../src/sim/fault-injection.js';
import { type FrameSink, runSensorStream, type SentFrame } from '../../src/sim/sensor-stream.js';
import { openSerialSink } from '../../src/sim/sinks.js';
import { assertSameFrame, frameKey, testSignal, waitFor } from '../support/links.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';
import { type PtyPair, startPtyPair } from '../support/socat.js';

const FAST = { initialMs: 50, maxMs: 400 };
const skip =
  !(await haveMosquitto()) && process.env.CI !== 'true' ? 'mosquitto not installed' : false;
const id = (what: string) => `t-${what}-${randomUUID().slice(0, 8)}`;

describe('serial → MQTT bridge', { skip }, () => {
  let broker: Mosquitto;
  let pty: PtyPair;
  before(async () => {
    [broker, pty] = await Promise.all([startMosquitto(), startPtyPair()]);
  });
  after(async () => {
    await Promise.all([broker?.stop(), pty?.stop()]);
  });

  async function stream(
    sink: FrameSink,
    sent: SentFrame[],
    n: number,
    firstSeq = 0,
    faults?: LinkFaultInjector,
  ) {
    return runSensorStream({
      sensors: [
        { sensorId: 21, source: testSignal(21), rpm: 1200 },
        { sensorId: 22, source: testSignal(22), rpm: 1200 },
      ],
      sampleRate: 12_000,
      frameSamples: 256,
      speed: Number.POSITIVE_INFINITY,
      maxFrames: n,
      firstSeq,
      sink,
      faults,
      onFrame: (f) => sent.push(f),
    });
  }

  /**
   * A persistent subscriber on plant/<machine>, a bridge from the pty into
   * the broker, and a sensor sink writing the other end of the pty; `got`
   * collects what the subscriber receives, by sensor and seq.
   */
  async function startRig(machine: string, bridgeOpts: Partial<BridgeOptions> = {}) {
    const sub = new MqttSource({
      url: broker.url,
      clientId: id(`sub-${machine}`),
      site: 'plant',
      machine,
      backoff: FAST,
    });
    await sub.start();
    const bridge = new Bridge({
      serial: { path: pty.b, backoff: FAST },
      mqtt: { url: broker.url, clientId: id(`bridge-${machine}`), backoff: FAST },
      site: 'plant',
      machine,
      ...bridgeOpts,
    });
    await bridge.start();
    const sink = await openSerialSink({ path: pty.a });
    const got = new Map<string, IngestedBlock>();
    sub.on('data', (b) => got.set(frameKey(b.sensorId, b.seq), b));
    return {
      sub,
      bridge,
      sink,
      got,
      async close() {
        await sink.close();
        await bridge.close();
        await sub.close();
      },
    };
  }

  test('valid frames arrive exactly at an MQTT subscriber, corrupted ones are counted by the bridge', async () => {
    const rig = await startRig('press');
    const { sub, bridge, sink, got } = rig;
    try {
      const sent: SentFrame[] = [];
      const faults = new LinkFaultInjector(
        parseLinkFaultSpec('bitflip=0.08,drop=0.04,dup=0.04,truncate=0.04'),
        7,
      );
      const res = await stream(sink, sent, 100, 0, faults);
      const intact = sent.filter((f) => f.faults.length === 0);
      assert.ok(
        res.corrupted > 5,
        `too few corrupted frames (${res.corrupted}) for a meaningful test`,
      );
      await waitFor(() => got.size >= intact.length, `${intact.length} frames at the subscriber`);
      for (const f of intact) {
        const b = got.get(frameKey(f.header.sensorId, f.header.seq));
        assert.ok(b, `frame ${f.header.sensorId}:${f.header.seq} did not arrive`);
        assertSameFrame(b, f);
        assert.equal(
          b.origin.link === 'mqtt' && b.origin.topic,
          `faultline/plant/press/${f.header.sensorId}/raw`,
        );
      }
      assert.equal(got.size, intact.length);
      await waitFor(
        () => bridge.stats().serial.badFrames >= res.corrupted,
        'the bridge to count the bad frames',
        2000,
      );
      const st = bridge.stats();
      assert.equal(st.serial.blocks, intact.length);
      assert.ok(st.serial.badFrames <= res.corrupted + faults.counts().bitflip);
      await waitFor(
        () => bridge.stats().mqtt.acked === intact.length,
        'all publishes acknowledged',
        2000,
      );
      assert.equal(st.mqtt.droppedQueueFull, 0);
      assert.equal(sub.stats().badFrames, 0, 'the bridge forwarded a bad frame');
    } finally {
      await rig.close();
    }
  });

  test('broker away: frames queue (bounded, oldest dropped and counted) and flow again after it returns', async () => {
    const rig = await startRig('mill', { queueLimit: 30 });
    const { sub, bridge, sink, got } = rig;
    try {
      const sent: SentFrame[] = [];
      await stream(sink, sent, 10);
      await waitFor(() => got.size === 20, 'the first 20 frames');

      await broker.kill();
      await waitFor(
        () => bridge.stats().mqtt.state === 'reconnecting',
        'the bridge to notice the broker loss',
        3000,
      );
      await stream(sink, sent, 25, 10); // 50 frames into a 30-frame queue
      await waitFor(
        () => bridge.stats().serial.blocks === 70,
        'serial frames while the broker is away',
      );
      assert.equal(bridge.stats().mqtt.queued, 30);
      assert.equal(bridge.stats().mqtt.droppedQueueFull, 20);

      await broker.restart();
      // the 30 newest frames (seq 20…34 of both sensors) reach the persistent subscriber
      await waitFor(() => got.size === 50, 'the queued frames after the broker returned', 8000);
      const bySeq = new Map(sent.map((f) => [frameKey(f.header.sensorId, f.header.seq), f]));
      for (const [k, b] of got) assertSameFrame(b, bySeq.get(k) as SentFrame);
      for (const sensor of [21, 22]) {
        for (let seq = 20; seq < 35; seq++)
          assert.ok(got.has(frameKey(sensor, seq)), `${sensor}:${seq} missing`);
        for (let seq = 10; seq < 20; seq++)
          assert.ok(!got.has(frameKey(sensor, seq)), `${sensor}:${seq} should have been dropped`);
      }
      assert.equal(
        sub.stats().missingFrames,
        20,
        'the subscriber counts the dropped frames as gaps',
      );
      assert.equal(bridge.stats().mqtt.reconnects, 1);
    } finally {
      await rig.close();
    }
  });
});
