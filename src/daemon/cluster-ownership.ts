/**
 * Which of the site's machines this gateway diagnoses, with `cluster.enabled`.
 * ./cluster.ts tells the live gateways and the owner of each machine; this
 * module applies that to the gateway: it marks each machine owned or not,
 * moves the ingest subscriptions when the live set changes, and keeps the
 * retained states the other owners publish so the API can show their machines.
 *
 *   ClusterMembership 'change' ─► assignOwners ─► MqttSource.setTopics(owned, drop others)
 *   faultline/<site>/+/state (retained, other owners) ─► remote states ─► API views
 */
import type { MqttClient } from 'mqtt';
import { type HealthStatePayload, healthStatePayloadSchema } from '../contract/alert.js';
import { rawFilter } from '../contract/topics.js';
import type { MqttSource } from '../ingest/mqtt-source.js';
import { ClusterMembership, ownerOf } from './cluster.js';
import type { MachineConfig } from './config.js';
import type { GatewayContext } from './gateway-context.js';
import type { GatewayHealth } from './views.js';

/** A machine read from a local serial device stays here: the device cannot move. */
function isLocal(m: MachineConfig): boolean {
  return m.sensors.some((s) => s.serial !== undefined);
}

export class ClusterOwnership {
  private readonly ctx: GatewayContext;
  private readonly client: MqttClient;
  private readonly membership: ClusterMembership;
  /** Retained states of machines other gateways own. */
  private readonly remoteStates = new Map<string, HealthStatePayload>();
  private mqttSource?: MqttSource;

  /**
   * Learns the live gateways from presence, and the owners' retained states
   * for the API, on the gateway's alert/presence client.
   */
  constructor(ctx: GatewayContext, client: MqttClient) {
    this.ctx = ctx;
    this.client = client;
    const site = ctx.config.site;
    this.membership = new ClusterMembership({
      client,
      site,
      self: ctx.gatewayId,
      log: (m) => ctx.log.warn(m),
    });
    const statePrefix = `faultline/${site}/`;
    client.on('message', (topic, payload) => {
      if (!topic.startsWith(statePrefix) || !topic.endsWith('/state')) return;
      const machine = topic.slice(statePrefix.length, -'/state'.length);
      if (!ctx.machines.has(machine)) return;
      if (payload.length === 0) {
        this.remoteStates.delete(machine);
        return;
      }
      try {
        const r = healthStatePayloadSchema.safeParse(JSON.parse(payload.toString('utf8')));
        if (r.success) this.remoteStates.set(machine, r.data);
      } catch {
        // not JSON: not a state we can show
      }
    });
    const subscribeStates = () =>
      client
        .subscribeAsync(`faultline/${site}/+/state`, { qos: 1 })
        .catch((e: Error) =>
          ctx.log.warn(`faultline gateway: cluster: state subscription failed: ${e.message}`),
        );
    client.on('connect', () => void subscribeStates());
    if (client.connected) void subscribeStates();
    this.membership.on('change', () => void this.reassign());
    this.membership.start();
    // ownership of the machines until ingest starts: computed there after the settle time
    this.assignOwners(this.membership.live());
  }

  stop(): void {
    this.membership.stop();
  }

  /** The owner's retained state of a machine another gateway owns (null: none seen yet). */
  remoteState(machine: string): HealthStatePayload | null {
    return this.remoteStates.get(machine) ?? null;
  }

  /**
   * Takes the machines once the other gateways' retained presence had time to
   * arrive (`cluster.settleMs` after the presence client connected), then
   * subscribes `src` to the owned machines' raw topics. Later membership
   * changes move the subscriptions of `src`.
   */
  async attachIngest(src: MqttSource): Promise<void> {
    const { ctx } = this;
    if (!this.client.connected) {
      await new Promise<void>((resolve) => this.client.once('connect', () => resolve()));
    }
    await sleep(ctx.config.cluster.settleMs);
    this.assignOwners(this.membership.live());
    this.mqttSource = src;
    const { owned, others } = this.ownedFilters();
    // a persistent session may still hold an earlier run's filters: drop them
    await src.setTopics(owned, {
      alsoUnsubscribe: [rawFilter({ site: ctx.config.site }), ...others],
    });
    const mine = ctx.machines.ownedIds();
    ctx.log.info(
      `faultline gateway: cluster ${this.membership.live().join(', ')}: owns ${mine.join(', ') || 'no machine'}`,
    );
  }

  /** The cluster part of `GET /api/gateway`. */
  health(notOwnedBlocks: number): NonNullable<GatewayHealth['cluster']> {
    const m = this.membership;
    return {
      live: m.live(),
      owned: this.ctx.machines.ownedIds(),
      changes: m.changes,
      ...(m.lastChangeAt !== undefined
        ? { lastChangeAt: new Date(m.lastChangeAt).toISOString() }
        : {}),
      notOwnedBlocks,
    };
  }

  /** Raw-frame filters of a machine's MQTT sensors. */
  private machineFilters(m: MachineConfig): string[] {
    return m.sensors
      .filter((s) => !s.serial)
      .map(
        (s) => s.topic ?? rawFilter({ site: this.ctx.config.site, machine: m.id, sensor: s.id }),
      );
  }

  /** Sets every machine's owner from the live set; returns the machines gained and lost. */
  private assignOwners(live: string[]): { gained: string[]; lost: string[] } {
    const self = this.ctx.gatewayId;
    const gained: string[] = [];
    const lost: string[] = [];
    for (const rt of this.ctx.machines.all()) {
      const owner = isLocal(rt.config) ? self : (ownerOf(rt.config.id, live) ?? null);
      const owned = owner === self;
      if (owned && !rt.owned) gained.push(rt.config.id);
      if (!owned && rt.owned) lost.push(rt.config.id);
      rt.owner = owner;
      rt.owned = owned;
    }
    return { gained, lost };
  }

  /** Filters of the owned machines, and of the others (to drop from a persistent session). */
  private ownedFilters(): { owned: string[]; others: string[] } {
    const owned: string[] = [];
    const others: string[] = [];
    for (const rt of this.ctx.machines.all()) {
      (rt.owned ? owned : others).push(...this.machineFilters(rt.config));
    }
    return { owned, others };
  }

  /** Membership changed: move machines, then the ingest subscriptions. */
  private async reassign(): Promise<void> {
    const { ctx } = this;
    if (ctx.closing) return;
    const { gained, lost } = this.assignOwners(this.membership.live());
    if (gained.length === 0 && lost.length === 0) return;
    for (const id of lost) this.remoteStates.delete(id);
    ctx.log.info(
      `faultline gateway: cluster ${this.membership.live().join(', ')}: ` +
        `${gained.length ? `took ${gained.join(', ')}` : ''}${gained.length && lost.length ? '; ' : ''}` +
        `${lost.length ? `handed over ${lost.join(', ')}` : ''}`,
    );
    if (!this.mqttSource) return; // ingest not started yet: it subscribes what is owned then
    const { owned, others } = this.ownedFilters();
    try {
      await this.mqttSource.setTopics(owned, { alsoUnsubscribe: others });
    } catch (err) {
      ctx.log.error(
        `faultline gateway: cluster: ingest subscriptions not updated: ${(err as Error).message}`,
      );
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
