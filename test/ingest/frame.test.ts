import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFaultlineError } from '../../src/errors.js';
import { cobsDecode } from '../../src/ingest/cobs.js';
import { crc32c } from '../../src/ingest/crc.js';
import {
  decodeFrame,
  encodeFrame,
  encodeSerialPacket,
  FRAME_HEADER_BYTES,
  type FrameErrorCode,
  type FrameHeaderInit,
  frameByteLength,
  frameToSampleBlock,
  MAX_FRAME_BYTES,
  tryDecodeFrame,
} from '../../src/ingest/frame.js';
import { rng } from './stream-helpers.js';

const header = (over: Partial<FrameHeaderInit> = {}): FrameHeaderInit => ({
  sensorId: 0xa1b2c3d4,
  seq: 0xfffffffe,
  t0Us: 0x0123456789abcdefn,
  sampleRate: 26667,
  channels: 3,
  format: 'int16',
  scale: 0.000061,
  rpm: 1480.25,
  ...over,
});

test('round trip for every format; samples come back in g', () => {
  const r = rng(1);
  const cases = [
    {
      format: 'int16' as const,
      s: Int16Array.from({ length: 300 }, () => Math.round((r() - 0.5) * 65535)),
    },
    {
      format: 'int32' as const,
      s: Int32Array.from({ length: 300 }, () => Math.round((r() - 0.5) * 2 ** 32)),
    },
    { format: 'float32' as const, s: Float32Array.from({ length: 300 }, () => (r() - 0.5) * 40) },
  ];
  for (const { format, s } of cases) {
    const scale = format === 'float32' ? 1 : 0.000061;
    const frame = encodeFrame(header({ format, scale }), s);
    assert.equal(frame.length, frameByteLength(format, 3, 100));
    const d = decodeFrame(frame, { raw: true });
    assert.deepEqual(d.raw, s);
    assert.equal(d.header.format, format);
    assert.equal(d.header.sampleCount, 100);
    assert.equal(d.header.channels, 3);
    assert.equal(d.header.sensorId, 0xa1b2c3d4);
    assert.equal(d.header.seq, 0xfffffffe);
    assert.equal(d.header.t0Us, 0x0123456789abcdefn);
    assert.equal(d.header.sampleRate, 26667);
    assert.equal(d.header.scale, Math.fround(scale));
    assert.equal(d.header.rpm, 1480.25);
    assert.equal(d.header.version, 1);
    assert.equal(d.header.versionMinor, 0);
    assert.equal(d.header.headerBytes, 40);
    for (let i = 0; i < s.length; i++) {
      assert.equal(d.samples[i], Math.fround(s[i] * Math.fround(scale)));
    }
    // a decoded header encodes back to the same bytes
    assert.deepEqual(encodeFrame(d.header, d.raw!), frame);
    assert.deepEqual(cobsDecode(encodeSerialPacket(d.header, d.raw!).subarray(0, -1)), frame);
  }
});

test('a frame at any byte offset (an MQTT payload after its topic) decodes to the same samples', () => {
  const r = rng(7);
  const cases = [
    {
      format: 'int16' as const,
      s: Int16Array.from({ length: 240 }, () => Math.round((r() - 0.5) * 65535)),
    },
    {
      format: 'int32' as const,
      s: Int32Array.from({ length: 240 }, () => Math.round((r() - 0.5) * 2 ** 32)),
    },
    { format: 'float32' as const, s: Float32Array.from({ length: 240 }, () => (r() - 0.5) * 40) },
  ];
  for (const { format, s } of cases) {
    const scale = format === 'float32' ? 1 : 0.000061;
    const frame = encodeFrame(header({ format, scale }), s);
    const want = decodeFrame(frame, { raw: true });
    for (let offset = 1; offset < 8; offset++) {
      const packet = new Uint8Array(offset + frame.length + 3).fill(0xee);
      packet.set(frame, offset);
      // As a view into a larger buffer (how mqtt-packet hands out payloads) …
      const got = decodeFrame(packet.subarray(offset, offset + frame.length), { raw: true });
      assert.deepEqual(got.samples, want.samples, `${format} at offset ${offset}`);
      assert.deepEqual(got.raw, want.raw, `${format} raw at offset ${offset}`);
      // … and through start/end within it.
      const d = tryDecodeFrame(packet, offset, offset + frame.length);
      assert.ok(typeof d !== 'string', `${format} at offset ${offset}: ${String(d)}`);
      assert.deepEqual(d.samples, want.samples);
    }
  }
});

test('little-endian layout at the documented offsets', () => {
  const f = encodeFrame(header({ channels: 1 }), Int16Array.from([0x1234, -2]));
  const dv = new DataView(f.buffer);
  assert.deepEqual([...f.subarray(0, 8)], [0x46, 0x4c, 1, 0, 40, 0, 1, 1]);
  assert.equal(dv.getUint32(8, true), 0xa1b2c3d4);
  assert.equal(dv.getUint32(12, true), 0xfffffffe);
  assert.equal(dv.getBigUint64(16, true), 0x0123456789abcdefn);
  assert.equal(dv.getFloat32(24, true), 26667);
  assert.equal(dv.getFloat32(28, true), Math.fround(0.000061));
  assert.equal(dv.getUint32(32, true), 2);
  assert.equal(dv.getFloat32(36, true), 1480.25);
  assert.deepEqual([...f.subarray(40, 44)], [0x34, 0x12, 0xfe, 0xff]);
  assert.equal(dv.getUint32(44, true), crc32c(f, 0, 44));
  assert.equal(f.length, 48);
});

test('frames at an odd byte offset (pooled Buffers) decode the same', () => {
  const s = Int32Array.from([1, -1, 123456, -654321, 2 ** 31 - 1, -(2 ** 31)]);
  const f = encodeFrame(header({ format: 'int32', channels: 2 }), s);
  const pool = new Uint8Array(f.length + 3);
  pool.set(f, 3);
  const d = decodeFrame(pool.subarray(3), { raw: true });
  assert.deepEqual(d.raw, s);
  assert.deepEqual(d.samples, decodeFrame(f).samples);
});

test('a later minor version with a longer header is read, its extension skipped', () => {
  const ext = Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1]);
  const s = Int16Array.from([5, -5]);
  const f = encodeFrame(header({ channels: 1, versionMinor: 7, headerBytes: 48 }), s, {
    headerExtension: ext,
  });
  assert.deepEqual(f.subarray(40, 48), ext);
  const d = decodeFrame(f, { raw: true });
  assert.equal(d.header.versionMinor, 7);
  assert.equal(d.header.headerBytes, 48);
  assert.deepEqual(d.raw, s);
});

/** Re-stamps the CRC after an edit, so the check under test is reached. */
function edited(
  f: Uint8Array,
  edit: (dv: DataView, b: Uint8Array) => void,
  n = f.length,
): Uint8Array {
  const b = f.slice(0, n);
  const dv = new DataView(b.buffer);
  edit(dv, b);
  dv.setUint32(n - 4, crc32c(b, 0, n - 4), true);
  return b;
}

test('every refusal has its stable code', () => {
  const f = encodeFrame(header({ channels: 1 }), new Int16Array(64));
  const expectCode = (bytes: Uint8Array, code: FrameErrorCode) => {
    assert.equal(tryDecodeFrame(bytes), code);
    assert.throws(
      () => decodeFrame(bytes),
      (e) => isFaultlineError(e, code) && e.message.length > 20,
    );
  };
  expectCode(f.subarray(0, 11), 'FL_ERR_FRAME_LENGTH');
  expectCode(new Uint8Array(MAX_FRAME_BYTES + 1), 'FL_ERR_FRAME_LENGTH');
  expectCode(f.subarray(0, f.length - 1), 'FL_ERR_FRAME_CRC');
  expectCode(
    edited(f, (_, b) => (b[1] = 0x58)),
    'FL_ERR_FRAME_MAGIC',
  );
  const flipped = f.slice();
  flipped[50] ^= 4;
  expectCode(flipped, 'FL_ERR_FRAME_CRC');
  expectCode(
    edited(f, (_, b) => (b[2] = 2)),
    'FL_ERR_FRAME_VERSION',
  );
  expectCode(
    edited(f, (_, b) => (b[2] = 0)),
    'FL_ERR_FRAME_VERSION',
  );
  expectCode(
    edited(f, (dv) => dv.setUint16(4, 36, true)),
    'FL_ERR_FRAME_FIELD',
  );
  expectCode(
    edited(f, (dv) => dv.setUint16(4, 42, true)),
    'FL_ERR_FRAME_FIELD',
  );
  expectCode(
    edited(f, (dv) => dv.setUint16(4, 0xfffc, true)),
    'FL_ERR_FRAME_LENGTH',
  );
  expectCode(
    edited(f, (dv) => dv.setUint16(4, 44, true)),
    'FL_ERR_FRAME_LENGTH',
  );
  expectCode(
    edited(f, (_, b) => (b[6] = 0)),
    'FL_ERR_FRAME_FIELD',
  );
  expectCode(
    edited(f, (_, b) => (b[6] = 4)),
    'FL_ERR_FRAME_FIELD',
  );
  expectCode(
    edited(f, (_, b) => (b[6] = 2)),
    'FL_ERR_FRAME_LENGTH',
  );
  expectCode(
    edited(f, (_, b) => (b[7] = 0)),
    'FL_ERR_FRAME_FIELD',
  );
  expectCode(
    edited(f, (dv) => dv.setFloat32(24, 0, true)),
    'FL_ERR_FRAME_FIELD',
  );
  expectCode(
    edited(f, (dv) => dv.setFloat32(24, Number.NaN, true)),
    'FL_ERR_FRAME_FIELD',
  );
  expectCode(
    edited(f, (dv) => dv.setFloat32(28, -1, true)),
    'FL_ERR_FRAME_FIELD',
  );
  expectCode(
    edited(f, (dv) => dv.setFloat32(28, Number.POSITIVE_INFINITY, true)),
    'FL_ERR_FRAME_FIELD',
  );
  expectCode(
    edited(f, (dv) => dv.setFloat32(36, -1, true)),
    'FL_ERR_FRAME_FIELD',
  );
  expectCode(
    edited(f, (dv) => dv.setUint32(32, 0, true)),
    'FL_ERR_FRAME_FIELD',
  );
  expectCode(
    edited(f, (dv) => dv.setUint32(32, 0x80000000, true)),
    'FL_ERR_FRAME_LENGTH',
  );
  // a short frame whose header length claims less than 40 bytes: no read past the end
  expectCode(
    edited(f, (dv) => dv.setUint16(4, 8, true), 20),
    'FL_ERR_FRAME_FIELD',
  );
  // the unedited frame still decodes
  assert.equal(typeof tryDecodeFrame(f), 'object');
});

test('the encoder refuses what receivers would refuse, naming the field', () => {
  const s = new Int16Array(6);
  const bad = (
    over: Partial<FrameHeaderInit>,
    samples: Int16Array | Float32Array = s,
    code = 'FL_ERR_FRAME_FIELD',
    re?: RegExp,
  ) =>
    assert.throws(
      () => encodeFrame(header(over), samples),
      (e) => isFaultlineError(e) && e.code === code && (re === undefined || re.test(e.message)),
    );
  bad({ version: 2 }, s, 'FL_ERR_FRAME_VERSION');
  bad({ sensorId: -1 }, s, undefined, /sensorId -1/);
  bad({ sensorId: 2 ** 32 }, s);
  bad({ seq: 1.5 }, s, undefined, /seq 1.5/);
  bad({ t0Us: -1n }, s, undefined, /t0Us/);
  bad({ t0Us: 2n ** 64n }, s);
  bad({ sampleRate: 0 }, s, undefined, /sampleRate 0/);
  bad({ sampleRate: Number.NaN }, s);
  bad({ scale: 1e-50 }, s, undefined, /scale/); // underflows float32 to 0
  bad({ rpm: -1 }, s, undefined, /rpm -1/);
  bad({ rpm: 1e40 }, s); // overflows float32
  bad({ channels: 0 }, s);
  bad({ channels: 256 }, s);
  bad({ channels: 4 }, s, undefined, /6 samples do not fill 4 channels/);
  bad({ sampleCount: 3 }, s);
  bad({}, new Float32Array(6), undefined, /int16 needs a Int16Array/);
  bad({ headerBytes: 42 }, s);
  bad({}, new Int16Array(0));
  assert.throws(
    () => encodeFrame(header({ channels: 1 }), new Int16Array(32747)),
    (e) => isFaultlineError(e, 'FL_ERR_FRAME_LENGTH'),
  );
  assert.equal(encodeFrame(header({ channels: 1 }), new Int16Array(32746)).length, MAX_FRAME_BYTES);
  assert.throws(
    () => encodeFrame(header({ headerBytes: 44 }), s, { headerExtension: new Uint8Array(3) }),
    (e) => isFaultlineError(e, 'FL_ERR_FRAME_FIELD'),
  );
});

test('frameToSampleBlock: rpm 0 means unknown, the gap is carried', () => {
  const d = decodeFrame(
    encodeFrame(header({ rpm: 0, channels: 2 }), Int16Array.from([1, 2, 3, 4])),
  );
  const block = frameToSampleBlock(d, 3);
  assert.equal(block.rpm, undefined);
  assert.equal(block.gap, 3);
  assert.equal(block.channels, 2);
  assert.equal(block.sampleRate, 26667);
  assert.equal(block.t0Us, 0x0123456789abcdefn);
  assert.equal(block.samples, d.samples);
  assert.equal(
    frameToSampleBlock(decodeFrame(encodeFrame(header(), new Int16Array(3)))).rpm,
    1480.25,
  );
  assert.equal(FRAME_HEADER_BYTES, 40);
});
