/**
 * The gateway's alarm handling after ISA-18.2: shelving machines from the
 * API (./shelving.ts keeps the shelves; ./outputs.ts raises no alert for a
 * shelved machine), the audit trail of shelve/unshelve (the log, and an
 * `events` point in the history store), and the alarm-rate figures
 * (./alarm-rates.ts) of `GET /api/gateway`.
 */
import path from 'node:path';
import {
  type AlarmRate,
  MAX_SHELVE_S,
  type ShelveBody,
  type ShelveResult,
} from '../contract/alarms.js';
import type { Alert } from '../contract/alert.js';
import { FaultlineError } from '../errors.js';
import { eventPoint, type HistoryPoint } from '../store/types.js';
import { AlarmRates } from './alarm-rates.js';
import type { GatewayContext } from './gateway-context.js';
import type { MachineRuntime } from './machine-table.js';
import { SHELVED_FILE, type ShelfChange, Shelving } from './shelving.js';

/** How far back the alarm rates are loaded from the store at start, ms. */
const RATE_WINDOW_MS = 7 * 86_400_000;

export interface AlarmHandlingHooks {
  queuePoints(points: HistoryPoint[]): void;
  /** Publishes the machine's retained state again (it carries the shelf). */
  publishState(rt: MachineRuntime): void;
}

export class AlarmHandling {
  private readonly ctx: GatewayContext;
  private readonly hooks: AlarmHandlingHooks;
  private readonly rates = new AlarmRates();

  constructor(ctx: GatewayContext, hooks: AlarmHandlingHooks) {
    this.ctx = ctx;
    this.hooks = hooks;
  }

  /**
   * Opens the shelves of `<stateDir>/shelved.json` into `ctx.parts.shelving`
   * (auditing those that ran out while the gateway was down) and loads the
   * last 7 days of alarms from the store. Neither failing stops the gateway
   * (an unreadable shelves' file unshelves every machine, logged).
   */
  async open(): Promise<void> {
    const { ctx } = this;
    const shelving = await Shelving.open({ file: path.join(ctx.stateDir, SHELVED_FILE) });
    if (shelving.problem) {
      ctx.log.warn(`faultline gateway: shelved machines: ${shelving.problem}`);
    }
    ctx.parts.shelving = shelving;
    shelving.on('change', (c) => this.audit(c));
    for (const c of shelving.expiredAtOpen) this.audit(c);
    for (const [m, s] of shelving.all()) {
      ctx.log.info(`faultline gateway: ${m} is shelved until ${s.until} (${s.by}: ${s.reason})`);
    }
    const now = Date.now();
    try {
      const recent =
        (await ctx.parts.store?.queryAlerts({
          site: ctx.config.site,
          since: now - RATE_WINDOW_MS,
          limit: 100_000,
        })) ?? [];
      this.rates.load(recent, now);
    } catch (err) {
      ctx.log.warn(
        `faultline gateway: alarm rates start from zero (alerts not read: ${(err as Error).message})`,
      );
    }
  }

  /**
   * Shelves a machine for `durationS` or until `until`.
   * @throws FaultlineError FL_ERR_API_NOT_FOUND for an unknown machine;
   *   FL_ERR_API_REQUEST for an `until` in the past or more than 30 days ahead
   */
  async shelve(machine: string, b: ShelveBody): Promise<ShelveResult> {
    const shelving = this.shelving(machine);
    const now = Date.now();
    const untilMs = b.until !== undefined ? Date.parse(b.until) : now + (b.durationS ?? 0) * 1000;
    if (!(untilMs > now)) {
      throw new FaultlineError('FL_ERR_API_REQUEST', `until ${b.until} is not in the future`);
    }
    if (untilMs > now + MAX_SHELVE_S * 1000) {
      throw new FaultlineError(
        'FL_ERR_API_REQUEST',
        `until ${new Date(untilMs).toISOString()} is more than 30 days ahead; shelve again when it runs out`,
      );
    }
    const shelf = await shelving.shelve(machine, { by: b.by, reason: b.reason, untilMs });
    return { machine, shelved: shelf };
  }

  /**
   * Ends a machine's shelf (nothing happens, nor is recorded, when it had none).
   * @throws FaultlineError FL_ERR_API_NOT_FOUND for an unknown machine
   */
  async unshelve(machine: string, by: string): Promise<ShelveResult> {
    await this.shelving(machine).unshelve(machine, by);
    return { machine, shelved: null };
  }

  /** An alert the gateway raised. */
  onAlert(a: Alert): void {
    this.rates.add(a, Date.now());
  }

  /** An acknowledgement that stands. */
  onAck(id: string): void {
    this.rates.ack(id);
  }

  /** `GET /api/gateway` → `alarmRate`. */
  alarmRate(): AlarmRate {
    const shelving = this.ctx.parts.shelving;
    const machines = [...this.ctx.machines.all()].map((rt) => ({
      id: rt.config.id,
      state: rt.state,
      shelved: shelving?.get(rt.config.id) !== undefined,
    }));
    return this.rates.figures(machines, Date.now());
  }

  private shelving(machine: string): Shelving {
    if (!this.ctx.machines.has(machine)) {
      throw new FaultlineError(
        'FL_ERR_API_NOT_FOUND',
        `unknown machine ${JSON.stringify(machine)}; GET /api/machines lists them`,
      );
    }
    const s = this.ctx.parts.shelving;
    if (!s) throw new FaultlineError('FL_ERR_API_CONFLICT', 'the gateway is starting or stopping');
    return s;
  }

  /** The audit trail: one log line and one store event per change; the state topic follows. */
  private audit(c: ShelfChange): void {
    const { ctx } = this;
    const what =
      c.kind === 'shelve'
        ? `shelved by ${c.by} until ${c.shelf.until}: ${c.shelf.reason}`
        : c.by === 'expiry'
          ? `unshelved: the shelf set by ${c.shelf.by} ran out at ${c.shelf.until}`
          : `unshelved by ${c.by} (shelved by ${c.shelf.by} until ${c.shelf.until})`;
    ctx.log.info(`faultline gateway: ${c.machine} ${what}`);
    this.hooks.queuePoints([
      eventPoint({ site: ctx.config.site, machine: c.machine }, c.at, c.kind, {
        by: c.by,
        reason: c.shelf.reason,
        shelved_by: c.shelf.by,
        since: c.shelf.since,
        until: c.shelf.until,
      }),
    ]);
    const rt = ctx.machines.get(c.machine);
    if (rt?.owned) this.hooks.publishState(rt);
    ctx.emit('shelve', {
      machine: c.machine,
      shelved: c.kind === 'shelve' ? c.shelf : null,
      by: c.by,
    });
  }
}
