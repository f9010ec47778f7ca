/**
 * A Sparkplug B observer for tests: a plain MQTT client subscribed to a
 * group's topics, decoding every payload with sparkplug-payload (the
 * reference encoder, independent of the gateway's use of it: decoding is the
 * other half of the library).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { get } from 'sparkplug-payload';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';

const spb = get('spBv1.0');

export interface SparkplugMessage {
  topic: string;
  type: string;
  node: string;
  device?: string;
  payload: UPayload;
  /** payload.seq as a number (uint64 decodes as a Long). */
  seq?: number;
}

/** A uint64 as decoded (Long) or a plain number, as a number. */
export function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(String(v));
}

/** The metric named `name` of a payload. */
export function metric(p: UPayload, name: string): UMetric | undefined {
  return (p.metrics ?? []).find((m) => m.name === name);
}

export interface SparkplugObserver {
  readonly client: MqttClient;
  readonly messages: SparkplugMessage[];
  /** Resolves with the first message (from index `from`) that `pred` accepts. */
  next(
    pred: (m: SparkplugMessage) => boolean,
    timeoutMs?: number,
    from?: number,
  ): Promise<SparkplugMessage>;
  close(): Promise<void>;
}

export async function observeSparkplug(url: string, group: string): Promise<SparkplugObserver> {
  const client = await mqtt.connectAsync(url, { clientId: `spb-observer-${process.pid}` });
  const messages: SparkplugMessage[] = [];
  client.on('message', (topic, payload) => {
    const [, , type, node, device] = topic.split('/');
    let p: UPayload;
    try {
      p = spb?.decodePayload(new Uint8Array(payload)) ?? {};
    } catch {
      p = {}; // not Sparkplug (a test's own stray command): kept, with no metrics
    }
    messages.push({
      topic,
      type,
      node,
      ...(device ? { device } : {}),
      payload: p,
      ...(p.seq !== undefined && p.seq !== null ? { seq: num(p.seq) } : {}),
    });
  });
  await client.subscribeAsync(`spBv1.0/${group}/#`, { qos: 1 });
  return {
    client,
    messages,
    async next(pred, timeoutMs = 60_000, from = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = messages.slice(from).find(pred);
        if (m) return m;
        if (Date.now() > deadline) {
          const seen = messages.map((x) => x.topic).join(', ');
          throw new Error(`no such Sparkplug message in ${timeoutMs} ms; seen: ${seen}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: () => client.endAsync(true),
  };
}
