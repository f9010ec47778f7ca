/**
 * A pool of worker threads (./inference-worker.ts) that turns raw windows
 * into model probabilities and vibration features, micro-batched.
 *
 * Batching: windows of the same model (from any sensor) collect in an open
 * batch; it is sealed when it holds `maxBatch` windows ("full") or when its
 * first window has waited `maxLatencyMs` ("timer"), whichever comes first.
 * Sealed batches go, oldest first, to the worker with the fewest batches in
 * flight (at most 2 per worker, so a worker finds its next batch waiting
 * when it finishes one). Batching buys throughput (one CNN call per batch:
 * ~3× cheaper per window at 16 than at 1 on wasm); the timer bounds what it
 * costs in latency.
 *
 * Bounded queue: at most `maxQueue` windows wait (open + sealed, not those in
 * flight). When full, `submit` refuses the NEW window (returns false) and the
 * caller counts it as dropped: the older windows already queued keep their
 * place, so a burst costs the newest windows, and per-sensor order holds.
 *
 * Every worker loads every model (`load` resolves once all have it), so any
 * worker can take any batch; a model is unloaded only when no queued or
 * in-flight window still needs it (a model switch never drops a window).
 *
 * Hung and crashing workers: a batch unanswered for `batchTimeoutMs` marks
 * its worker hung; it is terminated, its windows come back failed
 * (FL_ERR_INFERENCE_TIMEOUT) so their sensors move on, and a new worker is
 * started. A worker that keeps dying is restarted after a growing delay
 * (`respawn.minMs` doubling to `respawn.maxMs`; reset once a worker has run
 * for a minute), so a model that crashes every worker cannot spin the CPU.
 */
import type { Worker } from 'node:worker_threads';
import { type ErrorCode, FaultlineError } from '../errors.js';
import type { BackendName } from '../model/backend.js';
import type { WindowResult, WindowTask, WorkerReply, WorkerRequest } from './inference-protocol.js';
import { startModuleWorker } from './worker-bundle.js';

/** One window in the pool. `ctx` is the caller's, handed back with the result. */
export interface PoolJob<C = unknown> {
  key: string;
  window: Float32Array;
  /** Longer stretch ending with the window (envelope evidence, speed estimate), if any. */
  history?: Float32Array;
  task: WindowTask;
  ctx: C;
}

export interface InferencePoolOptions<C> {
  /** Worker threads; default 1. */
  workers?: number;
  /** Windows per CNN call at most; default 64. */
  maxBatch?: number;
  /** Longest an open batch waits for more windows, ms; default 50. */
  maxLatencyMs?: number;
  /** Windows waiting at most (open + sealed); default workers × maxBatch × 4. */
  maxQueue?: number;
  backend?: BackendName;
  /** Clock, ms; default performance.now. */
  now?: () => number;
  /** Called once per submitted window, in the order the worker finished them. */
  onResult: (job: PoolJob<C>, result: WindowResult) => void;
  /** Pool trouble that is not a window's (a worker died and was restarted). */
  onError?: (err: Error) => void;
  /** A batch unanswered this long marks its worker hung (terminated, restarted), ms; default 60 000. */
  batchTimeoutMs?: number;
  /** Delays before restarting a worker that keeps dying, ms; default { minMs: 500, maxMs: 30 000 }. */
  respawn?: { minMs?: number; maxMs?: number };
  /** The worker module (tests inject one); default ./inference-worker. */
  workerModule?: URL;
}

/** A worker that ran this long without dying resets the restart backoff, ms. */
const RESPAWN_RESET_MS = 60_000;

/** Counters of the pool. */
export interface PoolStats {
  workers: number;
  backend: string;
  /** Windows waiting (open + sealed batches). */
  queued: number;
  /** Windows in workers. */
  inFlight: number;
  maxQueue: number;
  batches: number;
  /** Batches sealed because they were full / because their timer ran out. */
  sealedFull: number;
  sealedTimer: number;
  /** Largest batch dispatched and mean batch size. */
  maxBatchSize: number;
  meanBatchSize: number;
  /** Batch-size histogram: key = upper bound of the bucket (1, 2, 4, … maxBatch). */
  batchSizes: Record<string, number>;
  /** Longest an open batch waited before being sealed, ms (≤ maxLatencyMs + timer slack). */
  maxFormWaitMs: number;
  /** Longest a sealed batch waited for a free worker, ms (grows only under overload). */
  maxDispatchWaitMs: number;
  /** Worker time per window by stage, ms (mean over all windows processed). */
  perWindowMs: { frontEnd: number; cnn: number; evidence: number; features: number };
  /** Windows processed by workers. */
  processed: number;
  workerRestarts: number;
  /** Batches a worker did not answer within batchTimeoutMs (the worker was restarted). */
  batchTimeouts: number;
}

interface Batch<C> {
  key: string;
  jobs: PoolJob<C>[];
  openedAt: number;
  sealedAt: number;
  /** When it went to a worker (the watchdog's clock). */
  dispatchedAt?: number;
}

interface Slot<C> {
  worker: Worker;
  ready: boolean;
  /** When this worker was started (real time, ms). */
  startedAt: number;
  inflight: Map<number, Batch<C> | null>;
  requests: Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>;
}

const INFLIGHT_PER_WORKER = 2;

/**
 * Cap of each worker's V8 young generation, MB. A worker's garbage is short
 * lived (per-batch results and messages); left to itself V8 grows the young
 * generation of a busy isolate to its maximum, which the gateway pays in
 * resident memory once per worker. Measured with bench/gateway-step at 1000
 * channels, 2 workers: 16 MB keeps the per-window cost and takes RSS from
 * ~405 to ~383 MB; 8 MB saves ~30 MB more but slows every stage by ~10 %.
 */
const WORKER_YOUNG_GENERATION_MB = 16;

/** Starts one worker: built JS, or a bundle of the .ts source (./worker-bundle.ts). */
function spawnWorker(module?: URL): Promise<Worker> {
  const fromSource = import.meta.url.endsWith('.ts');
  return startModuleWorker(
    module ??
      new URL(fromSource ? './inference-worker.ts' : './inference-worker.js', import.meta.url),
    { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } },
  );
}

export class InferencePool<C = unknown> {
  readonly workers: number;
  readonly maxBatch: number;
  readonly maxLatencyMs: number;
  readonly maxQueue: number;
  private readonly o: InferencePoolOptions<C>;
  private readonly now: () => number;
  private readonly slots: Slot<C>[] = [];
  private readonly open = new Map<string, { batch: Batch<C>; timer: NodeJS.Timeout }>();
  private readonly sealed: Batch<C>[] = [];
  /** Models to (re)load in every worker: key → folder. */
  private readonly models = new Map<string, string>();
  /** Windows queued or in flight per model key. */
  private readonly refs = new Map<string, number>();
  /** Models to unload once their last window is done. */
  private readonly retiring = new Set<string>();
  private readonly free = new Map<number, Float32Array[]>();
  /** Spare window arrays kept per length (see recycle). */
  private readonly spareWindows: number;
  private nextId = 1;
  private queued = 0;
  private inFlight = 0;
  private closed = false;
  private backendName = 'none';
  private readonly batchTimeoutMs: number;
  private readonly respawnMinMs: number;
  private readonly respawnMaxMs: number;
  /** Per slot index: restarts in a row and when the last one was. */
  private readonly restarts = new Map<number, { count: number; at: number }>();
  private watchdog: NodeJS.Timeout | undefined;
  private readonly counters = {
    batches: 0,
    sealedFull: 0,
    sealedTimer: 0,
    maxBatchSize: 0,
    windowsDispatched: 0,
    batchSizes: {} as Record<string, number>,
    maxFormWaitMs: 0,
    maxDispatchWaitMs: 0,
    processed: 0,
    frontEndMs: 0,
    cnnMs: 0,
    evidenceMs: 0,
    featuresMs: 0,
    workerRestarts: 0,
    batchTimeouts: 0,
  };

  constructor(o: InferencePoolOptions<C>) {
    this.o = o;
    this.workers = o.workers ?? 1;
    this.maxBatch = o.maxBatch ?? 64;
    this.maxLatencyMs = o.maxLatencyMs ?? 50;
    this.maxQueue = o.maxQueue ?? this.workers * this.maxBatch * 4;
    this.spareWindows = Math.min(
      this.maxQueue,
      this.workers * this.maxBatch * (INFLIGHT_PER_WORKER + 1),
    );
    this.now = o.now ?? (() => performance.now());
    if (!Number.isInteger(this.workers) || this.workers < 1 || this.workers > 64) {
      throw new TypeError(`workers must be an integer in 1…64, got ${o.workers}`);
    }
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1 || this.maxBatch > 4096) {
      throw new TypeError(`maxBatch must be an integer in 1…4096, got ${o.maxBatch}`);
    }
    if (!(this.maxLatencyMs >= 0 && this.maxLatencyMs <= 60_000)) {
      throw new TypeError(`maxLatencyMs must be in 0…60000 ms, got ${o.maxLatencyMs}`);
    }
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < this.maxBatch) {
      throw new TypeError(`maxQueue must be an integer ≥ maxBatch, got ${o.maxQueue}`);
    }
    this.batchTimeoutMs = o.batchTimeoutMs ?? 60_000;
    this.respawnMinMs = o.respawn?.minMs ?? 500;
    this.respawnMaxMs = o.respawn?.maxMs ?? 30_000;
    if (!(this.batchTimeoutMs >= 10)) {
      throw new TypeError(`batchTimeoutMs must be ≥ 10 ms, got ${o.batchTimeoutMs}`);
    }
    if (!(this.respawnMinMs >= 0 && this.respawnMaxMs >= this.respawnMinMs)) {
      throw new TypeError(
        `respawn delays must satisfy 0 ≤ minMs ≤ maxMs, got ${this.respawnMinMs}, ${this.respawnMaxMs}`,
      );
    }
  }

  /** Starts the workers and their backends. Resolves with the backend that runs. */
  async start(): Promise<string> {
    this.watchdog = setInterval(
      () => this.checkHung(),
      Math.max(10, Math.min(1000, this.batchTimeoutMs / 4)),
    );
    this.watchdog.unref();
    const names = await Promise.all(
      Array.from({ length: this.workers }, async () => this.addSlot()),
    );
    this.backendName = names[0] ?? 'none';
    return this.backendName;
  }

  private async addSlot(index?: number): Promise<string> {
    const worker = await spawnWorker(this.o.workerModule);
    if (this.closed) {
      await worker.terminate();
      return 'none';
    }
    const slot: Slot<C> = {
      worker,
      ready: false,
      startedAt: Date.now(),
      inflight: new Map(),
      requests: new Map(),
    };
    if (index === undefined) this.slots.push(slot);
    else this.slots[index] = slot;
    slot.worker.on('message', (m: WorkerReply) => this.onMessage(slot, m));
    slot.worker.on('error', (err) => this.onWorkerExit(slot, err));
    slot.worker.on('exit', (code) => {
      if (!this.closed)
        this.onWorkerExit(slot, new Error(`inference worker exited with code ${code}`));
    });
    const r = (await this.request(slot, { type: 'init', id: 0, backend: this.o.backend })) as {
      backend?: BackendName;
    };
    for (const [key, dir] of this.models)
      await this.request(slot, { type: 'load', id: 0, key, dir });
    slot.ready = true;
    this.pump();
    return r.backend ?? 'unknown';
  }

  private request(slot: Slot<C>, msg: WorkerRequest): Promise<WorkerReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.requests.set(id, { resolve, reject });
      slot.worker.postMessage({ ...msg, id });
    });
  }

  /** Loads a model folder in every worker; `key` names it in submit(). */
  async load(key: string, dir: string): Promise<void> {
    this.retiring.delete(key);
    if (this.models.get(key) === dir) return;
    this.models.set(key, dir);
    try {
      await Promise.all(this.slots.map((s) => this.request(s, { type: 'load', id: 0, key, dir })));
    } catch (err) {
      this.models.delete(key);
      throw err;
    }
  }

  /**
   * Proves that a model folder loads (its network matches its metadata) in
   * one worker, which disposes of it again; rejects with the worker's error
   * (FL_ERR_MODEL_FILE …). Lets the main thread vet a new model without
   * loading tfjs itself (~50–100 MB it would keep for good).
   */
  async probe(dir: string): Promise<void> {
    const slot = this.slots[0];
    if (!slot) throw new Error('the inference pool has no worker');
    await this.request(slot, { type: 'probe', id: 0, dir });
  }

  /** Unloads `key` from the workers once no queued or in-flight window needs it. */
  release(key: string): void {
    if (!this.models.has(key)) return;
    this.retiring.add(key);
    this.maybeUnload(key);
  }

  private maybeUnload(key: string): void {
    if (!this.retiring.has(key) || (this.refs.get(key) ?? 0) > 0) return;
    this.retiring.delete(key);
    this.models.delete(key);
    for (const s of this.slots) this.request(s, { type: 'unload', id: 0, key }).catch(() => {});
  }

  /** A window array of `length` samples, reused from finished batches when possible. */
  alloc(length: number): Float32Array {
    return this.free.get(length)?.pop() ?? new Float32Array(length);
  }

  private recycle(w: Float32Array): void {
    if (w.byteLength === 0) return;
    let list = this.free.get(w.length);
    if (!list) {
      list = [];
      this.free.set(w.length, list);
    }
    // Keep the spares steady state needs (what the workers hold plus one
    // batch forming), no more: after a backlog (up to maxQueue windows) the
    // rest go back to the GC instead of pinning the backlog's high-water
    // mark (48 KB per 1 s window at 12 kHz) for the life of the process.
    if (list.length < this.spareWindows) list.push(w);
  }

  /**
   * Queues one window. Returns false (and keeps nothing) when the queue is
   * full, the pool is closed or the model is not loaded.
   */
  submit(job: PoolJob<C>): boolean {
    if (this.closed || !this.models.has(job.key) || this.queued >= this.maxQueue) return false;
    this.queued++;
    this.refs.set(job.key, (this.refs.get(job.key) ?? 0) + 1);
    let o = this.open.get(job.key);
    if (!o) {
      const batch: Batch<C> = { key: job.key, jobs: [], openedAt: this.now(), sealedAt: 0 };
      const timer = setTimeout(() => this.seal(job.key, 'timer'), this.maxLatencyMs);
      o = { batch, timer };
      this.open.set(job.key, o);
    }
    o.batch.jobs.push(job);
    if (o.batch.jobs.length >= this.maxBatch) this.seal(job.key, 'full');
    return true;
  }

  private seal(key: string, why: 'full' | 'timer'): void {
    const o = this.open.get(key);
    if (!o) return;
    clearTimeout(o.timer);
    this.open.delete(key);
    const b = o.batch;
    b.sealedAt = this.now();
    this.counters.maxFormWaitMs = Math.max(this.counters.maxFormWaitMs, b.sealedAt - b.openedAt);
    if (why === 'full') this.counters.sealedFull++;
    else this.counters.sealedTimer++;
    this.sealed.push(b);
    this.pump();
  }

  /** Hands sealed batches to workers with room. */
  private pump(): void {
    while (this.sealed.length > 0) {
      let best: Slot<C> | undefined;
      for (const s of this.slots) {
        if (!s.ready || s.inflight.size >= INFLIGHT_PER_WORKER) continue;
        if (!best || s.inflight.size < best.inflight.size) best = s;
      }
      if (!best) return;
      const b = this.sealed.shift() as Batch<C>;
      this.dispatch(best, b);
    }
  }

  private dispatch(slot: Slot<C>, b: Batch<C>): void {
    const n = b.jobs.length;
    const t = this.now();
    const c = this.counters;
    c.maxDispatchWaitMs = Math.max(c.maxDispatchWaitMs, t - b.sealedAt);
    c.batches++;
    c.windowsDispatched += n;
    c.maxBatchSize = Math.max(c.maxBatchSize, n);
    const bucket = String(Math.min(this.maxBatch, 2 ** Math.ceil(Math.log2(n))));
    c.batchSizes[bucket] = (c.batchSizes[bucket] ?? 0) + 1;
    this.queued -= n;
    this.inFlight += n;
    const id = this.nextId++;
    b.dispatchedAt = Date.now();
    slot.inflight.set(id, b);
    const windows = b.jobs.map((j) => j.window);
    const histories = b.jobs.map((j) => j.history ?? null);
    const transfer = windows.map((w) => w.buffer as ArrayBuffer);
    for (const h of histories) if (h) transfer.push(h.buffer as ArrayBuffer);
    slot.worker.postMessage(
      { type: 'batch', id, key: b.key, windows, histories, tasks: b.jobs.map((j) => j.task) },
      transfer,
    );
  }

  private onMessage(slot: Slot<C>, m: WorkerReply): void {
    const req = slot.requests.get(m.id);
    if (req) {
      slot.requests.delete(m.id);
      if (m.type === 'error') {
        req.reject(new FaultlineError((m.code as ErrorCode) ?? 'FL_ERR_BACKEND', m.message));
      } else req.resolve(m);
      return;
    }
    const b = slot.inflight.get(m.id);
    if (!b) return;
    slot.inflight.delete(m.id);
    if (m.type === 'result') {
      const c = this.counters;
      c.processed += b.jobs.length;
      c.frontEndMs += m.timing.frontEndMs;
      c.cnnMs += m.timing.cnnMs;
      c.evidenceMs += m.timing.evidenceMs;
      c.featuresMs += m.timing.featuresMs;
      for (const w of m.windows) this.recycle(w);
      this.finish(b, (i) => m.results[i]);
    } else if (m.type === 'error') {
      for (const w of m.windows ?? []) this.recycle(w);
      this.finish(b, (j) => ({
        ok: false,
        code: m.code ?? 'FL_ERR_BACKEND',
        message: m.message,
        rpm: b.jobs[j].task.rpm,
        rpmSource: b.jobs[j].task.rpmSource,
      }));
    }
    this.pump();
  }

  private finish(b: Batch<C>, result: (i: number) => WindowResult): void {
    this.inFlight -= b.jobs.length;
    this.refs.set(b.key, (this.refs.get(b.key) ?? 0) - b.jobs.length);
    b.jobs.forEach((job, i) => {
      try {
        this.o.onResult(job, result(i));
      } catch (err) {
        this.o.onError?.(err as Error);
      }
    });
    this.maybeUnload(b.key);
  }

  /** The watchdog: a worker with a batch older than batchTimeoutMs is hung. */
  private checkHung(): void {
    const now = Date.now();
    for (const slot of [...this.slots]) {
      for (const b of slot.inflight.values()) {
        if (!b?.dispatchedAt || now - b.dispatchedAt < this.batchTimeoutMs) continue;
        this.counters.batchTimeouts++;
        this.onWorkerExit(
          slot,
          new FaultlineError(
            'FL_ERR_INFERENCE_TIMEOUT',
            `inference worker did not answer a batch of ${b.jobs.length} window(s) in ${this.batchTimeoutMs} ms; restarted`,
          ),
        );
        break;
      }
    }
  }

  /** A worker died or hung: fail its batches and requests, start a replacement after the backoff. */
  private onWorkerExit(slot: Slot<C>, err: Error): void {
    const index = this.slots.indexOf(slot);
    if (index < 0 || this.closed) return;
    this.slots.splice(index, 1, {
      ...slot,
      ready: false,
      inflight: new Map(),
      requests: new Map(),
    });
    const code = err instanceof FaultlineError ? err.code : 'FL_ERR_BACKEND';
    for (const r of slot.requests.values()) r.reject(err);
    for (const b of slot.inflight.values()) {
      if (!b) continue;
      this.finish(b, (j) => ({
        ok: false,
        code,
        message: `inference worker failed: ${err.message}`,
        rpm: b.jobs[j].task.rpm,
        rpmSource: b.jobs[j].task.rpmSource,
      }));
    }
    this.counters.workerRestarts++;
    this.o.onError?.(err);
    slot.worker.terminate().catch(() => {});
    const now = Date.now();
    const last = this.restarts.get(index);
    // A worker that ran a while was healthy: its death starts a new series.
    const count = last && now - slot.startedAt < RESPAWN_RESET_MS ? last.count + 1 : 0;
    this.restarts.set(index, { count, at: now });
    const delay =
      count === 0 ? 0 : Math.min(this.respawnMaxMs, this.respawnMinMs * 2 ** (count - 1));
    const respawn = () => {
      if (this.closed) return;
      this.addSlot(index).catch((e: Error) => this.o.onError?.(e));
    };
    if (delay === 0) respawn();
    else setTimeout(respawn, delay).unref();
  }

  stats(): PoolStats {
    const c = this.counters;
    const per = (ms: number) => (c.processed > 0 ? ms / c.processed : 0);
    return {
      workers: this.workers,
      backend: this.backendName,
      queued: this.queued,
      inFlight: this.inFlight,
      maxQueue: this.maxQueue,
      batches: c.batches,
      sealedFull: c.sealedFull,
      sealedTimer: c.sealedTimer,
      maxBatchSize: c.maxBatchSize,
      meanBatchSize: c.batches > 0 ? c.windowsDispatched / c.batches : 0,
      batchSizes: { ...c.batchSizes },
      maxFormWaitMs: c.maxFormWaitMs,
      maxDispatchWaitMs: c.maxDispatchWaitMs,
      perWindowMs: {
        frontEnd: per(c.frontEndMs),
        cnn: per(c.cnnMs),
        evidence: per(c.evidenceMs),
        features: per(c.featuresMs),
      },
      processed: c.processed,
      workerRestarts: c.workerRestarts,
      batchTimeouts: c.batchTimeouts,
    };
  }

  /** Resolves when nothing is queued or in flight (or after `timeoutMs`). */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    for (const key of [...this.open.keys()]) this.seal(key, 'timer');
    while (this.queued + this.inFlight > 0) {
      if (Date.now() > until) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  /** Stops the workers; windows still queued get no result. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    for (const o of this.open.values()) clearTimeout(o.timer);
    this.open.clear();
    this.sealed.length = 0;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/**
 * Proves that a model folder loads (InferencePool.probe) in a worker of its
 * own, which exits afterwards: for vetting a new model before any pool runs
 * (the gateway registers its configured models before it starts the
 * pipeline), without tfjs in the calling thread.
 */
export async function probeModelInWorker(dir: string, backend?: BackendName): Promise<void> {
  const pool = new InferencePool({
    workers: 1,
    ...(backend ? { backend } : {}),
    onResult: () => {},
  });
  try {
    await pool.start();
    await pool.probe(dir);
  } finally {
    await pool.close();
  }
}
