import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import wavefile from 'wavefile';
import { readSignalChannel } from '../../src/data/signals.js';
import { isFaultlineError } from '../../src/errors.js';
import { generateBearingSignal } from '../../src/sim/generator.js';
import {
  CSV_COLUMN,
  encodeCsv,
  encodeNpyFloat32,
  encodeWavFloat32,
  signalFileFormatOf,
  writeSignalFile,
} from '../../src/sim/signal-files.js';

const signal = generateBearingSignal({ fault: 'outer', seed: 3 }, 3001);
const tmp = await mkdtemp(path.join(os.tmpdir(), 'faultline-sim-files-'));
after(() => rm(tmp, { recursive: true, force: true }));

test('WAV: IEEE float32 mono at the given rate, read back exactly by wavefile', () => {
  const bytes = encodeWavFloat32(signal, 12000);
  const wav = new wavefile.WaveFile(bytes);
  const fmt = wav.fmt as {
    audioFormat: number;
    numChannels: number;
    sampleRate: number;
    bitsPerSample: number;
  };
  assert.equal(fmt.audioFormat, 3);
  assert.equal(fmt.numChannels, 1);
  assert.equal(fmt.sampleRate, 12000);
  assert.equal(fmt.bitsPerSample, 32);
  assert.deepEqual(Float32Array.from(wav.getSamples(false, Float64Array) as Float64Array), signal);
  assert.throws(
    () => encodeWavFloat32(signal, 12000.5),
    (e) => isFaultlineError(e, 'FL_ERR_SIM_PARAMS'),
  );
});

test('npy: v1.0 header by hand, 64-byte aligned, little-endian float32 data', () => {
  for (const n of [0, 1, 7, 3001, 123456]) {
    const x = n === 3001 ? signal : Float32Array.from({ length: n }, (_, i) => i * 0.25 - 3);
    const bytes = encodeNpyFloat32(x);
    assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const hlen = bytes[8] | (bytes[9] << 8);
    assert.equal((10 + hlen) % 64, 0, 'data must start 64-byte aligned');
    const header = Buffer.from(bytes.subarray(10, 10 + hlen)).toString('latin1');
    assert.ok(header.endsWith('\n'));
    assert.equal(header.trimEnd(), `{'descr': '<f4', 'fortran_order': False, 'shape': (${n},), }`);
    assert.equal(bytes.length, 10 + hlen + 4 * n);
    const view = new DataView(bytes.buffer, bytes.byteOffset + 10 + hlen);
    for (let i = 0; i < n; i += Math.max(1, Math.floor(n / 50)))
      assert.equal(view.getFloat32(4 * i, true), x[i]);
  }
});

test('CSV: header accel_g, one value per line, float32 round-trips exactly', () => {
  const text = encodeCsv(signal);
  const lines = text.split('\n');
  assert.equal(lines[0], CSV_COLUMN);
  assert.equal(lines.length, signal.length + 2); // header + rows + final newline
  assert.equal(lines.at(-1), '');
  const back = Float32Array.from(lines.slice(1, -1), Number);
  assert.deepEqual(back, signal);
  assert.equal(encodeCsv(new Float32Array(0)), `${CSV_COLUMN}\n`);
});

test('files are read back exactly by the bring-your-own readers (src/data)', async () => {
  for (const ext of ['wav', 'csv', 'npy']) {
    const file = path.join(tmp, `sig.${ext}`);
    await writeSignalFile(file, signal, 12000);
    const ch = await readSignalChannel(file, '0');
    assert.deepEqual(ch.samples, signal, ext);
    if (ext === 'wav') assert.equal(ch.fileSampleRate, 12000);
  }
  // Upper-case extension works; the bytes equal the encoder's.
  const upper = path.join(tmp, 'SIG.NPY');
  await writeSignalFile(upper, signal, 12000);
  assert.deepEqual(new Uint8Array(await readFile(upper)), encodeNpyFloat32(signal));
});

test('an unknown extension is refused with FL_ERR_SIM_PARAMS', async () => {
  assert.throws(
    () => signalFileFormatOf('x.mat'),
    (e) => isFaultlineError(e, 'FL_ERR_SIM_PARAMS'),
  );
  assert.throws(
    () => signalFileFormatOf('noext'),
    (e) => isFaultlineError(e, 'FL_ERR_SIM_PARAMS'),
  );
  await assert.rejects(writeSignalFile(path.join(tmp, 'x.txt'), signal, 12000), (e) =>
    isFaultlineError(e, 'FL_ERR_SIM_PARAMS'),
  );
});
