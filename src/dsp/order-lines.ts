/**
 * The order-line map: one window of acceleration → the envelope spectra of a
 * few resonance bands, in shaft or fault orders, over time. The CNN's input in
 * order mode (front-end version 2).
 *
 *   x (analysis rate) → forward FFT once → per band: analytic band, inverse
 *   FFT at a decimated rate, modulus (the band envelope) → angular resampling
 *   to `samplesPerRev` (so every shaft-locked line sits at a fixed order) →
 *   STFT over the angle signal (frames of `frameRevolutions`) → magnitudes
 *   read on each channel's axis → dB → normalisation.
 *
 * Why envelopes: a bearing defect shows as impacts ringing the structure's
 * resonances, which sit in Hz and move from rig to rig and sensor to sensor;
 * the impacts' repetition rate (BPFO, BPFI, 2·BSF, FTF, with 1× sidebands)
 * is a fixed multiple of the shaft speed. The envelope keeps the repetition
 * and drops the carrier, so the map looks the same at 600 and 1,800 rpm
 * and on another rig. Several bands instead of one because nobody knows in
 * advance where a new machine's resonances lie.
 *
 * Axes (channels per band):
 * - `shaft`: orders 0 … maxOrder, uniform. Needs the speed only.
 * - `BPFO`, `BPFI`, `BSF2`: the same spectrum read at multiples of that
 *   defect's own order (from the bearing geometry): row r sits at
 *   (r + 1)/rows × faultSpan × f_defect, so the defect's line and its
 *   harmonics land on the same rows for any bearing at any speed. This is
 *   what lets a model trained on one bearing read another.
 *
 * Normalisation:
 * - `band` (default): each channel is z-scored on its own. What is left is
 *   the pattern of lines within each band, whatever the band's level; the
 *   level depends on the rig's resonances and does not travel.
 * - `level`: no z-score: dB as they are, less the speed law and the
 *   model's reference level (`levelRef`). Keeps how strong the impacts are,
 *   which is what tells defect sizes apart, at any speed; a rig's gain and
 *   resonances move it, so it serves one rig at several speeds, and
 *   adaptation re-centres it on the target's own median level.
 * - `joint`: one z-score over all channels: keeps how strongly each band
 *   rings, which tells defect sizes apart on one rig (CWRU) but misleads on
 *   another (measured: CWRU → MFPT swaps inner and outer after adaptation).
 *
 * A window's line map is read on the magnitudes by the largest of three
 * linear interpolations (at the row centre and ± a quarter of its width), so
 * a line between two FFT bins, or off by the slip of a real bearing (1–2 %),
 * still reads at full height.
 */

import { bearingFrequencies } from '../contract/bearing.js';
import type { BearingGeometry } from '../contract/machine.js';
import { FaultlineError } from '../errors.js';
import { fftPlan } from './fftutil.js';
import { angularResample } from './order.js';
import { checkFinite, nextPow2, requireParam } from './signal.js';

/** A channel's frequency axis. */
export type LineAxis = 'shaft' | 'BPFO' | 'BPFI' | 'BSF2';
export const LINE_AXES: readonly LineAxis[] = ['shaft', 'BPFO', 'BPFI', 'BSF2'];
/** The fault axes, in channel order. */
export const FAULT_AXES: readonly LineAxis[] = ['BPFO', 'BPFI', 'BSF2'];

export type LineNormalisation = 'band' | 'joint' | 'level';
export const LINE_NORMALISATIONS: readonly LineNormalisation[] = ['band', 'joint', 'level'];

/**
 * `level` normalisation: the speed at which a line's level is read as it
 * is, and how the level of a defect's lines grows with speed. Two powers of
 * the speed: impacts on a spall grow with the rolling speed (the element
 * meets the defect's edge at a speed proportional to the shaft's), and each
 * impact's ring lasts a fixed time, so in angle it spans a share of a
 * revolution that grows with the speed, and so does its line in the order
 * spectrum. A window's dB are lowered by LEVEL_SPEED_POWER × 20·log10(rpm /
 * LEVEL_REFERENCE_RPM), so one defect reads at about one level at 600 and
 * 1,800 rpm; what the law misses on a given machine, adaptation's
 * re-centring takes up (../model/level.ts).
 */
export const LEVEL_REFERENCE_RPM = 1800;
export const LEVEL_SPEED_POWER = 2;
/** dB per unit of a `level` input: keeps the inputs of order 1 for the CNN. */
export const LEVEL_SCALE_DB = 10;

/** A resonance band, Hz. */
export interface Band {
  lowHz: number;
  highHz: number;
}

/** Parameters of the order-line map (stored in a model's front end). */
export interface OrderLineParams {
  /** Envelope bands, Hz (each below the analysis Nyquist). */
  bands: Band[];
  /** Channel axes per band, in order; fault axes need a bearing. */
  axes: LineAxis[];
  /** Revolutions per window. */
  revolutions: number;
  /** Angle-domain samples per revolution of the envelope (its Nyquist, orders, is half). */
  samplesPerRev: number;
  /** STFT frame length, revolutions (frequency resolution 1/frameRevolutions orders). */
  frameRevolutions: number;
  /** Rows of the map. */
  rows: number;
  /** Frames of the map, spread evenly over the window. */
  frames: number;
  /** Top of the `shaft` axis, orders. */
  maxOrder: number;
  /** Top of a fault axis, in multiples of that fault's order. */
  faultSpan: number;
  normalisation: LineNormalisation;
  /**
   * `level` normalisation: the dB (after the speed law) read as 0, set by
   * training to the median window of the source data and by adaptation to
   * the target's (see ../model/level.ts). Default 0.
   */
  levelRef?: number;
  /**
   * The bearing the model was trained on: read when a window comes without
   * one (fault axes only). Absent: every window must bring its own.
   */
  bearing?: BearingGeometry;
}

/**
 * The default envelope band: 1,000 Hz to min(5,400 Hz, 0.45 × the analysis
 * rate). One wide band: where a new machine's resonances lie is not known,
 * and on development data one wide band transferred better than several
 * narrow ones z-scored apart (a band without a resonance is noise blown up
 * to unit variance): simulated rigs A/B at 600–1,200 rpm, location,
 * dann-im 100 % against 94.5 %.
 */
export function defaultBands(sampleRate: number): Band[] {
  return [{ lowHz: Math.min(1000, 0.1 * sampleRate), highHz: Math.min(5400, 0.45 * sampleRate) }];
}

/**
 * Contiguous bands 500–1500–3000–4500–6000… Hz up to 0.475 × the rate: the
 * band-level profile (../eval/front-end-choice.ts) and, after the wide
 * band, the default bands of `joint` normalisation (band levels kept: defect
 * sizes on one rig).
 */
export function profileBands(sampleRate: number): Band[] {
  const top = 0.475 * sampleRate;
  const edges = [500, 1500, 3000, 4500, 6000, 8000, 10_000, 13_000, 16_000, 20_000].filter(
    (e) => e < top,
  );
  // The last band runs to the top; one narrower than 750 Hz joins the one below.
  if (edges.length > 1 && top - edges[edges.length - 1] < 750) edges.pop();
  edges.push(top);
  const bands: Band[] = [];
  for (let i = 0; i + 1 < edges.length; i++) bands.push({ lowHz: edges[i], highHz: edges[i + 1] });
  return bands;
}

/** Checks `p` against an analysis rate (FL_ERR_DSP_PARAMS naming the field). */
export function checkOrderLineParams(p: OrderLineParams, sampleRate: number): void {
  requireParam(
    Array.isArray(p.bands) && p.bands.length >= 1 && p.bands.length <= 16,
    `frontEnd.lines.bands must hold 1…16 bands, got ${JSON.stringify(p.bands)}`,
  );
  p.bands.forEach((b, i) => {
    requireParam(
      Number.isFinite(b?.lowHz) &&
        Number.isFinite(b?.highHz) &&
        b.lowHz >= 0 &&
        b.highHz > b.lowHz &&
        b.highHz <= sampleRate / 2,
      `frontEnd.lines.bands[${i}] ${JSON.stringify(b)} needs 0 ≤ lowHz < highHz ≤ ${sampleRate / 2} Hz (the analysis rate's Nyquist)`,
    );
  });
  requireParam(
    Array.isArray(p.axes) &&
      p.axes.length >= 1 &&
      p.axes.every((a) => LINE_AXES.includes(a)) &&
      new Set(p.axes).size === p.axes.length,
    `frontEnd.lines.axes must be distinct of ${LINE_AXES.join(', ')}, got ${JSON.stringify(p.axes)}`,
  );
  requireParam(
    Number.isInteger(p.samplesPerRev) && p.samplesPerRev >= 8 && p.samplesPerRev <= 4096,
    `frontEnd.lines.samplesPerRev must be an integer in 8…4096, got ${p.samplesPerRev}`,
  );
  const nfft = p.samplesPerRev * p.frameRevolutions;
  requireParam(
    Number.isInteger(nfft) && nfft >= 8 && (nfft & (nfft - 1)) === 0,
    `frontEnd.lines.samplesPerRev × frameRevolutions must be a power of two ≥ 8, got ${p.samplesPerRev} × ${p.frameRevolutions}`,
  );
  requireParam(
    p.revolutions >= p.frameRevolutions && p.revolutions <= 1024,
    `frontEnd.lines.revolutions must be in frameRevolutions (${p.frameRevolutions})…1024, got ${p.revolutions}`,
  );
  requireParam(
    Number.isInteger(p.rows) && p.rows >= 4 && p.rows <= 512,
    `frontEnd.lines.rows must be an integer in 4…512, got ${p.rows}`,
  );
  requireParam(
    Number.isInteger(p.frames) && p.frames >= 1 && p.frames <= 512,
    `frontEnd.lines.frames must be an integer in 1…512, got ${p.frames}`,
  );
  requireParam(
    p.maxOrder > 0 && p.maxOrder <= p.samplesPerRev / 2,
    `frontEnd.lines.maxOrder must be in (0, samplesPerRev/2 = ${p.samplesPerRev / 2}] orders, got ${p.maxOrder}`,
  );
  requireParam(
    p.faultSpan > 0 && p.faultSpan <= 16,
    `frontEnd.lines.faultSpan must be in (0, 16], got ${p.faultSpan}`,
  );
  requireParam(
    LINE_NORMALISATIONS.includes(p.normalisation),
    `frontEnd.lines.normalisation must be one of ${LINE_NORMALISATIONS.join(', ')}, got ${p.normalisation}`,
  );
  requireParam(
    p.levelRef === undefined || (Number.isFinite(p.levelRef) && Math.abs(p.levelRef) < 1000),
    `frontEnd.lines.levelRef must be a finite level in dB, got ${p.levelRef}`,
  );
}

/** Channels of the map: bands × axes. */
export function lineChannels(p: OrderLineParams): number {
  return p.bands.length * p.axes.length;
}

/** Samples (at `sampleRate`) that `revolutions` take at `rpm`, plus one for interpolation. */
export function samplesForRevolutions(
  revolutions: number,
  sampleRate: number,
  rpm: number,
): number {
  return Math.ceil((revolutions * sampleRate * 60) / rpm) + 1;
}

/** A reusable map computation for one analysis rate. Not re-entrant. */
export interface OrderLineMap {
  /** `[rows, frames, channels]`. */
  readonly shape: readonly [number, number, number];
  /**
   * The map of the first `revolutions` of `x` (g, at the analysis rate; at
   * least samplesForRevolutions(revolutions, fs, rpm) long) into `out`
   * (rows × frames × channels, channel-last).
   * @param bearing geometry for the fault axes; default the params' bearing
   * @throws FL_ERR_SIGNAL_TOO_SHORT, FL_ERR_DSP_PARAMS (no bearing for a fault axis)
   */
  compute(x: Float32Array, rpm: number, out: Float32Array, bearing?: BearingGeometry): void;
  /**
   * The first band's envelope of the last call (mean removed) at `rate` Hz,
   * over the samples it read; valid until the next call.
   */
  lastEnvelope(): { data: Float32Array; rate: number; band: Band } | undefined;
}

/** Plans per forward-FFT size (a few sizes in use: the speed decides the window's length). */
interface SizePlan {
  N: number;
  /** Per band: first/last bin, decimation, inverse size. */
  bands: { kLo: number; kHi: number; D: number; M: number; kc: number }[];
  real: Float64Array;
  spec: Float64Array;
  analytic: Float64Array[];
  z: Float64Array[];
  env: Float32Array[];
}

const MAX_SIZE_PLANS = 6;

/** Builds the map computation for `p` at analysis rate `fs` Hz. */
export function createOrderLineMap(p: OrderLineParams, fs: number): OrderLineMap {
  checkOrderLineParams(p, fs);
  const B = p.bands.length;
  const A = p.axes.length;
  const K = B * A;
  const { rows: F, frames: T, samplesPerRev: spr } = p;
  const len = Math.round(spr * p.revolutions);
  const nfft = spr * p.frameRevolutions;
  const frameFft = fftPlan(nfft);
  const hann = new Float64Array(nfft);
  for (let i = 0; i < nfft; i++) hann[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / nfft);
  const frameBuf = new Float64Array(nfft);
  const frameSpec = new Float64Array(2 * nfft);
  const nb = nfft / 2 + 1;
  const binOrders = spr / nfft;
  const frameStarts = new Int32Array(T);
  for (let t = 0; t < T; t++)
    frameStarts[t] = T > 1 ? Math.round((t * (len - nfft)) / (T - 1)) : (len - nfft) >> 1;
  const mag = new Float64Array(T * nb);
  const angle = new Float32Array(len);
  const db = Array.from({ length: K }, () => new Float32Array(F * T));
  const sizePlans = new Map<number, SizePlan>();
  let last: { data: Float32Array; rate: number; band: Band } | undefined;

  const sizePlan = (N: number): SizePlan => {
    let sp = sizePlans.get(N);
    if (sp) return sp;
    if (sizePlans.size >= MAX_SIZE_PLANS) sizePlans.delete(sizePlans.keys().next().value as number);
    const bands = p.bands.map((b) => {
      const kLo = Math.max(1, Math.ceil((b.lowHz * N) / fs));
      const kHi = Math.min(N / 2 - 1, Math.floor((b.highHz * N) / fs));
      const width = Math.max(1, kHi - kLo + 1);
      // The envelope of a band W Hz wide lives within ±W: a rate ≥ 2W keeps it (see envelope.ts).
      let D = 1;
      while (N / (2 * D) >= 2 * width && N / (2 * D) >= 2) D *= 2;
      const M = N / D;
      return { kLo, kHi, D, M, kc: D === 1 ? 0 : Math.floor((kLo + kHi) / 2) };
    });
    sp = {
      N,
      bands,
      real: new Float64Array(N),
      spec: new Float64Array(2 * N),
      analytic: bands.map((b) => new Float64Array(2 * b.M)),
      z: bands.map((b) => new Float64Array(2 * b.M)),
      env: bands.map((b) => new Float32Array(b.M)),
    };
    sizePlans.set(N, sp);
    return sp;
  };

  function axisOrder(axis: LineAxis, bearing: BearingGeometry | undefined): number {
    if (axis === 'shaft') return 0;
    const g = bearing ?? p.bearing;
    if (!g) {
      throw new FaultlineError(
        'FL_ERR_DSP_PARAMS',
        `the model reads ${axis} lines but no bearing geometry was given for this signal; give the bearing (manifest 'bearing' or n_balls/ball_d/pitch_d/contact_angle_deg, or machines[].bearing in the gateway config)`,
      );
    }
    const f = bearingFrequencies(g, 1);
    return axis === 'BPFO' ? f.BPFO : axis === 'BPFI' ? f.BPFI : 2 * f.BSF;
  }

  /** Magnitude at `order` in frame t: the largest of three interpolations across ±hw/4. */
  const read = (t: number, order: number, hw: number): number => {
    let best = 0;
    const base = t * nb;
    for (let j = -1; j <= 1; j++) {
      const pos = (order + (j * hw) / 4) / binOrders;
      if (pos < 0 || pos >= nb - 1) continue;
      const k = pos | 0;
      const f = pos - k;
      const v = mag[base + k] * (1 - f) + mag[base + k + 1] * f;
      if (v > best) best = v;
    }
    return best;
  };

  function compute(x: Float32Array, rpm: number, out: Float32Array, bearing?: BearingGeometry) {
    requireParam(Number.isFinite(rpm) && rpm > 0, `rpm must be a finite speed > 0, got ${rpm}`);
    requireParam(
      out.length === F * T * K,
      `output has ${out.length} values, the map needs ${F * T * K}`,
    );
    const n = samplesForRevolutions(p.revolutions, fs, rpm);
    if (x.length < n) {
      throw new FaultlineError(
        'FL_ERR_SIGNAL_TOO_SHORT',
        `${x.length} samples at ${fs} Hz hold ${((x.length * rpm) / 60 / fs).toFixed(2)} revolutions at ${rpm.toFixed(0)} rpm; the model reads ${p.revolutions}; use speeds ≥ ${Math.ceil((p.revolutions * fs * 60) / (x.length - 1))} rpm or longer windows`,
      );
    }
    checkFinite(x.subarray(0, n), 'order-line window');
    const axisF = p.axes.map((a) => axisOrder(a, bearing));
    const sp = sizePlan(nextPow2(n));
    const { N, real, spec } = sp;
    let mean = 0;
    for (let i = 0; i < n; i++) mean += x[i];
    mean /= n;
    for (let i = 0; i < n; i++) real[i] = x[i] - mean;
    real.fill(0, n);
    fftPlan(N).realTransform(spec, real);
    for (let bi = 0; bi < B; bi++) {
      const b = sp.bands[bi];
      const { M, D, kc } = b;
      const analytic = sp.analytic[bi];
      const z = sp.z[bi];
      analytic.fill(0);
      for (let k = b.kLo; k <= b.kHi; k++) {
        const j = (((k - kc) % M) + M) % M;
        analytic[2 * j] = 2 * spec[2 * k];
        analytic[2 * j + 1] = 2 * spec[2 * k + 1];
      }
      (D === 1 ? fftPlan(N) : fftPlan(M)).inverseTransform(z, analytic);
      // Only the window's own samples (the rest is zero padding's tail).
      const m = Math.ceil(n / D);
      const env = sp.env[bi].subarray(0, m);
      let em = 0;
      for (let i = 0; i < m; i++) {
        const v = Math.hypot(z[2 * i], z[2 * i + 1]) / D;
        env[i] = v;
        em += v;
      }
      em /= m;
      for (let i = 0; i < m; i++) env[i] -= em;
      if (bi === 0) last = { data: env, rate: fs / D, band: p.bands[0] };
      angularResample(env, fs / D, rpm / 60, spr, len, angle);
      for (let t = 0; t < T; t++) {
        const s = frameStarts[t];
        for (let i = 0; i < nfft; i++) frameBuf[i] = angle[s + i] * hann[i];
        frameFft.realTransform(frameSpec, frameBuf);
        for (let k = 0; k < nb; k++)
          mag[t * nb + k] = Math.hypot(frameSpec[2 * k], frameSpec[2 * k + 1]);
      }
      for (let ai = 0; ai < A; ai++) {
        const v = db[bi * A + ai];
        const shaft = p.axes[ai] === 'shaft';
        const step = shaft ? p.maxOrder / F : (p.faultSpan * axisF[ai]) / F;
        for (let r = 0; r < F; r++) {
          // shaft rows are bin centres from 0; fault rows end on the span's top line
          const order = shaft ? (r + 0.5) * step : (r + 1) * step;
          for (let t = 0; t < T; t++) v[r * T + t] = 20 * Math.log10(read(t, order, step) + 1e-12);
        }
      }
    }
    if (p.normalisation === 'level') {
      const ref =
        LEVEL_SPEED_POWER * 20 * Math.log10(rpm / LEVEL_REFERENCE_RPM) + (p.levelRef ?? 0);
      for (let c = 0; c < K; c++) {
        const v = db[c];
        for (let i = 0; i < v.length; i++) out[i * K + c] = (v[i] - ref) / LEVEL_SCALE_DB;
      }
    } else if (p.normalisation === 'joint') zscore(db, out, K, 0, K);
    else for (let c = 0; c < K; c++) zscore(db, out, K, c, c + 1);
  }

  return {
    shape: [F, T, K] as const,
    compute,
    lastEnvelope: () => last,
  };
}

/** One z-score over channels [from, to) of `vals`, written channel-last into `out`. */
function zscore(vals: Float32Array[], out: Float32Array, K: number, from: number, to: number) {
  let s = 0;
  let n = 0;
  for (let c = from; c < to; c++) for (const v of vals[c]) s += v;
  n = (to - from) * vals[from].length;
  const mean = s / n;
  let s2 = 0;
  for (let c = from; c < to; c++) for (const v of vals[c]) s2 += (v - mean) * (v - mean);
  const sd = Math.sqrt(s2 / n);
  // A flat channel (a dead band) stays zeros, not NaN.
  const inv = sd > 1e-9 ? 1 / sd : 0;
  for (let c = from; c < to; c++) {
    const v = vals[c];
    for (let i = 0; i < v.length; i++) out[i * K + c] = (v[i] - mean) * inv;
  }
}
