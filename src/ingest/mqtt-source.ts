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
 *
 * State under hostile input stays bounded: a topic is decoded (and gets
 * sequence state) only when `accept` takes it (the gateway: topics that
 * route to a configured sensor), a frame must carry the sensor id its topic
 * names, and at most `maxSensors` topics get state; everything else is
 * counted as a bad frame (FL_ERR_INGEST_UNROUTED, FL_ERR_INGEST_TOPIC,
 * FL_ERR_INGEST_LIMIT) and dropped.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import { checkFilter, parseRawTopic, type RawTopic, rawFilter } from '../contract/topics.js';
import { decodePayload } from './decoder.js';
import { connectMqttLink, endMqttLink, type MqttLinkOptions } from './mqtt-link.js';
import { SequenceTracker } from './sequence.js';
import { IngestSource } from './source.js';

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
  /**
   * MQTT 5 shared-subscription group, to share one site's load between
   * gateways. Brokers may hand a group's messages out per message
   * (mosquitto 2.0: round-robin), so this suits pure ingest fan-out, not
   * per-sensor windows. When set (or a filter starts with `$share/`), the
   * session expiry defaults to 0: a crashed member's persistent session
   * would otherwise keep receiving — and hoard — its share until it expires.
   */
  shareGroup?: string;
  /**
   * Topics are managed at run time with {@link MqttSource.setTopics}: start
   * with exactly `topics` (possibly none) instead of falling back to the
   * default filter. Default false.
   */
  dynamicTopics?: boolean;
  /** Blocks buffered for a slow consumer before acknowledgements are held back. Default 64. */
  highWaterMark?: number;
  /** Which raw topics to decode; others are dropped as FL_ERR_INGEST_UNROUTED. Default: all. */
  accept?: (where: RawTopic) => boolean;
  /** Most distinct sensor topics with sequence state; frames of further ones are dropped (FL_ERR_INGEST_LIMIT). Default 4096. */
  maxSensors?: number;
}

/** MQTT ingestion source. See the module comment and {@link IngestSource}. */
export class MqttSource extends IngestSource {
  private readonly opts: MqttSourceOptions;
  private current: string[];
  /** Serialises setTopics() calls: subscribe/unsubscribe must not interleave. */
  private topicOps: Promise<void> = Promise.resolve();
  private client: MqttClient | undefined;
  private readonly trackers = new Map<string, SequenceTracker>();
  /** Sensor topics (`site/machine/sensor`) that have sequence state. */
  private readonly sensorKeys = new Set<string>();
  /** Acks held back while the consumer is saturated. */
  private held: Array<() => void> = [];
  private saturated = false;

  constructor(opts: MqttSourceOptions) {
    super('mqtt', opts.highWaterMark);
    if (typeof opts.url !== 'string' || opts.url === '')
      throw new TypeError('MqttSource: url is required');
    const topics = (
      opts.topics?.length || opts.dynamicTopics ? (opts.topics ?? []) : [rawFilter(opts)]
    ).map(checkFilter);
    const shared = topics.some((t) => t.startsWith('$share/'));
    this.opts = shared ? { ...opts, sessionExpiryS: opts.sessionExpiryS ?? 0 } : opts;
    this.current = topics;
  }

  /** The subscription filters in use. */
  get topics(): string[] {
    return [...this.current];
  }

  /** The session expiry the client connects with, s. */
  get sessionExpiryS(): number {
    return this.opts.sessionExpiryS ?? 3600;
  }

  /**
   * Replaces the subscriptions: unsubscribes filters no longer wanted (plus
   * `alsoUnsubscribe`, e.g. filters a persistent session may still hold from
   * an earlier run), then subscribes the new ones at QoS 1. Calls run one
   * after the other. Before start() it only records the list.
   * @throws FaultlineError FL_ERR_TOPIC_FILTER for an invalid filter
   */
  async setTopics(topics: string[], o: { alsoUnsubscribe?: string[] } = {}): Promise<void> {
    const next = [...new Set(topics.map(checkFilter))];
    const run = async () => {
      const prev = this.current;
      this.current = next;
      const client = this.client;
      if (!client || this.closing) return;
      const gone = [
        ...new Set([...prev.filter((t) => !next.includes(t)), ...(o.alsoUnsubscribe ?? [])]),
      ].filter((t) => !next.includes(t));
      const added = next.filter((t) => !prev.includes(t));
      if (gone.length > 0) await client.unsubscribeAsync(gone);
      if (added.length > 0) await client.subscribeAsync(added, { qos: 1 });
    };
    const p = this.topicOps.then(run, run);
    this.topicOps = p.catch(() => undefined);
    await p;
  }

  protected override async connectFirst(): Promise<void> {
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
      if (this.current.length > 0) await this.client.subscribeAsync(this.current, { qos: 1 });
    } catch (err) {
      if (this.client) await endMqttLink(this.client, false);
      throw err;
    }
  }

  protected override async disconnect(): Promise<void> {
    // release held acks first: the broker may then forget those messages
    for (const done of this.held.splice(0)) done();
    if (this.client) await endMqttLink(this.client, true);
  }

  protected override resumeLink(): void {
    this.saturated = false;
    for (const done of this.held.splice(0)) done();
  }

  /** Why a topic gets no state and no decoding, or undefined when it may. */
  private refuse(where: RawTopic): { reason: string; message: string } | undefined {
    const key = `${where.site}/${where.machine}/${where.sensor}`;
    if (this.sensorKeys.has(key)) return undefined;
    if (this.opts.accept && !this.opts.accept(where))
      return {
        reason: 'FL_ERR_INGEST_UNROUTED',
        message: `no configured sensor ${where.sensor} of ${where.site}/${where.machine}`,
      };
    const max = this.opts.maxSensors ?? 4096;
    if (this.sensorKeys.size >= max)
      return {
        reason: 'FL_ERR_INGEST_LIMIT',
        message: `already ${max} sensor topics; ${key} is not tracked`,
      };
    this.sensorKeys.add(key);
    return undefined;
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
    const refused = this.refuse(where);
    if (refused) {
      this.countBad({ ...refused, bytes: payload.length, topic: packet.topic });
      done();
      return;
    }
    const key = `${where.site}/${where.machine}`;
    let tracker = this.trackers.get(key);
    if (!tracker) {
      tracker = new SequenceTracker();
      this.trackers.set(key, tracker);
    }
    // the header's sensor id (offset 8, u32 LE; PROTOCOL.md) must be the topic's, before the
    // tracker sees it: else one topic could make state for 2^32 sensors
    // (only for what starts like a frame: garbage is the decoder's to name)
    const claimed =
      payload.length >= 12 && payload[0] === 0x46 && payload[1] === 0x4c
        ? payload.readUInt32LE(8)
        : undefined;
    // (a configured topic may name its sensor level otherwise, e.g. `accel-1`: not checked then)
    if (claimed !== undefined && /^\d+$/.test(where.sensor) && String(claimed) !== where.sensor) {
      this.countBad({
        reason: 'FL_ERR_INGEST_TOPIC',
        bytes: payload.length,
        message: `frame from sensor ${claimed} arrived on ${packet.topic}: a sensor publishes on its own topic`,
        topic: packet.topic,
      });
      done();
      return;
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
