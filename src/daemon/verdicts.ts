/**
 * The operator teaches the model (issue #16, its data): an ack's verdict
 * labels the windows the pipeline diagnosed around the alert, kept as target
 * data for that machine in `<stateDir>/verdicts/<machine>/` (./verdict-files.ts).
 *
 *   pipeline 'window' ─► ring per machine (last `windows`, in memory)
 *   'alert'           ─► capture: the ring's windows within ±aroundS of the
 *                        alert, then the next ones until alert + aroundS
 *   ack with verdict  ─► (after the store has the ack) the capture, else the
 *                        ring, within ±aroundS ─► .npy + sidecar, atomically
 *
 * Why a capture: an operator answers minutes or hours after the alert, when
 * the ring has long moved on. Captures are bounded (the latest few alerts
 * per machine) and hold the ring's own arrays, not copies. Windows are
 * matched on their arrival time, the clock health changes (and so alerts)
 * are stamped with. A verdict on an alert whose windows are gone (older than
 * the captures kept, or before a restart) is stored with the ack and labels
 * nothing; the log says so.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import type { Alert, Verdict } from '../contract/alert.js';
import type { WindowKept } from '../diagnose/pipeline-status.js';
import { FaultlineError } from '../errors.js';
import { fileName, npyFloat32, readVerdictSidecars, type VerdictSidecar } from './verdict-files.js';

/** The verdicts' folder in the state directory. */
export const VERDICTS_DIR = 'verdicts';

/** Alerts per machine whose windows are held for a later verdict. */
const CAPTURES_PER_MACHINE = 4;

/** The label a verdict gives its windows, or null (unknown: nothing is labelled). */
export function labelOf(v: Verdict): string | null {
  if (v.kind === 'confirmed') return v.faultClass;
  // a false alarm says the machine was healthy
  if (v.kind === 'false-alarm') return 'normal';
  return null;
}

export interface VerdictWindowsOptions {
  /** `<stateDir>/verdicts`. */
  dir: string;
  /** Recent windows kept per machine (0: none). */
  windows: number;
  /** Half-width of the span around an alert whose windows a verdict labels, ms. */
  aroundMs: number;
  /** The classes of the machine's active model, or undefined when none is loaded. */
  classes: (machine: string) => readonly string[] | undefined;
  warn: (message: string) => void;
  info: (message: string) => void;
  /** Clock for the sidecar's time, ms. Default Date.now. */
  now?: () => number;
}

interface Capture {
  machine: string;
  alertMs: number;
  windows: WindowKept[];
}

/** Counters for the tests and the log. */
export interface VerdictStats {
  /** Verdicts whose windows were written. */
  written: number;
  /** Verdicts that found no window to label. */
  empty: number;
  /** Verdicts whose files could not be written (logged; the ack stands). */
  failed: number;
}

export class VerdictWindows {
  readonly stats: VerdictStats = { written: 0, empty: 0, failed: 0 };
  private readonly o: VerdictWindowsOptions;
  private readonly rings = new Map<string, WindowKept[]>();
  /** By alert id, oldest first (Map order). */
  private readonly captures = new Map<string, Capture>();
  /** machine → alert id → its label and windows: what the counts are summed from. */
  private readonly index = new Map<string, Map<string, { label: string; windows: number }>>();

  private constructor(o: VerdictWindowsOptions) {
    this.o = o;
  }

  /** Reads the counts of the verdicts already written (unreadable sidecars are logged and skipped). */
  static async open(o: VerdictWindowsOptions): Promise<VerdictWindows> {
    const v = new VerdictWindows(o);
    const { sidecars, problems } = await readVerdictSidecars(o.dir);
    for (const p of problems) o.warn(`faultline gateway: verdict skipped: ${p}`);
    for (const s of sidecars) v.note(s);
    return v;
  }

  /** A window the pipeline diagnosed: into its machine's ring, and into the captures still open. */
  keep(w: WindowKept): void {
    if (this.o.windows <= 0) return;
    let ring = this.rings.get(w.machine);
    if (!ring) this.rings.set(w.machine, (ring = []));
    ring.push(w);
    if (ring.length > this.o.windows) ring.shift();
    for (const c of this.captures.values()) {
      if (
        c.machine === w.machine &&
        w.arrivedAt <= c.alertMs + this.o.aroundMs &&
        c.windows.length < this.o.windows
      )
        c.windows.push(w);
    }
  }

  /** An alert: its windows so far are held until a verdict comes or newer alerts push it out. */
  onAlert(a: Alert): void {
    if (this.o.windows <= 0) return;
    const alertMs = Date.parse(a.time);
    const windows = (this.rings.get(a.machine) ?? []).filter(
      (w) => Math.abs(w.arrivedAt - alertMs) <= this.o.aroundMs,
    );
    this.captures.set(a.id, { machine: a.machine, alertMs, windows });
    const mine = [...this.captures].filter(([, c]) => c.machine === a.machine);
    for (const [id] of mine.slice(0, Math.max(0, mine.length - CAPTURES_PER_MACHINE)))
      this.captures.delete(id);
  }

  /**
   * Refuses a verdict that does not fit the machine: a confirmed class must
   * be one of its active model's classes.
   * @throws FaultlineError FL_ERR_API_REQUEST
   */
  check(machine: string, verdict: Verdict): void {
    if (verdict.kind !== 'confirmed') return;
    const classes = this.o.classes(machine);
    if (!classes) {
      throw new FaultlineError(
        'FL_ERR_API_REQUEST',
        `machine ${machine} has no model loaded, so no class can be confirmed; acknowledge with verdict unknown or false-alarm`,
      );
    }
    if (!classes.includes(verdict.faultClass)) {
      throw new FaultlineError(
        'FL_ERR_API_REQUEST',
        `verdict.faultClass ${JSON.stringify(verdict.faultClass)} is not a class of machine ${machine}'s model; use one of ${classes.join(', ')}`,
      );
    }
  }

  /**
   * Writes the windows around `alert` labelled by the verdict (nothing for
   * `unknown`). Never rejects: the ack is already stored, a failure here is
   * logged and counted.
   */
  async save(alert: Alert, ack: { by: string; verdict: Verdict }): Promise<void> {
    const label = labelOf(ack.verdict);
    if (label === null) return;
    const capture = this.captures.get(alert.id);
    const alertMs = Date.parse(alert.time);
    const near = (capture?.windows ?? this.rings.get(alert.machine) ?? []).filter(
      (w) => Math.abs(w.arrivedAt - alertMs) <= this.o.aroundMs,
    );
    // one model per row length: a model swapped mid-span keeps the latest model's windows
    const last = near.at(-1);
    const rows = last ? near.filter((w) => w.samples.length === last.samples.length) : [];
    if (!last || rows.length === 0) {
      this.stats.empty++;
      this.o.info(
        `faultline gateway: verdict on alert ${alert.id} (${alert.machine}) stored; no windows around it are kept any more (older than the latest ${CAPTURES_PER_MACHINE} alerts, or before a restart), so none were labelled`,
      );
      return;
    }
    const dir = path.join(this.o.dir, fileName(alert.machine));
    const base = fileName(alert.id);
    const sidecar: VerdictSidecar = {
      format: 'faultline-verdict',
      formatVersion: 1,
      machine: alert.machine,
      alertId: alert.id,
      label,
      verdict: ack.verdict,
      by: ack.by,
      time: new Date((this.o.now ?? Date.now)()).toISOString(),
      alert: {
        time: alert.time,
        state: alert.state,
        faultClass: alert.faultClass,
        confidence: alert.confidence,
        modelVersion: alert.modelVersion,
      },
      sampleRate: last.sampleRate,
      windowLength: last.samples.length,
      windows: rows.length,
      samplesFile: `${base}.npy`,
      rows: rows.map((w) => ({
        sensor: w.sensor,
        t: new Date(w.t).toISOString(),
        arrivedAt: new Date(w.arrivedAt).toISOString(),
        ...(w.rpm !== undefined ? { rpm: w.rpm } : {}),
      })),
    };
    try {
      await mkdir(dir, { recursive: true });
      const samples = npyFloat32(
        rows.map((w) => w.samples),
        last.samples.length,
      );
      await writeFileAtomic(path.join(dir, sidecar.samplesFile), samples, { backup: false });
      await writeFileAtomic(
        path.join(dir, `${base}.json`),
        `${JSON.stringify(sidecar, null, 2)}\n`,
        { backup: false },
      );
    } catch (err) {
      this.stats.failed++;
      this.o.warn(
        `faultline gateway: verdict on alert ${alert.id} (${alert.machine}) stored with the ack, but its windows were not written to ${dir}: ${(err as Error).message}`,
      );
      return;
    }
    this.captures.delete(alert.id);
    this.note(sidecar);
    this.stats.written++;
  }

  /** Windows labelled per class for `machine` (an empty object when none). */
  counts(machine: string): Record<string, number> {
    // no prototype: a class named `__proto__` is a count, not the prototype
    const out = Object.create(null) as Record<string, number>;
    for (const { label, windows } of this.index.get(machine)?.values() ?? [])
      out[label] = (out[label] ?? 0) + windows;
    return out;
  }

  private note(s: VerdictSidecar): void {
    let m = this.index.get(s.machine);
    if (!m) this.index.set(s.machine, (m = new Map()));
    m.set(s.alertId, { label: s.label, windows: s.windows });
  }
}
