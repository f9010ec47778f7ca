/**
 * The alarm-rate figures of `GET /api/gateway` (after ISA-18.2's alarm
 * system performance measures), per machine and for the site:
 *
 * - `last24h`: alarms raised in the last 24 h;
 * - `perDay7d`: alarms raised in the last 7 days / 7;
 * - `standing`: alarms still active and not acknowledged — the latest alarm
 *   of a machine that is still in that alarm's state, nobody acknowledged
 *   it, and the machine is not shelved (0 or 1 per machine).
 *
 * An alarm is an alert entering `warning` or `alarm`. The tracker is filled
 * from the store at start (the last 7 days) and then from the gateway's own
 * `alert` and `ack` events, so the figures cost no store query per request.
 */
import type { AlarmFigures, AlarmRate } from '../contract/alarms.js';
import type { Alert } from '../contract/alert.js';

const DAY_MS = 86_400_000;
const WINDOW_MS = 7 * DAY_MS;

/** The alert states that count as an alarm. */
export const ALARM_STATES: readonly Alert['state'][] = ['warning', 'alarm'];

interface Raised {
  id: string;
  machine: string;
  state: Alert['state'];
  /** ms since the epoch. */
  t: number;
  acked: boolean;
}

/** What the figures need to know about each machine now. */
export interface MachineNow {
  id: string;
  /** Current state (`starting`, a health state). */
  state: string;
  shelved: boolean;
}

export class AlarmRates {
  /** Alarms of the last 7 days by id, oldest first (insertion order). */
  private readonly raised = new Map<string, Raised>();

  /** Takes alerts (any order; non-alarms and older than 7 days are ignored). */
  load(alerts: readonly Alert[], nowMs: number): void {
    const sorted = [...alerts].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    for (const a of sorted) this.add(a, nowMs);
  }

  /** A raised alert (ignored when it is not an alarm). */
  add(a: Alert, nowMs: number): void {
    if (!ALARM_STATES.includes(a.state)) return;
    const t = Date.parse(a.time);
    if (!(t > nowMs - WINDOW_MS)) return;
    this.raised.set(a.id, {
      id: a.id,
      machine: a.machine,
      state: a.state,
      t,
      acked: a.acknowledged !== undefined || this.raised.get(a.id)?.acked === true,
    });
  }

  /** An acknowledgement of alert `id`. */
  ack(id: string): void {
    const r = this.raised.get(id);
    if (r) r.acked = true;
  }

  /** The figures now, for the given machines (config order). */
  figures(machines: readonly MachineNow[], nowMs: number): AlarmRate {
    for (const [id, r] of this.raised) {
      if (r.t > nowMs - WINDOW_MS) break; // oldest first: the rest are younger
      this.raised.delete(id);
    }
    const per = new Map<string, AlarmFigures>(
      machines.map((m) => [m.id, { last24h: 0, perDay7d: 0, standing: 0 }]),
    );
    const latest = new Map<string, Raised>();
    for (const r of this.raised.values()) {
      const f = per.get(r.machine);
      if (!f) continue; // a machine no longer configured
      f.perDay7d += 1;
      if (r.t > nowMs - DAY_MS) f.last24h += 1;
      const l = latest.get(r.machine);
      if (!l || r.t >= l.t) latest.set(r.machine, r);
    }
    const site: AlarmFigures = { last24h: 0, perDay7d: 0, standing: 0 };
    for (const m of machines) {
      const f = per.get(m.id) as AlarmFigures;
      const l = latest.get(m.id);
      if (l && !l.acked && !m.shelved && l.state === m.state) f.standing = 1;
      site.last24h += f.last24h;
      site.perDay7d += f.perDay7d;
      site.standing += f.standing;
      f.perDay7d = round2(f.perDay7d / 7);
    }
    site.perDay7d = round2(site.perDay7d / 7);
    return { site, machines: Object.fromEntries(per) };
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;
