import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFaultlineError } from '../../src/errors.js';
import {
  COBS_INVALID,
  COBS_TOO_LONG,
  cobsDecode,
  cobsDecodeInto,
  cobsEncode,
  cobsEncodeInto,
  cobsMaxEncodedLength,
} from '../../src/ingest/cobs.js';

const b = (...v: number[]) => Uint8Array.from(v);
const range = (from: number, to: number) =>
  Uint8Array.from({ length: to - from + 1 }, (_, i) => from + i);
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

// Published examples (Wikipedia, "Consistent Overhead Byte Stuffing"), delimiter removed.
const examples: [Uint8Array, Uint8Array][] = [
  [b(), b(0x01)],
  [b(0x00), b(0x01, 0x01)],
  [b(0x00, 0x00), b(0x01, 0x01, 0x01)],
  [b(0x00, 0x11, 0x00), b(0x01, 0x02, 0x11, 0x01)],
  [b(0x11, 0x22, 0x00, 0x33), b(0x03, 0x11, 0x22, 0x02, 0x33)],
  [b(0x11, 0x22, 0x33, 0x44), b(0x05, 0x11, 0x22, 0x33, 0x44)],
  [b(0x11, 0x00, 0x00, 0x00), b(0x02, 0x11, 0x01, 0x01, 0x01)],
  [range(1, 254), cat(b(0xff), range(1, 254))],
  [range(0, 254), cat(b(0x01, 0xff), range(1, 254))],
  [range(1, 255), cat(b(0xff), range(1, 254), b(0x02, 0xff))],
  [cat(range(2, 255), b(0)), cat(b(0xff), range(2, 255), b(0x01, 0x01))],
  [cat(range(3, 255), b(0, 1)), cat(b(0xfe), range(3, 255), b(0x02, 0x01))],
];

test('COBS encodes the published examples', () => {
  for (const [raw, enc] of examples) {
    assert.deepEqual(cobsEncode(raw), enc);
    assert.deepEqual(cobsDecode(enc), raw);
  }
});

test("the paper's trailing 0x01 after a final full block decodes the same", () => {
  assert.deepEqual(cobsDecode(cat(b(0xff), range(1, 254), b(0x01))), range(1, 254));
});

test('random round trips: no 0x00 in the output, length within the bound', () => {
  let x = 7;
  const rnd = () => (x = (x * 1664525 + 1013904223) >>> 0) >>> 24;
  for (let n = 0; n < 1200; n += 1 + (n >> 6)) {
    for (const zeroRate of [0, 0.01, 0.5, 1]) {
      const raw = Uint8Array.from({ length: n }, () => (rnd() / 256 < zeroRate ? 0 : rnd() | 1));
      const enc = cobsEncode(raw);
      assert.ok(enc.length <= cobsMaxEncodedLength(n));
      assert.equal(enc.indexOf(0), -1);
      assert.deepEqual(cobsDecode(enc), raw);
      // in place, from an offset
      const buf = cat(b(9, 9), enc);
      const m = cobsDecodeInto(buf, 2, buf.length, buf);
      assert.deepEqual(buf.subarray(0, m), raw);
    }
  }
});

test('invalid packets are refused with FL_ERR_COBS, never read out of bounds', () => {
  const out = new Uint8Array(16);
  assert.equal(cobsDecodeInto(b(0x05, 0x11, 0x22), 0, 3, out), COBS_INVALID);
  assert.equal(cobsDecodeInto(b(0x03, 0x11, 0x00), 0, 3, out), COBS_INVALID);
  assert.equal(cobsDecodeInto(b(0x00), 0, 1, out), COBS_INVALID);
  assert.equal(
    cobsDecodeInto(b(0x05, 0x11, 0x22, 0x33, 0x44), 0, 5, new Uint8Array(3)),
    COBS_TOO_LONG,
  );
  // the range end is respected even when more bytes follow in the buffer
  assert.equal(cobsDecodeInto(b(0x03, 0x11, 0x22, 0x33), 0, 2, out), COBS_INVALID);
  assert.throws(
    () => cobsDecode(b(0x09, 1, 2)),
    (e) => isFaultlineError(e, 'FL_ERR_COBS') && /3-byte packet/.test(e.message),
  );
  assert.throws(() => cobsEncodeInto(b(1, 2, 3), new Uint8Array(3)), RangeError);
});
