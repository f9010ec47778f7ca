/**
 * The shared vectors of firmware-bridge/vectors/: the C encoder wrote them
 * (firmware-bridge/tools/fl_vectors.c), this decoder must read them
 * byte-exactly and this encoder must write the same bytes from the same
 * inputs. ts_int32_2ch.* go the other way: written here, checked by the C
 * tests (`make -C firmware-bridge test`). Rewrite them after a deliberate
 * change with FAULTLINE_WRITE_VECTORS=1.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SampleBlock, SampleFormat } from '../../src/contract/sample-block.js';
import { isFaultlineError } from '../../src/errors.js';
import { cobsDecode } from '../../src/ingest/cobs.js';
import { crc32c } from '../../src/ingest/crc.js';
import { SerialFrameDecoder } from '../../src/ingest/decoder.js';
import {
  decodeFrame,
  encodeFrame,
  encodeSerialPacket,
  type FrameErrorCode,
  type FrameHeaderInit,
  type RawSamples,
} from '../../src/ingest/frame.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.resolve(here, '..', '..', 'firmware-bridge', 'vectors');

interface VectorHeader {
  version_major: number;
  version_minor: number;
  header_len: number;
  sensor_id: number;
  seq: number;
  t0_us: string;
  sample_rate: number;
  channels: number;
  format: SampleFormat;
  scale: number;
  sample_count: number;
  rpm: number;
}
interface Vector {
  name: string;
  raw: string;
  cobs: string;
  bytes: number;
  cobs_bytes: number;
  expect: 'OK' | FrameErrorCode;
  header?: VectorHeader;
  extension_hex?: string;
  samples_crc32c?: number;
  samples?: number[];
}
interface VectorFile {
  protocol: string;
  vectors: Vector[];
  stream: {
    file: string;
    bytes: number;
    blocks: string[];
    bad: Partial<Record<FrameErrorCode, number>>;
  };
}

const spec = JSON.parse(readFileSync(path.join(dir, 'vectors.json'), 'utf8')) as VectorFile;
const read = (name: string) => new Uint8Array(readFileSync(path.join(dir, name)));
const hexBytes = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
const typed = (format: SampleFormat, values: number[]): RawSamples =>
  format === 'int16'
    ? Int16Array.from(values)
    : format === 'int32'
      ? Int32Array.from(values)
      : Float32Array.from(values);

test('vectors.json lists the C vectors of protocol 1.0', () => {
  assert.equal(spec.protocol, '1.0');
  assert.ok(spec.vectors.length >= 13);
  assert.ok(spec.vectors.some((v) => v.expect === 'OK' && v.header?.format === 'float32'));
});

for (const v of spec.vectors) {
  test(`C vector ${v.name}: decodes as ${v.expect}`, () => {
    const raw = read(v.raw);
    const packet = read(v.cobs);
    assert.equal(raw.length, v.bytes);
    assert.equal(packet.length, v.cobs_bytes);
    assert.equal(packet[packet.length - 1], 0, 'a serial packet ends with its delimiter');
    assert.equal(packet.indexOf(0), packet.length - 1, 'no 0x00 inside a COBS packet');
    assert.deepEqual(cobsDecode(packet.subarray(0, -1)), raw);

    if (v.expect !== 'OK') {
      assert.throws(
        () => decodeFrame(raw),
        (err) => isFaultlineError(err, v.expect as FrameErrorCode),
      );
      return;
    }
    const h = v.header!;
    const { header, samples, raw: values } = decodeFrame(raw, { raw: true });
    assert.equal(header.version, h.version_major);
    assert.equal(header.versionMinor, h.version_minor);
    assert.equal(header.headerBytes, h.header_len);
    assert.equal(header.sensorId, h.sensor_id);
    assert.equal(header.seq, h.seq);
    assert.equal(header.t0Us, BigInt(h.t0_us));
    assert.equal(header.sampleRate, Math.fround(h.sample_rate));
    assert.equal(header.channels, h.channels);
    assert.equal(header.format, h.format);
    assert.equal(header.scale, Math.fround(h.scale));
    assert.equal(header.sampleCount, h.sample_count);
    assert.equal(header.rpm, Math.fround(h.rpm));
    assert.ok(values);
    assert.equal(values.length, h.sample_count * h.channels);
    assert.equal(samples.length, values.length);
    // raw sample bytes, checked through the C side's CRC of them
    const body = raw.subarray(h.header_len, raw.length - 4);
    assert.equal(crc32c(body), v.samples_crc32c);
    if (v.samples) {
      for (let i = 0; i < values.length; i++) {
        const want = h.format === 'float32' ? Math.fround(v.samples[i]) : v.samples[i];
        assert.ok(Object.is(values[i], want), `sample ${i}: ${values[i]} vs ${want}`);
      }
    }
    // g = raw × scale; the C side multiplies in float, so allow one float32 ulp
    for (let i = 0; i < values.length; i++) {
      const want = Math.fround(values[i] * header.scale);
      const ulp = Math.abs(want) * 2 ** -23 + 1e-45;
      assert.ok(Math.abs(samples[i] - want) <= ulp, `g sample ${i}: ${samples[i]} vs ${want}`);
    }

    // And the TypeScript encoder makes the very same bytes.
    const init: FrameHeaderInit = {
      versionMinor: h.version_minor,
      headerBytes: h.header_len,
      sensorId: h.sensor_id,
      seq: h.seq,
      t0Us: BigInt(h.t0_us),
      sampleRate: h.sample_rate,
      channels: h.channels,
      format: h.format,
      scale: h.scale,
      rpm: h.rpm,
    };
    const input = v.samples ? typed(h.format, v.samples) : values;
    const opts = v.extension_hex ? { headerExtension: hexBytes(v.extension_hex) } : {};
    assert.deepEqual(encodeFrame(init, input, opts), raw);
    assert.deepEqual(encodeSerialPacket(init, input, opts), packet);
  });
}

test('C stream capture: good blocks in order, bad packets counted by reason', async () => {
  const bytes = read(spec.stream.file);
  assert.equal(bytes.length, spec.stream.bytes);
  const byName = new Map(spec.vectors.map((v) => [v.name, v]));
  const dec = new SerialFrameDecoder();
  const blocks: SampleBlock[] = [];
  dec.on('data', (b) => blocks.push(b));
  dec.end(Buffer.from(bytes));
  await new Promise((resolve) => dec.on('end', resolve));
  assert.deepEqual(
    blocks.map((b) => [b.sensorId, b.seq]),
    spec.stream.blocks.map((n) => [byName.get(n)!.header!.sensor_id, byName.get(n)!.header!.seq]),
  );
  const stats = dec.stats();
  for (const [code, count] of Object.entries(stats.bad)) {
    assert.equal(count, spec.stream.bad[code as FrameErrorCode] ?? 0, code);
  }
  assert.equal(stats.frames, spec.stream.blocks.length);
  assert.equal(stats.bytes, bytes.length);
});

/** The TS-made vector; its inputs are listed in PROTOCOL.md and in test_core.c. */
const tsHeader: FrameHeaderInit = {
  sensorId: 99,
  seq: 0x80000000,
  t0Us: 1234567890123456n,
  sampleRate: 25600,
  channels: 2,
  format: 'int32',
  scale: 2 ** -20,
  rpm: 2950.25,
};
const tsSamples = Int32Array.from([
  -2147483648, 2147483647, 0, -1, 1, 524287, -524288, 100000, -100000, 42, -42, 7,
]);

test('TS vector ts_int32_2ch: committed bytes equal this encoder', () => {
  const frame = encodeFrame(tsHeader, tsSamples);
  const packet = encodeSerialPacket(tsHeader, tsSamples);
  const rawPath = path.join(dir, 'ts_int32_2ch.bin');
  const cobsPath = path.join(dir, 'ts_int32_2ch.cobs');
  if (process.env.FAULTLINE_WRITE_VECTORS === '1') {
    writeFileSync(rawPath, frame);
    writeFileSync(cobsPath, packet);
  }
  assert.ok(existsSync(rawPath), `${rawPath} is missing: run with FAULTLINE_WRITE_VECTORS=1`);
  assert.deepEqual(read('ts_int32_2ch.bin'), frame);
  assert.deepEqual(read('ts_int32_2ch.cobs'), packet);
  assert.equal(frame.length, 40 + 12 * 4 + 4);
  const back = decodeFrame(frame, { raw: true });
  assert.deepEqual(back.raw, tsSamples);
  assert.equal(back.samples[5], 0.5 - 2 ** -20);
});
