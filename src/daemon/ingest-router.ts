/**
 * Ingest routing: starts the MQTT and serial sources of the configured
 * sensors, hands each block to the pipeline (and to an adaptation that is
 * collecting), and keeps each machine's stream statistics.
 *
 *   MqttSource ──┐                         ┌─► AdaptationManager.offer (collects when asked)
 *                ├─► route(block) ─ owned? ┤
 *   SerialSource ┘   └ unrouted / not owned └─► DiagnosisPipeline.push
 *
 *   every 2 s: per machine frames/s, StreamStats to the pipeline, an ingest
 *   point to the store, and the `ingest` event.
 */

import type { MachineIngest } from '../contract/machine.js';
import { rawFilter } from '../contract/topics.js';
import type { MqttLinkOptions } from '../ingest/mqtt-link.js';
import { MqttSource } from '../ingest/mqtt-source.js';
import { SerialSource } from '../ingest/serial-source.js';
import type { IngestedBlock } from '../ingest/source.js';
import { type HistoryPoint, ingestPoint } from '../store/types.js';
import { topicMatches } from './broker-auth.js';
import type { ClusterOwnership } from './cluster-ownership.js';
import type { GatewayContext } from './gateway-context.js';
import { rateLimited } from './log-limit.js';
import { emptyInterval, type MachineRuntime } from './machine-table.js';

/** Period of the stream statistics (frames/s, StreamStats, ingest points), ms. */
export const STATS_INTERVAL_MS = 2000;

export interface IngestRouterOptions {
  /** Where the interval's ingest points go (buffered for the store). */
  queuePoints: (points: HistoryPoint[]) => void;
  /** Present with `cluster.enabled`: only the owned machines' topics are subscribed. */
  ownership?: ClusterOwnership;
}

export class IngestRouter {
  private readonly ctx: GatewayContext;
  private readonly o: IngestRouterOptions;
  /** Blocks of no configured sensor, or that came before the pipeline. */
  unrouted = 0;
  /** Blocks of machines another gateway owns (in flight while a machine moved). */
  notOwned = 0;

  constructor(ctx: GatewayContext, o: IngestRouterOptions) {
    this.ctx = ctx;
    this.o = o;
  }

  /** Starts one MQTT source for the MQTT sensors and one serial source per device path. */
  async start(link: MqttLinkOptions): Promise<void> {
    const { ctx } = this;
    const c = ctx.config;
    const mqttSensors = c.machines.flatMap((m) =>
      m.sensors.filter((s) => !s.serial).map((s) => ({ m, s })),
    );
    if (mqttSensors.length > 0) {
      const custom = mqttSensors.filter(({ s }) => s.topic).map(({ s }) => s.topic as string);
      const cluster = c.cluster.enabled;
      const src = new MqttSource({
        ...link,
        clientId: `faultline-gw-${ctx.gatewayId}-ingest`,
        ...(cluster
          ? { topics: [], dynamicTopics: true, keepaliveS: c.cluster.keepaliveS }
          : {
              topics: [rawFilter({ site: c.site, shareGroup: c.broker.shareGroup }), ...custom],
            }),
        waitForBroker: !c.broker.embedded,
        // state only for topics that route to a configured sensor (garbage topics make none)
        accept: (w) =>
          ctx.machines.ofStream(`${w.site}/${w.machine}/${w.sensor}`) !== undefined ||
          custom.some((f) => topicMatches(f, `faultline/${w.site}/${w.machine}/${w.sensor}/raw`)),
      });
      src.on('bad-frame', (info) => {
        const rt = info.topic ? this.routeOfTopic(info.topic) : undefined;
        if (rt) countBad(rt);
      });
      src.on('gap', (g) => {
        const rt = ctx.machines.ofStream(g.sensor);
        if (rt) countGap(rt, g.missing);
      });
      const warn = rateLimited((m) => ctx.log.warn(m));
      src.on('warning', (e) => warn(`faultline gateway: ingest: ${e.message}`));
      src.on('data', (b: IngestedBlock) => this.route(b));
      ctx.parts.sources.push(src);
      await src.start();
      if (cluster && this.o.ownership) await this.o.ownership.attachIngest(src);
    }
    const serialPaths = [
      ...new Set(c.machines.flatMap((m) => m.sensors.flatMap((s) => (s.serial ? [s] : [])))),
    ];
    const byPath = new Map<string, number>();
    for (const s of serialPaths) byPath.set(s.serial as string, s.baudRate);
    for (const [p, baudRate] of byPath) {
      const src = new SerialSource({ path: p, baudRate, waitForDevice: true });
      src.on('bad-frame', () => {
        const rt = ctx.machines.firstOnSerial(p);
        if (rt) countBad(rt);
      });
      src.on('gap', (g) => {
        const rt = ctx.machines.ofStream(`${p}#${g.sensor}`);
        if (rt) countGap(rt, g.missing);
      });
      const reconnecting = rateLimited((m) => ctx.log.warn(m));
      src.on('reconnecting', (r) =>
        reconnecting(`faultline gateway: serial ${p}: reconnecting (${r.error ?? 'closed'})`),
      );
      src.on('data', (b: IngestedBlock) => this.route(b));
      ctx.parts.sources.push(src);
      await src.start();
    }
  }

  /** Ends the interval: frames/s, StreamStats to the pipeline, ingest points, the `ingest` event. */
  statsTick(): void {
    const { ctx } = this;
    const now = Date.now();
    const points: HistoryPoint[] = [];
    // no prototype: a machine named `__proto__` is an entry, not the prototype
    const snapshot = Object.create(null) as Record<string, MachineIngest>;
    for (const rt of ctx.machines.all()) {
      const iv = rt.interval;
      rt.ingest.framesPerS = (iv.frames * 1000) / STATS_INTERVAL_MS;
      if (!rt.owned) {
        // another gateway reports this machine's stream
        snapshot[rt.config.id] = { ...rt.ingest };
        continue;
      }
      const where = { site: ctx.config.site, machine: rt.config.id };
      try {
        ctx.parts.pipeline?.noteStream(
          { ...where, sensor: String(rt.config.sensors[0].id) },
          { frames: iv.frames, crcErrors: iv.crcErrors, gaps: iv.gaps },
        );
      } catch (err) {
        ctx.log.warn(
          `faultline gateway: stream stats of ${rt.config.id}: ${(err as Error).message}`,
        );
      }
      points.push(
        ingestPoint(where, now, {
          frames: iv.frames,
          crcErrors: iv.crcErrors,
          gaps: iv.gaps,
          bytes: iv.bytes,
        }),
      );
      rt.interval = emptyInterval();
      snapshot[rt.config.id] = { ...rt.ingest };
    }
    this.o.queuePoints(points);
    ctx.emit('ingest', snapshot);
  }

  private routeOfTopic(topic: string): MachineRuntime | undefined {
    const p = topic.split('/');
    return p.length === 5 ? this.ctx.machines.ofStream(`${p[1]}/${p[2]}/${p[3]}`) : undefined;
  }

  /**
   * Hands one block to the pipeline (and to an adaptation collecting) when it
   * belongs to a machine this gateway owns; otherwise only counts it.
   */
  route(b: IngestedBlock): void {
    const { ctx } = this;
    const key =
      b.origin.link === 'mqtt'
        ? `${b.origin.site}/${b.origin.machine}/${b.sensorId}`
        : `${b.origin.path}#${b.sensorId}`;
    const rt = ctx.machines.ofStream(key);
    const pipeline = ctx.parts.pipeline;
    if (!rt || !pipeline) {
      this.unrouted++;
      return;
    }
    if (!rt.owned) {
      this.notOwned++; // in flight when the machine moved to another gateway
      return;
    }
    rt.ingest.frames++;
    rt.interval.frames++;
    rt.interval.bytes += b.samples.length * 2;
    rt.ingest.lastFrameAt = new Date().toISOString();
    ctx.parts.adaptation?.offer(rt.config.id, b);
    // drops are counted from the pipeline's 'window-dropped' events
    pipeline.push(b, {
      site: ctx.config.site,
      machine: rt.config.id,
      sensor: String(b.sensorId),
    });
  }
}

function countBad(rt: MachineRuntime): void {
  rt.ingest.badFrames++;
  rt.interval.crcErrors++;
}

function countGap(rt: MachineRuntime, missing: number): void {
  rt.ingest.gaps += missing;
  rt.interval.gaps += missing;
}
