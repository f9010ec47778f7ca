/**
 * MQTT link: sensor nodes, or a bridge, publish one raw frame per message on
 * `faultline/<site>/<machine>/<sensorId>/raw` (QoS 1).
 *
 *   broker ──► MQTT.js client ──► decodePayload ──► IngestedBlock { …SampleBlock, origin: { link: 'mqtt', topic, site, machine, sensor } }
 *
 * QoS 1 over a persistent session (clean start off, session expiry, stable
 * client id): while we are away the broker keeps our subscription and queues
 * messages, and delivers them on reconnect. A message is acknowledged only
 * after its block was handed on, and when the consumer is saturated the
 * acknowledgement waits — so the broker's in-flight window, not our memory,
 * absorbs a slow consumer. (Holding acks stalls the whole client, keep-alive
 * included: a consumer that stops for longer than ~1.5 × keep-alive causes a
 * reconnect, which is harmless with a persistent session.)
 *
 * Sequence gaps are tracked per (site, machine): sensor ids are unique within
 * a site, but a wildcard subscription may span several.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import { decodePayload } from './decoder.js';
import { connectMqttLink, endMqttLink, type MqttLinkOptions } from './mqtt-link.js';
import { SequenceTracker } from './sequence.js';
import { IngestSource } from './source.js';
import { checkFilter, parseRawTopic, rawFilter } from './topics.js';

export interface MqttSourceOptions extends MqttLinkOptions {
  /**
   * Subscription filters. Default: one built from `site`, `machine`,
   * `shareGroup` — `faultline/<site|+>/<machine|+>/+/raw`.
   */
  topics?: string[];
  /** Site to subscribe to (default `+`: all). */
  site?: string;
  /** Machine to subscribe to (default `+`: all). */
  machine?: string;
  /** MQTT 5 shared-subscription group, to share one site's load between gateways. */
  shareGroup?: string;
  /** Blocks buffered for a slow consumer before acknowledgements are held back. Default 64. */
  highWaterMark?: number;
}

/** MQTT ingestion source. See the module comment and {@link IngestSource}. */
export class MqttSource extends IngestSource {
  /** The subscription filters in use. */
  readonly topics: string[];
  private readonly opts: MqttSourceOptions;
  private client: MqttClient | undefined;
  private readonly trackers = new Map<string, SequenceTracker>();
  /** Acks held back while the consumer is saturated. */
  private held: Array<() => void> = [];
  private saturated = false;
  private closing = false;

  constructor(opts: MqttSourceOptions) {
    super('mqtt', opts.highWaterMark);
    if (typeof opts.url !== 'string' || opts.url === '')
      throw new TypeError('MqttSource: url is required');
    this.opts = opts;
    this.topics = (opts.topics?.length ? opts.topics : [rawFilter(opts)]).map(checkFilter);
  }

  override async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error(`MqttSource: start() called in state ${this.state}`);
    this.setState('connecting');
    try {
      this.client = await connectMqttLink(this.opts, 'ingest', {
        onCreate: (client) => {
          client.handleMessage = (packet, done) => this.onMessage(packet, done);
        },
        onConnect: (_sessionPresent, first) => {
          if (!first) this.counters.reconnects++;
          this.setState('connected');
        },
        onRetry: (attempt, delayMs, error) => {
          if (this.closing) return;
          if (error) this.counters.lastError = error;
          this.setState('reconnecting');
          this.emit('reconnecting', { attempt, delayMs, error });
        },
      });
      await this.client.subscribeAsync(this.topics, { qos: 1 });
    } catch (err) {
      if (this.client) await endMqttLink(this.client, false);
      this.setState('closed');
      this.push(null);
      throw err;
    }
  }

  override async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    // release held acks first: the broker may then forget those messages
    for (const done of this.held.splice(0)) done();
    if (this.client) await endMqttLink(this.client, true);
    this.setState('closed');
    this.push(null);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.close().then(
      () => cb(err),
      (e: Error) => cb(err ?? e),
    );
  }

  protected override resumeLink(): void {
    this.saturated = false;
    for (const done of this.held.splice(0)) done();
  }

  private onMessage(packet: IPublishPacket, done: (err?: Error) => void): void {
    const payload =
      typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    this.counters.bytes += payload.length;
    const where = parseRawTopic(packet.topic);
    if (!where) {
      this.emit(
        'warning',
        new Error(
          `ignored a message on ${packet.topic}: not faultline/<site>/<machine>/<sensor>/raw`,
        ),
      );
      done();
      return;
    }
    const key = `${where.site}/${where.machine}`;
    let tracker = this.trackers.get(key);
    if (!tracker) {
      tracker = new SequenceTracker();
      this.trackers.set(key, tracker);
    }
    const r = decodePayload(payload, tracker);
    if (r.kind === 'bad') {
      this.countBad({ reason: r.reason, bytes: r.bytes, message: r.message, topic: packet.topic });
      done();
      return;
    }
    if (r.kind === 'dropped') {
      this.countSequence(r.verdict);
      done();
      return;
    }
    if (r.verdict === 'restart') this.countSequence(r.verdict);
    const block = r.block;
    if (String(block.sensorId) !== where.sensor) {
      this.emit(
        'warning',
        new Error(
          `frame from sensor ${block.sensorId} arrived on ${packet.topic}: check the publisher's topic`,
        ),
      );
    }
    const more = this.deliver(
      { ...block, origin: { link: 'mqtt', topic: packet.topic, ...where } },
      `${key}/${block.sensorId}`,
    );
    if (more && !this.saturated) done();
    else {
      this.saturated = true;
      this.held.push(() => done());
    }
  }
}
