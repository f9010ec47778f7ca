/**
 * What the diagnosis pipeline is set up with: its machines, their sensors
 * and models, and the pipeline's own options (./pipeline.ts).
 */
import type { BearingGeometry } from '../contract/machine.js';
import type { BackendName } from '../model/backend.js';
import type { HealthConfig } from './health-config.js';

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
