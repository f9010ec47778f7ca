/**
 * The plant outputs (issue #15), each off unless configured
 * (./config-outputs.ts): periodic metrics through the alert publisher's
 * client. The composition root (./gateway.ts) only starts and closes them;
 * every output reads machines through ./machine-reading.ts.
 */
import type { MachineMetrics } from '../contract/metrics.js';
import type { GatewayContext } from './gateway-context.js';
import { rateLimited } from './log-limit.js';
import { machineReading } from './machine-reading.js';

export class PlantOutputs {
  private readonly ctx: GatewayContext;
  private timers: NodeJS.Timeout[] = [];
  private readonly warn: (m: string) => void;

  constructor(ctx: GatewayContext) {
    this.ctx = ctx;
    this.warn = rateLimited((m) => ctx.log.warn(m));
  }

  /** Readings of the machines this gateway owns (the others' owners speak for them). */
  readings(intervalS: number, nowMs = Date.now()): MachineMetrics[] {
    const out: MachineMetrics[] = [];
    for (const rt of this.ctx.machines.all()) {
      if (rt.owned) out.push(machineReading(this.ctx.config.site, rt, nowMs, intervalS));
    }
    return out;
  }

  /** Starts the configured outputs; call after the alert publisher. */
  async start(): Promise<void> {
    const metrics = this.ctx.config.outputs.metrics;
    if (metrics) {
      const t = setInterval(() => this.publishMetrics(metrics.intervalS), metrics.intervalS * 1000);
      this.timers.push(t.unref());
      this.ctx.log.info(
        `faultline gateway: metrics on faultline/${this.ctx.config.site}/<machine>/metrics every ${metrics.intervalS} s`,
      );
    }
  }

  /** One reading per owned machine onto its metrics topic (dropped while offline). */
  publishMetrics(intervalS: number): void {
    const { publisher } = this.ctx.parts;
    if (!publisher || this.ctx.closing) return;
    for (const m of this.readings(intervalS)) {
      try {
        publisher.publishMetrics(m);
      } catch (err) {
        this.warn(`faultline gateway: metrics of ${m.machine} not sent: ${(err as Error).message}`);
      }
    }
  }

  /** Stops every output. Idempotent. */
  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}
