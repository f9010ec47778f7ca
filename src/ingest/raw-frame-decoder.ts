/**
 * Serial bytes in, `{ …SampleBlock, frame }` out: like SerialFrameDecoder,
 * but every block keeps the exact frame bytes it was decoded from. The bridge
 * needs them to forward frames unchanged (same format, scale and CRC) rather
 * than re-encoding decoded samples.
 *
 * ```
 *  bytes … | COBS(frame) | 00 | …   split at 0x00 → COBS-decode → decodePayload(frame) → { block, frame }
 * ```
 * Checks and counters are those of the MQTT path (`decodePayload`), so a
 * frame is judged the same on both links. Simpler than SerialFrameDecoder
 * (it copies each frame once, which the bridge needs anyway); bounded: a
 * packet longer than the largest possible one is discarded to the next 0x00.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { SampleBlock } from '../types.js';
import { COBS_INVALID, cobsDecodeInto, cobsMaxEncodedLength } from './cobs.js';
import type { BadFrameEvent, SequenceEvent } from './decoder.js';
import { decodePayload } from './decoder.js';
import { describeFrameError, MAX_FRAME_BYTES } from './frame.js';
import { LinkCounters, type LinkStats } from './link-stats.js';
import { SequenceTracker } from './sequence.js';

/** A block and the frame bytes (header to CRC) it came from. */
export type BlockWithFrame = SampleBlock & { frame: Uint8Array };

const MAX_PACKET = cobsMaxEncodedLength(MAX_FRAME_BYTES);

export class RawFrameDecoder extends Transform {
  readonly tracker = new SequenceTracker();
  private readonly counters = new LinkCounters();
  private readonly pending = new Uint8Array(MAX_PACKET);
  private pendingLen = 0;
  private discarding = false;
  private readonly scratch = new Uint8Array(MAX_FRAME_BYTES);

  constructor(highWaterMark = 16) {
    super({ readableObjectMode: true, readableHighWaterMark: highWaterMark });
  }

  stats(): LinkStats {
    return this.counters.snapshot(this.tracker);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.counters.bytes += chunk.length;
    let pos = 0;
    while (pos < chunk.length) {
      const z = chunk.indexOf(0, pos);
      const end = z === -1 ? chunk.length : z;
      const n = end - pos;
      if (this.discarding || this.pendingLen + n > MAX_PACKET) {
        this.discarding = true;
        this.pendingLen = 0;
      } else {
        this.pending.set(chunk.subarray(pos, end), this.pendingLen);
        this.pendingLen += n;
      }
      if (z === -1) break;
      this.packet();
      pos = z + 1;
    }
    // a Transform's push() backpressure is applied by the stream between chunks
    done();
  }

  override _flush(done: TransformCallback): void {
    if (this.pendingLen > 0 || this.discarding) this.bad('FL_ERR_FRAME_LENGTH', this.pendingLen);
    done();
  }

  private packet(): void {
    const len = this.pendingLen;
    const oversize = this.discarding;
    this.pendingLen = 0;
    this.discarding = false;
    if (oversize) {
      this.bad('FL_ERR_FRAME_LENGTH', MAX_PACKET);
      return;
    }
    if (len === 0) return; // back-to-back delimiters
    const n = cobsDecodeInto(this.pending, 0, len, this.scratch);
    if (n < 0) {
      this.bad(n === COBS_INVALID ? 'FL_ERR_COBS' : 'FL_ERR_FRAME_LENGTH', len);
      return;
    }
    const frame = this.scratch.slice(0, n);
    const r = decodePayload(frame, this.tracker, this.counters);
    // decodePayload counted the frame's bytes again: the link counted them already
    this.counters.bytes -= n;
    if (r.kind === 'bad') {
      this.emit('bad-frame', {
        reason: r.reason,
        bytes: len,
        message: r.message,
      } satisfies BadFrameEvent);
      return;
    }
    if (r.kind === 'dropped') {
      this.emit('sequence', {
        sensorId: r.sensorId,
        seq: r.seq,
        verdict: r.verdict,
        missing: 0,
      } satisfies SequenceEvent);
      return;
    }
    if (r.verdict === 'gap' || r.verdict === 'restart') {
      const ev: SequenceEvent = {
        sensorId: r.block.sensorId,
        seq: r.block.seq,
        verdict: r.verdict,
        missing: r.block.gap,
      };
      this.emit('sequence', ev);
    }
    this.push({ ...r.block, frame } satisfies BlockWithFrame);
  }

  private bad(reason: BadFrameEvent['reason'], bytes: number): void {
    this.counters.packets++;
    this.counters.countBad(reason);
    const message = describeFrameError(
      reason,
      this.pending.subarray(0, Math.min(bytes, MAX_PACKET)),
    );
    this.emit('bad-frame', { reason, bytes, message } satisfies BadFrameEvent);
  }
}
