/**
 * Adaptation on the spot: adapt a machine's model to its own operating
 * conditions from its live, unlabelled signal, while diagnosis goes on.
 *
 *   collecting  the gateway offers every block of the machine's first sensor;
 *               `seconds` of signal are kept (bounded: exactly that many samples)
 *   adapting    a worker thread runs the model helper's `adaptModel` (dann|mmd)
 *               against the model's labelled source data; progress events
 *   registering the candidate goes into the registry as a new version, its
 *               guards reported; only when every guard passed is it activated
 *               and swapped in with `setModel` (the pipeline keeps diagnosing
 *               with the old model until the swap, so no window is lost)
 *
 * Learning from verdicts (`fromVerdicts`, docs/verdicts.md) is the same job
 * with another trainer: it collects the machine's live signal as its
 * unlabelled stream, then the worker runs finetune or features on the
 * machine's verdict windows (src/model/adapt/verdict-learn.ts), with one
 * more guard (held-out-verdicts); registering and activation are the same.
 * A machine whose verdicts label fewer than `minPerClass` windows of every
 * class is refused at once (FL_ERR_API_VERDICTS_FEW, 409): nothing starts.
 *
 * Rollback re-activates the machine's previous registry version.
 *
 * What a job may cost: one job at a time per gateway (collecting or
 * adapting; a second request is FL_ERR_API_BUSY, 409), because alignment
 * takes a core and a tfjs backend for minutes and two would starve the
 * diagnosis pipeline; the sample buffer is capped in bytes
 * (`maxSampleBytes`, checked before it is allocated) and transferred to
 * the worker, not copied, so the main thread holds it only while
 * collecting; finished jobs beyond the last `keepJobs` are forgotten and
 * every work folder that is not a kept job's is removed (at start too:
 * leftovers of a crash or a cancelled job).
 */

import { EventEmitter } from 'node:events';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type {
  AdaptCheckpoint,
  AdaptJob,
  AdaptStrategy,
  BearingGeometry,
} from '../contract/machine.js';
import { ratesMatch } from '../data/resample.js';
import { FaultlineError } from '../errors.js';
import type { IngestedBlock } from '../ingest/source.js';
import type { AdaptWorkerInput, AdaptWorkerMessage } from './adapt-worker.js';
import type { ModelRegistry, ModelVersion } from './registry.js';

/** Loss-curve points kept per job. */
export const MAX_CURVE_POINTS = 400;

const finiteOr = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

/**
 * Folds one message of the adaptation worker into its job (pure apart from
 * mutating `job`). Non-finite numbers are dropped; the loss curve is thinned
 * by half when it reaches MAX_CURVE_POINTS, so a long run stays bounded.
 */
export function applyWorkerProgress(
  job: AdaptJob,
  m: Extract<AdaptWorkerMessage, { kind: 'progress' | 'checkpoint' }>,
): void {
  if (m.kind === 'progress') {
    job.step = m.step;
    job.steps = m.steps;
    const pt: NonNullable<AdaptJob['losses']>[number] = { step: m.step };
    for (const k of ['loss', 'classLoss', 'domainLoss'] as const) {
      const v = finiteOr(m[k]);
      if (v !== undefined) {
        job[k] = v;
        pt[k] = v;
      }
    }
    if (Object.keys(pt).length > 1) {
      const list = job.losses ?? [];
      list.push(pt);
      job.losses = list.length > MAX_CURVE_POINTS ? list.filter((_, i) => i % 2 === 1) : list;
    }
    return;
  }
  const c = m.checkpoint;
  const step = finiteOr(c?.step);
  if (step === undefined) return;
  const cp: AdaptCheckpoint = {
    step,
    sourceValAccuracy: finiteOr(c.sourceValAccuracy) ?? Number.NaN,
    im: finiteOr(c.target?.im) ?? Number.NaN,
    meanEntropy: finiteOr(c.target?.meanEntropy) ?? Number.NaN,
    marginalEntropy: finiteOr(c.target?.marginalEntropy) ?? Number.NaN,
  };
  const da = finiteOr(c.discriminatorAccuracy);
  if (da !== undefined) {
    cp.discriminatorAccuracy = da;
    job.discriminatorAccuracy = da;
  }
  // Checkpoints come every `evalEvery` steps: few, kept whole (bounded like the curve anyway).
  job.checkpoints = [...(job.checkpoints ?? []), cp].slice(-MAX_CURVE_POINTS);
}

/** A copy of a job safe to hand out (its arrays are copied too). */
function snapshot(j: AdaptJob): AdaptJob {
  return {
    ...j,
    ...(j.losses ? { losses: j.losses.map((p) => ({ ...p })) } : {}),
    ...(j.checkpoints ? { checkpoints: j.checkpoints.map((c) => ({ ...c })) } : {}),
  };
}

export interface AdaptationEvents {
  progress: [AdaptJob];
}

export interface AdaptationManagerOptions {
  registry: ModelRegistry;
  /** Scratch directory for candidates. */
  workDir: string;
  /** Alignment steps. */
  steps: number;
  /** Bytes of live signal one job may collect (4 per sample). */
  maxSampleBytes: number;
  /** Finished jobs (and their work folders) kept; older ones are pruned. */
  keepJobs: number;
  /** Labelled source data for models not trained on the simulator. */
  sourceDataDir?: string;
  /** Swaps the model of a machine in the live pipeline. */
  setModel(machine: string, modelDir: string): Promise<void>;
  /** The first sensor's id and rate of a machine, or undefined for an unknown machine. */
  sensorOf(
    machine: string,
  ): { sensor: number; sampleRate: number; channel: number; bearing?: BearingGeometry } | undefined;
  /** Learning from verdicts: their folder, the windows a class needs, the counts per class. */
  verdicts?: {
    dir: string;
    minPerClass: number;
    counts(machine: string): Record<string, number>;
  };
  log?: (message: string) => void;
}

/** Phases a learning run reports as its steps (src/model/adapt/verdict-learn.ts). */
const LEARN_STEPS = 4;

interface Running {
  /** The machine's configured bearing, for a model that reads fault orders. */
  bearing?: BearingGeometry;
  job: AdaptJob;
  sensor: number;
  channel: number;
  sampleRate: number;
  buf: Float32Array;
  filled: number;
  /** Last shaft speed the frames reported, rpm: order-mode models need it (estimating it can lock onto half the speed). */
  rpm?: number;
  worker?: Worker;
}

/** Runs at most one adaptation per gateway. */
export class AdaptationManager extends EventEmitter<AdaptationEvents> {
  private readonly o: AdaptationManagerOptions;
  /** Jobs in start order (the oldest are pruned first). */
  private readonly jobsById = new Map<string, AdaptJob>();
  /** Machine → its running job (one at most, gateway-wide). */
  private readonly running = new Map<string, Running>();
  private seq = 0;
  private closed = false;
  private pruning: Promise<void> = Promise.resolve();

  /** @throws TypeError when maxSampleBytes or keepJobs is not a positive integer */
  constructor(o: AdaptationManagerOptions) {
    super();
    for (const k of ['maxSampleBytes', 'keepJobs'] as const) {
      if (!Number.isInteger(o[k]) || o[k] <= 0)
        throw new TypeError(`AdaptationManager: ${k} must be a positive integer, got ${o[k]}`);
    }
    this.o = o;
    // work folders of a previous run (a crash, a cancelled job) belong to no job now
    this.schedulePrune();
  }

  /**
   * Starts collecting `seconds` of the machine's signal, then adapts.
   * With `fromVerdicts`, the collected signal is the unlabelled stream of a
   * finetune or features run on the machine's verdict windows.
   * @throws FaultlineError FL_ERR_API_NOT_FOUND for an unknown machine, FL_ERR_API_BUSY while a job runs on this gateway, FL_ERR_API_REQUEST for bad arguments or a buffer over maxSampleBytes, FL_ERR_API_VERDICTS_FEW when no class has minPerClass verdict windows
   */
  start(
    machine: string,
    opts: { seconds: number; strategy: AdaptStrategy; fromVerdicts?: boolean },
  ): AdaptJob {
    const s = this.o.sensorOf(machine);
    if (!s)
      throw new FaultlineError(
        'FL_ERR_API_NOT_FOUND',
        `unknown machine ${JSON.stringify(machine)}`,
      );
    const busy = [...this.running.values()][0]?.job;
    if (busy) {
      throw new FaultlineError(
        'FL_ERR_API_BUSY',
        `adaptation ${busy.id} of ${busy.machine} is ${busy.state}; the gateway runs one adaptation at a time: wait for it (GET /api/adaptations/${busy.id})`,
      );
    }
    if (!(Number.isFinite(opts.seconds) && opts.seconds >= 1 && opts.seconds <= 3600)) {
      throw new FaultlineError(
        'FL_ERR_API_REQUEST',
        `seconds must be between 1 and 3600, got ${opts.seconds}`,
      );
    }
    const fromVerdicts = opts.fromVerdicts === true;
    const allowed = fromVerdicts ? ['finetune', 'features'] : ['dann', 'mmd'];
    if (!allowed.includes(opts.strategy)) {
      throw new FaultlineError(
        'FL_ERR_API_REQUEST',
        fromVerdicts
          ? `learning from verdicts takes strategy finetune or features, got ${JSON.stringify(opts.strategy)}`
          : `strategy must be dann or mmd (finetune and features need labels: fromVerdicts), got ${JSON.stringify(opts.strategy)}`,
      );
    }
    if (fromVerdicts) this.checkVerdicts(machine);
    const samples = Math.round(opts.seconds * s.sampleRate);
    if (samples * 4 > this.o.maxSampleBytes) {
      const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
      throw new FaultlineError(
        'FL_ERR_API_REQUEST',
        `${opts.seconds} s at ${s.sampleRate} Hz is ${mib(samples * 4)} of samples, over adaptation.maxSampleBytes (${mib(this.o.maxSampleBytes)}); ask for at most ${Math.floor(this.o.maxSampleBytes / 4 / s.sampleRate)} s or raise the setting`,
      );
    }
    const job: AdaptJob = {
      id: `adapt-${Date.now().toString(36)}-${++this.seq}`,
      machine,
      strategy: opts.strategy,
      seconds: opts.seconds,
      state: 'collecting',
      collectedS: 0,
      step: 0,
      steps: fromVerdicts ? LEARN_STEPS : this.o.steps,
      startedAt: new Date().toISOString(),
      fromVersion: this.o.registry.active(machine)?.id,
      ...(fromVerdicts ? { fromVerdicts: true } : {}),
    };
    this.jobsById.set(job.id, job);
    this.running.set(machine, {
      job,
      sensor: s.sensor,
      channel: s.channel,
      sampleRate: s.sampleRate,
      ...(s.bearing ? { bearing: s.bearing } : {}),
      buf: new Float32Array(samples),
      filled: 0,
    });
    this.emit('progress', snapshot(job));
    return snapshot(job);
  }

  /** @throws FaultlineError FL_ERR_API_VERDICTS_FEW (or FL_ERR_CONFIG without verdicts) */
  private checkVerdicts(machine: string): void {
    const v = this.o.verdicts;
    if (!v) throw new FaultlineError('FL_ERR_CONFIG', 'this gateway keeps no verdicts');
    const counts = v.counts(machine);
    if (Object.values(counts).some((n) => n >= v.minPerClass)) return;
    const have = Object.entries(counts)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    throw new FaultlineError(
      'FL_ERR_API_VERDICTS_FEW',
      `machine ${machine}'s verdicts label ${have || 'no windows'}; learning needs at least ${v.minPerClass} windows of a class (verdicts.minPerClass): acknowledge more of its alerts with a verdict (confirmed or false alarm)`,
    );
  }

  /** The gateway hands every routed block here; cheap when nothing collects. */
  offer(machine: string, block: IngestedBlock): void {
    const r = this.running.get(machine);
    if (!r) return;
    if (r.job.state !== 'collecting' || block.sensorId !== r.sensor) return;
    if (!ratesMatch(block.sampleRate, r.sampleRate)) return;
    const ch = Math.min(r.channel, block.channels - 1);
    const n = block.samples.length / block.channels;
    if (block.rpm !== undefined && block.rpm > 0) r.rpm = block.rpm;
    const take = Math.min(n, r.buf.length - r.filled);
    for (let i = 0; i < take; i++) r.buf[r.filled + i] = block.samples[i * block.channels + ch];
    const before = Math.floor(r.job.collectedS);
    r.filled += take;
    r.job.collectedS = r.filled / r.sampleRate;
    if (r.filled >= r.buf.length) void this.adapt(r);
    else if (Math.floor(r.job.collectedS) !== before) this.emit('progress', snapshot(r.job));
  }

  job(id: string): AdaptJob | undefined {
    const j = this.jobsById.get(id);
    return j ? snapshot(j) : undefined;
  }

  /** Jobs, most recent first (optionally one machine's). */
  jobs(machine?: string): AdaptJob[] {
    return [...this.jobsById.values()]
      .filter((j) => machine === undefined || j.machine === machine)
      .reverse()
      .map((j) => snapshot(j));
  }

  /**
   * Re-activates the machine's previous version and swaps it in.
   * @throws FaultlineError FL_ERR_MODEL_FILE when there is none
   */
  async rollback(machine: string): Promise<{ from: ModelVersion; to: ModelVersion }> {
    const r = await this.o.registry.rollback(machine);
    await this.o.setModel(machine, r.to.dir);
    return r;
  }

  /** Bytes of live signal the main thread holds for running jobs (0 once handed to the worker). */
  heldSampleBytes(): number {
    let n = 0;
    for (const r of this.running.values()) n += r.buf.byteLength;
    return n;
  }

  /**
   * Forgets finished jobs beyond the last `keepJobs` and removes every work
   * folder that is not a kept job's. Runs after each job and at
   * construction; resolves once the pending prunes are done (never rejects:
   * a folder that cannot be removed is logged and retried next time).
   */
  prune(): Promise<void> {
    return this.schedulePrune();
  }

  /** Stops collecting and terminates running workers. */
  async close(): Promise<void> {
    this.closed = true;
    for (const r of this.running.values()) {
      r.job.state = 'cancelled';
      r.job.finishedAt = new Date().toISOString();
      await r.worker?.terminate();
    }
    this.running.clear();
    await this.pruning;
  }

  private finish(r: Running, patch: Partial<AdaptJob>): void {
    Object.assign(r.job, patch, { finishedAt: new Date().toISOString() });
    this.running.delete(r.job.machine);
    this.emit('progress', snapshot(r.job));
    this.schedulePrune();
  }

  /** Chains one prune after the pending ones (two never race on the same folder). */
  private schedulePrune(): Promise<void> {
    this.pruning = this.pruning.then(() =>
      this.pruneNow().catch((err: Error) =>
        this.o.log?.(`faultline adapt: pruning ${this.o.workDir}: ${err.message}`),
      ),
    );
    return this.pruning;
  }

  private async pruneNow(): Promise<void> {
    const running = new Set([...this.running.values()].map((r) => r.job.id));
    const finished = [...this.jobsById.keys()].filter((id) => !running.has(id));
    for (const id of finished.slice(0, Math.max(0, finished.length - this.o.keepJobs)))
      this.jobsById.delete(id);
    let entries: string[];
    try {
      entries = await readdir(this.o.workDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    // the listing is compared with the jobs as they are now: a job started
    // meanwhile is already in jobsById, so its folder is kept
    for (const e of entries) {
      if (!this.jobsById.has(e))
        await rm(path.join(this.o.workDir, e), { recursive: true, force: true });
    }
  }

  private async adapt(r: Running): Promise<void> {
    const job = r.job;
    job.state = 'adapting';
    this.emit('progress', snapshot(job));
    // the job's work folder exists from here on, whatever happens next:
    // pruning is what removes it, so a failed job's output can be looked at
    const outDir = path.join(this.o.workDir, job.id);
    try {
      await mkdir(outDir, { recursive: true });
      const from = this.o.registry.active(job.machine);
      if (!from)
        throw new FaultlineError(
          'FL_ERR_MODEL_FILE',
          `machine ${job.machine} has no active model version`,
        );
      const meta = await this.o.registry.metadata(from.id);
      const input: AdaptWorkerInput = {
        sourceDir: from.dir,
        outDir,
        strategy: job.strategy,
        steps: this.o.steps,
        sourceDataset: meta.provenance.dataset,
        sourceDataDir: this.o.sourceDataDir,
        machine: job.machine,
        target: r.buf,
        sampleRate: r.sampleRate,
        rpm: r.rpm,
        ...(r.bearing ? { bearing: r.bearing } : {}),
        command: `faultline gateway adapt --machine ${job.machine} --seconds ${job.seconds} --strategy ${job.strategy}${job.fromVerdicts ? ' --from-verdicts' : ''}`,
        ...(job.fromVerdicts && this.o.verdicts
          ? { verdicts: { dir: this.o.verdicts.dir, minPerClass: this.o.verdicts.minPerClass } }
          : {}),
      };
      const outcome = await this.runWorker(r, input);
      if (this.closed) return;
      const v = await this.o.registry.register(outDir, {
        origin: job.fromVerdicts
          ? `learning ${job.id} (${job.strategy} on verdicts, ${job.seconds} s of live signal)`
          : `adaptation ${job.id} (${job.strategy}, ${job.seconds} s of live signal)`,
        parent: from.id,
        machine: job.machine,
      });
      await rm(outDir, { recursive: true, force: true });
      job.version = v.id;
      job.promoted = outcome.promoted;
      job.guards = outcome.guards;
      if (outcome.verdicts) {
        job.heldOut = outcome.verdicts.heldOut;
        job.trained = outcome.verdicts.trained;
      }
      if (!outcome.promoted) {
        this.finish(r, { state: 'rejected' });
        return;
      }
      await this.o.registry.activate(job.machine, v.id);
      await this.o.setModel(job.machine, v.dir);
      this.finish(r, { state: 'done' });
    } catch (err) {
      this.o.log?.(`faultline adapt: ${job.machine}: ${(err as Error).message}`);
      this.finish(r, { state: 'failed', error: (err as Error).message });
    }
  }

  private runWorker(
    r: Running,
    input: AdaptWorkerInput,
  ): Promise<Extract<AdaptWorkerMessage, { kind: 'done' }>['outcome']> {
    return new Promise((resolve, reject) => {
      // From source (tsx) a worker does not inherit the loader: bootstrap it through tsx's API.
      // The samples move to the worker (the main thread's copy is detached):
      // copying would hold them twice, up to maxSampleBytes each, for minutes.
      const transferList = [input.target.buffer as ArrayBuffer];
      const fromSource = import.meta.url.endsWith('.ts');
      const url = new URL(fromSource ? './adapt-worker.ts' : './adapt-worker.js', import.meta.url);
      const w = fromSource
        ? new Worker(
            `import('tsx/esm/api').then((api) => api.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(import.meta.url)}));`,
            { eval: true, workerData: input, transferList },
          )
        : new Worker(url, { workerData: input, transferList });
      r.worker = w;
      let settled = false;
      w.on('message', (m: AdaptWorkerMessage) => {
        if (m.kind === 'progress' || m.kind === 'checkpoint') {
          applyWorkerProgress(r.job, m);
          this.emit('progress', snapshot(r.job));
        } else if (m.kind === 'done') {
          settled = true;
          resolve(m.outcome);
        } else {
          settled = true;
          reject(new FaultlineError((m.code as 'FL_ERR_TRAIN') ?? 'FL_ERR_TRAIN', m.message));
        }
      });
      w.on('error', (err) => {
        settled = true;
        reject(err);
      });
      w.on('exit', (code) => {
        if (!settled)
          reject(new FaultlineError('FL_ERR_TRAIN', `adaptation worker exited with code ${code}`));
      });
    });
  }
}
