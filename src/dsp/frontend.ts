/**
 * The front end: one window of acceleration → one normalised spectrogram,
 * the CNN's input. This single implementation serves training and live
 * diagnosis; a model stores its `FrontEndConfig` (plain JSON) in its
 * metadata and the live pipeline rebuilds the identical front end from it.
 *
 * time mode:  x → −mean → ÷RMS → STFT (Hz axis) → normalise
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
import { FaultlineError } from '../errors.js';
import { bandEnvelopeGeometry, createBandEnvelope, type EnvelopeOptions } from './envelope.js';
import { angularResample, minRpmFor } from './order.js';
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

/** Everything that defines the front end. JSON-serialisable; stored with each model. */
export interface FrontEndConfig {
  /** Format version of this object. */
  version: 1;
  /** Input sample rate, Hz. */
  sampleRate: number;
  /** Samples per window. */
  windowLength: number;
  /** Samples between the starts of consecutive windows (segmentation of recordings and streams). */
  hop: number;
  mode: FrontEndMode;
  /** STFT parameters; in order mode fMin/fMax are in orders. */
  stft: FrontEndStft;
  normalisation: Normalisation;
  /** Divide each window by its RMS first (gain and mounting invariance); default 'rms'. */
  amplitude: 'rms' | 'none';
  /** Order-mode parameters (kept, and ignored, in time mode). */
  order: OrderParams;
}

export interface FrontEnd {
  readonly config: Readonly<FrontEndConfig>;
  /** `[freqBins, frames, channels]` of every output (channel-last). */
  readonly inputShape: readonly [number, number, number];
  /**
   * Spectrogram of one window (length = windowLength, g), row-major
   * `[freq, time]` (`out[f * frames + t]`), into `out` or a new array.
   * @param rpm shaft speed, rpm; order mode estimates it when absent
   * @throws FL_ERR_SIGNAL_* on a bad window, FL_ERR_SPEED_UNKNOWN (order mode,
   *   no rpm and none found), FL_ERR_SIGNAL_TOO_SHORT (order mode, too slow)
   */
  process(window: Float32Array, rpm?: number, out?: Float32Array): Float32Array;
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
export function resolveFrontEndConfig(
  partial: Partial<Omit<FrontEndConfig, 'stft' | 'order'>> & {
    stft?: Partial<FrontEndStft>;
    order?: Partial<OrderParams>;
  } = {},
): FrontEndConfig {
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

/**
 * Builds the front end described by `config` (completed by
 * resolveFrontEndConfig, so a stored partial config also works).
 */
export function createFrontEnd(
  config: Partial<Omit<FrontEndConfig, 'stft' | 'order'>> & {
    stft?: Partial<FrontEndStft>;
    order?: Partial<OrderParams>;
  },
): FrontEnd {
  const cfg = resolveFrontEndConfig(config);
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
    let shaftRpm = rpm;
    if (shaftRpm === undefined || shaftRpm === null) {
      shaftRpm = estimateShaftSpeed(window, sampleRate, {
        minRpm: cfg.order.minRpm,
        maxRpm: cfg.order.maxRpm,
      }).rpm;
    } else if (!(Number.isFinite(shaftRpm) && shaftRpm > 0)) {
      throw new FaultlineError(
        'FL_ERR_DSP_PARAMS',
        `rpm must be a finite speed > 0, got ${shaftRpm}; omit it to estimate`,
      );
    }
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
