/**
 * What the diagnosis pipeline (./pipeline.ts) holds per machine and per
 * sensor, how it starts, and the read-only status view of it. Plain data:
 * the pipeline's glue mutates it; nothing here does I/O.
 */

import { CWRU_DE_BEARING } from '../contract/bearing.js';
import type { OperatorClass } from '../contract/fault-names.js';
import type { BearingGeometry, MachineDiagnosis } from '../contract/machine.js';
import type { ModelMetadata } from '../model/artifact.js';
import { MachineHealth } from './health.js';
import type { HealthConfig } from './health-config.js';
import type { PoolJob } from './inference-pool.js';
import type { MachineSpec, SensorSpec } from './pipeline-options.js';
import type { MachineStatus, SensorStatus } from './pipeline-status.js';
import type { SpeedReading } from './speed-source.js';
import type { StreamRoute } from './stream-route.js';
import type { CutWindow, Windower } from './windower.js';

/** A model loaded in the workers, as the machines bound to it see it. */
export interface ModelBinding {
  key: string;
  dir: string;
  meta: ModelMetadata;
  version: string;
  hasNormal: boolean;
  names: OperatorClass[];
}

export interface MachineState {
  spec: MachineSpec;
  id: string;
  health: MachineHealth;
  model: ModelBinding | null;
  sensors: Map<string, SensorState>;
  lastDiagnosis: MachineDiagnosis | null;
  bearing: BearingGeometry;
  iso: { group: 1 | 2; foundation: 'rigid' | 'flexible' };
}

export interface SensorState {
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

/** What the pipeline hands the inference pool with each window, and gets back with its result. */
export interface JobCtx {
  sensor: SensorState;
  seq: number;
  model: ModelBinding;
  t: number;
  arrivedAt: number;
}

export type SensorKey = { site: string; machine: string; sensor: string };

/** A sensor as it starts: refused until its machine's model is bound, nothing counted. */
function newSensorState(spec: SensorSpec, key: string, machine: MachineState): SensorState {
  return {
    spec,
    key,
    machine,
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
}

/**
 * The state of every machine and sensor of `specs`, by `site/machine` and
 * `site/machine/sensor`, each machine with its own health state machine.
 * @throws TypeError on a machine without site, name or model, a machine or
 *   sensor listed twice, or a sample rate that is not > 0 Hz
 */
export function buildMachines(
  specs: readonly MachineSpec[],
  healthOptions: Partial<HealthConfig> | undefined,
): { machines: Map<string, MachineState>; sensors: Map<string, SensorState> } {
  const machines = new Map<string, MachineState>();
  const sensors = new Map<string, SensorState>();
  for (const spec of specs) {
    const id = `${spec.site}/${spec.machine}`;
    if (!spec.site || !spec.machine)
      throw new TypeError(`machine ${id} needs a site and a machine name`);
    if (machines.has(id)) throw new TypeError(`machine ${id} is listed twice`);
    if (!spec.modelDir) throw new TypeError(`machine ${id} has no modelDir`);
    const health = new MachineHealth(spec.machine, {
      ...(healthOptions ?? {}),
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
    machines.set(id, m);
    for (const s of spec.sensors) {
      const key = `${id}/${s.id}`;
      if (sensors.has(key)) throw new TypeError(`sensor ${key} is listed twice`);
      if (!(Number.isFinite(s.sampleRate) && s.sampleRate > 0)) {
        throw new TypeError(`sensor ${key}: sampleRate must be > 0 Hz, got ${s.sampleRate}`);
      }
      const st = newSensorState(s, key, m);
      m.sensors.set(s.id, st);
      sensors.set(key, st);
    }
  }
  return { machines, sensors };
}

/**
 * The inference job of window `w` of sensor `s` (next in the sensor's
 * order): its samples and history, what to compute besides the CNN, and the
 * context its result comes back with.
 * @param o.t time of the window's last sample on the sensor's clock, ms
 * @param o.arrivedAt arrival of the block holding it, ms
 * @param o.speed the speed known without the signal
 * @param o.evidence, o.velocity whether to compute the envelope evidence, the velocity RMS and zone
 */
export function windowJob(
  s: SensorState,
  model: ModelBinding,
  w: CutWindow,
  o: { t: number; arrivedAt: number; speed: SpeedReading; evidence: boolean; velocity: boolean },
): PoolJob<JobCtx> {
  const m = s.machine;
  const { t, arrivedAt, speed, evidence, velocity } = o;
  return {
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
}

/** The status of machine `m` (copies: the caller may keep it). */
export function machineStatusOf(m: MachineState): MachineStatus {
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
