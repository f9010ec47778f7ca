/**
 * Cuts one channel of a stream of blocks (any size) into windows of
 * `windowLength` samples every `hop` samples, exactly as the data stage cuts
 * a recording (window k starts at sample k·hop), through a bounded ring.
 *
 * Blocks are written in chunks no larger than the ring can take without
 * overwriting the start of the next window, and complete windows are taken
 * out between chunks: a block of any size, even many windows long, yields
 * every window and the ring never grows. With hop > windowLength the samples
 * between windows are simply not kept.
 *
 * A gap in the stream (lost frames) breaks the time base: a window spanning
 * it would splice two moments together. `restart()` drops the partial window
 * and starts counting again at the next sample.
 */
import { RingBuffer } from './ring-buffer.js';

/** A window as the windower hands it out. */
export interface CutWindow {
  /** windowLength samples (g), freshly taken from `alloc`. */
  samples: Float32Array;
  /** Absolute index (in this windower's stream) of the window's first sample. */
  start: number;
  /** Index, within the block being pushed, of the window's last sample. */
  lastInBlock: number;
  /** The `historyLength` samples ending with this window's last sample, when asked for. */
  history?: Float32Array;
}

export interface WindowerOptions {
  /** Samples per window (≥ 1). */
  windowLength: number;
  /** Samples between window starts (≥ 1). */
  hop: number;
  /**
   * Samples of history a window can come with (ending at its last sample, may
   * reach back before its start), e.g. a longer stretch for envelope
   * analysis; default 0.
   */
  historyLength?: number;
  /** Ring capacity, samples; default max(windowLength, historyLength) + 4096. */
  capacity?: number;
  /** Where window arrays come from (e.g. a buffer pool); default `new Float32Array(n)`. */
  alloc?: (length: number) => Float32Array;
}

export class Windower {
  readonly windowLength: number;
  readonly hop: number;
  readonly historyLength: number;
  private readonly keep: number;
  private readonly ring: RingBuffer;
  private readonly alloc: (length: number) => Float32Array;
  /** Absolute index of the next window's first sample. */
  private nextStart = 0;
  /** Windows cut so far. */
  private count = 0;
  /** First sample after the latest restart: history never reaches behind it. */
  private validFrom = 0;

  constructor(o: WindowerOptions) {
    const { windowLength, hop } = o;
    if (!Number.isInteger(windowLength) || windowLength < 1) {
      throw new TypeError(`windowLength must be a positive integer, got ${windowLength}`);
    }
    if (!Number.isInteger(hop) || hop < 1) {
      throw new TypeError(`hop must be a positive integer, got ${hop}`);
    }
    const historyLength = o.historyLength ?? 0;
    if (!Number.isInteger(historyLength) || historyLength < 0) {
      throw new TypeError(`historyLength must be an integer ≥ 0, got ${historyLength}`);
    }
    const keep = Math.max(windowLength, historyLength);
    // Headroom for one typical sensor block (≤ 4096 frames) beyond what the
    // windows need; push() writes a longer block in chunks. A whole hop of
    // headroom bought nothing and cost 32 KB per 1 s channel at 12 kHz
    // (~31 MB at 1000 channels).
    const capacity = o.capacity ?? keep + 4096;
    if (capacity <= keep) {
      throw new TypeError(
        `capacity ${capacity} must exceed windowLength ${windowLength} and historyLength ${historyLength}`,
      );
    }
    this.historyLength = historyLength;
    this.keep = keep;
    this.windowLength = windowLength;
    this.hop = hop;
    this.ring = new RingBuffer(capacity);
    this.alloc = o.alloc ?? ((n) => new Float32Array(n));
  }

  /** Samples written so far. */
  get written(): number {
    return this.ring.written;
  }

  /** Samples still needed before the next window is complete. */
  get pending(): number {
    return Math.max(0, this.nextStart + this.windowLength - this.ring.written);
  }

  /** Drops the partial window: the next window starts at the next sample written. */
  restart(): void {
    this.nextStart = this.ring.written;
    this.validFrom = this.ring.written;
  }

  /**
   * Appends `frames` samples of `channel` from channel-interleaved `src`
   * (default: all frames of a mono array) and returns the windows completed.
   * `wantHistory(k)` (k = window number since creation) says which windows
   * get `history` (when the stream is long enough to have it).
   */
  push(
    src: Float32Array,
    channels = 1,
    channel = 0,
    frames = Math.floor(src.length / channels),
    wantHistory?: (k: number) => boolean,
  ): CutWindow[] {
    const out: CutWindow[] = [];
    const cap = this.ring.capacity;
    let done = 0;
    while (done < frames) {
      // Write no further than where the next window's first sample would be
      // overwritten, and in chunks small enough that the history of every
      // window completed by this chunk is still held.
      const room = Math.min(this.nextStart + cap - this.ring.written, cap - this.keep + 1);
      const n = Math.min(frames - done, room);
      this.ring.writeInterleaved(src, channels, channel, done, n);
      const blockStart = this.ring.written - done - n;
      done += n;
      while (this.nextStart + this.windowLength <= this.ring.written) {
        const samples = this.alloc(this.windowLength);
        this.ring.copyRange(this.nextStart, samples);
        const end = this.nextStart + this.windowLength;
        const w: CutWindow = {
          samples,
          start: this.nextStart,
          lastInBlock: end - 1 - blockStart,
        };
        const H = this.historyLength;
        if (
          H > 0 &&
          end - H >= Math.max(this.ring.oldest, this.validFrom) &&
          wantHistory?.(this.count)
        ) {
          w.history = this.ring.copyRange(end - H, new Float32Array(H));
        }
        out.push(w);
        this.count++;
        this.nextStart += this.hop;
      }
    }
    return out;
  }
}
