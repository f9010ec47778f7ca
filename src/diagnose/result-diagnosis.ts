/**
 * A worker's result for one window (WindowResult) → the MachineDiagnosis the
 * pipeline emits and the WindowDiagnosis its health state machine reads.
 * Pure, but for `carryOver`, which updates the values a sensor carries from
 * window to window.
 *
 * Health for models without a normal class (the CWRU cross-load model knows
 * 9 fault classes only, so 1 − p(normal) would always be 1): a window counts
 * as faulty only when the vibration evidence agrees with the CNN — the
 * envelope spectrum's strongest defect line (BPFI / BPFO / 2·BSF at the
 * current speed) is the one of the CNN's fault location. Then the fault
 * probability is the CNN's confidence, otherwise 0. A CNN that can only say
 * "which fault" is thus never allowed to raise an alarm on its own.
 */
import { defectOf, NORMAL, operatorProbs } from '../contract/fault-names.js';
import type { HeadReadings } from '../contract/heads.js';
import type { MachineDiagnosis, RpmSource } from '../contract/machine.js';
import type { HeadSpec } from '../model/choices.js';
import type { WindowResult } from './inference-protocol.js';
import type { ModelBinding, SensorState } from './pipeline-state.js';
import type { WindowDiagnosis } from './types.js';

/** What a sensor carries between windows (see featuresEvery, evidenceEvery). */
type Carried = Pick<SensorState, 'lastEvidence' | 'lastVelocity' | 'lastEstimate' | 'windowCount'>;

/**
 * Keeps `r`'s evidence, velocity and speed estimate in `s` for the windows
 * that do not compute them, and returns the window's speed: its own, else a
 * speed estimated at most 2 × `evidenceEvery` windows before.
 */
export function carryOver(
  s: Carried,
  r: WindowResult,
  evidenceEvery: number,
): { rpm: number | null; rpmSource: RpmSource } {
  if (r.evidence) s.lastEvidence = r.evidence;
  if (r.velocityRmsMmS !== undefined && r.isoZone !== undefined) {
    s.lastVelocity = { velocityRmsMmS: r.velocityRmsMmS, isoZone: r.isoZone };
  }
  let rpm = r.rpm;
  let rpmSource = r.rpmSource;
  const n = s.windowCount;
  if (rpmSource === 'estimate' && rpm !== null) s.lastEstimate = { rpm, window: n };
  else if (rpm === null && s.lastEstimate && n - s.lastEstimate.window <= 2 * evidenceEvery) {
    rpm = s.lastEstimate.rpm;
    rpmSource = 'estimate';
  }
  return { rpm, rpmSource };
}

/** Where a window comes from and what its sensor carries (see carryOver). */
export interface WindowContext {
  site: string;
  machine: string;
  sensor: string;
  /** Time of the window's last sample on the sensor's clock, ms. */
  t: number;
  /** Arrival of the block holding the window's last sample, ms (the health machine's clock). */
  arrivedAt: number;
  rpm: number | null;
  rpmSource: RpmSource;
  evidence: MachineDiagnosis['evidence'];
  velocity: Pick<MachineDiagnosis, 'velocityRmsMmS' | 'isoZone'> | null;
}

/**
 * The diagnosis of a window the CNN scored `probs` (the model's class
 * order), and the health machine's input for it. `latencyMs` is 0: the
 * pipeline sets it when the diagnosis is emitted.
 */
export function diagnosisOf(
  r: WindowResult,
  probs: readonly number[],
  model: ModelBinding,
  w: WindowContext,
): { d: MachineDiagnosis; health: WindowDiagnosis } {
  const classes = model.meta.classes;
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
  const byClass: Record<string, number> = {};
  classes.forEach((c, i) => {
    byClass[c] = probs[i] ?? 0;
  });
  const op = model.names[best];
  const confidence = probs[best];
  const d: MachineDiagnosis = {
    site: w.site,
    machine: w.machine,
    sensor: w.sensor,
    t: w.t,
    faultClass: op.faultClass,
    ...(op.severity ? { severity: op.severity } : {}),
    modelClass: classes[best],
    confidence,
    probs: byClass,
    rpm: w.rpm,
    rpmSource: w.rpmSource,
    rmsG: r.rmsG ?? 0,
    ...(r.peakG !== undefined ? { peakG: r.peakG } : {}),
    velocityRmsMmS: w.velocity?.velocityRmsMmS ?? 0,
    isoZone: w.velocity?.isoZone ?? 'A',
    crestFactor: r.crestFactor ?? 0,
    kurtosis: r.kurtosis ?? 0,
    evidence: w.evidence,
    modelVersion: model.version,
    latencyMs: 0,
    ...(r.spectrogram ? { spectrogram: r.spectrogram } : {}),
    ...(r.envelope ? { envelope: r.envelope } : {}),
    ...(r.heads ? { heads: headReadings(r.heads, model.meta.heads ?? []) } : {}),
  };
  // Health: operator-term probabilities; see the module comment for models
  // without a normal class.
  let healthProbs: Record<string, number>;
  if (model.hasNormal) {
    healthProbs = operatorProbs(classes, probs);
  } else {
    const agree = defectOf(op.faultClass) === d.evidence.defect && d.evidence.defect !== null;
    const pf = agree ? confidence : 0;
    healthProbs = { [NORMAL]: 1 - pf, [op.faultClass]: pf };
  }
  const health: WindowDiagnosis = {
    t: w.arrivedAt,
    probs: healthProbs,
    faultClass: op.faultClass,
    isoZone: d.isoZone,
    velocityRmsMmS: d.velocityRmsMmS,
    clippedFraction: r.clippedFraction,
    ...(d.evidence.defect && d.evidence.frequencyHz !== undefined
      ? {
          evidence: {
            defect: d.evidence.defect,
            frequencyHz: d.evidence.frequencyHz,
            prominence: Math.max(0, d.evidence.score ?? 0),
          },
        }
      : {}),
  };
  return { d, health };
}

/** Each head's most likely class and its probability (heads the metadata lacks are left out). */
export function headReadings(
  probs: Readonly<Record<string, readonly number[]>>,
  specs: readonly HeadSpec[],
): HeadReadings {
  const out: HeadReadings = {};
  for (const spec of specs) {
    const p = probs[spec.name];
    if (!p || p.length !== spec.classes.length) continue;
    let best = 0;
    for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
    out[spec.name] = {
      class: spec.classes[best],
      confidence: Math.min(1, Math.max(0, p[best])),
    };
  }
  return out;
}
