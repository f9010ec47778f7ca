/**
 * Per-machine health state machine: turns a stream of per-window diagnoses
 * into debounced, hysteretic health states and emits a `HealthChange` on each
 * transition. Pure and deterministic: time comes only from the inputs
 * (`WindowDiagnosis.t`, `StreamStats.t`, `tick(nowMs)`), no timers, no I/O.
 *
 * Policy (every number is an option of {@link healthConfigSchema}):
 *
 * - Fault probability of a window: p = 1 − probs[normalClass].
 * - Escalation (k of n): level L ∈ {watch, warning, alarm} is *supported* when
 *   at least `levels[L].k` of the last `windows` (n) windows have
 *   p ≥ `levels[L].enter`. Defaults: watch 3/5 at 0.5, warning 3/5 at 0.7,
 *   alarm 4/5 at 0.9. The state rises at once to the highest supported level
 *   (it may skip levels: a sustained p = 0.95 reaches warning after 3 windows
 *   and alarm after 4).
 * - ISO 20816 zone floor: zone C in `zone.k` of the last n windows supports at
 *   least `zone.C` (warning), zone D at least `zone.D` (alarm), whatever the
 *   classifier says — the velocity severity is a standard of its own.
 * - Hysteresis: the state only falls from level L after `clearWindows` (m)
 *   consecutive windows with p < `levels[L].exit` *and* no zone that floors at
 *   ≥ L; it then steps down one level at a time (each step re-checking the
 *   next level's exit threshold over the same m windows) but never below what
 *   is currently supported. A single bad window therefore never clears an
 *   alarm, and a single good one never raises one.
 * - Stream states are about the data, not the machine:
 *   `silent` when no window or frame arrived for `silentAfterMs`;
 *   `stream-errors` when (CRC errors + sequence gaps) / (frames + both) over
 *   the last `stream.windowMs` is ≥ `stream.enterRate` (with ≥ `stream.minFrames`
 *   frames), cleared below `stream.exitRate`;
 *   `saturated` when `saturation.k` of the last n windows have
 *   clippedFraction ≥ `saturation.fraction`, cleared after
 *   `saturation.clearWindows` clean windows;
 *   `stream-mismatch` when a sensor's blocks keep not fitting the pipeline
 *   (sample rate out of range or changing, missing channel…): every block
 *   of the sensor for `mismatchAfterMs` was dropped (`updateFit`), cleared by
 *   its first block that fits. Time, not a block count, so that it means the
 *   same for a 1 kHz and a 1 MHz sensor; a single odd block (a rate change)
 *   never shows.
 * - What is shown: `silent` hides everything (there is nothing to judge, and
 *   the fault level is kept for when data resumes — a sensor falling off a
 *   failing machine must not clear its alarm). `stream-mismatch` likewise
 *   hides everything while no window at all is diagnosed (the machine's only
 *   sensor does not fit), else — another sensor still delivers windows — only
 *   levels below `maskBelow`. `stream-errors` (before `saturated`) hides only
 *   levels below `maskBelow` (warning): clipping and lost frames often come
 *   *with* heavy vibration, so they must not hide a warning or alarm that the
 *   windows still support.
 * - Every shown state keeps the reason of the transition into it
 *   (`snapshot().reason`); for `stream-mismatch` it names the sensor and why
 *   its blocks are dropped.
 */
import { z } from 'zod';
import type { HealthChange } from '../contract/health.js';
import { type HealthState, type IsoZone, SEVERITIES, type Severity } from '../contract/health.js';
import { FaultlineError } from '../errors.js';
import type { StreamFit, StreamStats, WindowDiagnosis } from './types.js';

const prob = z.number().min(0).max(1);
const severity = z.enum(SEVERITIES);

/** One escalation level's thresholds, with its own defaults. */
function levelSchema(enter: number, k: number, exit: number) {
  return z
    .object({
      /** Fault probability at or above which a window counts toward this level. Default per level. */
      enter: prob.default(enter),
      /** Windows (of the last n) that must count before the level is entered. */
      k: z.int().min(1).default(k),
      /** Fault probability below which a window counts toward leaving the level. */
      exit: prob.default(exit),
    })
    .prefault({});
}

/** Health state machine options; every field has a default. */
export const healthConfigSchema = z
  .object({
    /** Class name meaning "no fault". Default `normal`. */
    normalClass: z.string().min(1).default('normal'),
    /** Debounce window n: how many recent windows the k-of-n rules look at. Default 5. */
    windows: z.int().min(1).max(1000).default(5),
    /** Hysteresis m: consecutive quiet windows needed to step a level down. Default 5. */
    clearWindows: z.int().min(1).max(1000).default(5),
    levels: z
      .object({
        watch: levelSchema(0.5, 3, 0.3),
        warning: levelSchema(0.7, 3, 0.5),
        alarm: levelSchema(0.9, 4, 0.7),
      })
      .prefault({}),
    zone: z
      .object({
        /** Windows (of the last n) in the zone needed before its floor applies. Default 3. */
        k: z.int().min(1).default(3),
        /** Lowest level while zone C holds. Default warning. */
        C: severity.default('warning'),
        /** Lowest level while zone D holds. Default alarm. */
        D: severity.default('alarm'),
      })
      .prefault({}),
    /** No window or frame for this long (ms) → `silent`. Default 10 000 ms. */
    silentAfterMs: z.number().positive().default(10_000),
    /** Only blocks that do not fit from a sensor for this long (ms) → `stream-mismatch`. Default 5 000 ms. */
    mismatchAfterMs: z.number().positive().default(5_000),
    stream: z
      .object({
        /** Sliding interval over which link errors are summed, ms. Default 30 000. */
        windowMs: z.number().positive().default(30_000),
        /** Error rate (0–1) at or above which `stream-errors` is entered. Default 0.05. */
        enterRate: prob.default(0.05),
        /** Error rate below which `stream-errors` is left. Default 0.01. */
        exitRate: prob.default(0.01),
        /** Frames (good + bad) needed in the interval before a rate is judged. Default 20. */
        minFrames: z.int().min(1).default(20),
      })
      .prefault({}),
    saturation: z
      .object({
        /** Clipped-sample fraction (0–1) at which a window counts as clipped. Default 0.001. */
        fraction: prob.default(0.001),
        /** Clipped windows (of the last n) that enter `saturated`. Default 3. */
        k: z.int().min(1).default(3),
        /** Consecutive clean windows that leave `saturated`. Default 5. */
        clearWindows: z.int().min(1).default(5),
      })
      .prefault({}),
    /** Stream states hide fault levels below this one. Default warning. */
    maskBelow: severity.default('warning'),
  })
  .superRefine((c, ctx) => {
    const order = ['watch', 'warning', 'alarm'] as const;
    let prev = 0;
    for (const name of order) {
      const l = c.levels[name];
      if (l.exit >= l.enter) {
        ctx.addIssue({
          code: 'custom',
          path: ['levels', name, 'exit'],
          message: `exit ${l.exit} must be below enter ${l.enter}, or the level would flap`,
        });
      }
      if (l.enter < prev) {
        ctx.addIssue({
          code: 'custom',
          path: ['levels', name, 'enter'],
          message: `enter ${l.enter} must not be below the lower level's ${prev}`,
        });
      }
      if (l.k > c.windows) {
        ctx.addIssue({
          code: 'custom',
          path: ['levels', name, 'k'],
          message: `k ${l.k} exceeds windows ${c.windows}; the level could never be entered`,
        });
      }
      prev = l.enter;
    }
    if (c.zone.k > c.windows) {
      ctx.addIssue({ code: 'custom', path: ['zone', 'k'], message: 'zone.k exceeds windows' });
    }
    if (c.saturation.k > c.windows) {
      ctx.addIssue({ code: 'custom', path: ['saturation', 'k'], message: 'k exceeds windows' });
    }
    if (c.stream.exitRate > c.stream.enterRate) {
      ctx.addIssue({ code: 'custom', path: ['stream', 'exitRate'], message: 'above enterRate' });
    }
  });

export type HealthConfigInput = z.input<typeof healthConfigSchema>;
export type HealthConfig = z.output<typeof healthConfigSchema>;

/**
 * Validates and freezes health options (defaults filled in).
 * @throws FaultlineError FL_ERR_CONFIG naming the bad field.
 */
export function parseHealthConfig(input: HealthConfigInput = {}): HealthConfig {
  const r = healthConfigSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new FaultlineError(
      'FL_ERR_CONFIG',
      `health option ${i.path.join('.') || '(root)'}: ${i.message}; fix the health config`,
    );
  }
  return Object.freeze(r.data);
}

/** The current view of one machine, e.g. for the retained MQTT state topic. */
export interface HealthSnapshot {
  machine: string;
  state: HealthState;
  /** Fault level tracked underneath any stream state. */
  severity: Severity;
  /** Time the shown state was entered, ms (undefined before any input). */
  since: number | undefined;
  faultClass: string;
  confidence: number;
  isoZone: IsoZone | undefined;
  velocityRmsMmS: number | undefined;
  silent: boolean;
  streamErrors: boolean;
  saturated: boolean;
  /** Time of the latest window or frame, ms. */
  lastDataT: number | undefined;
  /** A sensor's blocks keep not fitting (`stream-mismatch`). */
  streamMismatch: boolean;
  /** The sensor that does not fit and why (the first one, when several), while `streamMismatch`. */
  mismatch?: { sensor: string; reason: string; since: number };
  /**
   * Why the shown state holds: the reason of the transition into it; for
   * `stream-mismatch`, the current misfit. Undefined before any transition.
   */
  reason?: string;
}

interface WindowEntry {
  p: number;
  zone: IsoZone;
  clipped: boolean;
  probs: Record<string, number>;
}

const ZONE_RANK: Record<IsoZone, number> = { A: 0, B: 1, C: 2, D: 3 };
const rank = (s: Severity): number => SEVERITIES.indexOf(s);

/** Health state machine of one machine. Not thread-safe; feed it in time order. */
export class MachineHealth {
  readonly machine: string;
  readonly config: HealthConfig;
  private readonly ring: WindowEntry[] = [];
  private readonly keep: number;
  private readonly streamHistory: StreamStats[] = [];
  private severity = 0;
  private shown: HealthState = 'ok';
  private since: number | undefined;
  private lastDataT: number | undefined;
  private silent = false;
  private streamErrors = false;
  private saturated = false;
  private lastZone: IsoZone | undefined;
  private lastVelocity: number | undefined;
  /** Time of the latest window, ms. */
  private lastWindowT: number | undefined;
  /** Sensors whose latest blocks did not fit: since when, until when, why. */
  private readonly misfits = new Map<string, { since: number; last: number; reason: string }>();
  private mismatch: { sensor: string; reason: string; since: number } | null = null;
  private reason: string | undefined;

  /**
   * @param machine machine id, copied into every HealthChange
   * @param config options (see {@link healthConfigSchema}); validated here
   * @param startedAt ms; when given, silence is counted from it before any data
   */
  constructor(machine: string, config: HealthConfigInput | HealthConfig = {}, startedAt?: number) {
    if (typeof machine !== 'string' || machine.length === 0) {
      throw new TypeError(`machine must be a non-empty string, got ${String(machine)}`);
    }
    this.machine = machine;
    this.config = parseHealthConfig(config);
    this.keep = Math.max(
      this.config.windows,
      this.config.clearWindows,
      this.config.saturation.clearWindows,
    );
    this.lastDataT = startedAt;
  }

  /** Shown state. */
  get state(): HealthState {
    return this.shown;
  }

  /**
   * Feeds one window's diagnosis.
   * @returns the transition it caused, or null
   * @throws FaultlineError FL_ERR_DIAGNOSIS_INPUT on a non-finite time or probability
   */
  update(d: WindowDiagnosis): HealthChange | null {
    if (!Number.isFinite(d?.t)) {
      throw new FaultlineError(
        'FL_ERR_DIAGNOSIS_INPUT',
        `window diagnosis for ${this.machine} has time ${d?.t}; expected ms since the epoch`,
      );
    }
    if (d.probs === null || typeof d.probs !== 'object') {
      throw new FaultlineError(
        'FL_ERR_DIAGNOSIS_INPUT',
        `window diagnosis for ${this.machine} at ${d.t} has no probs object`,
      );
    }
    for (const [k, v] of Object.entries(d.probs)) {
      if (!Number.isFinite(v) || v < 0 || v > 1.0001) {
        throw new FaultlineError(
          'FL_ERR_DIAGNOSIS_INPUT',
          `window diagnosis for ${this.machine} at ${d.t}: probs.${k} = ${v}, expected 0–1`,
        );
      }
    }
    if (!(d.isoZone in ZONE_RANK)) {
      throw new FaultlineError(
        'FL_ERR_DIAGNOSIS_INPUT',
        `window diagnosis for ${this.machine} at ${d.t}: isoZone ${d.isoZone}, expected A–D`,
      );
    }
    const resumed = this.markData(d.t);
    this.lastWindowT = d.t;
    const normal = d.probs[this.config.normalClass];
    const p =
      normal === undefined
        ? Math.min(
            1,
            Object.values(d.probs).reduce((a, b) => a + b, 0),
          )
        : Math.max(0, Math.min(1, 1 - normal));
    this.ring.push({
      p,
      zone: d.isoZone,
      clipped: (d.clippedFraction ?? 0) >= this.config.saturation.fraction,
      probs: d.probs,
    });
    if (this.ring.length > this.keep) this.ring.shift();
    this.lastZone = d.isoZone;
    this.lastVelocity = d.velocityRmsMmS;

    const reasons: string[] = [];
    if (resumed) reasons.push(resumed);
    this.updateSeverity(reasons);
    this.updateSaturation(reasons);
    return this.settle(d.t, reasons);
  }

  /**
   * Feeds link statistics for an interval (frames, CRC errors, sequence gaps).
   * @returns the transition it caused, or null
   */
  updateStream(s: StreamStats): HealthChange | null {
    if (!Number.isFinite(s?.t) || !(s.frames >= 0) || !(s.crcErrors >= 0) || !(s.gaps >= 0)) {
      throw new FaultlineError(
        'FL_ERR_DIAGNOSIS_INPUT',
        `stream stats for ${this.machine} are malformed (t ${s?.t}, frames ${s?.frames}, crc ${s?.crcErrors}, gaps ${s?.gaps}); expected finite counts ≥ 0`,
      );
    }
    const reasons: string[] = [];
    if (s.frames > 0) {
      const resumed = this.markData(s.t);
      if (resumed) reasons.push(resumed);
    }
    this.streamHistory.push(s);
    const { windowMs, enterRate, exitRate, minFrames } = this.config.stream;
    while (this.streamHistory.length > 0 && this.streamHistory[0].t <= s.t - windowMs) {
      this.streamHistory.shift();
    }
    let good = 0;
    let bad = 0;
    for (const h of this.streamHistory) {
      good += h.frames;
      bad += h.crcErrors + h.gaps;
    }
    const total = good + bad;
    const rate = total > 0 ? bad / total : 0;
    const pct = `${(rate * 100).toFixed(1)}% of frames lost or corrupt over ${windowMs / 1000} s`;
    if (!this.streamErrors && total >= minFrames && rate >= enterRate) {
      this.streamErrors = true;
      reasons.push(pct);
    } else if (this.streamErrors && total > 0 && rate < exitRate) {
      this.streamErrors = false;
      reasons.push(`link recovered: ${pct}`);
    }
    return this.settle(s.t, reasons);
  }

  /**
   * Feeds whether a sensor's block fitted the pipeline. A dropped block is
   * data (the sensor is not silent); `stream-mismatch` is entered once a
   * sensor has sent nothing but dropped blocks for `mismatchAfterMs`, and
   * left on its first block that fits.
   * @returns the transition it caused, or null
   * @throws FaultlineError FL_ERR_DIAGNOSIS_INPUT on a non-finite time or no sensor
   */
  updateFit(f: StreamFit): HealthChange | null {
    if (!Number.isFinite(f?.t) || typeof f.sensor !== 'string') {
      throw new FaultlineError(
        'FL_ERR_DIAGNOSIS_INPUT',
        `stream fit for ${this.machine} is malformed (t ${f?.t}, sensor ${f?.sensor}); expected a finite time and a sensor id`,
      );
    }
    const reasons: string[] = [];
    const resumed = this.markData(f.t);
    if (resumed) reasons.push(resumed);
    if (f.misfit === null) {
      this.misfits.delete(f.sensor);
    } else {
      const run = this.misfits.get(f.sensor);
      if (run) {
        run.last = Math.max(run.last, f.t);
        run.reason = f.misfit;
      } else {
        this.misfits.set(f.sensor, { since: f.t, last: f.t, reason: f.misfit });
      }
    }
    let current: { sensor: string; reason: string; since: number } | null = null;
    for (const [sensor, run] of this.misfits) {
      if (run.last - run.since >= this.config.mismatchAfterMs) {
        current = { sensor, reason: run.reason, since: run.since };
        break;
      }
    }
    const before = this.mismatch;
    if (current && !before) {
      const lasted = (this.misfits.get(current.sensor)?.last ?? f.t) - current.since;
      reasons.push(
        `sensor ${current.sensor}: no block fitted for ${(lasted / 1000).toFixed(1)} s: ${current.reason}`,
      );
    } else if (!current && before) {
      reasons.push(`sensor ${before.sensor}: blocks fit again`);
    }
    this.mismatch = current;
    return this.settle(f.t, reasons);
  }

  /**
   * Advances the clock with no data: enters `silent` once `silentAfterMs`
   * passed since the last window or frame.
   */
  tick(nowMs: number): HealthChange | null {
    if (!Number.isFinite(nowMs)) {
      throw new FaultlineError('FL_ERR_DIAGNOSIS_INPUT', `tick time ${nowMs} is not finite`);
    }
    if (this.silent || this.lastDataT === undefined) return null;
    const quiet = nowMs - this.lastDataT;
    if (quiet < this.config.silentAfterMs) return null;
    this.silent = true;
    return this.settle(nowMs, [`no data for ${(quiet / 1000).toFixed(1)} s`]);
  }

  /** The current view of this machine. */
  snapshot(): HealthSnapshot {
    const { faultClass, confidence } = this.summary();
    return {
      machine: this.machine,
      state: this.shown,
      severity: SEVERITIES[this.severity],
      since: this.since,
      faultClass,
      confidence,
      isoZone: this.lastZone,
      velocityRmsMmS: this.lastVelocity,
      silent: this.silent,
      streamErrors: this.streamErrors,
      saturated: this.saturated,
      lastDataT: this.lastDataT,
      streamMismatch: this.mismatch !== null,
      ...(this.mismatch ? { mismatch: { ...this.mismatch } } : {}),
      ...(this.shown === 'stream-mismatch' && this.mismatch
        ? { reason: `sensor ${this.mismatch.sensor}: ${this.mismatch.reason}` }
        : this.reason !== undefined
          ? { reason: this.reason }
          : {}),
    };
  }

  /** Records data at t; returns a reason when this ends a silence. */
  private markData(t: number): string | null {
    const prev = this.lastDataT;
    this.lastDataT = prev === undefined ? t : Math.max(prev, t);
    if (!this.silent) return null;
    this.silent = false;
    return `data resumed after ${((t - (prev ?? t)) / 1000).toFixed(1)} s`;
  }

  private lastN(n: number): WindowEntry[] {
    return this.ring.slice(Math.max(0, this.ring.length - n));
  }

  /** Highest level supported by the k-of-n rules, with its reason. */
  private supported(): { level: number; reason: string } {
    const { windows: n, levels, zone } = this.config;
    const recent = this.lastN(n);
    let level = 0;
    let reason = '';
    for (let L = 3; L >= 1; L--) {
      const cfg = levels[SEVERITIES[L] as 'watch' | 'warning' | 'alarm'];
      const count = recent.filter((w) => w.p >= cfg.enter).length;
      if (count >= cfg.k) {
        level = L;
        reason = `fault p ≥ ${cfg.enter.toFixed(2)} in ${count} of last ${recent.length} windows`;
        break;
      }
    }
    for (const z of ['D', 'C'] as const) {
      const floor = rank(zone[z]);
      const count = recent.filter((w) => ZONE_RANK[w.zone] >= ZONE_RANK[z]).length;
      if (count >= zone.k && floor > level) {
        level = floor;
        reason = `ISO 20816 zone ${z} or worse in ${count} of last ${recent.length} windows`;
        break;
      }
    }
    return { level, reason };
  }

  /** Rank of the lowest zone whose floor is at least level L (+∞ when none). */
  private zoneFloorsAtLeast(L: number): number {
    const { zone } = this.config;
    if (rank(zone.C) >= L) return ZONE_RANK.C;
    if (rank(zone.D) >= L) return ZONE_RANK.D;
    return Number.POSITIVE_INFINITY;
  }

  private updateSeverity(reasons: string[]): void {
    const { level, reason } = this.supported();
    if (level > this.severity) {
      this.severity = level;
      reasons.push(reason);
      return;
    }
    const m = this.config.clearWindows;
    if (this.ring.length < m) return;
    const quiet = this.lastN(m);
    const before = this.severity;
    while (this.severity > level) {
      const L = this.severity;
      const exit = this.config.levels[SEVERITIES[L] as 'watch' | 'warning' | 'alarm'].exit;
      const zoneLimit = this.zoneFloorsAtLeast(L);
      const calm = quiet.every((w) => w.p < exit && ZONE_RANK[w.zone] < zoneLimit);
      if (!calm) break;
      this.severity--;
    }
    if (this.severity < before) {
      const exit = this.config.levels[SEVERITIES[before] as 'watch' | 'warning' | 'alarm'].exit;
      reasons.push(`fault p < ${exit.toFixed(2)} for ${m} windows`);
    }
  }

  private updateSaturation(reasons: string[]): void {
    const { k, clearWindows } = this.config.saturation;
    const recent = this.lastN(this.config.windows);
    const clipped = recent.filter((w) => w.clipped).length;
    if (!this.saturated && clipped >= k) {
      this.saturated = true;
      reasons.push(`clipped samples in ${clipped} of last ${recent.length} windows`);
    } else if (
      this.saturated &&
      this.ring.length >= clearWindows &&
      this.lastN(clearWindows).every((w) => !w.clipped)
    ) {
      this.saturated = false;
      reasons.push(`no clipping for ${clearWindows} windows`);
    }
  }

  private shownState(): HealthState {
    if (this.silent) return 'silent';
    if (this.mismatch && !this.windowsFlowing()) return 'stream-mismatch';
    if (this.severity < rank(this.config.maskBelow)) {
      if (this.mismatch) return 'stream-mismatch';
      if (this.streamErrors) return 'stream-errors';
      if (this.saturated) return 'saturated';
    }
    return SEVERITIES[this.severity];
  }

  /** Whether windows are still being diagnosed (from another sensor) within `mismatchAfterMs`. */
  private windowsFlowing(): boolean {
    return (
      this.lastWindowT !== undefined &&
      this.lastDataT !== undefined &&
      this.lastDataT - this.lastWindowT < this.config.mismatchAfterMs
    );
  }

  /** Fault class and confidence over the debounce window. */
  private summary(): { faultClass: string; confidence: number } {
    const recent = this.lastN(this.config.windows);
    if (recent.length === 0) return { faultClass: this.config.normalClass, confidence: 0 };
    const confidence = recent.reduce((a, w) => a + w.p, 0) / recent.length;
    if (confidence < this.config.levels.watch.enter) {
      return { faultClass: this.config.normalClass, confidence };
    }
    // Sum each fault class's probability over the window; ties go to the
    // class seen first in insertion order, which is deterministic.
    const sums = new Map<string, number>();
    for (const w of recent) {
      for (const [k, v] of Object.entries(w.probs)) {
        if (k !== this.config.normalClass) sums.set(k, (sums.get(k) ?? 0) + v);
      }
    }
    let best = this.config.normalClass;
    let bestSum = -1;
    for (const [k, v] of sums) {
      if (v > bestSum) {
        best = k;
        bestSum = v;
      }
    }
    return { faultClass: best, confidence };
  }

  private settle(t: number, reasons: string[]): HealthChange | null {
    const next = this.shownState();
    if (next === this.shown) return null;
    const from = this.shown;
    this.shown = next;
    this.since = t;
    const { faultClass, confidence } = this.summary();
    this.reason = reasons.join('; ') || 'state re-evaluated';
    return {
      machine: this.machine,
      from,
      to: next,
      t,
      faultClass,
      confidence,
      reason: this.reason,
    };
  }
}
