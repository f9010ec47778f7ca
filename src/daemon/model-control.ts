/**
 * Model control: which model each machine runs, and every way to change it —
 * the registry at start, a hand promotion or rollback from the API, an
 * on-the-spot adaptation job, and a configuration reload (SIGHUP).
 *
 * Every change goes through the pipeline first (`setModel` swaps the model
 * in), so a model the machine's sensors cannot run changes nothing.
 */
import path from 'node:path';
import type { AdaptJob, AdaptStrategy } from '../contract/machine.js';
import { probeModelInWorker } from '../diagnose/inference-pool.js';
import { FaultlineError, isFaultlineError } from '../errors.js';
import { AdaptationManager } from './adaptation.js';
import { type GatewayConfig, loadConfigFile, type MachineConfig } from './config.js';
import type { GatewayContext } from './gateway-context.js';
import { resolveMachineModels } from './models.js';
import { ModelRegistry, type ModelVersion } from './registry.js';
import { VERDICTS_DIR } from './verdicts.js';
import type { GatewayHealth } from './views.js';

export class ModelControl {
  private readonly ctx: GatewayContext;
  /** The file `reload()` re-reads; absent when running on embedded defaults. */
  private readonly configFile?: string;
  /** Outcome of the last `reload()`, for `GET /api/gateway`. */
  lastReload: GatewayHealth['reload'] = {};

  constructor(ctx: GatewayContext, configFile?: string) {
    this.ctx = ctx;
    this.configFile = configFile;
  }

  /**
   * Opens the registry and gives each machine its model version.
   * A new model is proven in a worker of its own: the main thread never loads tfjs.
   */
  async open(): Promise<void> {
    const { ctx } = this;
    const c = ctx.config;
    const backend = c.pipeline.backend;
    const registry = await ModelRegistry.open(path.join(ctx.stateDir, 'registry'), {
      log: (m) => ctx.log.warn(m),
      proveModel: (dir) =>
        ctx.parts.pipeline ? ctx.parts.pipeline.probeModel(dir) : probeModelInWorker(dir, backend),
    });
    ctx.parts.registry = registry;
    const versions = await resolveMachineModels({
      config: c,
      registry,
      repoRoot: ctx.repoRoot,
      stateDir: ctx.stateDir,
      log: (m) => ctx.log.info(m),
    });
    for (const [id, v] of versions) {
      const rt = ctx.machines.get(id);
      if (rt) rt.version = v;
    }
  }

  /** Creates the adaptation manager (needs the registry: call after open()). */
  createAdaptation(registry: ModelRegistry): AdaptationManager {
    const { ctx } = this;
    const c = ctx.config;
    const adaptation = new AdaptationManager({
      registry,
      workDir: path.join(ctx.stateDir, 'adapt-work'),
      steps: c.adaptation.steps,
      maxSampleBytes: c.adaptation.maxSampleBytes,
      keepJobs: c.adaptation.keepJobs,
      sourceDataDir: c.adaptation.sourceData,
      setModel: (machine, dir) => this.setModel(machine, dir),
      sensorOf: (machine) => {
        const m = ctx.machines.get(machine)?.config;
        return m
          ? {
              sensor: m.sensors[0].id,
              sampleRate: m.sensors[0].sampleRate,
              channel: m.sensors[0].channel,
              ...((m.sensors[0].bearing ?? m.bearing)
                ? { bearing: m.sensors[0].bearing ?? m.bearing }
                : {}),
            }
          : undefined;
      },
      verdicts: {
        dir: path.join(ctx.stateDir, VERDICTS_DIR),
        minPerClass: c.verdicts.minPerClass,
        counts: (machine) => ctx.parts.verdicts?.counts(machine) ?? {},
      },
      log: (m) => ctx.log.warn(m),
    });
    ctx.parts.adaptation = adaptation;
    adaptation.on('progress', (j) => ctx.emit('adaptation', j));
    return adaptation;
  }

  /**
   * Starts an on-the-spot adaptation of a machine (defaults from the running
   * config), or with `fromVerdicts` a learning run on its verdict windows
   * (strategy default finetune).
   */
  startAdaptation(
    machine: string,
    o: { seconds?: number; strategy?: AdaptStrategy; fromVerdicts?: boolean },
  ): AdaptJob {
    const { adaptation } = this.ctx.parts;
    if (!adaptation) throw new FaultlineError('FL_ERR_CONFIG', 'the gateway is not running');
    const c = this.ctx.config;
    return adaptation.start(machine, {
      seconds: o.seconds ?? c.adaptation.seconds,
      strategy: o.strategy ?? (o.fromVerdicts ? 'finetune' : c.adaptation.strategy),
      ...(o.fromVerdicts ? { fromVerdicts: true } : {}),
    });
  }

  /** Swaps a machine's model in the pipeline (registry already updated). */
  async setModel(machine: string, dir: string): Promise<void> {
    const { ctx } = this;
    await ctx.parts.pipeline?.setModel(machine, dir);
    const rt = ctx.machines.get(machine);
    const v = ctx.parts.registry?.active(machine);
    if (rt && v) rt.version = v;
    ctx.log.info(`faultline gateway: ${machine} now runs model ${v?.id ?? dir}`);
  }

  /**
   * Activates a registered version for a machine by hand. A candidate whose
   * adaptation failed a guard (`adaptation.promoted === false`) needs
   * `force: true` and a `reason`; every promotion is recorded in the
   * registry's audit trail with who did it and why. The model is swapped into
   * the pipeline first, so a model the machine's sensors cannot run changes
   * nothing.
   * @throws FaultlineError FL_ERR_API_NOT_FOUND (machine), FL_ERR_MODEL_FILE (version),
   *   FL_ERR_API_CONFLICT (guard failed without force/reason), FL_ERR_MODEL_MISMATCH
   */
  async promote(
    machine: string,
    o: { version: string; force?: boolean; by: string; reason?: string },
  ): Promise<{ machine: string; from?: string; to: string; forced: boolean }> {
    const { ctx } = this;
    const { registry, pipeline } = ctx.parts;
    if (!registry || !pipeline)
      throw new FaultlineError('FL_ERR_CONFIG', 'the gateway is not running');
    if (!ctx.machines.has(machine))
      throw new FaultlineError(
        'FL_ERR_API_NOT_FOUND',
        `unknown machine ${JSON.stringify(machine)}; GET /api/machines lists them`,
      );
    const v = registry.get(o.version);
    if (!v)
      throw new FaultlineError(
        'FL_ERR_API_NOT_FOUND',
        `model version ${JSON.stringify(o.version)} is not in the registry; GET /api/models lists them`,
      );
    const failed = v.adaptation?.guards.filter((g) => !g.passed) ?? [];
    const guardFailed = v.adaptation !== undefined && !v.adaptation.promoted;
    if (guardFailed && !(o.force === true && o.reason && o.reason.trim().length > 0)) {
      throw new FaultlineError(
        'FL_ERR_API_CONFLICT',
        `version ${v.id} failed guard(s) ${failed.map((g) => g.name).join(', ') || '(unnamed)'}; ` +
          'to activate it anyway send force: true with a reason (it is recorded in the registry)',
      );
    }
    const from = registry.active(machine);
    if (from?.id !== v.id) await pipeline.setModel(machine, v.dir);
    await registry.promote(machine, v.id, {
      by: o.by,
      ...(o.reason ? { reason: o.reason } : {}),
      forced: guardFailed,
      ...(failed.length ? { failedGuards: failed.map((g) => g.name) } : {}),
    });
    const rt = ctx.machines.get(machine);
    if (rt) rt.version = registry.active(machine);
    ctx.log.info(
      `faultline gateway: ${machine} promoted to ${v.id} by ${o.by}${guardFailed ? ` (forced: ${o.reason})` : ''}`,
    );
    return { machine, ...(from ? { from: from.id } : {}), to: v.id, forced: guardFailed };
  }

  /** Rolls a machine back to its previous model version. */
  async rollback(machine: string): Promise<{ from: ModelVersion; to: ModelVersion }> {
    const { adaptation } = this.ctx.parts;
    if (!adaptation) throw new FaultlineError('FL_ERR_CONFIG', 'the gateway is not running');
    if (!this.ctx.machines.has(machine))
      throw new FaultlineError(
        'FL_ERR_API_NOT_FOUND',
        `unknown machine ${JSON.stringify(machine)}`,
      );
    return adaptation.rollback(machine);
  }

  /**
   * Re-reads the configuration file (SIGHUP). A bad file is logged and the
   * running configuration kept. A good one replaces it; per-machine model
   * changes are applied at once, other changes need a restart (logged).
   * @returns true when the new configuration was taken
   */
  async reload(): Promise<boolean> {
    const { ctx } = this;
    const at = new Date().toISOString();
    if (!this.configFile) {
      this.lastReload = { at, ok: false, error: 'running on embedded defaults: nothing to reload' };
      ctx.log.warn('faultline gateway: reload: running on embedded defaults, no file to re-read');
      return false;
    }
    let next: Readonly<GatewayConfig>;
    try {
      next = await loadConfigFile(this.configFile);
    } catch (err) {
      const msg = isFaultlineError(err) ? `${err.code}: ${err.message}` : (err as Error).message;
      this.lastReload = { at, ok: false, error: msg };
      ctx.log.error(`faultline gateway: reload refused, keeping the running configuration: ${msg}`);
      return false;
    }
    const restart = changedNeedingRestart(ctx.config, next);
    const prev = ctx.config;
    ctx.config = next;
    for (const m of next.machines) {
      const old = prev.machines.find((x) => x.id === m.id);
      const registry = ctx.parts.registry;
      if (old && (old.model ?? prev.model) !== (m.model ?? next.model) && registry) {
        try {
          const v = await resolveMachineModels({
            config: { ...next, machines: [m] },
            registry,
            repoRoot: ctx.repoRoot,
            stateDir: ctx.stateDir,
            log: (x) => ctx.log.info(x),
          });
          const ver = v.get(m.id);
          if (ver) await this.setModel(m.id, ver.dir);
        } catch (err) {
          ctx.log.error(
            `faultline gateway: reload: model of ${m.id} not changed: ${(err as Error).message}`,
          );
        }
      }
    }
    this.lastReload = { at, ok: true };
    ctx.log.info(
      `faultline gateway: configuration reloaded from ${this.configFile}${restart.length ? `; restart to apply ${restart.join(', ')}` : ''}`,
    );
    return true;
  }
}

/** Top-level settings whose change needs a restart. */
export function changedNeedingRestart(a: GatewayConfig, b: GatewayConfig): string[] {
  const keys = [
    'site',
    'gatewayId',
    'stateDir',
    'alerts',
    'broker',
    'influx',
    'store',
    'http',
    'pipeline',
    'fleet',
    'cluster',
    // the Modbus listener and the Sparkplug client are opened once, at start
    'outputs',
    // the logger and fastify's child of it are made once, at start
    'log',
  ] as const;
  const out: string[] = keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  const strip = (m: MachineConfig) => JSON.stringify({ ...m, model: undefined });
  if (
    a.machines.length !== b.machines.length ||
    a.machines.some((m, i) => strip(m) !== strip(b.machines[i]))
  )
    out.push('machines');
  return out;
}
