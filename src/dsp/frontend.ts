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
import { bandEnvelopeGeometry, createBandEnvelope, type EnvelopeOptions } from './envelope.js';
import { angularResample, minRpmFor } from './order.js';
import {
  checkOrderLineParams,
  createOrderLineMap,
  defaultBands,
  lineChannels,
  type OrderLineParams,
  profileBands,
  samplesForRevolutions,
} from './order-lines.js';
import { checkFinite, MAX_SIGNAL_SAMPLES, requireParam } from './signal.js';
import { estimateShaftSpeed } from './speed.js';
import {
  createStft,
  DEFAULT_STFT_PARAMS,
  NORMALISATIONS,
  type Normalisation,
  type StftParams,
} from './stft.js';

export type FrontEndMode = 'time' | 'order';

/** STFT parameters without the normalisation (which is a front-end field). */
export type FrontEndStft = Omit<StftParams, 'normalisation'>;

/** Order-mode parameters. */
export interface OrderParams {
  /** Samples per shaft revolution after resampling (Nyquist = half of it, in orders); default 128. */
  samplesPerRev: number;
  /** Revolutions analysed per window (from its start); default 8 (≥ 480 rpm for 1 s at 12 kHz). */
  revolutions: number;
  /** Speed search range when no rpm is given, rpm; defaults 600 … 3600. */
  minRpm: number;
  maxRpm: number;
  /**
   * Band (Hz) whose envelope is analysed, or null for the raw signal;
   * default {2000, 5000 or 0.45·fs, decimate: true}. `decimate`: the
   * envelope is computed at the lowest power-of-two fraction of the sample
   * rate that holds twice the band's width (see createBandEnvelope), which
   * keeps every line of the envelope and halves (2–5 kHz at 12 kHz) the work
   * of the inverse FFT and the resampler. Absent or false: at the full rate,
   * as models made before the option compute it.
   */
  envelope: { lowHz: number; highHz: number; decimate?: boolean } | null;
}

/**
 * How recordings are cut into windows (version 2): seconds in time mode,
 * shaft revolutions in order mode.
 */
export interface WindowSpec {
  unit: 's' | 'rev';
  /** Window length, s or revolutions. */
  length: number;
  /**
   * Step between windows of a recording, s or revolutions. In revolutions
   * the default (0.618) is no simple fraction of a turn: windows one whole
   * turn apart all start at the same shaft angle, and a model trained on
   * one angle fails on another (measured on CWRU: 78 % against 100 %
   * in-domain).
   */
  hop: number;
}

/** Everything that defines the front end. JSON-serialisable; stored with each model. */
export interface FrontEndConfig {
  /** Format version of this object: 1 (models written before physical units) or 2. */
  version: 1 | 2;
  /**
   * Sample rate the front end works at, Hz. Version 2: the analysis rate,
   * which every recording and stream is resampled to (one within ±1 % is
   * taken as it is); version 1: the input rate.
   */
  sampleRate: number;
  /**
   * Samples per live window: time mode the window itself; order mode
   * (version 2) the samples `window.length` revolutions take at
   * `order.minRpm`, the slowest speed the model serves.
   */
  windowLength: number;
  /** Samples between the starts of consecutive windows of a live stream (version 1: of recordings too). */
  hop: number;
  mode: FrontEndMode;
  /** STFT parameters; in order mode fMin/fMax are in orders. */
  stft: FrontEndStft;
  normalisation: Normalisation;
  /** Divide each window by its RMS first (gain and mounting invariance); default 'rms'. */
  amplitude: 'rms' | 'none';
  /** Order-mode parameters (kept, and ignored, in time mode; version 2 reads only minRpm and maxRpm). */
  order: OrderParams;
  /** Version 2: how recordings are cut into windows. */
  window?: WindowSpec;
  /** Version 2 order mode: the order-line map (./order-lines.ts). */
  lines?: OrderLineParams;
}

/** What `resolveFrontEndConfig` takes: any field may be left out. */
export type FrontEndInput = Partial<Omit<FrontEndConfig, 'stft' | 'order' | 'window' | 'lines'>> & {
  stft?: Partial<FrontEndStft>;
  order?: Partial<OrderParams>;
  window?: Partial<WindowSpec>;
  lines?: Partial<OrderLineParams>;
  /** Version 2: live windows start every `liveHopS` seconds; default 0.25. */
  liveHopS?: number;
};

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

/**
 * A complete, validated config: `partial` over the defaults for its sample
 * rate and window length (defaults: 12 kHz, 12 000-sample windows, hop =
 * half a window, time mode). Throws FL_ERR_DSP_PARAMS naming the bad field.
 */
export function resolveFrontEndConfig(partial: FrontEndInput = {}): FrontEndConfig {
  requireParam(
    partial.version === undefined || partial.version === 1 || partial.version === 2,
    `frontEnd.version must be 1 or 2, got ${String(partial.version)}`,
  );
  if (partial.version === 2) return resolveV2(partial);
  const sampleRate = partial.sampleRate ?? 12000;
  const windowLength = partial.windowLength ?? Math.round(sampleRate);
  const mode = partial.mode ?? 'time';
  requireParam(
    Number.isFinite(sampleRate) && sampleRate > 0,
    `frontEnd.sampleRate must be > 0 Hz, got ${sampleRate}`,
  );
  requireParam(
    Number.isInteger(windowLength) && windowLength >= 16 && windowLength <= MAX_SIGNAL_SAMPLES,
    `frontEnd.windowLength must be an integer in 16…${MAX_SIGNAL_SAMPLES} samples, got ${windowLength}`,
  );
  requireParam(
    mode === 'time' || mode === 'order',
    `frontEnd.mode must be "time" or "order", got "${mode}"`,
  );
  const hop = partial.hop ?? Math.floor(windowLength / 2);
  requireParam(
    Number.isInteger(hop) && hop >= 1,
    `frontEnd.hop must be a positive integer (samples), got ${hop}`,
  );
  const normalisation = partial.normalisation ?? DEFAULT_STFT_PARAMS.normalisation;
  requireParam(
    NORMALISATIONS.includes(normalisation),
    `frontEnd.normalisation must be one of ${NORMALISATIONS.join(', ')}`,
  );
  const amplitude = partial.amplitude ?? 'rms';
  requireParam(
    amplitude === 'rms' || amplitude === 'none',
    `frontEnd.amplitude must be "rms" or "none", got "${amplitude}"`,
  );

  const po = partial.order ?? {};
  const defaultEnvelope = {
    lowHz: Math.min(2000, sampleRate / 6),
    highHz: Math.min(5000, 0.45 * sampleRate),
    decimate: true,
  };
  const order: OrderParams = {
    samplesPerRev: po.samplesPerRev ?? 128,
    revolutions: po.revolutions ?? 8,
    minRpm: po.minRpm ?? 600,
    maxRpm: po.maxRpm ?? 3600,
    envelope:
      po.envelope === undefined
        ? defaultEnvelope
        : po.envelope === null
          ? null
          : { ...po.envelope },
  };
  requireParam(
    Number.isInteger(order.samplesPerRev) && order.samplesPerRev >= 8,
    `frontEnd.order.samplesPerRev must be an integer ≥ 8, got ${order.samplesPerRev}`,
  );
  requireParam(
    Number.isInteger(order.revolutions * order.samplesPerRev) && order.revolutions > 0,
    `frontEnd.order.revolutions × samplesPerRev must be a positive integer, got ${order.revolutions} × ${order.samplesPerRev}`,
  );
  requireParam(
    order.minRpm > 0 && order.maxRpm > order.minRpm,
    `frontEnd.order speed range ${order.minRpm}…${order.maxRpm} rpm needs 0 < minRpm < maxRpm`,
  );
  if (order.envelope) {
    const { lowHz, highHz, decimate } = order.envelope;
    requireParam(
      lowHz >= 0 && highHz > lowHz && highHz <= sampleRate / 2,
      `frontEnd.order.envelope band ${lowHz}…${highHz} Hz needs 0 ≤ lowHz < highHz ≤ ${sampleRate / 2}`,
    );
    requireParam(
      decimate === undefined || typeof decimate === 'boolean',
      `frontEnd.order.envelope.decimate must be true or false, got ${String(decimate)}`,
    );
  }

  // Order-mode STFT defaults: 256-sample frames = 2 revolutions, 0.5-order
  // bins; with the envelope the lines of interest (BPFO…BPFI and harmonics,
  // sidebands) sit below 32 orders, so 64 bands of 0.5 order cover 0–32.
  const stftDefaults: FrontEndStft =
    mode === 'order'
      ? { ...stripNorm(DEFAULT_STFT_PARAMS), nfft: 256, fMax: order.envelope ? 32 : null }
      : stripNorm(DEFAULT_STFT_PARAMS);
  const stft: FrontEndStft = { ...stftDefaults, ...definedOnly(partial.stft ?? {}) };
  const config: FrontEndConfig = {
    version: 1,
    sampleRate,
    windowLength,
    hop,
    mode,
    stft,
    normalisation,
    amplitude,
    order,
  };
  // Build once to validate the STFT against its (time or angle) axis.
  const [rate, length] = stftAxis(config);
  createStft({ ...stft, normalisation }, rate, length);
  return config;
}

/** Default analysis rate, Hz: CWRU's and the simulated fleet's rate, so they need no resampling. */
export const DEFAULT_ANALYSIS_RATE = 12_000;

/** Version-2 defaults that are not derived from the rate. */
export const V2_DEFAULTS = Object.freeze({
  /** Time mode: window and hop, s (2048 and 512 samples at 12 kHz, as version 1). */
  timeWindowS: 2048 / 12_000,
  timeHopS: 512 / 12_000,
  /** Order mode: revolutions per window, and the step between windows of a recording. */
  revolutions: 4,
  hopRevolutions: 0.618,
  /** Live windows start every 0.25 s. */
  liveHopS: 0.25,
  /** Speeds served, rpm. */
  minRpm: 300,
  maxRpm: 6000,
});

/**
 * Version 2 (physical units), completed over its defaults. Time mode is the
 * version-1 computation with its window in seconds; order mode is the
 * order-line map. Throws FL_ERR_DSP_PARAMS naming the bad field.
 */
function resolveV2(partial: FrontEndInput): FrontEndConfig {
  const sampleRate = partial.sampleRate ?? DEFAULT_ANALYSIS_RATE;
  requireParam(
    Number.isFinite(sampleRate) && sampleRate >= 1000 && sampleRate <= 1_000_000,
    `frontEnd.sampleRate (the analysis rate) must be in 1000…1000000 Hz, got ${sampleRate}`,
  );
  const mode = partial.mode ?? 'order';
  requireParam(
    mode === 'time' || mode === 'order',
    `frontEnd.mode must be "time" or "order", got "${mode}"`,
  );
  const unit = partial.window?.unit ?? (mode === 'order' ? 'rev' : 's');
  requireParam(
    unit === (mode === 'order' ? 'rev' : 's'),
    `frontEnd.window.unit must be "${mode === 'order' ? 'rev' : 's'}" in ${mode} mode, got "${unit}"`,
  );
  const liveHopS = partial.liveHopS ?? V2_DEFAULTS.liveHopS;
  requireParam(
    Number.isFinite(liveHopS) && liveHopS > 0 && liveHopS <= 60,
    `the live hop must be in (0, 60] s, got ${liveHopS}`,
  );
  if (mode === 'time') {
    const length = partial.window?.length ?? V2_DEFAULTS.timeWindowS;
    const hopS = partial.window?.hop ?? V2_DEFAULTS.timeHopS;
    requireParam(
      Number.isFinite(length) && length > 0 && length <= 60,
      `frontEnd.window.length must be in (0, 60] s, got ${length}`,
    );
    requireParam(
      Number.isFinite(hopS) && hopS > 0,
      `frontEnd.window.hop must be > 0 s, got ${hopS}`,
    );
    const v1 = resolveFrontEndConfig({
      ...partial,
      version: 1,
      sampleRate,
      mode,
      windowLength: Math.round(length * sampleRate),
      hop: partial.hop ?? Math.max(1, Math.round(hopS * sampleRate)),
      stft: { nfft: 256, freqBins: 64, frames: 32, ...definedOnly(partial.stft ?? {}) },
    });
    return { ...v1, version: 2, window: { unit, length, hop: hopS } };
  }
  const po = partial.order ?? {};
  const minRpm = po.minRpm ?? V2_DEFAULTS.minRpm;
  const maxRpm = po.maxRpm ?? V2_DEFAULTS.maxRpm;
  requireParam(
    minRpm > 0 && maxRpm > minRpm,
    `frontEnd.order speed range ${minRpm}…${maxRpm} rpm needs 0 < minRpm < maxRpm`,
  );
  const pl = partial.lines ?? {};
  const revolutions = partial.window?.length ?? pl.revolutions ?? V2_DEFAULTS.revolutions;
  const lines: OrderLineParams = {
    bands:
      pl.bands?.map((b) => ({ lowHz: b.lowHz, highHz: b.highHz })) ??
      (pl.normalisation === 'joint' || pl.normalisation === 'level'
        ? [...defaultBands(sampleRate), ...profileBands(sampleRate)]
        : defaultBands(sampleRate)),
    axes: pl.axes ? [...pl.axes] : ['shaft'],
    revolutions,
    samplesPerRev: pl.samplesPerRev ?? 64,
    frameRevolutions: pl.frameRevolutions ?? 2,
    rows: pl.rows ?? 32,
    frames: pl.frames ?? 16,
    maxOrder: pl.maxOrder ?? 16,
    faultSpan: pl.faultSpan ?? 4,
    normalisation: pl.normalisation ?? 'band',
    ...(pl.levelRef !== undefined ? { levelRef: pl.levelRef } : {}),
    ...(pl.bearing ? { bearing: { ...pl.bearing } } : {}),
  };
  checkOrderLineParams(lines, sampleRate);
  const hopRev = partial.window?.hop ?? V2_DEFAULTS.hopRevolutions;
  requireParam(
    Number.isFinite(hopRev) && hopRev > 0,
    `frontEnd.window.hop must be > 0 revolutions, got ${hopRev}`,
  );
  const windowLength = samplesForRevolutions(revolutions, sampleRate, minRpm);
  requireParam(
    windowLength <= MAX_SIGNAL_SAMPLES,
    `${revolutions} revolutions at ${minRpm} rpm take ${windowLength} samples, more than ${MAX_SIGNAL_SAMPLES}; raise order.minRpm or lower the analysis rate`,
  );
  return {
    version: 2,
    sampleRate,
    windowLength,
    hop: partial.hop ?? Math.max(1, Math.round(liveHopS * sampleRate)),
    mode,
    // Unused in this mode; kept so every config has the same fields.
    stft: stripNorm(DEFAULT_STFT_PARAMS),
    normalisation: 'zscore',
    amplitude: 'rms',
    order: { samplesPerRev: lines.samplesPerRev, revolutions, minRpm, maxRpm, envelope: null },
    window: { unit, length: revolutions, hop: hopRev },
    lines,
  };
}

/** Window length and hop (samples at the front end's rate) for cutting a recording at `rpm`. */
export function recordingWindows(
  config: FrontEndConfig,
  rpm?: number,
): { length: number; hop: number } {
  if (config.version !== 2 || config.mode !== 'order' || !config.window) {
    return { length: config.windowLength, hop: config.hop };
  }
  const r = rpm !== undefined && Number.isFinite(rpm) && rpm > 0 ? rpm : config.order.minRpm;
  return {
    length: samplesForRevolutions(config.window.length, config.sampleRate, r),
    hop: Math.max(1, Math.round((config.window.hop * config.sampleRate * 60) / r)),
  };
}

/** True when `config` reads bearing-specific (fault-order) lines. */
export function needsBearing(config: FrontEndConfig): boolean {
  return !!config.lines?.axes.some((a) => a !== 'shaft');
}

/** The version-2 order-mode front end (the order-line map). */
function createOrderLineFrontEnd(cfg: FrontEndConfig): FrontEnd {
  const lines = cfg.lines as OrderLineParams;
  const map = createOrderLineMap(lines, cfg.sampleRate);
  const inputShape = [lines.rows, lines.frames, lineChannels(lines)] as const;
  const size = inputShape[0] * inputShape[1] * inputShape[2];
  const { sampleRate } = cfg;
  let lastRpm: number | undefined;
  function process(
    window: Float32Array,
    rpm?: number,
    out?: Float32Array,
    bearing?: BearingGeometry,
  ): Float32Array {
    if (window.length === 0) {
      throw new FaultlineError('FL_ERR_SIGNAL_EMPTY', 'the front end got an empty window');
    }
    const data = out ?? new Float32Array(size);
    if (data.length !== size) {
      throw new FaultlineError(
        'FL_ERR_DSP_PARAMS',
        `output array has length ${data.length}, the front end needs ${size}`,
      );
    }
    if (rpm === undefined || rpm === null) checkFinite(window, 'front-end window');
    const shaftRpm = shaftSpeed(window, rpm, sampleRate, cfg);
    lastRpm = shaftRpm;
    map.compute(window, shaftRpm, data, bearing);
    return data;
  }
  return {
    config: deepFreeze(cfg),
    inputShape,
    process,
    get lastRpm() {
      return lastRpm;
    },
    // The evidence computes its own envelope in its own band.
    lastEnvelope: undefined,
  };
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
  let lastRpm: number | undefined;
  let lastEnvelope: LastEnvelope | undefined;

  function process(window: Float32Array, rpm?: number, out?: Float32Array): Float32Array {
    // (A bearing argument is read by the version-2 order front end only.)
    lastEnvelope = undefined;
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
    const data = out ?? new Float32Array(size);
    if (data.length !== size) {
      throw new FaultlineError(
        'FL_ERR_DSP_PARAMS',
        `output array has length ${data.length}, the front end needs ${size}`,
      );
    }
    if (!orderMode) {
      removeMean(window, work);
      if (amplitude === 'rms') scaleToUnitRms(work);
      plan.compute(work, data);
      return data;
    }
    const shaftRpm = shaftSpeed(window, rpm, sampleRate, cfg);
    lastRpm = shaftRpm;
    if (envelope) {
      envelope.compute(window, envelopeOut);
      // angularResample and the RMS scaling below only read `envelopeOut`.
      lastEnvelope = {
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

  return {
    config: deepFreeze(cfg),
    inputShape,
    process,
    get lastRpm() {
      return lastRpm;
    },
    get lastEnvelope() {
      return lastEnvelope;
    },
  };
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

/** The order-mode envelope's options of `cfg`, or undefined (time mode, raw signal). */
function orderEnvelopeOptions(cfg: FrontEndConfig): EnvelopeOptions | undefined {
  const e = cfg.order.envelope;
  if (cfg.mode !== 'order' || !e) return undefined;
  return { lowHz: e.lowHz, highHz: e.highHz, decimate: e.decimate === true };
}

/** [sample rate, samples] of the signal the STFT sees: time, or angle domain. */
function stftAxis(cfg: FrontEndConfig): [number, number] {
  if (cfg.mode === 'time') return [cfg.sampleRate, cfg.windowLength];
  return [cfg.order.samplesPerRev, Math.round(cfg.order.samplesPerRev * cfg.order.revolutions)];
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

function stripNorm(p: Readonly<StftParams>): FrontEndStft {
  const { normalisation: _n, ...rest } = p;
  return rest;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  const r: Partial<T> = {};
  for (const [k, v] of Object.entries(o))
    if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  return r;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
