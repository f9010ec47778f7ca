/**
 * Streaming sample-rate conversion for live sensors: the filter of
 * ./resample.ts (`designResampler`, `resamplerKernel`) applied block by
 * block, with no seam between blocks. Output sample `o` (counted since the
 * last restart) sits at input position `t_o = o · fromRate / toRate` (input
 * samples since the restart) and is
 *
 *   y[o] = Σ_j x[⌊t_o⌋ + j] · g(t_o − ⌊t_o⌋ − j),   j = −H+1 … H
 *
 * exactly as `resample()` computes it; samples before the restart count as
 * zero, as before the start of a recording. So the outputs equal those of a
 * one-shot `resample()` of everything pushed since the restart, whatever the
 * chunking, except for the last ≈ H input samples, whose outputs the stream
 * holds back until the input they need has arrived.
 *
 * Timing: the kernel is symmetric around `t_o`, so the filter adds no group
 * delay to the output's time: output `o` *is* the signal at input position
 * `t_o` ({@link StreamResampler.inputPosition}). It is only emitted later:
 * once input sample ⌊t_o⌋ + H has been pushed (H input samples of latency).
 *
 *   push(block) ─► [ history: last 2H inputs │ slice ≤ 1024 inputs ] ─► taps ─► sink(out, first)
 *
 * Taps, per design (shared by every stream with the same rates):
 * - rational ratio L/M with L ≤ 1024 (8 000 → 12 000 is 3/2, 48 828 → 12 000
 *   is 1000/4069): one row of 2H taps per output phase, each row normalised to
 *   unit DC gain, as `resample()` does;
 * - otherwise (26 667 → 12 000 is 4000/8889, or a non-integer rate): 1025
 *   rows of the kernel at fractional offsets q/1024 (fewer when 2H is very
 *   long), an output interpolating linearly between the two rows around its
 *   offset: `resample()`'s finely sampled kernel, laid out so that each
 *   output reads two contiguous rows.
 *
 * Per stream: the history (2H floats: 224 at 26 667 → 12 000), one slice of
 * input and one of output; nothing grows with the block size or the stream's
 * length.
 */
import { FaultlineError } from '../errors.js';
import {
  designResampler,
  type ResampleOptions,
  type ResamplerDesign,
  resamplerKernel,
} from './resample.js';

/** Lowest input or output rate a stream is resampled from or to, Hz. */
export const STREAM_MIN_RATE_HZ = 1_000;
/** Highest input or output rate a stream is resampled from or to, Hz. */
export const STREAM_MAX_RATE_HZ = 1_000_000;
/** Longest kernel a live stream may need, taps (1 MHz → 6 kHz; cost per output grows with it). */
export const STREAM_MAX_TAPS = 16_384;

/** Largest L of a rational ratio that gets per-phase rows (more phases than the fine table has would only cost memory). */
const MAX_POLY_PHASES = 1024;
/** Fractional offsets of the fine table, per input sample. */
const FINE_PHASES = 1024;
/** Fewest fine offsets when a long kernel makes the table shrink (the kernel is then very smooth). */
const MIN_FINE_PHASES = 32;
/** Largest tap table, entries (Float64: 4 MiB), shared by every stream with the same rates. */
const MAX_TABLE = 1 << 19;
/** Input samples handled per pass: bounds the per-stream buffers. */
const SLICE = 1024;
/** Designs kept for reuse (a stream holds on to its own regardless). */
const CACHE_SIZE = 16;

/** How a design's taps are laid out. */
export type StreamResamplerMode = 'polyphase' | 'fine';

interface Taps {
  design: ResamplerDesign;
  mode: StreamResamplerMode;
  /** polyphase: L rows; fine: phases + 1 rows; each `width` = 2H taps for j = −H+1 … H. */
  rows: Float64Array;
  width: number;
  /** polyphase: L, M; fine: 0, 0. */
  up: number;
  down: number;
  /** fine: offsets per input sample, and Σ taps of each row (the DC gain to divide by). */
  phases: number;
  rowSums: Float64Array;
  /** fine: input samples per output. */
  step: number;
}

const cache = new Map<string, Taps>();

/** The taps of `fromRate → toRate`, built once per design (LRU of {@link CACHE_SIZE}). */
function tapsFor(fromRate: number, toRate: number, options: ResampleOptions): Taps {
  const key = `${fromRate}|${toRate}|${options.passband ?? ''}|${options.attenuationDb ?? ''}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const design = designResampler(fromRate, toRate, options);
  const H = design.halfWidth;
  const width = 2 * H;
  if (width > STREAM_MAX_TAPS) {
    throw new FaultlineError(
      'FL_ERR_DSP_PARAMS',
      `resampling ${fromRate} Hz to ${toRate} Hz needs a ${width}-tap filter, more than the ${STREAM_MAX_TAPS} a live stream may use; ` +
        'bring the sensor rate closer to the model rate',
    );
  }
  const kernel = resamplerKernel(design);
  let taps: Taps;
  if (design.up > 0 && design.up <= MAX_POLY_PHASES && design.up * width <= MAX_TABLE) {
    const L = design.up;
    const rows = new Float64Array(L * width);
    for (let p = 0; p < L; p++) fillRow(rows, p * width, p / L, H, kernel, true);
    taps = {
      design,
      mode: 'polyphase',
      rows,
      width,
      up: L,
      down: design.down,
      phases: 0,
      rowSums: new Float64Array(0),
      step: 0,
    };
  } else {
    const phases = Math.max(
      MIN_FINE_PHASES,
      Math.min(FINE_PHASES, Math.floor(MAX_TABLE / width) - 1),
    );
    const rows = new Float64Array((phases + 1) * width);
    const rowSums = new Float64Array(phases + 1);
    for (let q = 0; q <= phases; q++) {
      rowSums[q] = fillRow(rows, q * width, q / phases, H, kernel, false);
    }
    taps = {
      design,
      mode: 'fine',
      rows,
      width,
      up: 0,
      down: 0,
      phases,
      rowSums,
      step: fromRate / toRate,
    };
  }
  cache.set(key, taps);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return taps;
}

/** Writes g(frac − j) for j = −H+1 … H at `at`; normalises to unit sum when asked; returns the sum. */
function fillRow(
  rows: Float64Array,
  at: number,
  frac: number,
  H: number,
  kernel: (tau: number) => number,
  normalise: boolean,
): number {
  let sum = 0;
  for (let j = -H + 1; j <= H; j++) {
    const w = kernel(frac - j);
    rows[at + j + H - 1] = w;
    sum += w;
  }
  if (normalise) for (let i = 0; i < 2 * H; i++) rows[at + i] /= sum;
  return sum;
}

/**
 * One stream's sample-rate converter (see the module comment).
 *
 * @example
 *   const r = new StreamResampler(26_667, 12_000);
 *   for (const block of blocks) r.push(block, 1, 0, block.length, (y, first) => windower.push(y));
 */
export class StreamResampler {
  readonly fromRate: number;
  readonly toRate: number;
  readonly design: ResamplerDesign;
  readonly mode: StreamResamplerMode;
  private readonly taps: Taps;
  /** Samples of history kept in front of each slice (2H). */
  private readonly keep: number;
  /** [history (keep) | slice (≤ SLICE)]. */
  private readonly work: Float32Array;
  private readonly out: Float32Array;
  /** Input samples pushed since the restart. */
  private nIn = 0;
  /** Output samples emitted since the restart. */
  private nOut = 0;
  /** Polyphase: next output's base input index and phase (0 ≤ p < L). */
  private k0 = 0;
  private p = 0;

  /**
   * @param fromRate input rate, Hz
   * @param toRate output rate, Hz
   * @throws FaultlineError FL_ERR_DSP_PARAMS for a rate outside
   *   {@link STREAM_MIN_RATE_HZ}–{@link STREAM_MAX_RATE_HZ} (or not finite), or a
   *   kernel longer than {@link STREAM_MAX_TAPS}
   */
  constructor(fromRate: number, toRate: number, options: ResampleOptions = {}) {
    for (const [k, r] of [
      ['fromRate', fromRate],
      ['toRate', toRate],
    ] as const) {
      if (!(Number.isFinite(r) && r >= STREAM_MIN_RATE_HZ && r <= STREAM_MAX_RATE_HZ)) {
        throw new FaultlineError(
          'FL_ERR_DSP_PARAMS',
          `stream resampler: ${k} ${r} Hz is outside ${STREAM_MIN_RATE_HZ}–${STREAM_MAX_RATE_HZ} Hz`,
        );
      }
    }
    this.fromRate = fromRate;
    this.toRate = toRate;
    this.taps = tapsFor(fromRate, toRate, options);
    this.design = this.taps.design;
    this.mode = this.taps.mode;
    this.keep = this.taps.width;
    this.work = new Float32Array(this.keep + SLICE);
    this.out = new Float32Array(Math.ceil((SLICE * toRate) / fromRate) + 2);
  }

  /** Input samples pushed since the last restart. */
  get consumed(): number {
    return this.nIn;
  }

  /** Output samples emitted since the last restart. */
  get produced(): number {
    return this.nOut;
  }

  /** Bytes this stream holds (history, slice and output buffers; the shared taps not counted). */
  get stateBytes(): number {
    return this.work.byteLength + this.out.byteLength;
  }

  /** Bytes of the taps, shared by every stream of the same design. */
  get tapBytes(): number {
    return this.taps.rows.byteLength + this.taps.rowSums.byteLength;
  }

  /**
   * Where output `o` (counted since the last restart) sits in the input, in
   * input samples since the restart (fractional). The filter is zero-phase
   * about this position, so it is the output's time.
   */
  inputPosition(o: number): number {
    const t = this.taps;
    return t.mode === 'polyphase' ? (o * t.down) / t.up : o * t.step;
  }

  /** Forgets the history: the next sample pushed starts a new stream (after a gap). */
  restart(): void {
    this.work.fill(0, 0, this.keep);
    this.nIn = 0;
    this.nOut = 0;
    this.k0 = 0;
    this.p = 0;
  }

  /**
   * Appends `frames` samples of `channel` from channel-interleaved `src` and
   * hands every output that became complete to `sink`, in order, in one or
   * more calls: `out` is a view valid only during the call (copy what you
   * keep), `first` the index (since the restart) of `out[0]`.
   */
  push(
    src: Float32Array | Float64Array,
    channels: number,
    channel: number,
    frames: number,
    sink: (out: Float32Array, first: number) => void,
  ): void {
    const { work, keep } = this;
    let done = 0;
    while (done < frames) {
      const n = Math.min(SLICE, frames - done);
      if (channels === 1) {
        work.set(src.subarray(done, done + n), keep);
      } else {
        for (let i = 0, s = done * channels + channel; i < n; i++, s += channels) {
          work[keep + i] = src[s];
        }
      }
      // work[i] holds input sample (nIn − keep + i).
      const base = this.nIn - keep;
      this.nIn += n;
      const m = this.taps.mode === 'polyphase' ? this.polyphase(base) : this.fine(base);
      // Keep the newest `keep` samples as the next slice's history.
      work.copyWithin(0, n, n + keep);
      done += n;
      if (m > 0) {
        const first = this.nOut;
        this.nOut += m;
        sink(this.out.subarray(0, m), first);
      }
    }
  }

  /** Outputs whose taps are all in `work` (rational ratio); returns how many. */
  private polyphase(base: number): number {
    const { work, out } = this;
    const { rows, width, up: L, down: M } = this.taps;
    const H = width >> 1;
    const last = this.nIn - 1;
    let k0 = this.k0;
    let p = this.p;
    let m = 0;
    while (k0 + H <= last) {
      const wi = k0 - H + 1 - base;
      const ri = p * width;
      let acc = 0;
      for (let j = 0; j < width; j++) acc += work[wi + j] * rows[ri + j];
      out[m++] = acc;
      p += M;
      if (p >= L) {
        k0 += Math.floor(p / L);
        p %= L;
      }
    }
    this.k0 = k0;
    this.p = p;
    return m;
  }

  /** Outputs whose taps are all in `work` (fine table); returns how many. */
  private fine(base: number): number {
    const { work, out } = this;
    const { rows, rowSums, width, phases, step } = this.taps;
    const H = width >> 1;
    const last = this.nIn - 1;
    let o = this.nOut;
    let m = 0;
    for (;;) {
      const t = o * step;
      const k0 = Math.floor(t);
      if (k0 + H > last) break;
      const pos = (t - k0) * phases;
      const q = Math.min(Math.floor(pos), phases - 1);
      const r = pos - q;
      const wi = k0 - H + 1 - base;
      const ra = q * width;
      const rb = ra + width;
      let a = 0;
      let b = 0;
      for (let j = 0; j < width; j++) {
        const x = work[wi + j];
        a += x * rows[ra + j];
        b += x * rows[rb + j];
      }
      out[m++] = ((1 - r) * a + r * b) / ((1 - r) * rowSums[q] + r * rowSums[q + 1]);
      o++;
    }
    return m;
  }
}
