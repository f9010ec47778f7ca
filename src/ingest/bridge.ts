/**
 * Serial → MQTT bridge: forwards every valid frame arriving on a serial port
 * to `faultline/<site>/<machine>/<sensorId>/raw` as raw frame bytes (QoS 1),
 * so a wired sensor joins the same MQTT fabric as Wi-Fi nodes.
 *
 *   SerialSource (COBS decode, CRC check, reconnect) ──► bounded queue ──► MQTT (≤ inflight unacked)
 *
 * Either side may go away. The serial side reconnects on its own (backoff).
 * While the broker is unreachable, frames wait in a bounded queue; when it is
 * full the **oldest** frame is dropped and counted (`droppedQueueFull`) —
 * for condition monitoring the newest vibration matters more than a
 * complete history. Publishes in flight at the moment of a disconnect are
 * kept by MQTT.js and resent after the reconnect (persistent session).
 */
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { rawTopic } from '../contract/topics.js';
import { connectMqttLink, endMqttLink, type MqttLinkOptions } from './mqtt-link.js';
import { SerialSource, type SerialSourceOptions } from './serial-source.js';
import type { BadFrameInfo, IngestedBlock, IngestStats } from './source.js';

export interface BridgeOptions {
  serial: Omit<SerialSourceOptions, 'keepFrames'>;
  mqtt: MqttLinkOptions;
  site: string;
  machine: string;
  /** Frames held while the broker is away; the oldest is dropped when full. Default 10 000 (~40 s of one 12 kHz sensor at 512 samples/frame… ×10). */
  queueLimit?: number;
  /** Unacknowledged QoS 1 publishes at once. Default 64. */
  inflight?: number;
}

export interface BridgeStats {
  /** The serial side's counters (frames, bad frames by reason, gaps, reconnects). */
  serial: IngestStats;
  mqtt: {
    state: 'connecting' | 'connected' | 'reconnecting' | 'closed';
    reconnects: number;
    /** Frames handed to MQTT.js. */
    published: number;
    /** Frames the broker acknowledged. */
    acked: number;
    /** Frames waiting in the bridge queue now. */
    queued: number;
    /** Oldest frames dropped because the queue was full. */
    droppedQueueFull: number;
    publishErrors: number;
  };
}

export interface BridgeEvents {
  'bad-frame': [info: BadFrameInfo];
  dropped: [count: number];
  state: [side: 'serial' | 'mqtt', state: string];
}

/** The bridge; `start()` opens both sides, `close()` flushes what it can and stops. */
export class Bridge extends EventEmitter<BridgeEvents> {
  readonly source: SerialSource;
  private client: MqttClient | undefined;
  private readonly o: BridgeOptions;
  private readonly queueLimit: number;
  private readonly window: number;
  /** FIFO of pending frames (topic, bytes); head = oldest. */
  private readonly queue: Array<{ topic: string; bytes: Buffer }> = [];
  private inflight = 0;
  private readonly m: BridgeStats['mqtt'] = {
    state: 'connecting',
    reconnects: 0,
    published: 0,
    acked: 0,
    queued: 0,
    droppedQueueFull: 0,
    publishErrors: 0,
  };
  private closing = false;

  constructor(o: BridgeOptions) {
    super();
    this.o = o;
    rawTopic(o.site, o.machine, 0); // validates site and machine now
    this.queueLimit = o.queueLimit ?? 10_000;
    this.window = o.inflight ?? 64;
    if (!(Number.isInteger(this.queueLimit) && this.queueLimit >= 1))
      throw new TypeError(`queueLimit must be ≥ 1, got ${this.queueLimit}`);
    if (!(Number.isInteger(this.window) && this.window >= 1))
      throw new TypeError(`inflight must be ≥ 1, got ${this.window}`);
    this.source = new SerialSource({ ...o.serial, keepFrames: true });
    this.source.on('bad-frame', (info) => this.emit('bad-frame', info));
    this.source.on('state', (st) => this.emit('state', 'serial', st));
    this.source.on('data', (b: IngestedBlock) => this.onBlock(b));
  }

  /** Connects MQTT first (so nothing queues needlessly), then opens the serial port. */
  async start(): Promise<void> {
    this.client = await connectMqttLink(this.o.mqtt, `bridge-${this.o.site}-${this.o.machine}`, {
      onConnect: (_sp, first) => {
        if (!first) this.m.reconnects++;
        this.setMqttState('connected');
        this.pump();
      },
      onRetry: () => {
        if (!this.closing) this.setMqttState('reconnecting');
      },
    });
    try {
      await this.source.start();
    } catch (err) {
      await endMqttLink(this.client, false);
      throw err;
    }
  }

  /** Stops reading serial, gives queued frames up to `flushMs` to go out, then disconnects. */
  async close(flushMs = 2000): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.source.close();
    const deadline = Date.now() + flushMs;
    while (
      (this.queue.length > 0 || this.inflight > 0) &&
      this.client?.connected &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 10));
    }
    if (this.client) await endMqttLink(this.client, true, Math.max(0, deadline - Date.now()));
    this.setMqttState('closed');
  }

  stats(): BridgeStats {
    return { serial: this.source.stats(), mqtt: { ...this.m, queued: this.queue.length } };
  }

  private setMqttState(state: BridgeStats['mqtt']['state']): void {
    if (this.m.state === state) return;
    this.m.state = state;
    this.emit('state', 'mqtt', state);
  }

  private onBlock(b: IngestedBlock): void {
    if (b.origin.link !== 'serial' || !b.origin.frame) return;
    if (this.queue.length >= this.queueLimit) {
      this.queue.shift();
      this.m.droppedQueueFull++;
      this.emit('dropped', this.m.droppedQueueFull);
    }
    this.queue.push({
      topic: rawTopic(this.o.site, this.o.machine, b.sensorId),
      bytes: Buffer.from(b.origin.frame),
    });
    this.pump();
  }

  /** Publishes from the queue while connected and the in-flight window has room. */
  private pump(): void {
    const client = this.client;
    while (client?.connected && this.inflight < this.window && this.queue.length > 0) {
      const item = this.queue.shift() as { topic: string; bytes: Buffer };
      this.inflight++;
      this.m.published++;
      client.publish(item.topic, item.bytes, { qos: 1 }, (err) => {
        this.inflight--;
        if (err) this.m.publishErrors++;
        else this.m.acked++;
        this.pump();
      });
    }
  }
}
