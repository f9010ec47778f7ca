/**
 * Which model each machine runs. A model reference in the configuration is
 *
 *   a folder            copied into the registry (deduplicated by content hash)
 *   a version id        `v3-1a2b3c4d`, already in the registry
 *   `builtin:sim`       the simulator model: the shipped models/sim-12k when it
 *                       is there and fits the current simulator front end, else
 *                       one trained once (≈ 20 s), cached in <stateDir>/models/sim-12k
 *   (nothing)           the shipped model in models/ whose sample rate fits the
 *                       machine's sensors, else `builtin:sim`
 *
 * The registry remembers, per machine, the active version and the hash of the
 * model the configuration named when it was set. As long as the configuration
 * still names that model, the persisted active version wins (it may be an
 * adaptation or a rollback made at run time); when the configuration names
 * another model, the configuration wins.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { readModelMetadata } from '../model/artifact.js';
import type { GatewayConfig } from './config.js';
import type { ModelRegistry, ModelVersion } from './registry.js';
// ../sim/sim-model.js is imported where builtin:sim is resolved, not here: it
// pulls in tfjs (training), which a main thread running its models in worker
// threads otherwise never loads.

/** The reference that means "the simulator-trained model". */
export const BUILTIN_SIM = 'builtin:sim';

export interface ResolveModelsOptions {
  config: Pick<GatewayConfig, 'model' | 'machines'>;
  registry: ModelRegistry;
  repoRoot: string;
  stateDir: string;
  log?: (message: string) => void;
}

/** A shipped model (models/<name>/faultline.json) for this sample rate, if any. */
export async function shippedModel(
  repoRoot: string,
  sampleRate: number,
): Promise<string | undefined> {
  const dir = path.join(repoRoot, 'models');
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return undefined;
  }
  for (const n of names) {
    const d = path.join(dir, n);
    try {
      const meta = await readModelMetadata(d);
      if (meta.sampleRate === sampleRate) return d;
    } catch {
      // not a model folder (or not finished): skip
    }
  }
  return undefined;
}

/**
 * Resolves, registers and activates the model of every configured machine.
 * @returns machine id → active version
 * @throws FaultlineError FL_ERR_MODEL_FILE for a missing or corrupt model
 */
export async function resolveMachineModels(
  o: ResolveModelsOptions,
): Promise<Map<string, ModelVersion>> {
  const log = o.log ?? (() => undefined);
  const byRef = new Map<string, ModelVersion>();
  const resolveRef = async (ref: string): Promise<ModelVersion> => {
    const cached = byRef.get(ref);
    if (cached) return cached;
    let v: ModelVersion | undefined;
    if (ref === BUILTIN_SIM) {
      const { currentSimModelMeta, SIM_MODEL_NAME, trainSimModel } = await import(
        '../sim/sim-model.js'
      );
      const shipped = path.join(o.repoRoot, 'models', SIM_MODEL_NAME);
      if (await currentSimModelMeta(shipped)) {
        v = await o.registry.register(shipped, { origin: `simulator (builtin:sim, ${shipped})` });
      } else {
        const dir = path.join(o.stateDir, 'models', SIM_MODEL_NAME);
        // A cache from an older simulator front end is retrained, not run.
        if (!(await currentSimModelMeta(dir))) {
          log(
            `faultline gateway: no fitting ${shipped}; training the simulator model once (about 20 s; cached in the state directory)…`,
          );
          await rm(dir, { recursive: true, force: true });
          const meta = await trainSimModel(dir);
          log(
            `faultline gateway: simulator model trained (held-out accuracy ${(100 * (meta.metrics.heldOutAccuracy ?? 0)).toFixed(1)} %)`,
          );
        }
        v = await o.registry.register(dir, { origin: 'simulator (builtin:sim)' });
      }
    } else {
      v =
        o.registry.get(ref) ??
        (await o.registry.register(path.resolve(ref), { origin: path.resolve(ref) }));
    }
    byRef.set(ref, v);
    return v;
  };
  const out = new Map<string, ModelVersion>();
  for (const m of o.config.machines) {
    let ref = m.model ?? o.config.model;
    if (ref === undefined)
      ref = (await shippedModel(o.repoRoot, m.sensors[0].sampleRate)) ?? BUILTIN_SIM;
    const configured = await resolveRef(ref);
    const active = o.registry.active(m.id);
    if (active && o.registry.configuredHash(m.id) === configured.contentHash) {
      out.set(m.id, active);
    } else {
      out.set(m.id, await o.registry.activate(m.id, configured.id, configured.contentHash));
    }
  }
  return out;
}
