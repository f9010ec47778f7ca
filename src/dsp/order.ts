/**
 * Angular (order) resampling: a change of shaft speed moves every
 * shaft-locked frequency (1×, gear mesh, BPFO, BPFI…) in proportion, so a
 * signal resampled to a fixed number of samples per revolution shows them at
 * fixed orders whatever the speed. The speed is taken as constant within one
 * window (a 1 s window; speed drifts slowly on the machines Faultline
 * watches), which turns angular resampling into band-limited resampling by
 * the ratio fs / (samplesPerRev · shaftHz).
 *
 * Interpolation is windowed-sinc (Smith's bandlimited interpolation): a
 * Kaiser-windowed sinc stored as a table and linearly interpolated; when
 * downsampling, the sinc is stretched by the ratio, which makes it the
 * anti-alias low-pass as well.
 */
import { FaultlineError } from '../errors.js';
import { checkFinite, requireParam } from './signal.js';

/** Zero crossings of the sinc kernel on each side (kernel support ±ZEROS input samples at ratio ≤ 1). */
const ZEROS = 16;
/** Table entries per zero crossing (linear interpolation between them: error < 1e-5). */
const RES = 512;
/** Kaiser β: stop-band attenuation ≈ 80 dB. */
const KAISER_BETA = 8;
/** Cut-off as a fraction of the output (or input) Nyquist, leaving room for the transition band. */
export const RESAMPLE_ROLLOFF = 0.9;

let kernelTable: Float64Array | undefined;

/** h(τ) = sinc(τ)·kaiser(τ / ZEROS) for τ = i / RES, i = 0 … ZEROS·RES (+1 guard). */
function kernel(): Float64Array {
  if (kernelTable) return kernelTable;
  const n = ZEROS * RES + 2;
  const t = new Float64Array(n);
  const i0b = besselI0(KAISER_BETA);
  for (let i = 0; i < n; i++) {
    const tau = i / RES;
    const r = tau / ZEROS;
    const w = r < 1 ? besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0b : 0;
    t[i] = (tau === 0 ? 1 : Math.sin(Math.PI * tau) / (Math.PI * tau)) * w;
  }
  kernelTable = t;
  return t;
}

function besselI0(x: number): number {
  // Power series; converges fast for the β used here.
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}

/**
 * Resamples `x` (sampled at `fs` Hz, shaft at `shaftHz`, taken as constant)
 * to `samplesPerRev` samples per revolution, starting at x[0].
 *
 * @param x signal, any unit
 * @param fs sample rate, Hz
 * @param shaftHz shaft speed, Hz (rpm / 60)
 * @param samplesPerRev output samples per revolution (output Nyquist = samplesPerRev/2 orders)
 * @param outLength output samples (covers outLength / samplesPerRev revolutions)
 * @param out optional output array of length outLength
 * @returns the angle-domain signal, length outLength
 * @throws FL_ERR_SIGNAL_TOO_SHORT when x holds fewer revolutions than asked;
 *   FL_ERR_DSP_PARAMS on bad parameters; FL_ERR_SIGNAL_NONFINITE
 */
export function angularResample(
  x: ArrayLike<number>,
  fs: number,
  shaftHz: number,
  samplesPerRev: number,
  outLength: number,
  out?: Float32Array,
): Float32Array {
  requireParam(Number.isFinite(fs) && fs > 0, `fs must be > 0 Hz, got ${fs}`);
  requireParam(
    Number.isFinite(shaftHz) && shaftHz > 0,
    `shaft speed must be > 0 Hz, got ${shaftHz}`,
  );
  requireParam(
    Number.isInteger(samplesPerRev) && samplesPerRev >= 4,
    `samplesPerRev must be an integer ≥ 4, got ${samplesPerRev}`,
  );
  requireParam(
    Number.isInteger(outLength) && outLength >= 1,
    `outLength must be a positive integer, got ${outLength}`,
  );
  const y = out ?? new Float32Array(outLength);
  requireParam(
    y.length === outLength,
    `output array has length ${y.length}, expected ${outLength}`,
  );
  // Input samples per output sample.
  const ratio = fs / (samplesPerRev * shaftHz);
  const needed = (outLength - 1) * ratio + 1;
  if (x.length < needed) {
    const revs = outLength / samplesPerRev;
    throw new FaultlineError(
      'FL_ERR_SIGNAL_TOO_SHORT',
      `${x.length} samples at ${fs} Hz hold ${((x.length / fs) * shaftHz).toFixed(2)} revolutions at ${(shaftHz * 60).toFixed(1)} rpm, ` +
        `fewer than the ${revs} the order front end needs; use longer windows, fewer revolutions, or speeds ≥ ${((revs * fs * 60) / x.length).toFixed(0)} rpm`,
    );
  }
  checkFinite(x, 'angular-resampling input');
  const w = reusableWeights(ratio, outLength, x.length);
  if (!w) {
    resampleDirect(x, ratio, y);
    return y;
  }
  const { first, offsets, weights, c } = w;
  for (let j = 0; j < outLength; j++) {
    const i0 = first[j];
    let acc = 0;
    for (let o = offsets[j], e = offsets[j + 1], i = i0; o < e; o++, i++) acc += x[i] * weights[o];
    y[j] = acc * c;
  }
  return y;
}

/** Interpolated kernel weights of one (ratio, outLength, input length). */
interface ResampleWeights {
  ratio: number;
  outLength: number;
  inLength: number;
  /** Cut-off, input-normalised. */
  c: number;
  /** First input sample of output j. */
  first: Int32Array;
  /** Weights of output j: weights[offsets[j] … offsets[j + 1]). */
  offsets: Int32Array;
  weights: Float64Array;
}

/**
 * Weights of the speeds in use. A gateway diagnoses most windows of a machine
 * at the same speed (a nominal rpm, or a frame rpm that repeats), so a ratio
 * repeats: reusing its weights turns ~110 table interpolations per output
 * sample into a plain dot product (~5× faster) with bit-identical results,
 * since the weights are the same float64 expressions. A worker serves
 * several machines at different speeds, hence a few entries (least recently
 * used goes first; ≈ 1–2 MB each at 2048 outputs) rather than one, which
 * machines taking turns would rebuild on every window.
 */
const MAX_CACHED_WEIGHTS = 4;
const weightCache = new Map<string, ResampleWeights>();

/**
 * Keys met once and not cached yet: weights are built on a key's second
 * use. A speed seen once (estimated speeds vary per window) is not worth
 * the memory. Bounded: old keys are forgotten.
 */
const seenOnce = new Set<string>();
const MAX_SEEN = 32;

/** The cached weights for this call, built when its key repeats; else undefined (compute directly). */
function reusableWeights(
  ratio: number,
  outLength: number,
  inLength: number,
): ResampleWeights | undefined {
  const key = `${ratio}/${outLength}/${inLength}`;
  const hit = weightCache.get(key);
  if (hit) {
    // Refresh its place: Map iteration order is insertion order.
    weightCache.delete(key);
    weightCache.set(key, hit);
    return hit;
  }
  if (!seenOnce.has(key)) {
    seenOnce.add(key);
    if (seenOnce.size > MAX_SEEN) seenOnce.delete(seenOnce.values().next().value as string);
    return undefined;
  }
  seenOnce.delete(key);
  const w = resampleWeights(ratio, outLength, inLength);
  weightCache.set(key, w);
  if (weightCache.size > MAX_CACHED_WEIGHTS) {
    weightCache.delete(weightCache.keys().next().value as string);
  }
  return w;
}

/** Smith's interpolation straight from the table (speeds that do not repeat). */
function resampleDirect(x: ArrayLike<number>, ratio: number, y: Float32Array): void {
  const table = kernel();
  // Cut-off in input-normalised frequency: the lower of the two Nyquists.
  const c = Math.min(1, 1 / ratio) * RESAMPLE_ROLLOFF;
  const halfWidth = ZEROS / c; // kernel half-support, input samples
  const step = c * RES; // table entries per input sample
  const last = x.length - 1;
  const limit = ZEROS * RES;
  for (let j = 0; j < y.length; j++) {
    const u = j * ratio;
    const i0 = Math.max(0, Math.ceil(u - halfWidth));
    const i1 = Math.min(last, Math.floor(u + halfWidth));
    let acc = 0;
    for (let i = i0; i <= i1; i++) {
      const d = i - u;
      const pos = (d < 0 ? -d : d) * step;
      const k = pos | 0;
      if (k >= limit) continue;
      const h0 = table[k];
      acc += x[i] * (h0 + (pos - k) * (table[k + 1] - h0));
    }
    y[j] = acc * c;
  }
}

function resampleWeights(ratio: number, outLength: number, inLength: number): ResampleWeights {
  const table = kernel();
  // Cut-off in input-normalised frequency: the lower of the two Nyquists.
  const c = Math.min(1, 1 / ratio) * RESAMPLE_ROLLOFF;
  const halfWidth = ZEROS / c; // kernel half-support, input samples
  const step = c * RES; // table entries per input sample
  const last = inLength - 1;
  const limit = ZEROS * RES;
  const first = new Int32Array(outLength);
  const offsets = new Int32Array(outLength + 1);
  const taps = 2 * Math.ceil(halfWidth) + 2;
  const weights = new Float64Array(outLength * taps);
  let o = 0;
  for (let j = 0; j < outLength; j++) {
    const u = j * ratio;
    const i0 = Math.max(0, Math.ceil(u - halfWidth));
    const i1 = Math.min(last, Math.floor(u + halfWidth));
    first[j] = i0;
    offsets[j] = o;
    for (let i = i0; i <= i1; i++) {
      const d = i - u;
      const pos = (d < 0 ? -d : d) * step;
      const k = pos | 0;
      // Beyond the kernel's support: weight 0 (adds +0, as skipping it did).
      if (k >= limit) weights[o++] = 0;
      else {
        const h0 = table[k];
        weights[o++] = h0 + (pos - k) * (table[k + 1] - h0);
      }
    }
  }
  offsets[outLength] = o;
  return { ratio, outLength, inLength, c, first, offsets, weights };
}

/**
 * Lowest shaft speed, rpm, at which a window of `windowLength` samples at `fs`
 * Hz holds enough revolutions for `outLength` samples at `samplesPerRev`.
 */
export function minRpmFor(
  windowLength: number,
  fs: number,
  samplesPerRev: number,
  outLength: number,
): number {
  return (60 * (outLength - 1) * fs) / (samplesPerRev * (windowLength - 1));
}
