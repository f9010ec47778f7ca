/**
 * Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999), the serial
 * link's packet framing: an encoded packet holds no 0x00, so 0x00 delimits
 * packets and a receiver resynchronises at the next 0x00 after any garbage.
 *
 * A block of 254 non-zero bytes has code 0xFF; when the data ends right
 * after such a block no further code byte follows (Wikipedia's examples, most
 * libraries; the paper's code appends 0x01). Decoding accepts both. Same
 * bytes as firmware-bridge/firmware/core/fl_cobs.c.
 */
import { FaultlineError } from '../errors.js';

/** Worst-case encoded length of `n` bytes, without the 0x00 delimiter. */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.floor(n / 254) + 1;
}

/**
 * Encode `src` into `dst` at `dstOffset` (no delimiter); `dst` needs
 * {@link cobsMaxEncodedLength} bytes free. Returns the encoded length.
 */
export function cobsEncodeInto(src: Uint8Array, dst: Uint8Array, dstOffset = 0): number {
  const n = src.length;
  if (dst.length - dstOffset < cobsMaxEncodedLength(n)) {
    throw new RangeError(
      `cobsEncodeInto: ${dst.length - dstOffset} bytes free, ${cobsMaxEncodedLength(n)} needed`,
    );
  }
  let out = dstOffset + 1;
  let codeAt = dstOffset;
  let code = 1;
  for (let i = 0; i < n; i++) {
    const b = src[i];
    if (b === 0) {
      dst[codeAt] = code;
      codeAt = out++;
      code = 1;
      continue;
    }
    dst[out++] = b;
    if (++code === 0xff) {
      dst[codeAt] = code;
      if (i + 1 === n) return out - dstOffset; // a full block ends the data
      codeAt = out++;
      code = 1;
    }
  }
  dst[codeAt] = code;
  return out - dstOffset;
}

/** COBS-encode `src` (no delimiter appended). */
export function cobsEncode(src: Uint8Array): Uint8Array {
  const dst = new Uint8Array(cobsMaxEncodedLength(src.length));
  return dst.slice(0, cobsEncodeInto(src, dst));
}

/** {@link cobsDecodeInto} result: the packet is not valid COBS. */
export const COBS_INVALID = -1;
/** {@link cobsDecodeInto} result: the output does not fit in `dst`. */
export const COBS_TOO_LONG = -2;

/**
 * Decode the packet `src[start, end)` (delimiter removed) into `dst` from
 * index 0. Returns the decoded length, {@link COBS_INVALID} when a block runs
 * past the end or a 0x00 appears inside, or {@link COBS_TOO_LONG}. Never
 * throws and never allocates: the serial decoder's hot path. `dst` may be
 * `src` with `start = 0` (the output never overtakes the input).
 */
export function cobsDecodeInto(
  src: Uint8Array,
  start: number,
  end: number,
  dst: Uint8Array,
): number {
  const cap = dst.length;
  let i = start;
  let out = 0;
  while (i < end) {
    const code = src[i++];
    if (code === 0) return COBS_INVALID;
    const runEnd = i + code - 1;
    if (runEnd > end) return COBS_INVALID;
    if (out + (runEnd - i) > cap) return COBS_TOO_LONG;
    if (runEnd - i >= 24) {
      // Long runs (the usual case for vibration data) go through native
      // memchr/memmove rather than a byte loop.
      const run = src.subarray(i, runEnd);
      if (run.indexOf(0) !== -1) return COBS_INVALID;
      if (dst === src) dst.copyWithin(out, i, runEnd);
      else dst.set(run, out);
      out += runEnd - i;
      i = runEnd;
    } else {
      while (i < runEnd) {
        const b = src[i++];
        if (b === 0) return COBS_INVALID;
        dst[out++] = b;
      }
    }
    // A block shorter than 254 bytes stood for "data, then 0x00", except the
    // last block, whose 0x00 is the packet's end.
    if (code !== 0xff && i < end) {
      if (out >= cap) return COBS_TOO_LONG;
      dst[out++] = 0;
    }
  }
  return out;
}

/**
 * Decode one COBS packet (delimiter removed). Throws FaultlineError
 * `FL_ERR_COBS` when it is not valid COBS.
 */
export function cobsDecode(src: Uint8Array): Uint8Array {
  const dst = new Uint8Array(src.length);
  const n = cobsDecodeInto(src, 0, src.length, dst);
  if (n < 0) {
    throw new FaultlineError(
      'FL_ERR_COBS',
      `a ${src.length}-byte packet is not valid COBS (a block runs past its end or holds 0x00); ` +
        'drop it and resynchronise at the next 0x00 delimiter',
    );
  }
  return dst.slice(0, n);
}
