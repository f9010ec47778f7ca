/**
 * Frame decoding for both links: {@link SerialFrameDecoder}, a Transform from
 * serial bytes to SampleBlocks, and {@link decodePayload} for MQTT, where one
 * message payload is one frame.
 *
 * Serial byte stream (PROTOCOL.md, "Serial link"):
 * ```
 *  … 00 | COBS(frame) | 00 | COBS(frame) | 00 | garbage 00 | COBS(frame) | 00 …
 *        └── packet ──┘      └── packet ─┘     └ refused ┘
 * ```
 * Packets are split at 0x00; each is COBS-decoded into a scratch buffer
 * (no per-chunk concatenation: a packet inside one chunk is decoded straight
 * from it), checked (length, magic, CRC, version, fields) and turned into a
 * SampleBlock. A packet longer than the largest possible one is discarded up
 * to the next 0x00, so the buffer never exceeds one packet. Bad input is
 * counted and reported with a 'bad-frame' event, never thrown and never fatal
 * to the stream.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { SampleBlock } from '../contract/sample-block.js';
import { COBS_INVALID, cobsDecodeInto, cobsMaxEncodedLength } from './cobs.js';
import {
  type DecodedFrame,
  describeFrameError,
  FRAME_MIN_BYTES,
  type FrameErrorCode,
  frameToSampleBlock,
  MAX_FRAME_BYTES,
  tryDecodeFrame,
} from './frame.js';
import { LinkCounters, type LinkStats } from './link-stats.js';
import { SequenceTracker, type SequenceVerdict } from './sequence.js';

/** Payload of the 'bad-frame' event. */
export interface BadFrameEvent {
  /** Why the packet was refused. */
  reason: FrameErrorCode;
  /** Packet length as received: COBS bytes without the delimiter (serial), payload bytes (MQTT). */
  bytes: number;
  /** What was wrong, naming the bad value (for logs; match on `reason`). */
  message: string;
}

/** Payload of the 'sequence' event: anything but an in-order frame. */
export interface SequenceEvent {
  sensorId: number;
  seq: number;
  verdict: Exclude<SequenceVerdict, 'first' | 'next'>;
  /** Sequence numbers missing before this frame (verdict 'gap'). */
  missing: number;
}

export interface SerialFrameDecoderOptions {
  /** Largest frame accepted, bytes, header to CRC; default and maximum 65536 (PROTOCOL.md). */
  maxFrameBytes?: number;
  /** Sequence tracker, to share one across links; default a new one. */
  tracker?: SequenceTracker;
  /** Readable-side buffer, in blocks; default 16. */
  highWaterMark?: number;
  /**
   * Attach to each block a copy of the frame bytes (header to CRC) it was
   * decoded from, as `frame` ({@link BlockWithFrame}): the bridge forwards
   * frames unchanged (same format, scale and CRC) instead of re-encoding
   * samples. Default false (no copy).
   */
  keepFrames?: boolean;
}

/** A block and the frame bytes (header to CRC) it came from (`keepFrames`). */
export type BlockWithFrame = SampleBlock & { frame: Uint8Array };

/** Where a frame went after its sequence check. */
interface Accepted {
  block: SampleBlock | undefined;
  verdict: SequenceVerdict;
  missing: number;
}

function accept(
  frame: DecodedFrame,
  tracker: SequenceTracker,
  c: LinkCounters | undefined,
): Accepted {
  const h = frame.header;
  const obs = tracker.observe(h.sensorId, h.seq, h.t0Us);
  if (c) {
    c.frames++;
    c.missing += obs.missing;
    if (obs.verdict === 'duplicate') c.duplicates++;
    else if (obs.verdict === 'late') c.late++;
    else if (obs.verdict === 'refused') c.refused++;
    else c.blocks++;
  }
  return {
    block: obs.accept ? frameToSampleBlock(frame, obs.missing) : undefined,
    verdict: obs.verdict,
    missing: obs.missing,
  };
}

/** Result of {@link decodePayload}. */
export type PayloadResult =
  | { kind: 'block'; block: SampleBlock; verdict: SequenceVerdict }
  | { kind: 'dropped'; verdict: 'duplicate' | 'late' | 'refused'; sensorId: number; seq: number }
  | ({ kind: 'bad' } & BadFrameEvent);

/**
 * Decode one MQTT payload (one raw frame, no COBS), check its sequence
 * number with `tracker` and count it in `counters` (when given) exactly as
 * the serial decoder would. Never throws on bad input.
 */
export function decodePayload(
  payload: Uint8Array,
  tracker: SequenceTracker,
  counters?: LinkCounters,
): PayloadResult {
  if (counters) {
    counters.bytes += payload.length;
    counters.packets++;
  }
  const r = tryDecodeFrame(payload, 0, payload.length);
  if (typeof r === 'string') {
    counters?.countBad(r);
    return {
      kind: 'bad',
      reason: r,
      bytes: payload.length,
      message: describeFrameError(r, payload),
    };
  }
  const a = accept(r, tracker, counters);
  if (a.block === undefined) {
    return {
      kind: 'dropped',
      verdict: a.verdict as 'duplicate' | 'late' | 'refused',
      sensorId: r.header.sensorId,
      seq: r.header.seq,
    };
  }
  return { kind: 'block', block: a.block, verdict: a.verdict };
}

/** A chunk being worked through, kept while the readable side is full. */
interface Work {
  chunk: Uint8Array;
  pos: number;
  done: TransformCallback;
}

/**
 * Serial bytes in (Buffers, split anywhere), {@link SampleBlock}s out
 * (object mode; {@link BlockWithFrame}s with `keepFrames`). Events: 'data' (SampleBlock), 'bad-frame'
 * ({@link BadFrameEvent}), 'sequence' ({@link SequenceEvent}). Backpressure:
 * when push() returns false the rest of the chunk waits for _read, and the
 * write callback with it, so neither side buffers without bound.
 */
export class SerialFrameDecoder extends Transform {
  /** The tracker the decoder counts sequence numbers with. */
  readonly tracker: SequenceTracker;
  readonly #counters = new LinkCounters();
  readonly #maxFrame: number;
  readonly #maxPacket: number;
  /** Bytes of a packet split across chunks; never more than #maxPacket. */
  readonly #pending: Uint8Array;
  #pendingLen = 0;
  /** Inside an oversize packet: drop bytes until the next 0x00. */
  #discarding = false;
  #discarded = 0;
  /** COBS output; frames are decoded from here (offset 0: aligned views). */
  readonly #scratch: Uint8Array;
  readonly #keepFrames: boolean;
  #work: Work | null = null;
  #running = false;

  constructor(opts: SerialFrameDecoderOptions = {}) {
    const maxFrame = opts.maxFrameBytes ?? MAX_FRAME_BYTES;
    if (!Number.isInteger(maxFrame) || maxFrame < FRAME_MIN_BYTES || maxFrame > MAX_FRAME_BYTES) {
      throw new TypeError(
        `maxFrameBytes ${maxFrame} must be an integer in ${FRAME_MIN_BYTES}…${MAX_FRAME_BYTES}`,
      );
    }
    const hwm = opts.highWaterMark ?? 16;
    if (!Number.isInteger(hwm) || hwm < 1) {
      throw new TypeError(`highWaterMark ${hwm} must be a positive integer (blocks)`);
    }
    super({ readableObjectMode: true, readableHighWaterMark: hwm });
    this.tracker = opts.tracker ?? new SequenceTracker();
    this.#maxFrame = maxFrame;
    this.#maxPacket = cobsMaxEncodedLength(maxFrame);
    this.#pending = new Uint8Array(this.#maxPacket);
    this.#scratch = new Uint8Array(this.#maxPacket);
    this.#keepFrames = opts.keepFrames ?? false;
  }

  /** Counters so far (a copy). */
  stats(): LinkStats {
    return this.#counters.snapshot(this.tracker);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#counters.bytes += chunk.length;
    this.#work = { chunk, pos: 0, done };
    this.#run();
  }

  override _read(size: number): void {
    if (this.#work !== null) this.#run();
    else super._read(size);
  }

  override _flush(done: TransformCallback): void {
    // A packet whose delimiter never came: the stream ended inside it.
    if (this.#pendingLen > 0 || this.#discarding) {
      const n = this.#discarding ? this.#discarded : this.#pendingLen;
      if (this.#discarding) this.#counters.oversize++;
      this.#counters.packets++;
      this.#bad('FL_ERR_FRAME_LENGTH', n, `the stream ended inside a ${n}-byte packet`);
      this.#pendingLen = 0;
      this.#discarding = false;
    }
    done();
  }

  /** Work through the current chunk until it is used up or push() says stop. */
  #run(): void {
    if (this.#running) return;
    const w = this.#work;
    if (w === null) return;
    this.#running = true;
    try {
      const chunk = w.chunk;
      const len = chunk.length;
      let pos = w.pos;
      while (pos < len) {
        let z = chunk.indexOf(0, pos);
        if (z === -1) z = len;
        const complete = z < len;
        let more = true;
        if (!complete) {
          this.#append(chunk, pos, len);
        } else if (this.#pendingLen === 0 && !this.#discarding) {
          more = this.#packet(chunk, pos, z); // the common case: no copy
        } else {
          this.#append(chunk, pos, z);
          if (this.#discarding) {
            this.#counters.packets++;
            this.#oversize(this.#discarded);
            this.#discarding = false;
          } else {
            more = this.#packet(this.#pending, 0, this.#pendingLen);
          }
          this.#pendingLen = 0;
        }
        pos = complete ? z + 1 : len;
        if (!more && pos < len) {
          w.pos = pos; // the readable side is full: resume from _read
          return;
        }
      }
      this.#work = null;
      w.done();
    } finally {
      this.#running = false;
    }
  }

  /** Add bytes of an unfinished packet, switching to discard past the cap. */
  #append(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (this.#discarding) {
      this.#discarded += n;
      return;
    }
    if (this.#pendingLen + n > this.#maxPacket) {
      this.#discarding = true;
      this.#discarded = this.#pendingLen + n;
      this.#pendingLen = 0;
      return;
    }
    this.#pending.set(src.subarray(start, end), this.#pendingLen);
    this.#pendingLen += n;
  }

  /** Decode one complete packet; returns push()'s verdict (true: go on). */
  #packet(src: Uint8Array, start: number, end: number): boolean {
    const len = end - start;
    if (len === 0) return true; // back-to-back delimiters: senders flush with them
    const c = this.#counters;
    c.packets++;
    if (len > this.#maxPacket) {
      this.#oversize(len);
      return true;
    }
    const n = cobsDecodeInto(src, start, end, this.#scratch);
    if (n === COBS_INVALID) {
      this.#bad('FL_ERR_COBS', len, describeFrameError('FL_ERR_COBS', src.subarray(start, end)));
      return true;
    }
    if (n < 0 || n > this.#maxFrame) {
      this.#bad(
        'FL_ERR_FRAME_LENGTH',
        len,
        `a packet decodes to more than the ${this.#maxFrame}-byte frame limit`,
      );
      return true;
    }
    const r = tryDecodeFrame(this.#scratch, 0, n);
    if (typeof r === 'string') {
      this.#bad(r, len, describeFrameError(r, this.#scratch.subarray(0, n)));
      return true;
    }
    const a = accept(r, this.tracker, c);
    if (a.verdict !== 'first' && a.verdict !== 'next') {
      const ev: SequenceEvent = {
        sensorId: r.header.sensorId,
        seq: r.header.seq,
        verdict: a.verdict,
        missing: a.missing,
      };
      this.emit('sequence', ev);
    }
    if (a.block === undefined) return true;
    if (!this.#keepFrames) return this.push(a.block);
    // a copy: #scratch is overwritten by the next packet
    const withFrame: BlockWithFrame = { ...a.block, frame: this.#scratch.slice(0, n) };
    return this.push(withFrame);
  }

  #oversize(bytes: number): void {
    this.#counters.oversize++;
    this.#bad(
      'FL_ERR_FRAME_LENGTH',
      bytes,
      `a ${bytes}-byte packet exceeds the ${this.#maxPacket}-byte maximum (frame limit ` +
        `${this.#maxFrame} bytes); discarded up to the next 0x00`,
    );
  }

  #bad(reason: FrameErrorCode, bytes: number, message: string): void {
    this.#counters.countBad(reason);
    const ev: BadFrameEvent = { reason, bytes, message };
    this.emit('bad-frame', ev);
  }

  // Typed events (the base signature stays last, for the stream internals).
  // Overloads, not EventEmitter<T>: Node's stream classes take no event-map parameter.
  override on(event: 'data', listener: (block: SampleBlock) => void): this;
  override on(event: 'bad-frame', listener: (ev: BadFrameEvent) => void): this;
  override on(event: 'sequence', listener: (ev: SequenceEvent) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: the signature of EventEmitter itself
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: the signature of EventEmitter itself
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  override once(event: 'data', listener: (block: SampleBlock) => void): this;
  override once(event: 'bad-frame', listener: (ev: BadFrameEvent) => void): this;
  override once(event: 'sequence', listener: (ev: SequenceEvent) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: the signature of EventEmitter itself
  override once(event: string | symbol, listener: (...args: any[]) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: the signature of EventEmitter itself
  override once(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.once(event, listener);
  }

  override [Symbol.asyncIterator](): AsyncIterableIterator<SampleBlock> {
    return super[Symbol.asyncIterator]() as AsyncIterableIterator<SampleBlock>;
  }
}
