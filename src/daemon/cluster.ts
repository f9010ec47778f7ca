/**
 * Machine ownership among the gateways of one site, on any MQTT broker.
 *
 *   faultline/<site>/gateway/+/status   (retained online/offline, Last Will = offline)
 *        │ every gateway's alert client subscribes
 *        ▼
 *   ClusterMembership: live gateways ──► ownerOf(machine, live) = highest rendezvous hash
 *        │ 'change'
 *        ▼
 *   Gateway: subscribes the raw topics of the machines it owns, unsubscribes the others
 *
 * Why rendezvous (highest-random-weight) hashing: every gateway computes the
 * same owner from the same live set without talking to the others, and when a
 * gateway joins or leaves only the machines it gains or held move (≈ 1/n of
 * them), unlike a modulo split that reshuffles almost everything.
 *
 * Why not MQTT 5 shared subscriptions: mosquitto 2.0 hands `$share` messages
 * out round-robin per message, so one sensor's frames would be spread over
 * the gateways and no one could build whole windows.
 *
 * Liveness is only what the broker tells: a gateway is live while its
 * retained status says `online`; a clean stop publishes `offline`, a crash or
 * a cut link makes the broker publish the Last Will (`offline`) once the TCP
 * connection closes, or after 1.5 × the keep-alive when it silently hangs.
 * One case the broker cannot tell: a gateway that died while the broker was
 * down (or whose Last Will was lost) leaves a retained `online` for ever. So
 * a gateway whose status carries a heartbeat period counts as gone after
 * HEARTBEAT_MISSES periods without a fresh one, measured on our own clock
 * from when we received it (no clock sync between gateways needed).
 */
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';
import { gatewayStatusSchema } from '../contract/alert.js';

/**
 * Rendezvous weight of `gateway` for `machine`: the first 8 bytes of
 * SHA-256(machine NUL gateway) as an unsigned 64-bit integer. Stable across
 * processes, hosts and Node versions.
 */
export function rendezvousWeight(machine: string, gateway: string): bigint {
  return createHash('sha256').update(`${machine}\u0000${gateway}`).digest().readBigUInt64BE(0);
}

/**
 * The owner of `machine` among `gateways`: the one with the highest
 * {@link rendezvousWeight} (ties, practically impossible, go to the smaller
 * id). Undefined for an empty list.
 */
export function ownerOf(machine: string, gateways: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestW = -1n;
  for (const g of gateways) {
    const w = rendezvousWeight(machine, g);
    if (w > bestW || (w === bestW && best !== undefined && g < best)) {
      best = g;
      bestW = w;
    }
  }
  return best;
}

/** Filter of every gateway's presence topic at a site. */
export function presenceFilter(site: string): string {
  return `faultline/${site}/gateway/+/status`;
}

export interface ClusterMembershipOptions {
  /** The gateway's alert/presence client (it carries our Last Will). */
  client: MqttClient;
  site: string;
  /** Our own gateway id: always counted live while we run. */
  self: string;
  /** Where problems are reported. */
  log?: (message: string) => void;
  /** Clock, ms. Default Date.now. */
  now?: () => number;
  /** How often beating presences are checked for expiry, ms. Default 1000. */
  expiryCheckMs?: number;
}

/** Missed heartbeat periods after which a beating gateway counts as gone. */
export const HEARTBEAT_MISSES = 3;

export interface ClusterMembershipEvents {
  /** The live set changed (sorted gateway ids, ourselves included). */
  change: [string[]];
}

/**
 * The live gateways of a site, learnt from the retained presence topics.
 * Ourselves always count as live: our own retained status may still read
 * `offline` (our previous Last Will) until our `online` replaces it.
 */
export class ClusterMembership extends EventEmitter<ClusterMembershipEvents> {
  private readonly o: ClusterMembershipOptions;
  private readonly online = new Set<string>();
  /** Beating gateways: when their last status arrived (our clock) and their period. */
  private readonly beats = new Map<string, { at: number; periodMs: number }>();
  private readonly now: () => number;
  private expiryTimer: NodeJS.Timeout | undefined;
  private readonly prefix: string;
  private readonly onMessage = (topic: string, payload: Buffer) => this.message(topic, payload);
  private readonly onConnect = () => this.subscribe();
  private started = false;
  /** Membership changes seen since start. */
  changes = 0;
  lastChangeAt?: number;

  constructor(o: ClusterMembershipOptions) {
    super();
    this.o = o;
    this.prefix = `faultline/${o.site}/gateway/`;
    this.now = o.now ?? Date.now;
    this.online.add(o.self);
  }

  /** Subscribes (now if connected, and on every reconnect: retained statuses are re-sent). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.o.client.on('message', this.onMessage);
    this.o.client.on('connect', this.onConnect);
    if (this.o.client.connected) this.subscribe();
    this.expiryTimer = setInterval(() => this.expire(), this.o.expiryCheckMs ?? 1000);
    this.expiryTimer.unref();
  }

  stop(): void {
    clearInterval(this.expiryTimer);
    this.o.client.off('message', this.onMessage);
    this.o.client.off('connect', this.onConnect);
  }

  /** Live gateway ids, sorted. */
  live(): string[] {
    return [...this.online].sort();
  }

  private subscribe(): void {
    this.o.client
      .subscribeAsync(presenceFilter(this.o.site), { qos: 1 })
      .catch((e: Error) =>
        this.o.log?.(`faultline cluster: presence subscription failed: ${e.message}`),
      );
  }

  private message(topic: string, payload: Buffer): void {
    if (!topic.startsWith(this.prefix) || !topic.endsWith('/status')) return;
    const id = topic.slice(this.prefix.length, -'/status'.length);
    if (id.length === 0 || id.includes('/') || id === this.o.self) return;
    let online: boolean;
    if (payload.length === 0) {
      online = false; // a cleared retained status: the gateway is gone
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(payload.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      const r = gatewayStatusSchema.safeParse(parsed);
      if (!r.success) {
        this.o.log?.(`faultline cluster: ignored a malformed presence on ${topic}`);
        return;
      }
      online = r.data.status === 'online';
      if (online && r.data.heartbeatS !== undefined) {
        this.beats.set(id, { at: this.now(), periodMs: r.data.heartbeatS * 1000 });
      } else {
        this.beats.delete(id);
      }
    }
    if (!online) this.beats.delete(id);
    this.set(id, online);
  }

  /** Drops the beating gateways whose heartbeat stopped. */
  private expire(): void {
    const now = this.now();
    for (const [id, b] of this.beats) {
      if (now - b.at <= HEARTBEAT_MISSES * b.periodMs) continue;
      this.beats.delete(id);
      this.o.log?.(
        `faultline cluster: ${id} sent no heartbeat for ${Math.round((now - b.at) / 1000)} s (period ${b.periodMs / 1000} s): counted gone`,
      );
      this.set(id, false);
    }
  }

  private set(id: string, online: boolean): void {
    if (online === this.online.has(id)) return;
    if (online) this.online.add(id);
    else this.online.delete(id);
    this.changes++;
    this.lastChangeAt = Date.now();
    this.emit('change', this.live());
  }
}
