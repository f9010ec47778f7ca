/**
 * The front end: one window of acceleration → one normalised input
 * `[F, T, K]`, the CNN's input. This single implementation serves training
 * and live diagnosis; a model stores its `FrontEndConfig` (plain JSON) in its
 * metadata and the live pipeline rebuilds the identical front end from it.
 *
 * Version 2 (what `faultline train` writes) is in physical units: an
 * analysis rate every recording and stream is resampled to, windows in
 * seconds (time mode) or shaft revolutions (order mode), bands in Hz:
 *
 * time mode:  x → −mean → ÷RMS → STFT (Hz axis) → normalise          (K = 1)
 * order mode: x → envelopes of a few resonance bands → angular resampling
 *             → STFT over angle → read on shaft or fault orders → dB →
 *             normalise (./order-lines.ts; K = bands × axes)
 *
 * Version 1 (models written before) keeps loading and computing exactly
 * as it did:
 *
 * time mode:  as above
 * order mode: x → [band-pass envelope] → −mean → angular resample to
 *             samplesPerRev (rpm given, or estimated from the spectrum)
 *             → ÷RMS → STFT (order axis) → normalise
 *
 * Order mode exists because a speed change moves every shaft-locked line in
 * proportion: in orders, a fault's lines stay in the same rows whatever the
 * speed, so a model trained at one speed transfers to others.
 *
 * The envelope option (order mode) trades structure for invariance: a
 * bearing defect shows as impacts ringing a resonance fixed in Hz; resampling
 * the raw signal would move that resonance with speed (and orders ≤ 57 at
 * 128 samples/rev cut it off entirely at CWRU's 30 Hz shaft), while the
 * envelope of the resonance band keeps the impact repetition rate, which is
 * a fixed order (BPFO 3.58×, BPFI 5.42× for CWRU). What the envelope loses:
 * the resonance itself and shaft-rate lines (unbalance 1×, misalignment 2×)
 * outside the band. Default: envelope on, 2–5 kHz (CWRU's drive-end band);
 * set `order.envelope: null` for machines whose faults are shaft-rate lines.
 */
import type { BearingGeometry } from '../contract/machine.js';
import { FaultlineError } from '../errors.js';
import { bandEnvelopeGeometry, createBandEnvelope } from './envelope.js';
import {
  type FrontEndConfig,
  type FrontEndInput,
  orderEnvelopeOptions,
  resolveFrontEndConfig,
  stftAxis,
} from './frontend-config.js';
import { angularResample, minRpmFor } from './order.js';
import { createOrderLineMap, lineChannels, type OrderLineParams } from './order-lines.js';
import { checkFinite } from './signal.js';
import { estimateShaftSpeed } from './speed.js';
import { createStft } from './stft.js';

// The configuration moved to ./frontend-config.ts; its public names stay importable from here.
export {
  DEFAULT_ANALYSIS_RATE,
  type FrontEndConfig,
  type FrontEndInput,
  type FrontEndMode,
  type FrontEndStft,
  needsBearing,
  type OrderParams,
  recordingWindows,
  resolveFrontEndConfig,
  V2_DEFAULTS,
  type WindowSpec,
} from './frontend-config.js';

export interface FrontEnd {
  readonly config: Readonly<FrontEndConfig>;
  /** `[freqBins, frames, channels]` of every output (channel-last). */
  readonly inputShape: readonly [number, number, number];
  /**
   * The network input of one window (g, at `config.sampleRate`), channel-last
   * `[F, T, K]` (`out[(f * T + t) * K + k]`), into `out` or a new array.
   * Time mode and version 1 take exactly `windowLength` samples; order mode
   * version 2 takes any window holding `window.length` revolutions at `rpm`
   * and reads those from its start.
   * @param rpm shaft speed, rpm; order mode estimates it when absent
   * @param bearing the monitored bearing (order mode with fault axes); default the model's
   * @throws FL_ERR_SIGNAL_* on a bad window, FL_ERR_SPEED_UNKNOWN (order mode,
   *   no rpm and none found), FL_ERR_SIGNAL_TOO_SHORT (order mode, too slow)
   */
  process(
    window: Float32Array,
    rpm?: number,
    out?: Float32Array,
    bearing?: BearingGeometry,
  ): Float32Array;
  /** Shaft speed (rpm) used by the last order-mode `process` call, or undefined. */
  readonly lastRpm: number | undefined;
  /**
   * The band envelope (mean removed, length = windowLength) the last
   * order-mode `process` call computed, with the window it came from and its
   * band (Hz); undefined in time mode, without an envelope, or after a
   * failed call. A view of an internal buffer: valid until the next
   * `process` call, and only while that window's samples are unchanged.
   */
  readonly lastEnvelope: LastEnvelope | undefined;
}

/** See FrontEnd.lastEnvelope. */
export interface LastEnvelope {
  /** The window (the very array) the envelope was computed from. */
  readonly window: Float32Array;
  readonly lowHz: number;
  readonly highHz: number;
  /** The envelope, mean removed: ceil(window.length / decimation) samples at `rate`. */
  readonly data: Float32Array;
  /** Envelope sample rate, Hz (the window's rate / decimation). */
  readonly rate: number;
  readonly decimation: number;
  /**
   * The window's forward spectrum (mean removed, zero-padded to `fftSize`;
   * fft.js interleaved re/im, bins 0 … fftSize/2): what velocity RMS
   * needs, already transformed.
   */
  readonly spectrum: Float64Array;
  readonly fftSize: number;
}

/**
 * The envelope of `window` band-passed to `band` (Hz) at `fs` Hz, taken from
 * the front end's last call when that call computed exactly it (same array,
 * same band, same rate), else undefined. Saves the envelope evidence a
 * second FFT pair of the window's length: the values are those of
 * `createBandEnvelope(fs, window.length, { ...band, decimate }).compute(window)`
 * (decimate as the front end's config says), bit for bit, because they are
 * computed by that same code; read its `rate`, which is fs / decimation.
 * Call it before the window's samples change or the front end processes
 * another window.
 */
export function reusableEnvelope(
  frontEnd: FrontEnd,
  window: Float32Array,
  fs: number,
  band: { lowHz: number; highHz: number },
): LastEnvelope | undefined {
  const e = frontEnd.lastEnvelope;
  if (
    e &&
    e.window === window &&
    e.data.length === Math.ceil(window.length / e.decimation) &&
    e.lowHz === band.lowHz &&
    e.highHz === band.highHz &&
    frontEnd.config.sampleRate === fs
  ) {
    return e;
  }
  return undefined;
}

/** The version-2 order-mode front end (the order-line map). */
function createOrderLineFrontEnd(cfg: FrontEndConfig): FrontEnd {
  const lines = cfg.lines as OrderLineParams;
  const map = createOrderLineMap(lines, cfg.sampleRate);
  const inputShape = [lines.rows, lines.frames, lineChannels(lines)] as const;
  const size = inputShape[0] * inputShape[1] * inputShape[2];
  const { sampleRate } = cfg;
  // the evidence computes its own envelope in its own band: no lastEnvelope here
  const last: LastWindow = {};
  function process(
    window: Float32Array,
    rpm?: number,
    out?: Float32Array,
    bearing?: BearingGeometry,
  ): Float32Array {
    if (window.length === 0) {
      throw new FaultlineError('FL_ERR_SIGNAL_EMPTY', 'the front end got an empty window');
    }
    const data = outputArray(out, size);
    if (rpm === undefined || rpm === null) checkFinite(window, 'front-end window');
    const shaftRpm = shaftSpeed(window, rpm, sampleRate, cfg);
    last.rpm = shaftRpm;
    map.compute(window, shaftRpm, data, bearing);
    return data;
  }
  return frontEndOf(cfg, inputShape, process, last);
}

/**
 * Builds the front end described by `config` (completed by
 * resolveFrontEndConfig, so a stored partial config also works).
 */
export function createFrontEnd(config: FrontEndInput): FrontEnd {
  const cfg = resolveFrontEndConfig(config);
  if (cfg.version === 2 && cfg.mode === 'order') return createOrderLineFrontEnd(cfg);
  const [rate, length] = stftAxis(cfg);
  const plan = createStft({ ...cfg.stft, normalisation: cfg.normalisation }, rate, length);
  const inputShape = [plan.shape[0], plan.shape[1], 1] as const;
  const size = inputShape[0] * inputShape[1];
  const { windowLength, sampleRate, amplitude } = cfg;
  const orderMode = cfg.mode === 'order';
  const work = new Float32Array(windowLength);
  const angle = orderMode ? new Float32Array(length) : work;
  const envOptions = orderEnvelopeOptions(cfg);
  const envelope = envOptions
    ? createBandEnvelope(sampleRate, windowLength, envOptions)
    : undefined;
  const envelopeOut = envelope ? new Float32Array(envelope.outLength) : work;
  const last: LastWindow = {};

  function process(window: Float32Array, rpm?: number, out?: Float32Array): Float32Array {
    // (A bearing argument is read by the version-2 order front end only.)
    last.envelope = undefined;
    if (window.length !== windowLength) {
      throw new FaultlineError(
        window.length === 0
          ? 'FL_ERR_SIGNAL_EMPTY'
          : window.length < windowLength
            ? 'FL_ERR_SIGNAL_TOO_SHORT'
            : 'FL_ERR_SIGNAL_TOO_LONG',
        `the front end takes windows of ${windowLength} samples (${(windowLength / sampleRate).toFixed(3)} s at ${sampleRate} Hz), got ${window.length}`,
      );
    }
    checkFinite(window, 'front-end window');
    const data = outputArray(out, size);
    if (!orderMode) {
      removeMean(window, work);
      if (amplitude === 'rms') scaleToUnitRms(work);
      plan.compute(work, data);
      return data;
    }
    const shaftRpm = shaftSpeed(window, rpm, sampleRate, cfg);
    last.rpm = shaftRpm;
    if (envelope) {
      envelope.compute(window, envelopeOut);
      // angularResample and the RMS scaling below only read `envelopeOut`.
      last.envelope = {
        window,
        lowHz: envelope.lowHz,
        highHz: envelope.highHz,
        data: envelopeOut,
        rate: envelope.rate,
        decimation: envelope.decimation,
        spectrum: envelope.lastSpectrum(),
        fftSize: envelope.fftSize,
      };
      angularResample(
        envelopeOut,
        envelope.rate,
        shaftRpm / 60,
        cfg.order.samplesPerRev,
        length,
        angle,
      );
    } else {
      removeMean(window, work);
      angularResample(work, sampleRate, shaftRpm / 60, cfg.order.samplesPerRev, length, angle);
    }
    if (amplitude === 'rms') scaleToUnitRms(angle);
    plan.compute(angle, data);
    return data;
  }

  return frontEndOf(cfg, inputShape, process, last);
}

/** What a front end keeps of its last window, read through FrontEnd's getters. */
interface LastWindow {
  rpm?: number;
  envelope?: LastEnvelope;
}

function frontEndOf(
  cfg: FrontEndConfig,
  inputShape: FrontEnd['inputShape'],
  process: FrontEnd['process'],
  last: LastWindow,
): FrontEnd {
  return {
    config: deepFreeze(cfg),
    inputShape,
    process,
    get lastRpm() {
      return last.rpm;
    },
    get lastEnvelope() {
      return last.envelope;
    },
  };
}

/** `out` when it has the front end's size, a new array when absent. */
function outputArray(out: Float32Array | undefined, size: number): Float32Array {
  const data = out ?? new Float32Array(size);
  if (data.length !== size) {
    throw new FaultlineError(
      'FL_ERR_DSP_PARAMS',
      `output array has length ${data.length}, the front end needs ${size}`,
    );
  }
  return data;
}

/**
 * Channel `c` of a channel-last input (`[F, T, K]`, as `process` writes it)
 * as a `[F, T]` row-major array.
 */
export function channelOf(
  data: Float32Array,
  shape: readonly [number, number, number],
  c: number,
): Float32Array {
  const [F, T, K] = shape;
  const out = new Float32Array(F * T);
  for (let i = 0; i < F * T; i++) out[i] = data[i * K + c];
  return out;
}

/** Lowest rpm the order-mode `config` handles without FL_ERR_SIGNAL_TOO_SHORT. */
export function frontEndMinRpm(config: FrontEndConfig): number {
  if (config.version === 2) {
    // Live windows are sized for order.minRpm (a little lower: the + 1 sample).
    return config.mode === 'order' ? config.order.minRpm : 0;
  }
  const o = config.order;
  const e = orderEnvelopeOptions(config);
  // The resampler reads the envelope when there is one (fewer samples at a lower rate).
  const g = e && bandEnvelopeGeometry(config.sampleRate, config.windowLength, e);
  return minRpmFor(
    g ? g.outLength : config.windowLength,
    g ? g.rate : config.sampleRate,
    o.samplesPerRev,
    Math.round(o.samplesPerRev * o.revolutions),
  );
}

/**
 * The speed an order-mode window is read at: `rpm` when given (a finite
 * speed > 0, else FL_ERR_DSP_PARAMS), else estimated from the window within
 * the front end's speed range.
 */
function shaftSpeed(
  window: Float32Array,
  rpm: number | null | undefined,
  sampleRate: number,
  cfg: FrontEndConfig,
): number {
  if (rpm === undefined || rpm === null) {
    return estimateShaftSpeed(window, sampleRate, {
      minRpm: cfg.order.minRpm,
      maxRpm: cfg.order.maxRpm,
    }).rpm;
  }
  if (!(Number.isFinite(rpm) && rpm > 0)) {
    throw new FaultlineError(
      'FL_ERR_DSP_PARAMS',
      `rpm must be a finite speed > 0, got ${rpm}; omit it to estimate`,
    );
  }
  return rpm;
}

function removeMean(x: Float32Array, out: Float32Array): void {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  const m = s / x.length;
  for (let i = 0; i < x.length; i++) out[i] = x[i] - m;
}

function scaleToUnitRms(x: Float32Array): void {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  const r = Math.sqrt(s / x.length);
  // A dead channel stays zeros (and then normalises to zeros), not NaN.
  if (r > 1e-30) {
    const inv = 1 / r;
    for (let i = 0; i < x.length; i++) x[i] *= inv;
  }
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
