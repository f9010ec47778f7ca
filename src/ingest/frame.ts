/**
 * The Faultline sensor frame, protocol v1 (firmware-bridge/PROTOCOL.md is the
 * contract; firmware-bridge/firmware/core/fl_frame.c is the C twin, and both
 * are checked against firmware-bridge/vectors/).
 *
 * ```
 *  off size field                       off size field
 *   0   2   magic 'F' 'L'               24   4   sampleRate  f32, Hz per channel
 *   2   1   version major (1)           28   4   scale       f32, g per LSB (> 0)
 *   3   1   version minor               32   4   sampleCount u32, per channel (≥ 1)
 *   4   2   headerBytes (≥ 40, %4 = 0)  36   4   rpm         f32, 0 = unknown
 *   6   1   format 1 i16 · 2 i32 · 3 f32  40  …   (extension of later minors)
 *   7   1   channels (≥ 1)              hb  …   samples, interleaved, LE
 *   8   4   sensorId u32                end  4   CRC-32C of all bytes before
 *  12   4   seq u32 (wraps)
 *  16   8   t0Us u64, µs since epoch
 * ```
 * Little-endian throughout. A frame is at most {@link MAX_FRAME_BYTES}.
 */

import type { SampleBlock, SampleFormat } from '../contract/sample-block.js';
import { type ErrorCode, FaultlineError } from '../errors.js';
import { cobsEncodeInto, cobsMaxEncodedLength } from './cobs.js';
import { crc32c } from './crc.js';

/** First two bytes of every frame: 'F' 'L'. */
export const FRAME_MAGIC = 0x4c46; // little-endian u16 of 'F','L'
/** Major version this code speaks; frames of another major are refused. */
export const FRAME_VERSION_MAJOR = 1;
/** Minor version this code writes; higher minors are read (extension skipped). */
export const FRAME_VERSION_MINOR = 0;
/** Header bytes of v1.0 (the fields above); later minors may append. */
export const FRAME_HEADER_BYTES = 40;
/** CRC-32C trailer bytes. */
export const FRAME_CRC_BYTES = 4;
/** Smallest byte count that can be checked at all: magic … header length + CRC. */
export const FRAME_MIN_BYTES = 12;
/** Largest frame, header to CRC: receivers cap their buffers at this. */
export const MAX_FRAME_BYTES = 65536;
/** Largest serial packet (COBS of a maximal frame), without the delimiter. */
export const MAX_PACKET_BYTES = cobsMaxEncodedLength(MAX_FRAME_BYTES);

/** Wire codes of {@link SampleFormat}. */
export const SAMPLE_FORMAT_CODES: Readonly<Record<SampleFormat, number>> = {
  int16: 1,
  int32: 2,
  float32: 3,
};
const FORMAT_BY_CODE: readonly (SampleFormat | undefined)[] = [
  undefined,
  'int16',
  'int32',
  'float32',
];
const BYTES_BY_CODE = [0, 2, 4, 4];

/** The error codes a frame or packet can be refused with. */
export type FrameErrorCode = Extract<
  ErrorCode,
  | 'FL_ERR_FRAME_MAGIC'
  | 'FL_ERR_FRAME_VERSION'
  | 'FL_ERR_FRAME_CRC'
  | 'FL_ERR_FRAME_LENGTH'
  | 'FL_ERR_FRAME_FIELD'
  | 'FL_ERR_COBS'
>;

/** All {@link FrameErrorCode}s, in the order receivers check them. */
export const FRAME_ERROR_CODES: readonly FrameErrorCode[] = [
  'FL_ERR_COBS',
  'FL_ERR_FRAME_LENGTH',
  'FL_ERR_FRAME_MAGIC',
  'FL_ERR_FRAME_CRC',
  'FL_ERR_FRAME_VERSION',
  'FL_ERR_FRAME_FIELD',
];

/** A decoded frame header. Float fields hold float32 values. */
export interface FrameHeader {
  /** Major protocol version (1). */
  version: number;
  /** Minor protocol version (0 for frames this code writes). */
  versionMinor: number;
  /** Header length in bytes (40 in v1.0). */
  headerBytes: number;
  /** Sensor id, uint32, unique within a site. */
  sensorId: number;
  /** Frame sequence number, uint32, wraps. */
  seq: number;
  /** First sample's time, µs since the Unix epoch (sensor clock), uint64. */
  t0Us: bigint;
  /** Samples per second per channel, Hz (float32). */
  sampleRate: number;
  /** Interleaved channels, 1…255. */
  channels: number;
  /** Wire encoding of the samples. */
  format: SampleFormat;
  /** g per LSB (float32, > 0); float32 samples are multiplied by it too. */
  scale: number;
  /** Samples per channel (≥ 1). */
  sampleCount: number;
  /** Shaft speed, rpm (float32); 0 = unknown. */
  rpm: number;
}

/** What {@link encodeFrame} needs: the versions, header length and count default. */
export type FrameHeaderInit = Omit<
  FrameHeader,
  'version' | 'versionMinor' | 'headerBytes' | 'sampleCount'
> &
  Partial<Pick<FrameHeader, 'version' | 'versionMinor' | 'headerBytes' | 'sampleCount'>>;

/** Raw sample arrays, one type per {@link SampleFormat}. */
export type RawSamples = Int16Array | Int32Array | Float32Array;

/** A checked frame. */
export interface DecodedFrame {
  header: FrameHeader;
  /** Samples in g (raw × scale), channel-interleaved, length sampleCount × channels. */
  samples: Float32Array;
  /** The raw values (a copy), when asked for with `{ raw: true }`. */
  raw?: RawSamples;
}

export interface EncodeFrameOptions {
  /** headerBytes − 40 bytes of header extension (later minors); default zeros. */
  headerExtension?: Uint8Array;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fieldError(what: string): FaultlineError {
  return new FaultlineError('FL_ERR_FRAME_FIELD', what);
}

function isUint32(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

/** Bytes of a whole frame (header, samples, CRC) for the given layout. */
export function frameByteLength(
  format: SampleFormat,
  channels: number,
  sampleCount: number,
  headerBytes = FRAME_HEADER_BYTES,
): number {
  return headerBytes + sampleCount * channels * BYTES_BY_CODE[SAMPLE_FORMAT_CODES[format]] + 4;
}

/**
 * Encode one frame (raw, no COBS): header, little-endian samples, CRC-32C.
 * `samples` are channel-interleaved values of `h.format` (Int16Array for
 * int16 …); `h.sampleCount` defaults to `samples.length / h.channels`.
 * Throws FaultlineError FL_ERR_FRAME_FIELD for a field out of range (the
 * message names it), FL_ERR_FRAME_VERSION for a major version other than 1,
 * FL_ERR_FRAME_LENGTH when the frame would exceed {@link MAX_FRAME_BYTES}.
 */
export function encodeFrame(
  h: FrameHeaderInit,
  samples: RawSamples,
  opts: EncodeFrameOptions = {},
): Uint8Array {
  const version = h.version ?? FRAME_VERSION_MAJOR;
  const minor = h.versionMinor ?? FRAME_VERSION_MINOR;
  const headerBytes = h.headerBytes ?? FRAME_HEADER_BYTES;
  if (version !== FRAME_VERSION_MAJOR) {
    throw new FaultlineError(
      'FL_ERR_FRAME_VERSION',
      `cannot encode major version ${version}; this encoder writes version ${FRAME_VERSION_MAJOR}`,
    );
  }
  if (!Number.isInteger(minor) || minor < 0 || minor > 255) {
    throw fieldError(`versionMinor ${minor} must be an integer 0…255`);
  }
  if (!Number.isInteger(headerBytes) || headerBytes < FRAME_HEADER_BYTES || headerBytes % 4 !== 0) {
    throw fieldError(`headerBytes ${headerBytes} must be a multiple of 4, at least 40`);
  }
  const ext = opts.headerExtension;
  if (ext && ext.length !== headerBytes - FRAME_HEADER_BYTES) {
    throw fieldError(
      `headerExtension has ${ext.length} bytes; headerBytes ${headerBytes} needs ${headerBytes - FRAME_HEADER_BYTES}`,
    );
  }
  const wantType =
    h.format === 'int16' ? Int16Array : h.format === 'int32' ? Int32Array : Float32Array;
  if (SAMPLE_FORMAT_CODES[h.format] === undefined) {
    throw fieldError(`format ${String(h.format)} must be int16, int32 or float32`);
  }
  if (!(samples instanceof wantType)) {
    throw fieldError(`format ${h.format} needs a ${wantType.name} of samples`);
  }
  if (!isUint32(h.sensorId)) throw fieldError(`sensorId ${h.sensorId} must be a uint32`);
  if (!isUint32(h.seq)) throw fieldError(`seq ${h.seq} must be a uint32`);
  if (typeof h.t0Us !== 'bigint' || h.t0Us < 0n || h.t0Us > 0xffffffffffffffffn) {
    throw fieldError(`t0Us ${String(h.t0Us)} must be a bigint in [0, 2^64)`);
  }
  if (!Number.isInteger(h.channels) || h.channels < 1 || h.channels > 255) {
    throw fieldError(`channels ${h.channels} must be an integer 1…255`);
  }
  const sampleCount = h.sampleCount ?? samples.length / h.channels;
  if (
    !Number.isInteger(sampleCount) ||
    sampleCount < 1 ||
    sampleCount * h.channels !== samples.length
  ) {
    throw fieldError(
      `${samples.length} samples do not fill ${h.channels} channels × sampleCount ${h.sampleCount ?? sampleCount}`,
    );
  }
  const sampleRate = Math.fround(h.sampleRate);
  if (!Number.isFinite(sampleRate) || !(sampleRate > 0)) {
    throw fieldError(`sampleRate ${h.sampleRate} Hz must be finite and > 0 (float32)`);
  }
  const scale = Math.fround(h.scale);
  if (!Number.isFinite(scale) || !(scale > 0)) {
    throw fieldError(`scale ${h.scale} g/LSB must be finite and > 0 (float32)`);
  }
  const rpm = Math.fround(h.rpm);
  if (!Number.isFinite(rpm) || rpm < 0) {
    throw fieldError(`rpm ${h.rpm} must be finite and ≥ 0 (0 = unknown)`);
  }
  const total = frameByteLength(h.format, h.channels, sampleCount, headerBytes);
  if (total > MAX_FRAME_BYTES) {
    throw new FaultlineError(
      'FL_ERR_FRAME_LENGTH',
      `a frame of ${total} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit; send fewer samples per frame`,
    );
  }

  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out[0] = 0x46;
  out[1] = 0x4c;
  out[2] = version;
  out[3] = minor;
  dv.setUint16(4, headerBytes, true);
  out[6] = SAMPLE_FORMAT_CODES[h.format];
  out[7] = h.channels;
  dv.setUint32(8, h.sensorId, true);
  dv.setUint32(12, h.seq, true);
  dv.setBigUint64(16, h.t0Us, true);
  dv.setFloat32(24, sampleRate, true);
  dv.setFloat32(28, scale, true);
  dv.setUint32(32, sampleCount, true);
  dv.setFloat32(36, rpm, true);
  if (ext) out.set(ext, FRAME_HEADER_BYTES);
  const body = headerBytes;
  if (LITTLE_ENDIAN_HOST) {
    // headerBytes is a multiple of 4, so the typed view is aligned.
    out.set(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength), body);
  } else if (samples instanceof Int16Array) {
    for (let i = 0; i < samples.length; i++) dv.setInt16(body + 2 * i, samples[i], true);
  } else if (samples instanceof Int32Array) {
    for (let i = 0; i < samples.length; i++) dv.setInt32(body + 4 * i, samples[i], true);
  } else {
    for (let i = 0; i < samples.length; i++) dv.setFloat32(body + 4 * i, samples[i], true);
  }
  dv.setUint32(total - 4, crc32c(out, 0, total - 4), true);
  return out;
}

/**
 * Encode one frame as a serial packet: COBS of the frame followed by the
 * 0x00 delimiter. Same arguments and errors as {@link encodeFrame}.
 */
export function encodeSerialPacket(
  h: FrameHeaderInit,
  samples: RawSamples,
  opts: EncodeFrameOptions = {},
): Uint8Array {
  const frame = encodeFrame(h, samples, opts);
  const out = new Uint8Array(cobsMaxEncodedLength(frame.length) + 1);
  const n = cobsEncodeInto(frame, out);
  out[n] = 0;
  return out.subarray(0, n + 1);
}

/**
 * Check and decode the frame `bytes[start, end)` without throwing: returns the
 * frame, or the {@link FrameErrorCode} it fails with. Checks, in order:
 * length bounds, magic, CRC, major version, header fields, total length
 * (PROTOCOL.md, "Receiver checks"; the same order as fl_frame_decode).
 * The hot path of both links; allocates only the result.
 */
export function tryDecodeFrame(
  bytes: Uint8Array,
  start = 0,
  end = bytes.length,
  raw = false,
): DecodedFrame | FrameErrorCode {
  const n = end - start;
  if (n < FRAME_MIN_BYTES || n > MAX_FRAME_BYTES) return 'FL_ERR_FRAME_LENGTH';
  if (bytes[start] !== 0x46 || bytes[start + 1] !== 0x4c) return 'FL_ERR_FRAME_MAGIC';
  const stored =
    (bytes[end - 4] | (bytes[end - 3] << 8) | (bytes[end - 2] << 16) | (bytes[end - 1] << 24)) >>>
    0;
  // CRC before version: every major version ends in this CRC, so a damaged
  // frame is reported as damaged rather than as "new".
  if (crc32c(bytes, start, end - 4) !== stored) return 'FL_ERR_FRAME_CRC';
  if (bytes[start + 2] !== FRAME_VERSION_MAJOR) return 'FL_ERR_FRAME_VERSION';
  const headerBytes = bytes[start + 4] | (bytes[start + 5] << 8);
  if (headerBytes + FRAME_CRC_BYTES > n) return 'FL_ERR_FRAME_LENGTH';
  if (headerBytes < FRAME_HEADER_BYTES || headerBytes % 4 !== 0) return 'FL_ERR_FRAME_FIELD';
  const dv = new DataView(bytes.buffer, bytes.byteOffset + start, n);
  const formatCode = bytes[start + 6];
  const format = FORMAT_BY_CODE[formatCode];
  const channels = bytes[start + 7];
  const sampleRate = dv.getFloat32(24, true);
  const scale = dv.getFloat32(28, true);
  const sampleCount = dv.getUint32(32, true);
  const rpm = dv.getFloat32(36, true);
  if (
    format === undefined ||
    channels === 0 ||
    sampleCount === 0 ||
    !Number.isFinite(sampleRate) ||
    !(sampleRate > 0) ||
    !Number.isFinite(scale) ||
    !(scale > 0) ||
    !Number.isFinite(rpm) ||
    rpm < 0
  ) {
    return 'FL_ERR_FRAME_FIELD';
  }
  const width = BYTES_BY_CODE[formatCode];
  const values = sampleCount * channels;
  if (headerBytes + values * width + FRAME_CRC_BYTES !== n) return 'FL_ERR_FRAME_LENGTH';

  const header: FrameHeader = {
    version: FRAME_VERSION_MAJOR,
    versionMinor: bytes[start + 3],
    headerBytes,
    sensorId: dv.getUint32(8, true),
    seq: dv.getUint32(12, true),
    t0Us: dv.getBigUint64(16, true),
    sampleRate,
    channels,
    format,
    scale,
    sampleCount,
    rpm,
  };
  const samples = new Float32Array(values);
  const at = bytes.byteOffset + start + headerBytes;
  let rawOut: RawSamples | undefined;
  if (LITTLE_ENDIAN_HOST && at % width === 0) {
    // Aligned: read through a typed view (the usual case — the serial
    // decoder's scratch buffer starts at offset 0 and headerBytes % 4 = 0).
    // One loop per type: each stays monomorphic (a loop over a union of
    // typed arrays is several times slower in V8).
    if (formatCode === 1) {
      const view = new Int16Array(bytes.buffer, at, values);
      scaleInt16(view, scale, samples);
      if (raw) rawOut = view.slice();
    } else if (formatCode === 2) {
      const view = new Int32Array(bytes.buffer, at, values);
      scaleInt32(view, scale, samples);
      if (raw) rawOut = view.slice();
    } else {
      const view = new Float32Array(bytes.buffer, at, values);
      scaleFloat32(view, scale, samples);
      if (raw) rawOut = view.slice();
    }
  } else {
    const body = headerBytes;
    if (formatCode === 1) {
      for (let i = 0; i < values; i++) samples[i] = dv.getInt16(body + 2 * i, true) * scale;
    } else if (formatCode === 2) {
      for (let i = 0; i < values; i++) samples[i] = dv.getInt32(body + 4 * i, true) * scale;
    } else {
      for (let i = 0; i < values; i++) samples[i] = dv.getFloat32(body + 4 * i, true) * scale;
    }
    if (raw) {
      const copy = new Uint8Array(
        bytes.subarray(start + headerBytes, start + headerBytes + values * width),
      );
      const view =
        formatCode === 1
          ? new Int16Array(copy.buffer)
          : formatCode === 2
            ? new Int32Array(copy.buffer)
            : new Float32Array(copy.buffer);
      if (!LITTLE_ENDIAN_HOST) {
        const cdv = new DataView(copy.buffer);
        for (let i = 0; i < values; i++) {
          view[i] =
            formatCode === 1
              ? cdv.getInt16(2 * i, true)
              : formatCode === 2
                ? cdv.getInt32(4 * i, true)
                : cdv.getFloat32(4 * i, true);
        }
      }
      rawOut = view;
    }
  }
  return rawOut ? { header, samples, raw: rawOut } : { header, samples };
}

function scaleInt16(src: Int16Array, scale: number, out: Float32Array): void {
  for (let i = 0; i < src.length; i++) out[i] = src[i] * scale;
}
function scaleInt32(src: Int32Array, scale: number, out: Float32Array): void {
  for (let i = 0; i < src.length; i++) out[i] = src[i] * scale;
}
function scaleFloat32(src: Float32Array, scale: number, out: Float32Array): void {
  for (let i = 0; i < src.length; i++) out[i] = src[i] * scale;
}

/**
 * Decode one frame (raw bytes, no COBS) — one MQTT payload or one decoded
 * serial packet. Throws FaultlineError with FL_ERR_FRAME_LENGTH, _MAGIC, _CRC,
 * _VERSION or _FIELD (see {@link tryDecodeFrame} for the order).
 * `{ raw: true }` also returns a copy of the raw values.
 */
export function decodeFrame(bytes: Uint8Array, opts: { raw?: boolean } = {}): DecodedFrame {
  const r = tryDecodeFrame(bytes, 0, bytes.length, opts.raw ?? false);
  if (typeof r === 'string') throw frameError(r, bytes);
  return r;
}

/** A FaultlineError for the frame `bytes` refused with `code`. */
export function frameError(code: FrameErrorCode, bytes: Uint8Array): FaultlineError {
  return new FaultlineError(code, describeFrameError(code, bytes));
}

/**
 * Why the frame `bytes` (COBS packet for FL_ERR_COBS) was refused with
 * `code`, naming the bad value and what to do. A string, not an Error, so
 * the stream decoder can report bad frames without capturing stack traces.
 */
export function describeFrameError(code: FrameErrorCode, bytes: Uint8Array): string {
  const n = bytes.length;
  const hex = (v: number, w: number) => `0x${v.toString(16).padStart(w, '0')}`;
  switch (code) {
    case 'FL_ERR_FRAME_MAGIC':
      return (
        `frame starts with ${hex(bytes[0], 2)} ${hex(bytes[1], 2)}, not 'FL' (0x46 0x4c); ` +
        'the sender is not a Faultline node or the link is misaligned'
      );
    case 'FL_ERR_FRAME_CRC': {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, n);
      return (
        `frame CRC-32C ${hex(dv.getUint32(n - 4, true), 8)} ≠ computed ${hex(crc32c(bytes, 0, n - 4), 8)} ` +
        `over ${n - 4} bytes; the frame was damaged in transit, drop it`
      );
    }
    case 'FL_ERR_FRAME_VERSION':
      return (
        `frame version ${bytes[2]}.${bytes[3]}; this gateway speaks major version ${FRAME_VERSION_MAJOR} — ` +
        'update the gateway or configure the node for v1'
      );
    case 'FL_ERR_FRAME_LENGTH':
      return n < FRAME_MIN_BYTES || n > MAX_FRAME_BYTES
        ? `frame of ${n} bytes is outside ${FRAME_MIN_BYTES}…${MAX_FRAME_BYTES} bytes`
        : `frame of ${n} bytes does not match the length its header declares ` +
            '(header length + sample count × channels × sample width + 4)';
    case 'FL_ERR_FRAME_FIELD': {
      const dv = new DataView(bytes.buffer, bytes.byteOffset, n);
      const fields =
        n >= FRAME_HEADER_BYTES + FRAME_CRC_BYTES
          ? `, format ${bytes[6]} (1…3), channels ${bytes[7]} (≥ 1), ` +
            `sampleCount ${dv.getUint32(32, true)} (≥ 1), sampleRate ${dv.getFloat32(24, true)} Hz (> 0), ` +
            `scale ${dv.getFloat32(28, true)} g/LSB (> 0), rpm ${dv.getFloat32(36, true)} (≥ 0)`
          : '';
      return (
        `frame header out of range: headerBytes ${dv.getUint16(4, true)} (≥ 40, multiple of 4)${fields}; ` +
        "fix the node's configuration"
      );
    }
    default:
      return `a ${n}-byte serial packet is not valid COBS; it was dropped`;
  }
}

/**
 * The {@link SampleBlock} of a decoded frame, `gap` = sequence numbers missing
 * just before it (from a {@link SequenceTracker}). rpm 0 becomes undefined.
 */
export function frameToSampleBlock(frame: DecodedFrame, gap = 0): SampleBlock {
  const h = frame.header;
  const block: SampleBlock = {
    sensorId: h.sensorId,
    seq: h.seq,
    t0Us: h.t0Us,
    sampleRate: h.sampleRate,
    channels: h.channels,
    samples: frame.samples,
    gap,
  };
  if (h.rpm > 0) block.rpm = h.rpm;
  return block;
}
