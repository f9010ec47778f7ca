/**
 * MQTT ingest throughput through a real mosquitto on loopback: a publisher
 * sends pre-encoded 512-sample int16 frames (QoS 1, bounded in-flight window)
 * and an MqttSource decodes them into blocks. Measures the whole path —
 * broker, MQTT.js parsing, CRC, decoding, sequence tracking — on one machine,
 * so publisher, broker and consumer share the cores.
 */
import { randomUUID } from 'node:crypto';
import mqtt from 'mqtt';
import { rawTopic } from '../../src/contract/topics.js';
import { encodeFrame } from '../../src/ingest/frame.js';
import { MqttSource } from '../../src/ingest/mqtt-source.js';
import { startMosquitto } from '../../test/support/mosquitto.js';

export const name = 'mqtt';

const FRAME_SAMPLES = 512;
const SENSORS = 4;
const FRAMES = 16_000; // per run, over all sensors
const WARMUP = 1_000;
const INFLIGHT = 256;

export async function run(): Promise<Record<string, number>> {
  // throws "mosquitto not found …" when absent: the harness skips the suite
  const broker = await startMosquitto({ persistence: false });
  const tag = randomUUID().slice(0, 8);
  const source = new MqttSource({
    url: broker.url,
    clientId: `bench-sub-${tag}`,
    site: 'bench',
    machine: 'm',
    clean: true,
  });
  const pub = await mqtt.connectAsync(broker.url, {
    protocolVersion: 5,
    clientId: `bench-pub-${tag}`,
  });
  try {
    await source.start();
    // pre-encode: the bench measures ingest, not the simulator
    const samples = new Int16Array(FRAME_SAMPLES).map((_, i) => Math.round(8000 * Math.sin(i / 7)));
    const total = WARMUP + FRAMES;
    const frames: Buffer[] = [];
    for (let k = 0; k < total; k++) {
      const sensorId = k % SENSORS;
      const seq = Math.floor(k / SENSORS);
      frames.push(
        Buffer.from(
          encodeFrame(
            {
              sensorId,
              seq,
              t0Us: BigInt(seq) * 42_667n,
              sampleRate: 12_000,
              channels: 1,
              format: 'int16',
              scale: 16 / 32768,
              rpm: 1797,
            },
            samples,
          ),
        ),
      );
    }
    const topics = Array.from({ length: SENSORS }, (_, s) => rawTopic('bench', 'm', s));

    let received = 0;
    let samplesIn = 0;
    let tStart = 0;
    const done = new Promise<void>((resolve) => {
      source.on('data', (b) => {
        received++;
        if (received === WARMUP) tStart = performance.now();
        if (received > WARMUP) samplesIn += b.samples.length;
        if (received === total) resolve();
      });
    });

    let inflight = 0;
    let wake: (() => void) | undefined;
    for (let k = 0; k < total; k++) {
      while (inflight >= INFLIGHT) await new Promise<void>((r) => (wake = r));
      inflight++;
      pub.publish(topics[k % SENSORS], frames[k], { qos: 1 }, () => {
        inflight--;
        wake?.();
        wake = undefined;
      });
    }
    await done;
    const seconds = (performance.now() - tStart) / 1000;
    const st = source.stats();
    if (st.badFrames > 0 || st.missingFrames > 0) {
      throw new Error(
        `bench saw ${st.badFrames} bad and ${st.missingFrames} missing frames: the link is broken`,
      );
    }
    return {
      mqtt_ingest_samples_per_s: Math.round(samplesIn / seconds),
      mqtt_ingest_frames_per_s: Math.round(FRAMES / seconds),
      mqtt_ingest_mbit_per_s: Number(((FRAMES * frames[0].length * 8) / seconds / 1e6).toFixed(1)),
    };
  } finally {
    await pub.endAsync().catch(() => undefined);
    await source.close();
    await broker.stop();
  }
}
