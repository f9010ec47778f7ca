/**
 * The gateway's model registry on disk:
 *
 *   <dir>/registry.json          versions + the active version of each machine + its history
 *   <dir>/versions/<id>/         a copy of the model folder (model.json, weights.bin, faultline.json)
 *
 * A version is immutable once registered and named `v<n>-<hash8>` (n counts up,
 * hash8 is the start of the model's content hash), so two different models
 * never share an id. Registering a model whose content hash is already there
 * returns the existing version. `registry.json` is replaced atomically and
 * durably (temp file, fsync, rename, fsync of the folder; ./atomic-file.ts),
 * the previous copy kept as `registry.json.bak`, so the active version of
 * every machine survives a restart or a power cut; a registry.json that is
 * missing or does not parse at start is read from the .bak instead (and
 * `recovered` says why). Rollback walks each machine's activation history.
 */
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { readWithBackup, writeFileAtomic } from '../atomic-file.js';
import type { PromotionRecord } from '../contract/api.js';
import { FaultlineError } from '../errors.js';
import {
  loadModelArtifact,
  type ModelMetadata,
  readModelMetadata,
  verifyModelFiles,
} from '../model/artifact.js';

/** One registered model version. */
export interface ModelVersion {
  /** `v<n>-<hash8>`. */
  id: string;
  /** sha256 of model.json + weights.bin (from faultline.json, verified on register). */
  contentHash: string;
  /** Folder holding the copy. */
  dir: string;
  registeredAt: string;
  /** Where it came from: a folder path, `adaptation of v2-…`, `simulator`… */
  origin: string;
  /** Version it was derived from (an adaptation's source), if any. */
  parent?: string;
  /** Machine it was made for (adaptations), if any. */
  machine?: string;
  classes: string[];
  sampleRate: number;
  /** Selected metrics of faultline.json (accuracies, guard summary). */
  metrics: Record<string, number>;
  adaptation?: {
    strategy: string;
    promoted: boolean;
    guards: { name: string; passed: boolean; detail: string }[];
  };
  note?: string;
}

interface MachineEntry {
  active: string;
  /** Earlier active versions, oldest first (rollback pops). */
  history: string[];
  /** Hand promotions, oldest first (never trimmed: they are the audit trail). */
  audit?: PromotionRecord[];
  /** Content hash of the model the configuration named when `active` was set from it. */
  configured?: string;
}

interface RegistryFile {
  format: 'faultline-registry';
  formatVersion: 1;
  next: number;
  versions: ModelVersion[];
  /**
   * Keyed by machine id, with no prototype: a machine may be called
   * `constructor` or `__proto__` (any MQTT topic level is a valid id), and
   * on a plain object those would read Object.prototype's members or set
   * the prototype instead of an entry.
   */
  machines: Record<string, MachineEntry>;
}

/** An empty dictionary without a prototype (see RegistryFile.machines). */
function dictionary<T>(from?: Record<string, T>): Record<string, T> {
  const d = Object.create(null) as Record<string, T>;
  // plain assignment is safe here: without Object.prototype there is no
  // `__proto__` setter, so that key stays an entry (JSON.parse made it an own property)
  for (const [k, v] of Object.entries(from ?? {})) d[k] = v;
  return d;
}

export interface RegisterOptions {
  origin: string;
  parent?: string;
  machine?: string;
  note?: string;
}

/** The on-disk registry. All mutations are serialised and persisted before they resolve. */
export class ModelRegistry {
  readonly dir: string;
  private data: RegistryFile;
  /** Why registry.json was read from its .bak at open, if it was. */
  recovered: string | undefined;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    dir: string,
    data: RegistryFile,
    private readonly proveModel: (dir: string) => Promise<void>,
  ) {
    this.dir = dir;
    this.data = data;
  }

  /**
   * Opens (or creates) the registry in `dir`.
   * @param o.proveModel how a new model is proven to load before it is
   *   registered (rejects with FL_ERR_MODEL_FILE…); default: loading it with
   *   tfjs in this thread. The gateway passes one that loads it in a worker,
   *   which keeps tfjs out of its main thread.
   * @throws FaultlineError FL_ERR_MODEL_FILE when registry.json is corrupt
   */
  static async open(
    dir: string,
    o: { proveModel?: (dir: string) => Promise<void>; log?: (message: string) => void } = {},
  ): Promise<ModelRegistry> {
    const abs = path.resolve(dir);
    await mkdir(path.join(abs, 'versions'), { recursive: true });
    const file = path.join(abs, 'registry.json');
    let data: RegistryFile = {
      format: 'faultline-registry',
      formatVersion: 1,
      next: 1,
      versions: [],
      machines: dictionary(),
    };
    const parse = (text: string): RegistryFile => {
      const parsed = JSON.parse(text) as RegistryFile;
      if (parsed.format !== 'faultline-registry' || !Array.isArray(parsed.versions))
        throw new Error('not a registry');
      return { ...parsed, machines: dictionary(parsed.machines) };
    };
    let recovered: string | undefined;
    try {
      const r = await readWithBackup(file, parse);
      if (r.from !== 'none') data = r.value;
      if (r.from === 'backup') {
        recovered = r.problem;
        o.log?.(
          `faultline registry: ${r.problem}; recovered from ${file}.bak (the change written last may be lost)`,
        );
      }
    } catch (err) {
      throw new FaultlineError(
        'FL_ERR_MODEL_FILE',
        `${file} is corrupt (${(err as Error).message}) and ${file}.bak cannot replace it; move it away to start an empty registry`,
      );
    }
    const reg = new ModelRegistry(abs, data, o.proveModel ?? loadInThisThread);
    reg.recovered = recovered;
    // put the recovered copy back in place at once (keeping the good .bak, not the bad file)
    if (recovered !== undefined) await reg.save({ backup: false });
    return reg;
  }

  /** Every version, oldest first. */
  list(): ModelVersion[] {
    return this.data.versions.map((v) => ({ ...v }));
  }

  get(id: string): ModelVersion | undefined {
    const v = this.data.versions.find((x) => x.id === id);
    return v ? { ...v } : undefined;
  }

  findByHash(hash: string): ModelVersion | undefined {
    const v = this.data.versions.find((x) => x.contentHash === hash);
    return v ? { ...v } : undefined;
  }

  /** The active version of a machine, if any. */
  active(machine: string): ModelVersion | undefined {
    const e = this.data.machines[machine];
    return e ? this.get(e.active) : undefined;
  }

  /** Earlier active versions of a machine, most recent first. */
  history(machine: string): string[] {
    return [...(this.data.machines[machine]?.history ?? [])].reverse();
  }

  /** Content hash the configuration named when the machine's model was last set from it. */
  configuredHash(machine: string): string | undefined {
    return this.data.machines[machine]?.configured;
  }

  /**
   * Copies a model folder into the registry (verifying its content hash) and
   * returns its version; an identical model already registered is returned as is.
   * @throws FaultlineError FL_ERR_MODEL_FILE when the folder is not a valid model
   */
  register(modelDir: string, o: RegisterOptions): Promise<ModelVersion> {
    return this.locked(async () => {
      // The hash first, without tfjs: a model already registered was loaded
      // (hash and shapes proven) when it was, and the gateway re-registers
      // its configured models at every start; tfjs stays out of the main
      // thread then (the models run in workers).
      const meta = await verifyModelFiles(modelDir);
      const existing = this.findByHash(meta.contentHash);
      if (existing) return existing;
      // A new model: load the weights, proving the shapes before anything is copied.
      await this.proveModel(modelDir);
      const id = `v${this.data.next}-${meta.contentHash.slice(0, 8)}`;
      const dest = path.join(this.dir, 'versions', id);
      const tmp = `${dest}.tmp`;
      await rm(tmp, { recursive: true, force: true });
      await cp(path.resolve(modelDir), tmp, { recursive: true });
      await rename(tmp, dest);
      const v: ModelVersion = {
        id,
        contentHash: meta.contentHash,
        dir: dest,
        registeredAt: new Date().toISOString(),
        origin: o.origin,
        ...(o.parent ? { parent: o.parent } : {}),
        ...(o.machine ? { machine: o.machine } : {}),
        classes: meta.classes,
        sampleRate: meta.sampleRate,
        metrics: { ...meta.metrics },
        ...(meta.adaptation
          ? {
              adaptation: {
                strategy: meta.adaptation.strategy,
                promoted: meta.adaptation.promoted,
                guards: meta.adaptation.guards,
              },
            }
          : {}),
        ...(o.note ? { note: o.note } : {}),
      };
      this.data.next++;
      this.data.versions.push(v);
      await this.save();
      return { ...v };
    });
  }

  /**
   * Makes `id` the machine's active version (the previous one goes on its
   * history). `configured` records the hash of the configured model when the
   * activation comes from the configuration.
   * @throws FaultlineError FL_ERR_MODEL_FILE for an unknown version
   */
  activate(machine: string, id: string, configured?: string): Promise<ModelVersion> {
    return this.locked(async () => {
      const v = this.requireVersion(id);
      const e = this.data.machines[machine];
      if (!e)
        this.data.machines[machine] = {
          active: id,
          history: [],
          ...(configured ? { configured } : {}),
        };
      else {
        if (e.active !== id) e.history.push(e.active);
        e.active = id;
        if (configured) e.configured = configured;
      }
      await this.save();
      return { ...v };
    });
  }

  /**
   * Activates `id` for `machine` by hand and records who, why and whether a
   * failed guard was overridden, in one atomic write.
   * @throws FaultlineError FL_ERR_MODEL_FILE for an unknown version
   */
  promote(
    machine: string,
    id: string,
    o: { by: string; reason?: string; forced: boolean; failedGuards?: string[] },
  ): Promise<PromotionRecord> {
    return this.locked(async () => {
      this.requireVersion(id);
      const e = this.data.machines[machine];
      const rec: PromotionRecord = {
        at: new Date().toISOString(),
        action: 'promote',
        version: id,
        ...(e ? { from: e.active } : {}),
        by: o.by,
        ...(o.reason ? { reason: o.reason } : {}),
        forced: o.forced,
        ...(o.failedGuards?.length ? { failedGuards: [...o.failedGuards] } : {}),
      };
      if (!e) this.data.machines[machine] = { active: id, history: [], audit: [rec] };
      else {
        if (e.active !== id) e.history.push(e.active);
        e.active = id;
        e.audit = [...(e.audit ?? []), rec];
      }
      await this.save();
      return { ...rec };
    });
  }

  /** The machine's hand promotions, oldest first. */
  audit(machine: string): PromotionRecord[] {
    return (this.data.machines[machine]?.audit ?? []).map((r) => ({ ...r }));
  }

  /**
   * Re-activates the machine's previous version.
   * @throws FaultlineError FL_ERR_MODEL_FILE when there is nothing to roll back to
   */
  rollback(machine: string): Promise<{ from: ModelVersion; to: ModelVersion }> {
    return this.locked(async () => {
      const e = this.data.machines[machine];
      const prev = e?.history.pop();
      if (!e || prev === undefined) {
        throw new FaultlineError(
          'FL_ERR_MODEL_FILE',
          `machine ${machine} has no earlier model version to roll back to`,
        );
      }
      const from = this.requireVersion(e.active);
      e.active = prev;
      await this.save();
      return { from: { ...from }, to: { ...this.requireVersion(prev) } };
    });
  }

  /** faultline.json of a version. */
  async metadata(id: string): Promise<ModelMetadata> {
    return readModelMetadata(this.requireVersion(id).dir);
  }

  private requireVersion(id: string): ModelVersion {
    const v = this.data.versions.find((x) => x.id === id);
    if (!v) {
      throw new FaultlineError(
        'FL_ERR_MODEL_FILE',
        `model version ${id} is not in the registry ${this.dir}; known: ${this.data.versions.map((x) => x.id).join(', ') || 'none'}`,
      );
    }
    return v;
  }

  private async save(o: { backup?: boolean } = {}): Promise<void> {
    await writeFileAtomic(
      path.join(this.dir, 'registry.json'),
      `${JSON.stringify(this.data, null, 2)}\n`,
      o,
    );
  }

  private locked<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

/** Proves a model folder loads by loading it (tfjs) in this thread. */
async function loadInThisThread(dir: string): Promise<void> {
  (await loadModelArtifact(dir)).model.dispose();
}
