/**
 * The console's live state: machines, their trends, alerts, gateway
 * statistics and adaptation jobs, updated from the API and the stream.
 * Views subscribe to `change` events naming what changed.
 */
import { operatorClass } from '../../../src/contract/fault-names.js';
import { TimeSeries } from './series.js';
import type {
  AdaptationStatus,
  Alert,
  HealthChange,
  HealthState,
  MachineDiagnosis,
  MachineInfo,
  Shelf,
  SpectrogramPayload,
  Verdict,
} from './types.js';

/** Class names charted in the probability plot, in this order. */
export const CLASS_ORDER = ['normal', 'inner race', 'outer race', 'ball'];

/**
 * Sums a diagnosis' probabilities (keyed by the model's own class names, e.g.
 * `IR007`, `inner`) into operator classes (`inner race`…), with the mapping
 * the gateway uses (src/contract/fault-names.ts). Non-finite values are skipped.
 */
export function operatorProbabilities(
  probs: Record<string, number> | undefined,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(probs ?? {})) {
    if (!Number.isFinite(v)) continue;
    const c = operatorClass(k).faultClass;
    out[c] = (out[c] ?? 0) + v;
  }
  return out;
}

export interface MachineLive {
  id: string;
  info: MachineInfo;
  state?: HealthState;
  /** Time of the last state change, ms. */
  since?: number;
  /** Why the machine is in its state (the reason of the change into it). */
  reason?: string;
  last?: MachineDiagnosis;
  /** Time the last diagnosis arrived, ms (browser clock: freshness must not depend on gateway clock skew). */
  receivedAt?: number;
  trend: TimeSeries;
  /** Recent spectrogram payloads, oldest first (for the waterfall). */
  spectra: SpectrogramPayload[];
  changes: HealthChange[];
}

export type ChangeKind =
  | 'machines'
  | 'machine'
  | 'alerts'
  | 'gateway'
  | 'adaptation'
  | 'connection';

export class ConsoleStore extends EventTarget {
  readonly machines = new Map<string, MachineLive>();
  alerts: Alert[] = [];
  gateway: Record<string, unknown> = {};
  /** Latest ingest statistics from the stream. */
  ingest: Record<string, unknown> = {};
  adaptations = new Map<string, AdaptationStatus>();
  connection: 'connecting' | 'open' | 'closed' = 'connecting';

  emitChange(kind: ChangeKind, machine?: string): void {
    this.dispatchEvent(new CustomEvent('change', { detail: { kind, machine } }));
  }

  onChange(fn: (kind: ChangeKind, machine?: string) => void): () => void {
    const h = (e: Event) => {
      const d = (e as CustomEvent<{ kind: ChangeKind; machine?: string }>).detail;
      fn(d.kind, d.machine);
    };
    this.addEventListener('change', h);
    return () => this.removeEventListener('change', h);
  }

  #ensure(id: string, info?: MachineInfo): MachineLive {
    let m = this.machines.get(id);
    if (!m) {
      m = {
        id,
        info: info ?? { id },
        trend: new TimeSeries([
          'velocity',
          'confidence',
          'faultP',
          'rmsG',
          ...CLASS_ORDER.map((c) => `p:${c}`),
        ]),
        spectra: [],
        changes: [],
      };
      this.machines.set(id, m);
    }
    return m;
  }

  /** Replaces machine metadata from `GET /api/machines` (keeps live trends). */
  setMachines(list: MachineInfo[]): void {
    for (const info of list) {
      const m = this.#ensure(info.id, info);
      m.info = info;
      if (info.state) m.state = info.state;
      if (info.stateReason !== undefined) m.reason = info.stateReason;
      const since = info.stateSince ?? info.since;
      if (since !== undefined) m.since = typeof since === 'number' ? since : Date.parse(since);
      for (const d of info.history ?? []) this.#record(m, d, false);
      if (info.diagnosis) this.#record(m, info.diagnosis, false);
    }
    this.emitChange('machines');
  }

  #record(m: MachineLive, d: MachineDiagnosis, live: boolean): void {
    const t = d.t / 1000;
    const probs = operatorProbabilities(d.probs);
    const pNormal = probs.normal;
    const values: Record<string, number | undefined> = {
      velocity: d.velocityRmsMmS,
      rmsG: d.rmsG,
      confidence: d.confidence,
      faultP: pNormal === undefined ? undefined : 1 - pNormal,
    };
    for (const c of CLASS_ORDER) values[`p:${c}`] = probs[c];
    m.trend.push(t, values);
    if (!m.last || d.t >= m.last.t) {
      m.last = d;
      if (live) m.receivedAt = Date.now();
      else m.receivedAt ??= d.t;
    }
    if (d.spectrogram?.data?.length) {
      m.spectra.push(d.spectrogram);
      if (m.spectra.length > 120) m.spectra.shift();
    }
  }

  diagnosis(d: MachineDiagnosis): void {
    if (!d?.machine) return;
    const known = this.machines.has(d.machine);
    const m = this.#ensure(d.machine);
    this.#record(m, d, true);
    this.emitChange(known ? 'machine' : 'machines', d.machine);
  }

  health(c: HealthChange): void {
    if (!c?.machine) return;
    const m = this.#ensure(c.machine);
    m.state = c.to;
    m.since = c.t;
    m.reason = c.reason;
    m.changes.push(c);
    if (m.changes.length > 200) m.changes.shift();
    this.emitChange('machines', c.machine);
  }

  /** A machine shelved or unshelved (API answer or stream `shelve` event). */
  shelve(s: { machine: string; shelved: Shelf | null }): void {
    if (!s?.machine) return;
    const m = this.#ensure(s.machine);
    m.info = { ...m.info, shelved: s.shelved };
    this.emitChange('machines', s.machine);
  }

  setAlerts(alerts: Alert[]): void {
    this.alerts = [...alerts].sort((a, b) => Date.parse(b.time) - Date.parse(a.time));
    this.emitChange('alerts');
  }

  upsertAlert(a: Alert): void {
    const i = this.alerts.findIndex((x) => x.id === a.id);
    if (i >= 0) this.alerts[i] = a;
    else this.alerts.unshift(a);
    this.emitChange('alerts', a.machine);
  }

  /** Marks an alert acknowledged from a stream `ack` event (the API answer may come later). */
  ack(a: { id: string; by: string; comment?: string; time?: string; verdict?: Verdict }): void {
    const x = this.alerts.find((al) => al.id === a.id);
    if (!x || x.acknowledged) return;
    x.acknowledged = {
      by: a.by,
      time: a.time ?? new Date().toISOString(),
      ...(a.comment ? { comment: a.comment } : {}),
      ...(a.verdict ? { verdict: a.verdict } : {}),
    };
    this.emitChange('alerts', x.machine);
  }

  adaptation(s: AdaptationStatus): void {
    if (!s?.machine) return;
    this.adaptations.set(s.machine, { ...this.adaptations.get(s.machine), ...s });
    this.emitChange('adaptation', s.machine);
  }
}
