/**
 * The live diagnosis pipeline of the gateway: sample blocks in, one
 * diagnosis per window out, per-machine health on top.
 *
 *   push(block) ─► per sensor: [resample to the model's rate] → ring buffer
 *                  → windows (model's windowLength / hop)
 *               ─► InferencePool (worker threads: the model's own front end,
 *                  vibration summary, envelope evidence, CNN, micro-batched)
 *               ─► per sensor, in window order: MachineDiagnosis ('diagnosis')
 *               ─► per machine: MachineHealth ('health' on each transition)
 *
 * Speed per window: the frame's rpm, else the machine's nominal rpm, else
 * estimated from the window (./speed-source.ts); every diagnosis says which.
 *
 * Health for models without a normal class: a window counts as faulty only
 * when the envelope evidence agrees with the CNN (./result-diagnosis.ts).
 *
 * Stream faults are the health machine's diagnostic states, never a fault:
 * silence (a tick timer), CRC errors and sequence gaps (`noteStream`), and
 * saturation (fraction of samples at the sensor's full scale, per window).
 *
 * Any sensor rate from 1 kHz to 1 MHz: blocks are resampled to the model's
 * rate unless within ±1 % of it, and a diagnosis' `t` stays the time of the
 * window's last sample on the sensor's clock (./stream-route.ts). A sequence
 * gap restarts the resampler with the windower.
 *
 * Blocks that do not fit are dropped and counted per sensor and reason
 * (`bad-block`: the sensor's channel is not in the block; `bad-rate`: a
 * rate that is not finite or outside 1 kHz–1 MHz; `rate-changed`: the rate
 * moved mid-stream — the sensor is re-set for the new rate and its next
 * block is diagnosed), never latched: the next block that fits is diagnosed,
 * as a new stream. When a sensor sends nothing but misfits for the health
 * option `mismatchAfterMs` (5 s), its machine shows `stream-mismatch` with
 * the reason, until a block fits again.
 *
 * Dropped, and counted (stats().dropped, per sensor in snapshot()): blocks
 * of unknown or refused sensors (a model that does not load, or whose front
 * end does not fit), blocks that do not fit (above), windows refused by a
 * full queue (the newest are dropped, queued ones keep their place), windows
 * whose front end failed (bad samples, no speed for an order-mode model).
 */
import { EventEmitter } from 'node:events';
import os from 'node:os';
import type { HealthChange } from '../contract/health.js';
import { FaultlineError, isFaultlineError } from '../errors.js';
import type { IngestedBlock } from '../ingest/source.js';
import { readModelMetadata } from '../model/artifact.js';
import { MachineHealth } from './health.js';
import { InferencePool, type PoolJob } from './inference-pool.js';
import type { WindowResult } from './inference-protocol.js';
import { bindingOf, planBinding, swapBinding } from './model-binding.js';
import type { PipelineOptions } from './pipeline-options.js';
import {
  buildMachines,
  type JobCtx,
  type MachineState,
  type ModelBinding,
  machineStatusOf,
  type SensorKey,
  type SensorState,
  windowJob,
} from './pipeline-state.js';
import { LatencyRecord, newCounts, pipelineStatsOf } from './pipeline-stats.js';
import type {
  DiagnosisPipelineEvents,
  DropReason,
  MachineStatus,
  PipelineStats,
} from './pipeline-status.js';
import { carryOver, diagnosisOf } from './result-diagnosis.js';
import { knownSpeed } from './speed-source.js';
import { makeRoute, routeBlock, routeFits, type StreamRoute } from './stream-route.js';
import type { CutWindow } from './windower.js';

export class DiagnosisPipeline extends EventEmitter<DiagnosisPipelineEvents> {
  private readonly o: PipelineOptions;
  private readonly now: () => number;
  private readonly machines: Map<string, MachineState>;
  private readonly sensors: Map<string, SensorState>;
  private readonly pool: InferencePool<JobCtx>;
  private readonly evidenceEvery: number;
  private readonly featuresEvery: number;
  private readonly latencies = new LatencyRecord();
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private lastTick = 0;
  private backend = 'none';
  private readonly counts = newCounts();

  /** @throws TypeError on bad options (duplicate ids, bad sample rates…) */
  constructor(o: PipelineOptions) {
    super();
    if (!o || !Array.isArray(o.machines)) throw new TypeError('options.machines must be an array');
    this.o = o;
    this.now = o.now ?? (() => performance.timeOrigin + performance.now());
    this.evidenceEvery = o.evidenceEvery ?? 1;
    if (!Number.isInteger(this.evidenceEvery) || this.evidenceEvery < 1) {
      throw new TypeError(`evidenceEvery must be a positive integer, got ${o.evidenceEvery}`);
    }
    this.featuresEvery = o.featuresEvery ?? 4;
    if (!Number.isInteger(this.featuresEvery) || this.featuresEvery < 1) {
      throw new TypeError(`featuresEvery must be a positive integer, got ${o.featuresEvery}`);
    }
    const built = buildMachines(o.machines, o.health);
    this.machines = built.machines;
    this.sensors = built.sensors;
    const workers = o.workers ?? os.availableParallelism?.() ?? os.cpus().length;
    this.pool = new InferencePool<JobCtx>({
      workers,
      maxBatch: o.maxBatch ?? 64,
      maxLatencyMs: o.maxLatencyMs ?? 50,
      maxQueue: o.maxQueue,
      backend: o.backend,
      onResult: (job, r) => this.onResult(job, r),
      onError: (err) => this.report(err),
    });
  }

  /**
   * Starts the workers and loads every machine's model. A machine whose model
   * cannot be loaded, or a sensor it does not fit, is refused (an 'error'
   * event, state 'refused' in snapshot()); the others run.
   * @throws FaultlineError FL_ERR_BACKEND when no worker can start a backend
   */
  async start(): Promise<void> {
    if (this.running) return;
    this.backend = await this.pool.start();
    const t = this.now();
    for (const m of this.machines.values()) {
      m.health = new MachineHealth(m.spec.machine, m.health.config, t);
      try {
        await this.bind(m, m.spec.modelDir, false);
      } catch (err) {
        for (const s of m.sensors.values()) s.refused = (err as Error).message;
        this.report(err as Error);
      }
    }
    this.running = true;
    this.lastTick = t;
    const tickMs = this.o.tickMs ?? 1000;
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  /** Stops the tick and the workers. Windows in flight get no diagnosis. */
  async close(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    await this.pool.close();
  }

  /**
   * Feeds one block of `key`'s sensor. Returns false when something was
   * dropped: the whole block (unknown or refused sensor, pipeline not
   * running, a block that does not fit: channel not in the block, unusable or
   * changed sample rate) or a window it completed (queue full).
   */
  push(block: IngestedBlock, key: SensorKey): boolean {
    const s = this.sensors.get(`${key.site}/${key.machine}/${key.sensor}`);
    if (!s) return this.dropBlock(key, 'unknown-sensor');
    if (!this.running) return this.dropBlock(key, 'not-running');
    const m = s.machine;
    const model = m.model;
    if (s.refused || !model || !s.windower) return this.dropBlock(key, 'refused', s);
    const channel = s.spec.channel ?? 0;
    if (
      !(block.channels >= 1) ||
      channel >= block.channels ||
      !(block.samples instanceof Float32Array)
    ) {
      return this.misfit(
        s,
        key,
        'bad-block',
        block.samples instanceof Float32Array
          ? `reads channel ${channel} but the block has ${block.channels}`
          : 'block samples are not a Float32Array',
      );
    }
    const rate = block.sampleRate;
    const modelRate = model.meta.sampleRate;
    let route = s.route;
    if (!route || !routeFits(route, rate, modelRate)) {
      let next: StreamRoute;
      try {
        next = makeRoute(rate, modelRate);
      } catch (err) {
        return this.misfit(
          s,
          key,
          'bad-rate',
          `sample rate ${rate} Hz cannot be brought to the model's ${modelRate} Hz: ${(err as Error).message}`,
        );
      }
      const was = route?.rate;
      s.route = route = next;
      s.windower.restart();
      if (s.routeUsed) {
        // Mid-stream: the time base broke here; this block is dropped, the next one at this rate is diagnosed.
        return this.misfit(
          s,
          key,
          'rate-changed',
          `sample rate changed from ${was} Hz to ${rate} Hz mid-stream`,
        );
      }
    }
    const arrivedAt = this.now();
    if (s.misfit) {
      s.misfit = null;
      this.noteFit(s, arrivedAt, null);
    }
    s.routeUsed = true;
    const frames = Math.floor(block.samples.length / block.channels);
    s.st.blocks++;
    s.st.samples += frames;
    s.tickSamples += frames;
    s.st.lastBlockAt = arrivedAt;
    s.st.streamRate = rate;
    if (block.gap > 0 || s.restartDue) {
      s.windower.restart();
      route.resampler?.restart();
      if (block.gap > 0) s.st.gapRestarts++;
      s.restartDue = false;
    }
    const every = this.evidenceEvery;
    const speed = knownSpeed(block.rpm, m.spec.nominalRpm);
    let ok = true;
    routeBlock(
      route,
      s.windower,
      block,
      channel,
      frames,
      (k) => k % every === 0,
      (w, t) => {
        ok = this.submit(s, model, w, t, speed, arrivedAt) && ok;
      },
    );
    return ok;
  }

  /** Queues one window for inference; false (and counted) when the queue is full. */
  private submit(
    s: SensorState,
    model: ModelBinding,
    w: CutWindow,
    t: number,
    speed: ReturnType<typeof knownSpeed>,
    arrivedAt: number,
  ): boolean {
    this.counts.windowsIn++;
    s.st.windowsIn++;
    const n = s.windowCount++;
    const evidence = n % this.evidenceEvery === 0;
    const velocity = n % this.featuresEvery === 0 || s.velocityDue;
    s.velocityDue = false;
    // copied before the job: the worker may take the array's buffer
    const kept = this.listenerCount('window') > 0 ? w.samples.slice() : undefined;
    const job = windowJob(s, model, w, { t, arrivedAt, speed, evidence, velocity });
    if (this.pool.submit(job)) {
      s.nextSeq++;
      if (kept) {
        this.emit('window', {
          site: s.machine.spec.site,
          machine: s.machine.spec.machine,
          sensor: s.spec.id,
          t,
          arrivedAt,
          sampleRate: model.meta.sampleRate,
          samples: kept,
          ...(speed.rpm !== null ? { rpm: speed.rpm } : {}),
        });
      }
      return true;
    }
    if (velocity) s.velocityDue = true;
    this.dropWindow(s, 'queue-full');
    return false;
  }

  /** Proves a model folder loads, in one of the pipeline's workers (InferencePool.probe). */
  probeModel(dir: string): Promise<void> {
    return this.pool.probe(dir);
  }

  /**
   * Switches `machine` (its name, or `site/machine`) to the model in
   * `modelDir` without dropping a window: the model is loaded in every
   * worker first; then, between two windows, new windows go to it while
   * windows already queued finish on the old one. If the window length or hop
   * changes, the partial window in progress restarts.
   * @throws FaultlineError FL_ERR_MODEL_FILE / FL_ERR_MODEL_MISMATCH (nothing switched)
   */
  async setModel(machine: string, modelDir: string): Promise<void> {
    const targets = [...this.machines.values()].filter(
      (m) => m.spec.machine === machine || m.id === machine,
    );
    if (targets.length === 0) {
      throw new FaultlineError(
        'FL_ERR_CONFIG',
        `no machine '${machine}' in the pipeline; use one of ${[...this.machines.keys()].join(', ')}`,
      );
    }
    for (const m of targets) await this.bind(m, modelDir, true);
  }

  /** Asks (or stops asking) for a coarse spectrogram in `key`'s diagnoses. */
  requestSpectrogram(key: SensorKey, on = true): boolean {
    const s = this.sensors.get(`${key.site}/${key.machine}/${key.sensor}`);
    if (s) s.spectrogram = on;
    return s !== undefined;
  }

  /**
   * Asks (or stops asking) for a coarse envelope spectrum in `key`'s
   * diagnoses (those that compute evidence). Costs no extra FFT: it is the
   * spectrum the evidence is read from, pooled (≈ 0.05 ms per window).
   */
  requestEnvelope(key: SensorKey, on = true): boolean {
    const s = this.sensors.get(`${key.site}/${key.machine}/${key.sensor}`);
    if (s) s.envelope = on;
    return s !== undefined;
  }

  /**
   * Link counters of a sensor since the previous call (deltas, not totals):
   * frames received intact, CRC errors, frames missing by sequence number.
   * They drive the machine's `stream-errors` state.
   */
  noteStream(key: SensorKey, s: { crcErrors: number; gaps: number; frames: number }): void {
    const m = this.machines.get(`${key.site}/${key.machine}`);
    if (!m) return;
    const sensor = m.sensors.get(key.sensor);
    if (sensor) {
      sensor.st.stream.frames += s.frames;
      sensor.st.stream.crcErrors += s.crcErrors;
      sensor.st.stream.gaps += s.gaps;
    }
    this.updateHealth(m, (h) => h.updateStream({ t: this.now(), ...s }));
  }

  /**
   * Advances health clocks (silence) and ingest rates. Runs every `tickMs`;
   * public so a caller with its own clock can drive it.
   */
  tick(nowMs = this.now()): void {
    const dt = (nowMs - this.lastTick) / 1000;
    if (dt > 0) {
      for (const s of this.sensors.values()) {
        s.st.samplesPerS = s.tickSamples / dt;
        s.tickSamples = 0;
      }
      this.lastTick = nowMs;
    }
    for (const m of this.machines.values()) {
      const change = m.health.tick(nowMs);
      if (change) this.emit('health', { ...change, site: m.spec.site });
    }
  }

  snapshot(): MachineStatus[] {
    return [...this.machines.values()].map((m) => machineStatusOf(m));
  }

  /** One machine's status (its name, or `site/machine`), as in snapshot(). */
  machineStatus(machine: string): MachineStatus | undefined {
    const m =
      this.machines.get(machine) ??
      [...this.machines.values()].find((x) => x.spec.machine === machine);
    return m ? machineStatusOf(m) : undefined;
  }

  stats(): PipelineStats {
    let held = 0;
    const ingest: Record<string, number> = {};
    for (const s of this.sensors.values()) {
      held += s.done.size;
      ingest[s.key] = s.st.samplesPerS;
    }
    return pipelineStatsOf(
      this.backend,
      this.pool.stats(),
      this.counts,
      this.latencies.summary(),
      held,
      ingest,
    );
  }

  /** Resolves once every window pushed so far has its diagnosis (or was dropped). */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    return this.pool.drain(timeoutMs);
  }

  // ── internals ──────────────────────────────────────────────────────────

  /**
   * Loads `dir` for machine `m`, checks its sensors (planBinding), and swaps
   * it in; the model it replaced is released when no machine uses it.
   */
  private async bind(m: MachineState, dir: string, strict: boolean): Promise<void> {
    const meta = await readModelMetadata(dir);
    const plan = planBinding(m, meta, strict, (err) => this.report(err));
    const key = meta.contentHash;
    await this.pool.load(key, dir);
    // From here on synchronous: the swap happens between two pushes.
    const old = swapBinding(m, bindingOf(dir, meta), plan, this.o.evidenceSeconds ?? 1, (n) =>
      this.pool.alloc(n),
    );
    if (
      old &&
      old.key !== key &&
      ![...this.machines.values()].some((x) => x.model?.key === old.key)
    ) {
      this.pool.release(old.key);
    }
  }

  private onResult(job: PoolJob<JobCtx>, r: WindowResult): void {
    const { sensor: s, seq, model, t, arrivedAt } = job.ctx;
    const m = s.machine;
    if (!r.ok || !r.probs) {
      // Its velocity is owed: the sensor must not go featuresEvery windows without.
      if (job.task.velocity) s.velocityDue = true;
      const reason: DropReason = r.code === 'FL_ERR_SPEED_UNKNOWN' ? 'speed-unknown' : 'error';
      this.dropWindow(s, reason, r.message);
      s.done.set(seq, null);
      this.flush(s);
      return;
    }
    const { rpm, rpmSource } = carryOver(s, r, this.evidenceEvery);
    const { d, health } = diagnosisOf(r, r.probs, model, {
      site: m.spec.site,
      machine: m.spec.machine,
      sensor: s.spec.id,
      t,
      arrivedAt,
      rpm,
      rpmSource,
      evidence: s.lastEvidence,
      velocity: s.lastVelocity,
    });
    this.updateHealth(m, (h) => h.update(health));
    s.done.set(seq, { d, arrivedAt });
    this.flush(s);
  }

  /** Emits the sensor's finished windows in window order. */
  private flush(s: SensorState): void {
    while (s.done.has(s.emitSeq)) {
      const entry = s.done.get(s.emitSeq) ?? null;
      s.done.delete(s.emitSeq);
      s.emitSeq++;
      if (!entry) continue;
      const { d, arrivedAt } = entry;
      // From the arrival of the block holding the window's last sample.
      d.latencyMs = this.now() - arrivedAt;
      this.latencies.add(d.latencyMs);
      this.counts.windowsOut++;
      s.st.windowsOut++;
      s.machine.lastDiagnosis = d;
      this.emit('diagnosis', d);
    }
  }

  private dropBlock(key: SensorKey, reason: DropReason, s?: SensorState, message?: string): false {
    this.counts.blocks[reason] = (this.counts.blocks[reason] ?? 0) + 1;
    if (s) {
      s.st.dropped++;
      s.st.droppedBlocks[reason] = (s.st.droppedBlocks[reason] ?? 0) + 1;
    }
    this.emit('window-dropped', { ...key, reason, what: 'block', ...(message ? { message } : {}) });
    return false;
  }

  /**
   * Drops a block that does not fit (counted by reason), keeps the sensor
   * running (the next block that fits is diagnosed, as a new stream), and
   * tells the machine's health, which shows `stream-mismatch` once the
   * misfits persist.
   */
  private misfit(s: SensorState, key: SensorKey, reason: DropReason, why: string): false {
    const now = this.now();
    if (s.misfit) {
      s.misfit.blocks++;
      s.misfit.reason = why;
    } else {
      s.misfit = { since: now, blocks: 1, reason: why };
    }
    s.restartDue = true;
    this.dropBlock(key, reason, s, `sensor ${s.key}: ${why}`);
    this.noteFit(s, now, why);
    return false;
  }

  /** Feeds a block's fit (null: it fitted after misfits) to the machine's health. */
  private noteFit(s: SensorState, t: number, misfit: string | null): void {
    this.updateHealth(s.machine, (h) => h.updateFit({ t, sensor: s.spec.id, misfit }));
  }

  /** Feeds `m`'s health; emits the transition it caused, reports what it refused. */
  private updateHealth(m: MachineState, update: (h: MachineHealth) => HealthChange | null): void {
    try {
      const change = update(m.health);
      if (change) this.emit('health', { ...change, site: m.spec.site });
    } catch (err) {
      this.report(err as Error);
    }
  }

  private dropWindow(s: SensorState, reason: DropReason, message?: string): void {
    this.counts.windows[reason] = (this.counts.windows[reason] ?? 0) + 1;
    s.st.dropped++;
    this.emit('window-dropped', {
      site: s.machine.spec.site,
      machine: s.machine.spec.machine,
      sensor: s.spec.id,
      reason,
      what: 'window',
      ...(message ? { message } : {}),
    });
  }

  /** 'error' only when someone listens: an unheard 'error' must not crash the gateway. */
  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(err.message, { code: isFaultlineError(err) ? err.code : undefined });
  }
}
