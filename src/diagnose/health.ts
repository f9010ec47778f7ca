/**
 * Per-machine health state machine: turns a stream of per-window diagnoses
 * into debounced, hysteretic health states and emits a `HealthChange` on each
 * transition. Pure and deterministic: time comes only from the inputs
 * (`WindowDiagnosis.t`, `StreamStats.t`, `tick(nowMs)`), no timers, no I/O.
 *
 * Policy (every number is an option of {@link healthConfigSchema}, ./health-config.ts):
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
 *   `silent` when no window or frame arrived for `silentAfterMs`, or when
 *   frames arrive but no window was diagnosed for `stalledAfterMs`;
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
import type { HealthChange } from '../contract/health.js';
import { type HealthState, type IsoZone, SEVERITIES, type Severity } from '../contract/health.js';
import { FaultlineError } from '../errors.js';
import { type HealthConfig, type HealthConfigInput, parseHealthConfig } from './health-config.js';
import {
  faultProbability,
  faultSummary,
  lastN,
  nextSaturated,
  nextSeverity,
  rank,
  type WindowEntry,
  ZONE_RANK,
} from './health-rules.js';
import type { StreamFit, StreamStats, WindowDiagnosis } from './types.js';

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
  /** Why silent: no data at all, or data but no diagnosis (only a window ends that). */
  private silentCause: 'data' | 'diagnosis' | null = null;
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
    const resumed = this.markData(d.t, true);
    this.lastWindowT = d.t;
    const p = faultProbability(d.probs, this.config.normalClass);
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
   * Advances the clock: enters `silent` once `silentAfterMs` passed since the
   * last window or frame, or `stalledAfterMs` since the last diagnosed window
   * while frames still arrive (not while the stream does not fit: that is
   * `stream-mismatch`'s to say).
   */
  tick(nowMs: number): HealthChange | null {
    if (!Number.isFinite(nowMs)) {
      throw new FaultlineError('FL_ERR_DIAGNOSIS_INPUT', `tick time ${nowMs} is not finite`);
    }
    if (this.silent || this.lastDataT === undefined) return null;
    const quiet = nowMs - this.lastDataT;
    if (quiet >= this.config.silentAfterMs) {
      this.silent = true;
      this.silentCause = 'data';
      return this.settle(nowMs, [`no data for ${(quiet / 1000).toFixed(1)} s`]);
    }
    if (this.lastWindowT === undefined || this.mismatch !== null) return null;
    const stalled = nowMs - this.lastWindowT;
    if (stalled < this.config.stalledAfterMs) return null;
    this.silent = true;
    this.silentCause = 'diagnosis';
    return this.settle(nowMs, [
      `frames arrive but no window was diagnosed for ${(stalled / 1000).toFixed(1)} s`,
    ]);
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

  /**
   * Records data at t (`window`: a diagnosed window, else frames); returns a
   * reason when this ends a silence. Frames end only a silence of no data.
   */
  private markData(t: number, window = false): string | null {
    const prev = this.lastDataT;
    this.lastDataT = prev === undefined ? t : Math.max(prev, t);
    if (!this.silent || (this.silentCause === 'diagnosis' && !window)) return null;
    const cause = this.silentCause;
    this.silent = false;
    this.silentCause = null;
    return cause === 'diagnosis'
      ? `diagnosis resumed after ${((t - (this.lastWindowT ?? t)) / 1000).toFixed(1)} s`
      : `data resumed after ${((t - (prev ?? t)) / 1000).toFixed(1)} s`;
  }

  private updateSeverity(reasons: string[]): void {
    const next = nextSeverity(this.severity, this.ring, this.config);
    this.severity = next.severity;
    if (next.reason !== null) reasons.push(next.reason);
  }

  private updateSaturation(reasons: string[]): void {
    const next = nextSaturated(this.saturated, this.ring, this.config);
    this.saturated = next.saturated;
    if (next.reason !== null) reasons.push(next.reason);
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
    return faultSummary(lastN(this.ring, this.config.windows), this.config);
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
