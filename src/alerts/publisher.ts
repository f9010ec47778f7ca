/**
 * Publishes alerts and health state over an injected MQTT.js (MQTT 5) client,
 * keeps the gateway's presence, and receives operator acknowledgements.
 *
 * Offline behaviour: while the client is not connected, alerts wait in this
 * class's bounded in-memory queue (default 1000). When it is full, the oldest
 * alert whose state is not `alarm` is dropped (the incoming one included);
 * only when all are alarms is the oldest alarm dropped. Drops are counted
 * (`stats().dropped`), logged and emitted as `dropped`. The retained state
 * keeps only the latest payload per machine (it is a snapshot, not a log).
 * On (re)connect the queue is sent in order, one alert at a time, each
 * waiting for its PUBACK, then the pending states.
 *
 * We never call publish() while disconnected, so MQTT.js's own offline queue
 * (unbounded, silent) stays empty; the single alert in flight when the link
 * drops sits in MQTT.js's outgoing store and MQTT.js resends it on reconnect.
 * Delivery is therefore at-least-once: receivers dedup on `Alert.id`.
 *
 * Periodic metrics (`publishMetrics`) are the exception: QoS 0, not queued.
 * A reading taken while offline is dropped and counted: the next one, a few
 * seconds later, supersedes it, and a backlog of stale readings replayed on
 * reconnect would only mislead a trend.
 *
 * With an `outbox` (./outbox.ts) every queued alert is also journalled on
 * disk until its PUBACK (or its drop by the bound), and the alerts a previous
 * process left there are queued first: an alert raised during a broker outage
 * survives a crash of the gateway.
 */
import { EventEmitter } from 'node:events';
import type { IClientOptions, MqttClient } from 'mqtt';
import {
  type Alert,
  type AlertAck,
  ackSchema,
  type GatewayStatus,
  type HealthStatePayload,
  healthStatePayloadSchema,
  topicLevel,
} from '../contract/alert.js';
import { type MachineMetrics, machineMetricsSchema } from '../contract/metrics.js';
import {
  ackFilter,
  alertTopic,
  gatewayStatusTopic,
  machineOfAckTopic,
  metricsTopic,
  stateTopic,
} from '../contract/topics.js';
import type { AlertOutbox } from './outbox.js';
import { parseAlert, parseWith } from './schema.js';

/** An acknowledgement as received, with the machine from its topic. */
export interface ReceivedAck extends AlertAck {
  machine: string;
  /** Reception time, ms since the epoch (injected clock). */
  receivedAt: number;
}

export interface AlertPublisherEvents {
  /** A valid acknowledgement arrived. */
  ack: [ReceivedAck];
  /** A malformed acknowledgement arrived and was ignored. */
  'bad-ack': [{ topic: string; error: string }];
  /** An alert got its PUBACK. */
  published: [Alert];
  /** An alert was dropped because the offline queue was full. */
  dropped: [Alert];
  /** A publish failed (the client was ended); the alert stays queued. */
  'publish-error': [Error];
}

export interface AlertPublisherOptions {
  /** MQTT.js client, ideally built with {@link gatewayConnectOptions}. */
  client: MqttClient;
  site: string;
  gatewayId: string;
  /** Alerts kept while the broker is unreachable (≥ 2). Default 1000. */
  maxQueue?: number;
  /** Where problems are reported. Default console.warn. */
  log?: (message: string) => void;
  /** Clock, ms since the epoch. Default Date.now. */
  now?: () => number;
  /**
   * With a heartbeat period (ms), the retained `online` status is sent again
   * every period while connected, carrying `heartbeatS` and `beat`, so the
   * site's other gateways can expire a presence that stopped beating.
   * Default: none (the status is sent on each connect only).
   */
  heartbeatMs?: number;
  /**
   * On-disk journal of the queue; its pending alerts are queued at
   * construction. Opened and closed by the caller. Default: memory only.
   */
  outbox?: AlertOutbox;
}

export interface AlertPublisherStats {
  /** Alerts acknowledged by the broker (PUBACK). */
  published: number;
  /** Alerts waiting (including the one in flight). */
  queued: number;
  /** Alerts dropped by the queue bound. */
  dropped: number;
  statesPublished: number;
  /** Periodic readings handed to the client (QoS 0: no acknowledgement). */
  metricsPublished: number;
  /** Periodic readings dropped because the client was offline. */
  metricsDropped: number;
  acks: number;
  badAcks: number;
  connected: boolean;
}

function idleCounts() {
  return {
    published: 0,
    dropped: 0,
    statesPublished: 0,
    metricsPublished: 0,
    metricsDropped: 0,
    acks: 0,
    badAcks: 0,
  };
}

/** The statistics of a publisher that does not run (yet): nothing counted, not connected. */
export function idlePublisherStats(): AlertPublisherStats {
  return { ...idleCounts(), queued: 0, connected: false };
}

export interface GatewayConnectOptionsInput {
  site: string;
  gatewayId: string;
  /** Time the will's `since` names, ms. Default now. */
  nowMs?: number;
  /** Other MQTT.js options (host, port, credentials, reconnectPeriod…). */
  base?: IClientOptions;
}

/** Retained presence payload. */
export function gatewayStatus(
  gatewayId: string,
  status: 'online' | 'offline',
  sinceMs: number,
  heartbeat?: { periodMs: number; atMs: number },
): GatewayStatus {
  return {
    status,
    gateway: gatewayId,
    since: new Date(sinceMs).toISOString(),
    ...(heartbeat
      ? { heartbeatS: heartbeat.periodMs / 1000, beat: new Date(heartbeat.atMs).toISOString() }
      : {}),
  };
}

/** Bad site or gateway names are options errors: a TypeError naming the value. */
function checkNames(site: string, gatewayId: string): void {
  for (const [what, v] of [
    ['site', site],
    ['gateway id', gatewayId],
  ] as const) {
    if (!topicLevel.safeParse(v).success) {
      throw new TypeError(
        `${what} ${JSON.stringify(v)} cannot be an MQTT topic level: use 1–128 characters without / + #`,
      );
    }
  }
}

/**
 * MQTT 5 connect options carrying the gateway's Last Will: the broker
 * publishes retained `{status:'offline'}` on the status topic if the
 * connection dies without a DISCONNECT. Client id defaults to
 * `faultline-gw-<gatewayId>`.
 */
export function gatewayConnectOptions(o: GatewayConnectOptionsInput): IClientOptions {
  checkNames(o.site, o.gatewayId);
  const topic = gatewayStatusTopic(o.site, o.gatewayId);
  const will = gatewayStatus(o.gatewayId, 'offline', o.nowMs ?? Date.now());
  return {
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    clientId: `faultline-gw-${o.gatewayId}`,
    ...o.base,
    protocolVersion: 5,
    will: { topic, payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: true },
  };
}

/** See the module comment for topics, queueing and delivery guarantees. */
export class AlertPublisher extends EventEmitter<AlertPublisherEvents> {
  private readonly client: MqttClient;
  private readonly site: string;
  private readonly gatewayId: string;
  private readonly maxQueue: number;
  private readonly log: (m: string) => void;
  private readonly now: () => number;
  private readonly outbox: AlertOutbox | undefined;
  private readonly heartbeatMs: number | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** When the current connection came up (the status's `since`). */
  private connectedAt = 0;
  private readonly queue: Alert[] = [];
  private readonly states = new Map<string, HealthStatePayload>();
  private inflight = false;
  private pumping = false;
  private closed = false;
  private waiters: Array<() => void> = [];
  private readonly counts = idleCounts();
  private readonly onConnect = () => this.connected();
  private readonly onMessage = (topic: string, payload: Buffer) => this.message(topic, payload);

  constructor(opts: AlertPublisherOptions) {
    super();
    if (!opts?.client) throw new TypeError('AlertPublisher needs an MQTT.js client');
    this.client = opts.client;
    this.site = opts.site;
    this.gatewayId = opts.gatewayId;
    checkNames(opts.site, opts.gatewayId);
    this.maxQueue = opts.maxQueue ?? 1000;
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 2) {
      throw new TypeError(`maxQueue must be an integer ≥ 2, got ${opts.maxQueue}`);
    }
    this.log = opts.log ?? ((m) => console.warn(m));
    this.now = opts.now ?? Date.now;
    this.outbox = opts.outbox;
    if (opts.heartbeatMs !== undefined && !(opts.heartbeatMs >= 100)) {
      throw new TypeError(`heartbeatMs must be ≥ 100, got ${opts.heartbeatMs}`);
    }
    this.heartbeatMs = opts.heartbeatMs;
    // What a previous process left unsent goes first, under the same bound.
    for (const a of this.outbox?.pending() ?? []) this.enqueue(a);
  }

  /**
   * Starts listening: subscribes to acks and announces presence on every
   * (re)connect. Returns at once; works whether or not the client is connected yet.
   */
  start(): void {
    this.client.on('connect', this.onConnect);
    this.client.on('message', this.onMessage);
    if (this.client.connected) this.connected();
    if (this.heartbeatMs !== undefined) {
      this.heartbeat = setInterval(() => {
        if (this.client.connected && !this.closed) this.sendOnline();
      }, this.heartbeatMs);
      this.heartbeat.unref();
    }
  }

  /**
   * Queues an alert for QoS 1 publication (not retained).
   * @throws FaultlineError FL_ERR_ALERT_SCHEMA when the alert is invalid
   */
  publishAlert(alert: Alert): void {
    const a = parseAlert(alert);
    if (this.enqueue(a)) void this.outbox?.add(a);
    void this.pump();
  }

  /** Queues under the bound; false when `a` itself was the one dropped. */
  private enqueue(a: Alert): boolean {
    if (this.queue.length >= this.maxQueue && this.dropOne(a) === a) return false;
    this.queue.push(a);
    return true;
  }

  /**
   * Sets the retained current health of a machine; while offline only the
   * latest per machine is kept.
   * @throws FaultlineError FL_ERR_ALERT_SCHEMA when the payload is invalid
   */
  publishState(state: HealthStatePayload): void {
    const s = parseWith(healthStatePayloadSchema, state, 'health state');
    this.states.delete(s.machine); // re-insert: keeps publication order by recency
    this.states.set(s.machine, s);
    void this.pump();
  }

  /**
   * Publishes a periodic reading at QoS 0, not retained, when connected;
   * otherwise drops and counts it (see the module comment).
   * @returns true when handed to the client
   * @throws FaultlineError FL_ERR_ALERT_SCHEMA when the reading is invalid
   */
  publishMetrics(metrics: MachineMetrics): boolean {
    const m = parseWith(machineMetricsSchema, metrics, 'machine metrics');
    if (this.closed || !this.client.connected) {
      this.counts.metricsDropped++;
      return false;
    }
    this.client
      .publishAsync(metricsTopic(m.site, m.machine), JSON.stringify(m), { qos: 0, retain: false })
      .catch((e: Error) => this.emit('publish-error', e));
    this.counts.metricsPublished++;
    return true;
  }

  stats(): AlertPublisherStats {
    return { ...this.counts, queued: this.queue.length, connected: this.client.connected };
  }

  /** Resolves when every queued alert and state has been acknowledged by the broker. */
  flushed(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Publishes retained `offline` (a clean shutdown sends no Last Will), stops
   * listening and ends the client. Alerts still queued are lost (counted in
   * `stats().queued`); call `flushed()` first to wait for them.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    this.client.off('connect', this.onConnect);
    this.client.off('message', this.onMessage);
    if (this.client.connected) {
      const status = gatewayStatus(this.gatewayId, 'offline', this.now());
      await this.client
        .publishAsync(gatewayStatusTopic(this.site, this.gatewayId), JSON.stringify(status), {
          qos: 1,
          retain: true,
        })
        .catch((e: Error) => this.log(`faultline alerts: offline status not sent: ${e.message}`));
    }
    await this.client.endAsync();
  }

  private idle(): boolean {
    return this.queue.length === 0 && this.states.size === 0 && !this.inflight;
  }

  /** Makes room for `incoming` by the documented policy; returns the alert dropped. */
  private dropOne(incoming: Alert): Alert {
    const first = this.inflight ? 1 : 0; // never drop what MQTT.js is sending
    let victim = -1;
    for (let i = first; i < this.queue.length; i++) {
      if (this.queue[i].state !== 'alarm') {
        victim = i;
        break;
      }
    }
    let dropped: Alert;
    if (victim >= 0) {
      dropped = this.queue.splice(victim, 1)[0];
    } else if (incoming.state !== 'alarm' || this.queue.length <= first) {
      // all queued are alarms: the incoming non-alarm is the oldest non-alarm
      dropped = incoming;
    } else {
      dropped = this.queue.splice(first, 1)[0];
    }
    this.counts.dropped++;
    this.log(
      `faultline alerts: offline queue full (${this.maxQueue}); dropped ${dropped.state} alert ${dropped.id} for ${dropped.machine}`,
    );
    void this.outbox?.done(dropped.id);
    this.emit('dropped', dropped);
    return dropped;
  }

  /** Retained `online`, with the heartbeat fields when beating. */
  private sendOnline(): void {
    const now = this.now();
    const status = gatewayStatus(
      this.gatewayId,
      'online',
      this.connectedAt,
      this.heartbeatMs !== undefined ? { periodMs: this.heartbeatMs, atMs: now } : undefined,
    );
    this.client
      .publishAsync(gatewayStatusTopic(this.site, this.gatewayId), JSON.stringify(status), {
        qos: 1,
        retain: true,
      })
      .catch((e: Error) => this.log(`faultline alerts: online status not sent: ${e.message}`));
  }

  private connected(): void {
    if (this.closed) return;
    this.connectedAt = this.now();
    this.sendOnline();
    // MQTT.js resubscribes after reconnects on its own; subscribing again is harmless.
    this.client
      .subscribeAsync(ackFilter(this.site), { qos: 1 })
      .catch((e: Error) => this.log(`faultline alerts: ack subscription failed: ${e.message}`));
    void this.pump();
  }

  /** Sends the queue in order, then the states; one publication in flight at a time. */
  private async pump(): Promise<void> {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      while (this.client.connected && !this.closed) {
        const alert = this.queue[0];
        if (alert) {
          this.inflight = true;
          try {
            await this.client.publishAsync(
              alertTopic(alert.site, alert.machine),
              JSON.stringify(alert),
              { qos: 1, retain: false },
            );
          } catch (e) {
            this.emit('publish-error', e as Error);
            break; // stays at the head; the next 'connect' resumes
          } finally {
            this.inflight = false;
          }
          // The head may have changed only by drops, which never touch index 0 in flight.
          this.queue.shift();
          void this.outbox?.done(alert.id);
          this.counts.published++;
          this.emit('published', alert);
          continue;
        }
        const next = this.states.values().next();
        if (next.done) break;
        const state = next.value;
        this.states.delete(state.machine);
        this.inflight = true;
        try {
          await this.client.publishAsync(
            stateTopic(state.site, state.machine),
            JSON.stringify(state),
            { qos: 1, retain: true },
          );
          this.counts.statesPublished++;
        } catch (e) {
          if (!this.states.has(state.machine)) this.states.set(state.machine, state);
          this.emit('publish-error', e as Error);
          break;
        } finally {
          this.inflight = false;
        }
      }
    } finally {
      this.pumping = false;
    }
    if (this.idle()) {
      const w = this.waiters;
      this.waiters = [];
      for (const resolve of w) resolve();
    }
  }

  private message(topic: string, payload: Buffer): void {
    const machine = machineOfAckTopic(this.site, topic);
    if (machine === null) return; // someone else's subscription on a shared client
    let error: string;
    let ack: AlertAck | undefined;
    try {
      const r = ackSchema.safeParse(JSON.parse(payload.toString('utf8')));
      if (r.success) ack = r.data;
      const i = r.error?.issues[0];
      error = i ? `field ${i.path.join('.') || '(root)'}: ${i.message}` : '';
    } catch (e) {
      error = `not JSON: ${(e as Error).message}`;
    }
    if (ack) {
      // emitted outside the try: a throwing listener is the listener's bug, not a bad ack
      this.counts.acks++;
      this.emit('ack', { ...ack, machine, receivedAt: this.now() });
      return;
    }
    this.counts.badAcks++;
    this.log(`faultline alerts: ignored malformed ack on ${topic}: ${error}`);
    this.emit('bad-ack', { topic, error });
  }
}
