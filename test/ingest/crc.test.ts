import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c } from '../../src/ingest/crc.js';

/** Bit-at-a-time CRC-32C straight from the definition: the independent reference. */
function crc32cBitwise(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

const ascii = (s: string) => new TextEncoder().encode(s);

test('CRC-32C check value and RFC 3720 (iSCSI) examples', () => {
  assert.equal(crc32c(ascii('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
});

test('slicing-by-8 equals the bitwise definition at every length and offset', () => {
  let x = 1;
  const data = Uint8Array.from({ length: 300 }, () => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x >>> 24;
  });
  for (let start = 0; start < 9; start++) {
    for (let end = start; end <= data.length; end += start + 1) {
      assert.equal(crc32c(data, start, end), crc32cBitwise(data.subarray(start, end)));
    }
  }
});

test('a CRC continues across pieces', () => {
  const d = ascii('The quick brown fox jumps over the lazy dog');
  const whole = crc32c(d);
  for (let cut = 0; cut <= d.length; cut++) {
    assert.equal(crc32c(d, cut, d.length, crc32c(d, 0, cut)), whole);
  }
});
