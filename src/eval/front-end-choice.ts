/**
 * The front-end choice evaluation makes per task, from the data rather than
 * the signal processing (the axes every training run chooses are in
 * ../model/training-front-end.ts).
 *
 * - **Mode per task** (evaluation, where the target is known: `--mode
 *   auto`). The order-line map travels: it reads the impacts' repetition in
 *   orders, which neither a new speed nor a new rig moves. A time-mode
 *   spectrogram keeps more (resonances, the impacts' shape: what tells
 *   defect sizes apart) but only holds where the target runs like the
 *   source. So: time mode when the target rings like the source (same rig)
 *   AND turns at the same speed (±5 %), order mode otherwise.
 *
 * Measured on development data (dann-im; seeds 7, 8, 11 — never the
 * reported 4–6): CWRU cross-load (9 classes, same rig, speeds within 4 %)
 * time mode 100 % on 0→3, 3→0, 1→2, order mode with several bands jointly
 * normalised 96–99.8 %, with one band 86–94 %; CWRU → MFPT (another rig and
 * bearing, inner/outer) order mode with fault axes 100 %, several bands
 * jointly normalised 7 % (the classes swapped); simulated rigs at 600, 900
 * and 1,200 rpm, location, order mode with one band 100 %.
 *
 * "Rings like the source" is the band-level profile shift, label-free: per
 * window, the level of a few resonance bands (dB, minus the mean over
 * bands, so gain and speed drop out), per domain the mean and spread of
 * that profile, then the distance between the two means in units of the
 * pooled spread (root mean square over bands). Development data: CWRU load
 * to load 0.25–0.33; simulated rigs from 600 to 1,800 rpm 1.0–1.6; another
 * rig (CWRU ↔ MFPT, simulated rigs with other resonances) 2.65–4.1. The
 * threshold, 2, sits between.
 */
import { fftPlan } from '../dsp/fftutil.js';
import { type FrontEndConfig, recordingWindows } from '../dsp/frontend.js';
import { type Band, type LineNormalisation, profileBands } from '../dsp/order-lines.js';
import { nextPow2 } from '../dsp/signal.js';
import { FaultlineError } from '../errors.js';
import { recordingSpeed } from '../model/domains.js';
import type { Recording } from '../types.js';

/** Profile shift below which a target counts as the source's rig (see the file comment). */
export const SAME_RIG_SHIFT = 2;

/**
 * `--normalisation auto` on the source's rig at another speed: `level`
 * (../dsp/order-lines.ts), the dB of the lines less the speed law, read
 * relative to each domain's median window. Across rigs, `band`.
 */
export const SAME_RIG_NORMALISATION: LineNormalisation = 'level';

/** Speeds within this fraction count as the same operating speed (CWRU's loads: ≤ 4 %). */
export const SAME_SPEED = 0.05;

/** Windows per domain the profile reads (spread over its recordings' training segments). */
const PROFILE_WINDOWS = 96;

/** Mean and spread of a domain's band-level profile. */
export interface BandProfile {
  mean: number[];
  sd: number[];
  windows: number;
}

/**
 * The band-level profile of `recs` (at `sampleRate`, cut as `config` cuts
 * them) over profileBands, from up to PROFILE_WINDOWS windows of their
 * first 70 % (the training segment: no window a test would score).
 */
export function bandProfile(recs: readonly Recording[], config: FrontEndConfig): BandProfile {
  const fs = config.sampleRate;
  const bands = profileBands(fs);
  const starts: { rec: Recording; at: number; n: number }[] = [];
  for (const rec of recs) {
    const rpm = config.mode === 'order' ? recordingSpeed(rec, config) : rec.rpm;
    const { length } = recordingWindows(config, rpm);
    const end = Math.floor(rec.samples.length * 0.7);
    for (let at = 0; at + length <= end; at += length) starts.push({ rec, at, n: length });
  }
  if (starts.length === 0)
    throw new FaultlineError('FL_ERR_DATASET_EMPTY', 'no window to read a band profile from');
  const step = Math.max(1, starts.length / PROFILE_WINDOWS);
  const rows: number[][] = [];
  for (let i = 0; i < starts.length && rows.length < PROFILE_WINDOWS; i += step) {
    const { rec, at, n } = starts[Math.floor(i)];
    rows.push(levels(rec.samples.subarray(at, at + n), fs, bands));
  }
  const B = bands.length;
  const mean = new Array<number>(B).fill(0);
  const sd = new Array<number>(B).fill(0);
  for (const r of rows) for (let b = 0; b < B; b++) mean[b] += r[b] / rows.length;
  for (const r of rows) for (let b = 0; b < B; b++) sd[b] += (r[b] - mean[b]) ** 2 / rows.length;
  return { mean, sd: sd.map(Math.sqrt), windows: rows.length };
}

/** Band levels (dB) of one window, minus their mean. */
function levels(x: Float32Array, fs: number, bands: readonly Band[]): number[] {
  const N = nextPow2(x.length);
  const buf = new Float64Array(N);
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  for (let i = 0; i < x.length; i++) buf[i] = x[i] - m;
  const spec = new Float64Array(2 * N);
  fftPlan(N).realTransform(spec, buf);
  const db = bands.map((b) => {
    const k0 = Math.max(1, Math.ceil((b.lowHz * N) / fs));
    const k1 = Math.min(N / 2, Math.floor((b.highHz * N) / fs));
    let p = 0;
    for (let k = k0; k <= k1; k++) p += spec[2 * k] ** 2 + spec[2 * k + 1] ** 2;
    return 10 * Math.log10(p + 1e-30);
  });
  const mean = db.reduce((a, b) => a + b, 0) / db.length;
  return db.map((v) => v - mean);
}

/**
 * Distance between two profiles' means in units of their pooled spread (RMS
 * over bands). The spread is floored at 0.5 dB: a simulated rig's profile
 * barely varies, and a tiny spread would make any difference look huge.
 */
export function profileShift(a: BandProfile, b: BandProfile): number {
  let s = 0;
  for (let i = 0; i < a.mean.length; i++) {
    const pooled = Math.sqrt((a.sd[i] ** 2 + b.sd[i] ** 2) / 2);
    s += ((a.mean[i] - b.mean[i]) / Math.max(pooled, 0.5)) ** 2;
  }
  return Math.sqrt(s / a.mean.length);
}

/** Median shaft speed of a domain's recordings (known or estimated), or undefined. */
export function domainSpeed(
  recs: readonly Recording[],
  config: FrontEndConfig,
): number | undefined {
  const v = recs
    .map((r) => recordingSpeed(r, config))
    .filter((x): x is number => x !== undefined)
    .sort((a, b) => a - b);
  return v.length === 0 ? undefined : v[v.length >> 1];
}

/** What `--mode auto` chose for one task, and why. */
export interface FrontEndChoice {
  mode: 'time' | 'order';
  /**
   * Order mode under `--normalisation auto`: SAME_RIG_NORMALISATION when the
   * target rings like the source (the same rig: levels mean the same there
   * and keep what tells defect sizes apart), `band` across rigs (each band
   * z-scored on its own: another rig's resonances weigh the bands differently).
   */
  normalisation?: LineNormalisation;
  /** Band-profile shift between source and target (see the file comment). */
  profileShift: number;
  /** Target over source median speed; undefined when a speed is unknown. */
  speedRatio?: number;
}

/**
 * `--mode auto` for one task: time mode when the target rings like the
 * source (profile shift < SAME_RIG_SHIFT) and turns at its speed (±SAME_SPEED),
 * order mode otherwise. `order` is the order-mode config the speeds and
 * profiles are read with.
 */
export function chooseFrontEnd(
  source: readonly Recording[],
  target: readonly Recording[],
  order: FrontEndConfig,
): FrontEndChoice {
  const profileShift = profileShiftOf(source, target, order);
  const s = domainSpeed(source, order);
  const t = domainSpeed(target, order);
  const speedRatio = s !== undefined && t !== undefined ? t / s : undefined;
  const sameSpeed = speedRatio !== undefined && Math.abs(speedRatio - 1) <= SAME_SPEED;
  return {
    mode: profileShift < SAME_RIG_SHIFT && sameSpeed ? 'time' : 'order',
    profileShift,
    ...(speedRatio !== undefined ? { speedRatio } : {}),
  };
}

/** The band-profile shift between two sets of recordings. */
export function profileShiftOf(
  source: readonly Recording[],
  target: readonly Recording[],
  config: FrontEndConfig,
): number {
  return profileShift(bandProfile(source, config), bandProfile(target, config));
}
