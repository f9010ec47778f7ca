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
 * Health for models without a normal class (the CWRU cross-load model knows
 * 9 fault classes only, so 1 − p(normal) would always be 1): a window counts
 * as faulty only when the vibration evidence agrees with the CNN — the
 * envelope spectrum's strongest defect line (BPFI / BPFO / 2·BSF at the
 * current speed) is the one of the CNN's fault location. Then the fault
 * probability is the CNN's confidence, otherwise 0. A CNN that can only say
 * "which fault" is thus never allowed to raise an alarm on its own.
 *
 * Stream faults are the health machine's diagnostic states, never a fault:
 * silence (a tick timer), CRC errors and sequence gaps (`noteStream`), and
 * saturation (fraction of samples at the sensor's full scale, per window).
 *
 * Any sensor rate: a stream within ±1 % of the model's rate is taken as it
 * is (no copy, no filter: a 12 kHz sensor into a 12 kHz model costs what it
 * always did); any other rate from 1 kHz to 1 MHz goes through the sensor's
 * own StreamResampler (src/data/resample-stream.ts: the Kaiser-windowed sinc
 * of src/data/resample.ts, block by block, only the sensor's channel) and
 * windows are cut at the model's rate. A diagnosis' `t` stays the time of
 * the window's last sample on the sensor's clock: the filter is zero-phase
 * about each output's input position, so `t` is that position converted
 * with the block's t0 and rate; the filter's latency (half its length,
 * ≈ 4 ms at 26 667 Hz → 12 kHz) only delays when the window is complete.
 * A sequence gap restarts the resampler with the windower.
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
import { CWRU_DE_BEARING } from '../contract/bearing.js';
import {
  defectOf,
  hasNormalClass,
  NORMAL,
  type OperatorClass,
  operatorClass,
  operatorProbs,
} from '../contract/fault-names.js';
import type { HealthChange, HealthState } from '../contract/health.js';
import type { BearingGeometry, MachineDiagnosis, RpmSource } from '../contract/machine.js';
import { ratesMatch } from '../data/resample.js';
import { StreamResampler } from '../data/resample-stream.js';
import { FaultlineError, isFaultlineError } from '../errors.js';
import type { IngestedBlock } from '../ingest/source.js';
import {
  checkStreamCompatibility,
  type ModelMetadata,
  readModelMetadata,
} from '../model/artifact.js';
import type { BackendName } from '../model/backend.js';
import { type HealthConfig, type HealthSnapshot, MachineHealth } from './health.js';
import {
  InferencePool,
  type PoolJob,
  type PoolStats,
  type WindowResult,
} from './inference-pool.js';
import { knownSpeed } from './speed-source.js';
import type { WindowDiagnosis } from './types.js';
import { type CutWindow, Windower } from './windower.js';

export interface SensorSpec {
  /** Sensor key, e.g. '1' (the MQTT topic level / the serial frame's sensor id). */
  id: string;
  /**
   * Samples per second the sensor is set up to send, Hz. The stream is
   * resampled to the model's rate unless within ±1 % of it; blocks say their
   * own rate, and a stream that turns out to run at another one is followed.
   */
  sampleRate: number;
  /** Which interleaved channel of the blocks, default 0. */
  channel?: number;
  /** Full scale of the sensor, g; samples at ≥ 99.9 % of it count as clipped. Default 16. */
  fullScaleG?: number;
  /** The bearing this sensor watches, when it is not the machine's. */
  bearing?: BearingGeometry;
}

export interface MachineSpec {
  site: string;
  machine: string;
  sensors: SensorSpec[];
  /** Model folder (model.json, weights.bin, faultline.json). */
  modelDir: string;
  /**
   * Bearing geometry for the defect frequencies (and a model that reads fault
   * orders); default the model's training bearing, else CWRU_DE_BEARING.
   */
  bearing?: BearingGeometry;
  /** ISO 20816-3 machine group and foundation; default group 2, rigid. */
  iso?: { group: 1 | 2; foundation: 'rigid' | 'flexible' };
  /** Speed source when frames carry none, rpm. */
  nominalRpm?: number;
  /** No data for this long → health `silent`, s; default the health config's (10 s). */
  silentAfterS?: number;
}

export interface PipelineOptions {
  machines: MachineSpec[];
  /** Worker threads; default: the number of cores. */
  workers?: number;
  /** Windows per CNN call at most; default 64. */
  maxBatch?: number;
  /** Longest a window waits for its batch to fill, ms; default 50. */
  maxLatencyMs?: number;
  /** Windows waiting for a worker at most; default workers × maxBatch × 4. */
  maxQueue?: number;
  /** Envelope evidence every Nth window of each sensor; default 1 (every window). */
  evidenceEvery?: number;
  /**
   * Velocity RMS and ISO zone every Nth window of each sensor, the last
   * values carried in between; default 4 (once per second at a 0.25 s hop).
   * They change over minutes, not windows, and the health state machine
   * reads zones over k-of-n windows anyway, so a zone change shows up to
   * N − 1 windows later; this saves the velocity FFT (16384 points at 12 kHz,
   * ~0.5–0.8 ms) on the other windows. RMS, crest factor, kurtosis and the
   * clipped fraction stay per window. 1 = every window.
   */
  featuresEvery?: number;
  /**
   * Signal the envelope evidence (and a speed estimate) looks at, s, ending
   * with the window's last sample; default 1 (0.17 s model windows give
   * 6 Hz lines, too coarse to tell BPFO from BPFI reliably). Never shorter
   * than the window.
   */
  evidenceSeconds?: number;
  /** Health options (debounce, thresholds, silence…). */
  health?: Partial<HealthConfig>;
  /** Clock, ms since the epoch; default performance.timeOrigin + performance.now(). */
  now?: () => number;
  /** Health tick (silence check, ingest rates) period, ms; default 1000. */
  tickMs?: number;
  /** tfjs backend of the workers; default the fastest available. */
  backend?: BackendName;
}

/** Why something was dropped. */
export type DropReason =
  | 'unknown-sensor'
  | 'refused'
  | 'not-running'
  /** The block lacks the sensor's channel (or is malformed). */
  | 'bad-block'
  /** The block's sample rate is not finite or cannot be resampled to the model's. */
  | 'bad-rate'
  /** The sample rate changed mid-stream (the stream restarts at the new rate with the next block). */
  | 'rate-changed'
  | 'queue-full'
  | 'speed-unknown'
  | 'error';

export interface WindowDropped {
  site: string;
  machine: string;
  sensor: string;
  reason: DropReason;
  /** 'block' for a whole block refused before windowing, else 'window'. */
  what: 'block' | 'window';
  message?: string;
}

export interface SensorStatus {
  id: string;
  /** 'running', or 'refused' (model mismatch / model not loadable; see error). */
  state: 'running' | 'refused';
  error?: string;
  sampleRate: number;
  blocks: number;
  samples: number;
  /** Ingest rate over the last tick, samples/s. */
  samplesPerS: number;
  windowsIn: number;
  windowsOut: number;
  dropped: number;
  /** Times a sequence gap restarted the windowing. */
  gapRestarts: number;
  lastBlockAt: number | null;
  /** Totals noted through noteStream. */
  stream: { frames: number; crcErrors: number; gaps: number };
  /** Whole blocks dropped, by reason (a part of `dropped`). */
  droppedBlocks: Partial<Record<DropReason, number>>;
  /** Sample rate of the latest block diagnosed, Hz (null before the first). */
  streamRate: number | null;
  /** The resampler bringing the stream to the model's rate (its design), or null: taken as it is. */
  resampling: string | null;
  /** While the latest blocks do not fit: since when (ms), how many, and why the latest did not. */
  misfit: { since: number; blocks: number; reason: string } | null;
}

export interface MachineStatus {
  site: string;
  machine: string;
  state: HealthState;
  health: HealthSnapshot;
  lastDiagnosis: MachineDiagnosis | null;
  rpm: number | null;
  rpmSource: RpmSource;
  model: { dir: string; version: string; classes: string[] } | null;
  sensors: SensorStatus[];
}

export interface PipelineStats {
  backend: string;
  workers: number;
  windowsIn: number;
  windowsOut: number;
  dropped: {
    blocks: Partial<Record<DropReason, number>>;
    windows: Partial<Record<DropReason, number>>;
  };
  /** Windows queued / in workers / awaiting their turn (per-sensor order). */
  queueDepth: number;
  inFlight: number;
  reorderHeld: number;
  batches: number;
  meanBatchSize: number;
  maxBatchSize: number;
  batchSizes: Record<string, number>;
  sealedFull: number;
  sealedTimer: number;
  maxFormWaitMs: number;
  maxDispatchWaitMs: number;
  /** Last-sample arrival → diagnosis, over the last 4096 diagnoses, ms. */
  latencyMs: { p50: number; p99: number; max: number; n: number };
  /** Worker time per window by stage, ms. */
  perWindowMs: PoolStats['perWindowMs'];
  /** Ingest rate per sensor (`site/machine/sensor`), samples/s over the last tick. */
  ingestSamplesPerS: Record<string, number>;
}

export interface DiagnosisPipelineEvents {
  diagnosis: (d: MachineDiagnosis) => void;
  health: (c: HealthChange & { site: string }) => void;
  'window-dropped': (d: WindowDropped) => void;
  error: (err: Error) => void;
}

export interface DiagnosisPipeline {
  on<K extends keyof DiagnosisPipelineEvents>(event: K, listener: DiagnosisPipelineEvents[K]): this;
  once<K extends keyof DiagnosisPipelineEvents>(
    event: K,
    listener: DiagnosisPipelineEvents[K],
  ): this;
  off<K extends keyof DiagnosisPipelineEvents>(
    event: K,
    listener: DiagnosisPipelineEvents[K],
  ): this;
  emit<K extends keyof DiagnosisPipelineEvents>(
    event: K,
    ...args: Parameters<DiagnosisPipelineEvents[K]>
  ): boolean;
}

interface ModelBinding {
  key: string;
  dir: string;
  meta: ModelMetadata;
  version: string;
  hasNormal: boolean;
  names: OperatorClass[];
}

interface MachineState {
  spec: MachineSpec;
  id: string;
  health: MachineHealth;
  model: ModelBinding | null;
  sensors: Map<string, SensorState>;
  lastDiagnosis: MachineDiagnosis | null;
  bearing: BearingGeometry;
  iso: { group: 1 | 2; foundation: 'rigid' | 'flexible' };
}

/** How a sensor's blocks reach its windower at the model's rate. */
interface StreamRoute {
  /** Block rate the route was set up for, Hz. */
  rate: number;
  /** null: within ±1 % of the model's rate, taken as it is. */
  resampler: StreamResampler | null;
}

/** Block rates within this fraction of a resampled route's are the same stream (a measured rate jitters). */
const SAME_RATE_TOLERANCE = 1e-3;

/**
 * The route from a stream at `rate` to a model at `modelRate` (Hz).
 * @throws FaultlineError FL_ERR_DSP_PARAMS for a rate that cannot be resampled
 */
function makeRoute(rate: number, modelRate: number): StreamRoute {
  if (!(Number.isFinite(rate) && rate > 0)) {
    throw new FaultlineError('FL_ERR_DSP_PARAMS', `${rate} is not a sample rate`);
  }
  if (ratesMatch(rate, modelRate)) return { rate, resampler: null };
  return { rate, resampler: new StreamResampler(rate, modelRate) };
}

/** Whether a block at `rate` continues `route`. */
function routeFits(route: StreamRoute, rate: number, modelRate: number): boolean {
  return route.resampler === null
    ? ratesMatch(rate, modelRate)
    : Math.abs(rate / route.rate - 1) <= SAME_RATE_TOLERANCE;
}

interface SensorState {
  spec: SensorSpec;
  key: string;
  machine: MachineState;
  windower: Windower | null;
  /** Set up from the configured rate, then from the blocks' (null: no usable rate yet). */
  route: StreamRoute | null;
  /** A block went through the current binding's route (a rate change after that is mid-stream). */
  routeUsed: boolean;
  /** A block was dropped as a misfit: the next one taken starts a new stream (windower, resampler). */
  restartDue: boolean;
  misfit: SensorStatus['misfit'];
  refused: string | null;
  nextSeq: number;
  emitSeq: number;
  /** Finished windows waiting for an earlier one (per-sensor order), by sequence number. */
  done: Map<number, { d: MachineDiagnosis; arrivedAt: number } | null>;
  windowCount: number;
  lastEvidence: MachineDiagnosis['evidence'];
  /** Latest computed velocity RMS and zone (see featuresEvery), or null before the first. */
  lastVelocity: Pick<MachineDiagnosis, 'velocityRmsMmS' | 'isoZone'> | null;
  /** A window that was to compute the velocity failed: the next one computes it. */
  velocityDue: boolean;
  lastEstimate: { rpm: number; window: number } | null;
  spectrogram: boolean;
  envelope: boolean;
  st: Omit<SensorStatus, 'id' | 'state' | 'error' | 'sampleRate' | 'resampling' | 'misfit'>;
  tickSamples: number;
}

interface JobCtx {
  sensor: SensorState;
  seq: number;
  model: ModelBinding;
  t: number;
  arrivedAt: number;
}

type SensorKey = { site: string; machine: string; sensor: string };

const LATENCY_SAMPLES = 4096;

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see the interface above
export class DiagnosisPipeline extends EventEmitter {
  private readonly o: PipelineOptions;
  private readonly now: () => number;
  private readonly machines = new Map<string, MachineState>();
  private readonly sensors = new Map<string, SensorState>();
  private readonly pool: InferencePool<JobCtx>;
  private readonly evidenceEvery: number;
  private readonly featuresEvery: number;
  private readonly latencies = new Float64Array(LATENCY_SAMPLES);
  private latencyCount = 0;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private lastTick = 0;
  private backend = 'none';
  private readonly counts = {
    windowsIn: 0,
    windowsOut: 0,
    blocks: {} as Partial<Record<DropReason, number>>,
    windows: {} as Partial<Record<DropReason, number>>,
  };

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
    for (const spec of o.machines) {
      const id = `${spec.site}/${spec.machine}`;
      if (!spec.site || !spec.machine)
        throw new TypeError(`machine ${id} needs a site and a machine name`);
      if (this.machines.has(id)) throw new TypeError(`machine ${id} is listed twice`);
      if (!spec.modelDir) throw new TypeError(`machine ${id} has no modelDir`);
      const health = new MachineHealth(spec.machine, {
        ...(o.health ?? {}),
        ...(spec.silentAfterS !== undefined ? { silentAfterMs: spec.silentAfterS * 1000 } : {}),
      });
      const m: MachineState = {
        spec,
        id,
        health,
        model: null,
        sensors: new Map(),
        lastDiagnosis: null,
        bearing: spec.bearing ?? CWRU_DE_BEARING,
        iso: spec.iso ?? { group: 2, foundation: 'rigid' },
      };
      this.machines.set(id, m);
      for (const s of spec.sensors) {
        const key = `${id}/${s.id}`;
        if (this.sensors.has(key)) throw new TypeError(`sensor ${key} is listed twice`);
        if (!(Number.isFinite(s.sampleRate) && s.sampleRate > 0)) {
          throw new TypeError(`sensor ${key}: sampleRate must be > 0 Hz, got ${s.sampleRate}`);
        }
        const st: SensorState = {
          spec: s,
          key,
          machine: m,
          windower: null,
          route: null,
          routeUsed: false,
          restartDue: false,
          misfit: null,
          refused: 'not started',
          nextSeq: 0,
          emitSeq: 0,
          done: new Map(),
          windowCount: 0,
          lastEvidence: { defect: null },
          lastVelocity: null,
          velocityDue: false,
          lastEstimate: null,
          spectrogram: false,
          envelope: false,
          st: {
            blocks: 0,
            samples: 0,
            samplesPerS: 0,
            windowsIn: 0,
            windowsOut: 0,
            dropped: 0,
            gapRestarts: 0,
            lastBlockAt: null,
            stream: { frames: 0, crcErrors: 0, gaps: 0 },
            droppedBlocks: {},
            streamRate: null,
          },
          tickSamples: 0,
        };
        m.sensors.set(s.id, st);
        this.sensors.set(key, st);
      }
    }
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
    const wantHistory = (k: number) => k % every === 0;
    const r = route.resampler;
    if (!r) {
      // Taken as it is (within ±1 % of the model's rate): no copy, no extra work.
      const windows = s.windower.push(block.samples, block.channels, channel, frames, wantHistory);
      if (windows.length === 0) return true;
      const t0Ms = Number(block.t0Us) / 1000;
      const speed = knownSpeed(block.rpm, m.spec.nominalRpm);
      let ok = true;
      for (const w of windows) {
        const t = t0Ms + (w.lastInBlock * 1000) / rate;
        ok = this.submit(s, model, w, t, speed, arrivedAt) && ok;
      }
      return ok;
    }
    // Resampled to the model's rate: a window's last sample is output `first + lastInBlock`
    // of the resampler, at input position inputPosition(·) since its restart; this block's
    // first sample is input `blockStart`. Positions before it fall in earlier blocks of the
    // same unbroken stream (a gap restarts both), so one clock serves.
    const windower = s.windower;
    const t0Ms = Number(block.t0Us) / 1000;
    const blockStart = r.consumed;
    const speed = knownSpeed(block.rpm, m.spec.nominalRpm);
    let ok = true;
    r.push(block.samples, block.channels, channel, frames, (out, first) => {
      for (const w of windower.push(out, 1, 0, out.length, wantHistory)) {
        const t = t0Ms + ((r.inputPosition(first + w.lastInBlock) - blockStart) * 1000) / rate;
        ok = this.submit(s, model, w, t, speed, arrivedAt) && ok;
      }
    });
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
    const m = s.machine;
    this.counts.windowsIn++;
    s.st.windowsIn++;
    const n = s.windowCount++;
    const evidence = n % this.evidenceEvery === 0;
    const velocity = n % this.featuresEvery === 0 || s.velocityDue;
    s.velocityDue = false;
    const job: PoolJob<JobCtx> = {
      key: model.key,
      window: w.samples,
      ...(w.history ? { history: w.history } : {}),
      task: {
        rpm: speed.rpm,
        rpmSource: speed.source,
        evidence,
        velocity,
        spectrogram: s.spectrogram,
        envelope: s.envelope && evidence,
        bearing: s.spec.bearing ?? m.bearing,
        bearingConfigured: s.spec.bearing !== undefined || m.spec.bearing !== undefined,
        iso: m.iso,
        fullScaleG: s.spec.fullScaleG ?? 16,
      },
      ctx: { sensor: s, seq: s.nextSeq, model, t, arrivedAt },
    };
    if (this.pool.submit(job)) {
      s.nextSeq++;
      return true;
    }
    if (velocity) s.velocityDue = true;
    this.dropWindow(s, 'queue-full');
    return false;
  }

  /**
   * Switches `machine` (its name, or `site/machine`) to the model in
   * `modelDir` without dropping a window: the model is loaded in every
   * worker first; then, between two windows, new windows go to it while
   * windows already queued finish on the old one. If the window length or hop
   * changes, the partial window in progress restarts.
   * @throws FaultlineError FL_ERR_MODEL_FILE / FL_ERR_MODEL_MISMATCH (nothing switched)
   */
  /** Proves a model folder loads, in one of the pipeline's workers (InferencePool.probe). */
  probeModel(dir: string): Promise<void> {
    return this.pool.probe(dir);
  }

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
    try {
      const change = m.health.updateStream({ t: this.now(), ...s });
      if (change) this.emit('health', { ...change, site: m.spec.site });
    } catch (err) {
      this.report(err as Error);
    }
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
    return [...this.machines.values()].map((m) => this.statusOf(m));
  }

  /** One machine's status (its name, or `site/machine`), as in snapshot(). */
  machineStatus(machine: string): MachineStatus | undefined {
    const m =
      this.machines.get(machine) ??
      [...this.machines.values()].find((x) => x.spec.machine === machine);
    return m ? this.statusOf(m) : undefined;
  }

  private statusOf(m: MachineState): MachineStatus {
    return {
      site: m.spec.site,
      machine: m.spec.machine,
      state: m.health.state,
      health: m.health.snapshot(),
      lastDiagnosis: m.lastDiagnosis,
      rpm: m.lastDiagnosis?.rpm ?? null,
      rpmSource: m.lastDiagnosis?.rpmSource ?? 'none',
      model: m.model
        ? { dir: m.model.dir, version: m.model.version, classes: [...m.model.meta.classes] }
        : null,
      sensors: [...m.sensors.values()].map((s) => ({
        id: s.spec.id,
        state: s.refused ? ('refused' as const) : ('running' as const),
        ...(s.refused ? { error: s.refused } : {}),
        sampleRate: s.spec.sampleRate,
        ...s.st,
        stream: { ...s.st.stream },
        droppedBlocks: { ...s.st.droppedBlocks },
        resampling: s.route?.resampler?.design.describe ?? null,
        misfit: s.misfit ? { ...s.misfit } : null,
      })),
    };
  }

  stats(): PipelineStats {
    const p = this.pool.stats();
    const n = Math.min(this.latencyCount, LATENCY_SAMPLES);
    const lat = Array.from(this.latencies.subarray(0, n)).sort((a, b) => a - b);
    const q = (f: number) => (n > 0 ? lat[Math.min(n - 1, Math.floor(f * n))] : 0);
    let held = 0;
    const ingest: Record<string, number> = {};
    for (const s of this.sensors.values()) {
      held += s.done.size;
      ingest[s.key] = s.st.samplesPerS;
    }
    return {
      backend: this.backend,
      workers: p.workers,
      windowsIn: this.counts.windowsIn,
      windowsOut: this.counts.windowsOut,
      dropped: { blocks: { ...this.counts.blocks }, windows: { ...this.counts.windows } },
      queueDepth: p.queued,
      inFlight: p.inFlight,
      reorderHeld: held,
      batches: p.batches,
      meanBatchSize: p.meanBatchSize,
      maxBatchSize: p.maxBatchSize,
      batchSizes: p.batchSizes,
      sealedFull: p.sealedFull,
      sealedTimer: p.sealedTimer,
      maxFormWaitMs: p.maxFormWaitMs,
      maxDispatchWaitMs: p.maxDispatchWaitMs,
      latencyMs: { p50: q(0.5), p99: q(0.99), max: n > 0 ? lat[n - 1] : 0, n },
      perWindowMs: p.perWindowMs,
      ingestSamplesPerS: ingest,
    };
  }

  /** Resolves once every window pushed so far has its diagnosis (or was dropped). */
  async drain(timeoutMs = 10_000): Promise<boolean> {
    return this.pool.drain(timeoutMs);
  }

  // ── internals ──────────────────────────────────────────────────────────

  /**
   * Loads `dir` for machine `m`, checks its sensors, and swaps it in. The
   * sample rate alone never refuses a sensor: the model is checked against a
   * stream at its own rate (what it gets after resampling), so only a front
   * end that does not fit refuses; a stream rate that cannot be resampled is
   * reported, and its blocks are dropped and counted until they fit.
   */
  private async bind(m: MachineState, dir: string, strict: boolean): Promise<void> {
    const meta = await readModelMetadata(dir);
    const refusals = new Map<SensorState, string>();
    const routes = new Map<SensorState, StreamRoute | null>();
    for (const s of m.sensors.values()) {
      try {
        checkStreamCompatibility(meta, { sampleRate: meta.sampleRate, label: `sensor ${s.key}` });
      } catch (err) {
        if (strict) throw err;
        refusals.set(s, (err as Error).message);
        this.report(err as Error);
      }
      // The stream's actual rate once blocks came, else the configured one.
      const rate = s.route?.rate ?? s.spec.sampleRate;
      if (s.route && m.model?.meta.sampleRate === meta.sampleRate) continue; // route still fits
      try {
        routes.set(s, makeRoute(rate, meta.sampleRate));
      } catch (err) {
        routes.set(s, null);
        this.report(
          new FaultlineError(
            'FL_ERR_CONFIG',
            `sensor ${s.key}: ${rate} Hz cannot be resampled to model ${meta.contentHash.slice(0, 12)}'s ${meta.sampleRate} Hz ` +
              `(${(err as Error).message}); its blocks are dropped until they come at a usable rate`,
          ),
        );
      }
    }
    const key = meta.contentHash;
    await this.pool.load(key, dir);
    const binding: ModelBinding = {
      key,
      dir,
      meta,
      version: meta.contentHash.slice(0, 12),
      hasNormal: hasNormalClass(meta.classes),
      names: meta.classes.map(operatorClass),
    };
    // From here on synchronous: the swap happens between two pushes.
    const old = m.model;
    m.model = binding;
    for (const s of m.sensors.values()) {
      const why = refusals.get(s);
      s.refused = why ?? null;
      const route = routes.get(s);
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
        const history = Math.round((this.o.evidenceSeconds ?? 1) * meta.sampleRate);
        s.windower = new Windower({
          windowLength: meta.windowLength,
          hop: meta.hop,
          historyLength: history > meta.windowLength ? history : 0,
          alloc: (n) => this.pool.alloc(n),
        });
        s.windowCount = 0;
      }
    }
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
    const classes = model.meta.classes;
    let best = 0;
    for (let i = 1; i < r.probs.length; i++) if (r.probs[i] > r.probs[best]) best = i;
    const probs: Record<string, number> = {};
    classes.forEach((c, i) => {
      probs[c] = r.probs?.[i] ?? 0;
    });
    const op = model.names[best];
    if (r.evidence) s.lastEvidence = r.evidence;
    if (r.velocityRmsMmS !== undefined && r.isoZone !== undefined) {
      s.lastVelocity = { velocityRmsMmS: r.velocityRmsMmS, isoZone: r.isoZone };
    }
    let rpm = r.rpm;
    let rpmSource = r.rpmSource;
    const n = s.windowCount;
    if (rpmSource === 'estimate' && rpm !== null) s.lastEstimate = { rpm, window: n };
    else if (
      rpm === null &&
      s.lastEstimate &&
      n - s.lastEstimate.window <= 2 * this.evidenceEvery
    ) {
      rpm = s.lastEstimate.rpm;
      rpmSource = 'estimate';
    }
    const confidence = r.probs[best];
    const d: MachineDiagnosis = {
      site: m.spec.site,
      machine: m.spec.machine,
      sensor: s.spec.id,
      t,
      faultClass: op.faultClass,
      ...(op.severity ? { severity: op.severity } : {}),
      modelClass: classes[best],
      confidence,
      probs,
      rpm,
      rpmSource,
      rmsG: r.rmsG ?? 0,
      velocityRmsMmS: s.lastVelocity?.velocityRmsMmS ?? 0,
      isoZone: s.lastVelocity?.isoZone ?? 'A',
      crestFactor: r.crestFactor ?? 0,
      kurtosis: r.kurtosis ?? 0,
      evidence: s.lastEvidence,
      modelVersion: model.version,
      latencyMs: 0,
      ...(r.spectrogram ? { spectrogram: r.spectrogram } : {}),
      ...(r.envelope ? { envelope: r.envelope } : {}),
    };
    // Health: operator-term probabilities; see the module comment for models
    // without a normal class.
    let healthProbs: Record<string, number>;
    if (model.hasNormal) {
      healthProbs = operatorProbs(classes, r.probs);
    } else {
      const agree = defectOf(op.faultClass) === d.evidence.defect && d.evidence.defect !== null;
      const pf = agree ? confidence : 0;
      healthProbs = { [NORMAL]: 1 - pf, [op.faultClass]: pf };
    }
    const wd: WindowDiagnosis = {
      t: arrivedAt,
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
    try {
      const change = m.health.update(wd);
      if (change) this.emit('health', { ...change, site: m.spec.site });
    } catch (err) {
      this.report(err as Error);
    }
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
      this.latencies[this.latencyCount++ % LATENCY_SAMPLES] = d.latencyMs;
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
    const m = s.machine;
    try {
      const change = m.health.updateFit({ t, sensor: s.spec.id, misfit });
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
