/**
 * The front end's configuration (./frontend.ts): what a model stores in its
 * metadata, the defaults of versions 1 and 2, and their validation
 * (resolveFrontEndConfig), plus what is derived from a config alone.
 */
import type { EnvelopeOptions } from './envelope.js';
import {
  checkOrderLineParams,
  defaultBands,
  type OrderLineParams,
  profileBands,
  samplesForRevolutions,
} from './order-lines.js';
import { MAX_SIGNAL_SAMPLES, requireParam } from './signal.js';
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

/** The order-mode envelope's options of `cfg`, or undefined (time mode, raw signal). */
export function orderEnvelopeOptions(cfg: FrontEndConfig): EnvelopeOptions | undefined {
  const e = cfg.order.envelope;
  if (cfg.mode !== 'order' || !e) return undefined;
  return { lowHz: e.lowHz, highHz: e.highHz, decimate: e.decimate === true };
}

/** [sample rate, samples] of the signal the STFT sees: time, or angle domain. */
export function stftAxis(cfg: FrontEndConfig): [number, number] {
  if (cfg.mode === 'time') return [cfg.sampleRate, cfg.windowLength];
  return [cfg.order.samplesPerRev, Math.round(cfg.order.samplesPerRev * cfg.order.revolutions)];
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
