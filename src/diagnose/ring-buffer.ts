/**
 * A bounded single-channel sample store addressed by absolute sample index
 * (samples written since creation), so a windower can ask for "samples
 * 36 000 … 47 999" without caring where the ring wraps. Writing more than
 * `capacity` samples overwrites the oldest; nothing else is ever allocated.
 */
export class RingBuffer {
  /** Samples the buffer holds at most. */
  readonly capacity: number;
  private readonly data: Float32Array;
  private total = 0;

  /** @param capacity samples (≥ 1) */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 2 ** 28) {
      throw new TypeError(`ring capacity must be an integer in 1…2^28 samples, got ${capacity}`);
    }
    this.capacity = capacity;
    this.data = new Float32Array(capacity);
  }

  /** Samples written since creation (absolute index of the next sample). */
  get written(): number {
    return this.total;
  }

  /** Absolute index of the oldest sample still held. */
  get oldest(): number {
    return Math.max(0, this.total - this.capacity);
  }

  /**
   * Appends `frames` samples of one channel from a channel-interleaved array:
   * `src[(first + i) * channels + channel]` for i in 0…frames−1.
   */
  writeInterleaved(
    src: Float32Array,
    channels: number,
    channel: number,
    first: number,
    frames: number,
  ): void {
    const cap = this.capacity;
    const d = this.data;
    // Only the last `cap` samples survive; skip the rest up front.
    if (frames > cap) {
      first += frames - cap;
      this.total += frames - cap;
      frames = cap;
    }
    let w = this.total % cap;
    if (channels === 1) {
      let done = 0;
      while (done < frames) {
        const n = Math.min(frames - done, cap - w);
        d.set(src.subarray(first + done, first + done + n), w);
        done += n;
        w = (w + n) % cap;
      }
    } else {
      let s = (first * channels + channel) | 0;
      for (let i = 0; i < frames; i++) {
        d[w] = src[s];
        s += channels;
        if (++w === cap) w = 0;
      }
    }
    this.total += frames;
  }

  /** Appends all of `src` (one channel). */
  write(src: Float32Array): void {
    this.writeInterleaved(src, 1, 0, 0, src.length);
  }

  /**
   * Copies samples [start, start + out.length) (absolute indices) into `out`.
   * @throws RangeError when part of the range was overwritten or not written yet
   */
  copyRange(start: number, out: Float32Array): Float32Array {
    const end = start + out.length;
    if (start < this.oldest || end > this.total) {
      throw new RangeError(
        `samples ${start}…${end} are not held (buffer holds ${this.oldest}…${this.total})`,
      );
    }
    const cap = this.capacity;
    const r = start % cap;
    const first = Math.min(out.length, cap - r);
    out.set(this.data.subarray(r, r + first), 0);
    if (first < out.length) out.set(this.data.subarray(0, out.length - first), first);
    return out;
  }
}
