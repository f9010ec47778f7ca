/**
 * Binding a model to a machine of the pipeline (./pipeline.ts): which of its
 * sensors the model refuses and how each sensor's stream reaches the model's
 * rate (planned before the model loads), then the swap itself, synchronous,
 * so that it happens between two pushes.
 */
import { hasNormalClass, operatorClass } from '../contract/fault-names.js';
import { FaultlineError } from '../errors.js';
import { checkStreamCompatibility, type ModelMetadata } from '../model/artifact.js';
import type { MachineState, ModelBinding, SensorState } from './pipeline-state.js';
import { makeRoute, type StreamRoute } from './stream-route.js';
import { Windower } from './windower.js';

/** Per sensor: why the model refuses it; the new route (null: its rate cannot be resampled). */
export interface BindingPlan {
  refusals: Map<SensorState, string>;
  /** Only sensors whose route changes (a new model rate, or none yet). */
  routes: Map<SensorState, StreamRoute | null>;
}

/**
 * Checks the model `meta` against `m`'s sensors. The sample rate alone never
 * refuses a sensor: the model is checked against a stream at its own rate
 * (what it gets after resampling), so only a front end that does not fit
 * refuses; a stream rate that cannot be resampled is reported, and its
 * blocks are dropped and counted until they fit.
 * @throws the model's mismatch when `strict` (else it is reported, and the sensor refused)
 */
export function planBinding(
  m: MachineState,
  meta: ModelMetadata,
  strict: boolean,
  report: (err: Error) => void,
): BindingPlan {
  const refusals = new Map<SensorState, string>();
  const routes = new Map<SensorState, StreamRoute | null>();
  for (const s of m.sensors.values()) {
    try {
      checkStreamCompatibility(meta, { sampleRate: meta.sampleRate, label: `sensor ${s.key}` });
    } catch (err) {
      if (strict) throw err;
      refusals.set(s, (err as Error).message);
      report(err as Error);
    }
    // The stream's actual rate once blocks came, else the configured one.
    const rate = s.route?.rate ?? s.spec.sampleRate;
    if (s.route && m.model?.meta.sampleRate === meta.sampleRate) continue; // route still fits
    try {
      routes.set(s, makeRoute(rate, meta.sampleRate));
    } catch (err) {
      routes.set(s, null);
      report(
        new FaultlineError(
          'FL_ERR_CONFIG',
          `sensor ${s.key}: ${rate} Hz cannot be resampled to model ${meta.contentHash.slice(0, 12)}'s ${meta.sampleRate} Hz ` +
            `(${(err as Error).message}); its blocks are dropped until they come at a usable rate`,
        ),
      );
    }
  }
  return { refusals, routes };
}

/** The binding of the model in `dir` (loaded in the workers under its content hash). */
export function bindingOf(dir: string, meta: ModelMetadata): ModelBinding {
  return {
    key: meta.contentHash,
    dir,
    meta,
    version: meta.contentHash.slice(0, 12),
    hasNormal: hasNormalClass(meta.classes),
    names: meta.classes.map(operatorClass),
  };
}

/**
 * Swaps `binding` in for `m` as `plan` says: refusals, new routes (a new
 * stream from the next block), and a new windower where the window length
 * or hop changed. Returns the binding it replaced.
 * @param evidenceSeconds history kept before each window for the evidence, s
 * @param alloc where windows are allocated (the inference pool's buffers)
 */
export function swapBinding(
  m: MachineState,
  binding: ModelBinding,
  plan: BindingPlan,
  evidenceSeconds: number,
  alloc: (n: number) => Float32Array,
): ModelBinding | null {
  const { meta } = binding;
  const old = m.model;
  m.model = binding;
  for (const s of m.sensors.values()) {
    const why = plan.refusals.get(s);
    s.refused = why ?? null;
    const route = plan.routes.get(s);
    if (route !== undefined) {
      // A new rate to resample to (or the first binding): a new stream from the next block.
      s.route = route;
      s.routeUsed = false;
      s.windower?.restart();
    }
    if (
      !s.windower ||
      s.windower.windowLength !== meta.windowLength ||
      s.windower.hop !== meta.hop
    ) {
      const history = Math.round(evidenceSeconds * meta.sampleRate);
      s.windower = new Windower({
        windowLength: meta.windowLength,
        hop: meta.hop,
        historyLength: history > meta.windowLength ? history : 0,
        alloc,
      });
      s.windowCount = 0;
    }
  }
  return old;
}
