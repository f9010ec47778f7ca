import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import wavefile from 'wavefile';
import { loadByo, readByoManifest } from '../../src/data/byo.js';
import { detectDataset, loadDataset } from '../../src/data/dataset.js';
import { parseNpy } from '../../src/data/npy.js';
import { readSignalChannel } from '../../src/data/signals.js';
import { isFaultlineError } from '../../src/errors.js';
import { writeMat } from './mat-writer.js';

/** `.npy` bytes built by hand (format 1.0 unless `major` says otherwise). */
function npyBytes(
  descr: string,
  shape: number[],
  values: number[],
  opts: { fortran?: boolean; major?: number } = {},
): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const major = opts.major ?? 1;
  const pre = major === 1 ? 10 : 12;
  header += `${' '.repeat(64 - ((pre + header.length + 1) % 64))}\n`;
  const size = { '<f4': 4, '<f8': 8, '<i2': 2, '<i4': 4, '>f8': 8, '<i8': 8 }[descr] ?? 8;
  const data = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    if (descr === '<f4') data.writeFloatLE(v, i * 4);
    else if (descr === '<f8') data.writeDoubleLE(v, i * 8);
    else if (descr === '>f8') data.writeDoubleBE(v, i * 8);
    else if (descr === '<i2') data.writeInt16LE(v, i * 2);
    else if (descr === '<i4') data.writeInt32LE(v, i * 4);
  });
  const pre2 = Buffer.alloc(pre);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]).copy(pre2);
  if (major === 1) pre2.writeUInt16LE(header.length, 8);
  else pre2.writeUInt32LE(header.length, 8);
  return Buffer.concat([pre2, Buffer.from(header, 'latin1'), data]);
}

function wavBytes(
  channels: number,
  rate: number,
  depth: string,
  samples: number[] | number[][],
): Uint8Array {
  const w = new wavefile.WaveFile();
  w.fromScratch(channels, rate, depth, samples);
  return w.toBuffer();
}

const N = 600;
const sine = Array.from({ length: N }, (_, i) => Math.round(10000 * Math.sin(i / 7)));
let root: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fl-byo-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function folder(name: string, files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = path.join(root, name);
  for (const [f, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await writeFile(path.join(dir, f), content);
  }
  return dir;
}

const GOOD_FILES = {
  'sig.csv': `# exported by a logger\ntime,accel_x,accel_y\n${sine.map((v, i) => `${i / 1000},${v / 1000},${-v / 1000}`).join('\n')}\n`,
  'plain.csv': `${sine.map((v) => `${v}`).join('\n')}\n`,
  'pump/stereo16.wav': wavBytes(2, 8000, '16', [sine, sine.map((v) => -v)]),
  'mono24.wav': wavBytes(
    1,
    25600,
    '24',
    sine.map((v) => v * 256),
  ),
  'f32.wav': wavBytes(
    1,
    8000,
    '32f',
    sine.map((v) => v / 20000),
  ),
  'f64.wav': wavBytes(
    1,
    8000,
    '64',
    sine.map((v) => v / 20000),
  ),
  'pcm32.wav': wavBytes(
    1,
    8000,
    '32',
    sine.map((v) => v * 65536),
  ),
  'a.npy': npyBytes(
    '<f8',
    [N],
    sine.map((v) => v / 3),
  ),
  'b.npy': npyBytes(
    '<i2',
    [N, 2],
    sine.flatMap((v) => [v, 2 * v]),
  ),
  'c.npy': npyBytes('<f4', [N], sine, { major: 2 }),
  'd.npy': npyBytes('<i4', [N, 1], sine),
  'm.mat': writeMat([
    { name: 'acc', kind: 'double', dims: [N, 1], data: sine.map((v) => v / 1000) },
    { name: 'rpm', kind: 'double', dims: [1, 1], data: [1480] },
  ]),
};

const GOOD_MANIFEST = `file,label,domain,sample_rate,channel,rpm
sig.csv,normal,pumpA,1000,accel_y,1480
plain.csv,normal,pumpA,1000,,
pump/stereo16.wav,OR,pumpB,,1,1500
mono24.wav,IR,pumpB,25600,,
f32.wav,IR,pumpB,,,
f64.wav,IR,pumpB,,0,
pcm32.wav,IR,pumpB,,,
a.npy,B,pumpA,2000,,
b.npy,B,pumpA,2000,1,
c.npy,B,pumpA,2000,,
d.npy,B,pumpA,2000,0,
m.mat,normal,pumpC,5000,acc,1480
`;

test('loads each format from a manifest.csv with the right values, rates, labels and ids', async () => {
  const dir = await folder('good', { ...GOOD_FILES, 'manifest.csv': GOOD_MANIFEST });
  assert.equal(await detectDataset(dir), 'byo');
  const recs = await loadByo(dir);
  const by = new Map(recs.map((r) => [r.meta.file, r]));
  assert.equal(recs.length, 12);
  const expect = (file: string, fn: (i: number) => number, tol = 0): void => {
    const r = by.get(file);
    assert.ok(r, file);
    assert.equal(r.samples.length, N, file);
    for (let i = 0; i < N; i++) {
      assert.ok(
        Math.abs(r.samples[i] - Math.fround(fn(i))) <= tol,
        `${file}[${i}] = ${r.samples[i]}, want ${fn(i)}`,
      );
    }
  };
  expect('sig.csv', (i) => -sine[i] / 1000);
  expect('plain.csv', (i) => sine[i]);
  expect('pump/stereo16.wav', (i) => -sine[i] / 32768);
  expect('mono24.wav', (i) => (sine[i] * 256) / 2 ** 23);
  expect('f32.wav', (i) => sine[i] / 20000, 1e-7);
  expect('f64.wav', (i) => sine[i] / 20000);
  expect('pcm32.wav', (i) => (sine[i] * 65536) / 2 ** 31);
  expect('a.npy', (i) => sine[i] / 3);
  expect('b.npy', (i) => 2 * sine[i]);
  expect('c.npy', (i) => sine[i]);
  expect('d.npy', (i) => sine[i]);
  expect('m.mat', (i) => sine[i] / 1000);

  const csv = by.get('sig.csv');
  assert.equal(csv?.id, 'byo:sig.csv#accel_y');
  assert.equal(csv?.meta.channel, 'accel_y');
  assert.equal(csv?.meta.manifestLine, 2);
  assert.equal(csv?.rpm, 1480);
  assert.equal(by.get('plain.csv')?.id, 'byo:plain.csv');
  assert.equal(by.get('plain.csv')?.rpm, undefined);
  const st = by.get('pump/stereo16.wav');
  assert.equal(st?.sampleRate, 8000, 'WAV rate comes from the file');
  assert.equal(st?.label, 'OR');
  assert.equal(st?.domain, 'pumpB');
  assert.equal(st?.meta.scale, 'pcm16/32768');
  assert.equal(by.get('mono24.wav')?.sampleRate, 25600);
  assert.equal(by.get('m.mat')?.meta.channel, 'acc');
  assert.equal(by.get('a.npy')?.sampleRate, 2000);
  for (const r of recs) assert.equal(r.meta.resampled, false);
});

test('manifest.json works the same, with targetRate resampling every file', async () => {
  const entries = [
    { file: 'a.npy', label: 'B', domain: 'x', sample_rate: 2000 },
    { file: 'pump/stereo16.wav', label: 'OR', domain: 'y', channel: 0, rpm: 1500 },
  ];
  const dir = await folder('json', {
    ...GOOD_FILES,
    'manifest.json': JSON.stringify({ recordings: entries }, null, 2),
  });
  const recs = await loadDataset(dir, { targetRate: 4000 });
  assert.deepEqual(
    recs.map((r) => [
      r.id,
      r.sampleRate,
      r.meta.originalSampleRate,
      r.meta.resampled,
      r.samples.length,
    ]),
    [
      ['byo:a.npy', 4000, 2000, true, 1199],
      ['byo:pump/stereo16.wav#0', 4000, 8000, true, 300],
    ],
  );
  assert.match(String(recs[0].meta.resampler), /ratio 2\/1/);
});

test('bad manifest rows are all reported at once, each with its line number', async () => {
  const manifest = `file,label,domain,sample_rate,channel,rpm
a.npy,B,pumpA,2000,,
missing.csv,B,pumpA,1000,,
c.npy,,pumpA,2000,,
d.npy,B,,abc,,
../outside.csv,B,pumpA,1000,,
notes.txt,B,pumpA,1000,,
a.npy,B,pumpA,2000,,
b.npy,B,pumpA,2000,1,-5
`;
  const dir = await folder('bad', { ...GOOD_FILES, 'notes.txt': 'hi', 'manifest.csv': manifest });
  await assert.rejects(loadByo(dir), (e) => {
    assert.ok(isFaultlineError(e, 'FL_ERR_DATASET_MANIFEST'), String(e));
    const msg = (e as Error).message;
    assert.match(msg, /7 bad row/);
    assert.match(msg, /line 3: file 'missing\.csv' not found/);
    assert.match(msg, /line 4: label is empty/);
    assert.match(msg, /line 5: domain is empty; sample_rate "abc" is not a positive number/);
    assert.match(msg, /line 6: file '\.\.\/outside\.csv' must be a path inside/);
    assert.match(msg, /line 7: file 'notes\.txt' has an unsupported extension/);
    assert.match(msg, /line 8: .*repeats line 2/);
    assert.match(msg, /line 9: rpm "-5" is not a positive number/);
    assert.doesNotMatch(msg, /line 2:/);
    return true;
  });
});

test('manifest-level problems: missing columns, JSON line numbers, WAV rate disagreement, no manifest', async () => {
  const noCol = await folder('nocol', { ...GOOD_FILES, 'manifest.csv': 'file,label\na.npy,B\n' });
  await assert.rejects(readByoManifest(noCol), /lacks column\(s\) domain, sample_rate/);

  const json = `[
  { "file": "a.npy", "label": "B", "domain": "x", "sample_rate": 2000 },
  {
    "file": "a.npy", "label": "B", "domain": "x", "sample_rate": 0
  }
]`;
  const jdir = await folder('badjson', { ...GOOD_FILES, 'manifest.json': json });
  await assert.rejects(readByoManifest(jdir), /line 3: sample_rate "0" is not a positive number/);
  const broken = await folder('brokenjson', { 'manifest.json': '[{"file": ' });
  await assert.rejects(readByoManifest(broken), (e) =>
    isFaultlineError(e, 'FL_ERR_DATASET_MANIFEST'),
  );

  const rate = await folder('rate', {
    ...GOOD_FILES,
    'manifest.csv':
      'file,label,domain,sample_rate,channel\nf32.wav,IR,x,48000,\nf64.wav,IR,x,8000,\n',
  });
  await assert.rejects(
    loadByo(rate),
    (e) =>
      isFaultlineError(e, 'FL_ERR_DATASET_MANIFEST') &&
      /line 2: sample_rate 48000 Hz but f32\.wav says 8000 Hz/.test((e as Error).message),
  );

  const empty = await folder('empty', { 'readme.txt': 'nothing here' });
  await assert.rejects(detectDataset(empty), (e) => isFaultlineError(e, 'FL_ERR_DATASET_EMPTY'));
  await assert.rejects(detectDataset(path.join(root, 'nope')), (e) =>
    isFaultlineError(e, 'FL_ERR_DATASET_EMPTY'),
  );
  const header = await folder('header-only', {
    'manifest.csv': 'file,label,domain,sample_rate,channel\n',
  });
  await assert.rejects(loadByo(header), (e) => isFaultlineError(e, 'FL_ERR_DATASET_EMPTY'));
});

test('file-level errors carry the format code and the manifest line', async () => {
  const files = {
    'bad.npy': npyBytes('>f8', [4], [1, 2, 3, 4]),
    'bad.wav': new Uint8Array([82, 73, 70, 70, 1, 2, 3, 4, 5]),
    'bad.csv': 'a,b\n1,2\n3,x\n',
    'bad.mat': 'MATLAB 5.0 MAT-file but not really',
  };
  const cases: [string, string, string, string][] = [
    ['bad.npy', '2000', '', 'FL_ERR_NPY_FORMAT'],
    ['bad.wav', '', '', 'FL_ERR_WAV_FORMAT'],
    ['bad.csv', '1000', 'b', 'FL_ERR_CSV_FORMAT'],
    ['bad.mat', '1000', '', 'FL_ERR_MAT_TRUNCATED'],
  ];
  for (const [file, rate, channel, code] of cases) {
    const dir = await folder(`ferr-${file}`, {
      ...files,
      'manifest.csv': `file,label,domain,sample_rate,channel\n${file},B,x,${rate},${channel}\n`,
    });
    await assert.rejects(loadByo(dir), (e) => {
      assert.ok(isFaultlineError(e, code as 'FL_ERR_NPY_FORMAT'), `${file}: ${String(e)}`);
      assert.match((e as Error).message, /line 2:/);
      return true;
    });
  }
});

test('channel selection errors name what exists', async () => {
  const dir = await folder('chan', GOOD_FILES);
  await assert.rejects(
    readSignalChannel(path.join(dir, 'sig.csv'), 'accel_z'),
    /header: time, accel_x, accel_y/,
  );
  await assert.rejects(readSignalChannel(path.join(dir, 'sig.csv'), '3'), /3 channel\(s\)/);
  await assert.rejects(readSignalChannel(path.join(dir, 'pump/stereo16.wav'), '2'), (e) =>
    isFaultlineError(e, 'FL_ERR_DATASET_FILE'),
  );
  await assert.rejects(readSignalChannel(path.join(dir, 'a.npy'), '1'), /1 channel/);
  await assert.rejects(readSignalChannel(path.join(dir, 'm.mat'), 'nope'), (e) =>
    isFaultlineError(e, 'FL_ERR_MAT_VARIABLE'),
  );
  // Without a channel, a MAT-file with one vector is unambiguous (rpm is a scalar).
  assert.equal((await readSignalChannel(path.join(dir, 'm.mat'))).channel, 'acc');
});

test('npy reader: header validation and every unsupported case', () => {
  const ok = parseNpy(npyBytes('<f8', [3, 2], [1, 2, 3, 4, 5, 6]));
  assert.deepEqual(ok.shape, [3, 2]);
  assert.deepEqual([...ok.data], [1, 2, 3, 4, 5, 6]);
  const bad = (b: Uint8Array, re: RegExp) =>
    assert.throws(
      () => parseNpy(b, 'x.npy'),
      (e) => isFaultlineError(e, 'FL_ERR_NPY_FORMAT') && re.test((e as Error).message),
    );
  bad(Buffer.from('not numpy at all'), /magic/);
  bad(new Uint8Array(0), /magic/);
  bad(npyBytes('>f8', [2], [1, 2]), /dtype '>f8' is not supported/);
  bad(npyBytes('<i8', [2], [1, 2]), /dtype '<i8'/);
  bad(npyBytes('<f8', [2, 2], [1, 2, 3, 4], { fortran: true }), /Fortran/);
  bad(npyBytes('<f8', [2, 2, 1], [1, 2, 3, 4]), /3 dimensions/);
  bad(npyBytes('<f8', [10], [1, 2, 3]), /truncated/);
  const b = npyBytes('<f8', [2], [1, 2]);
  b[6] = 9;
  bad(b, /version 9/);
  const h = npyBytes('<f8', [2], [1, 2]);
  h.writeUInt16LE(60000, 8);
  bad(h, /header declares/);
  for (let cut = 0; cut < 80; cut++) {
    assert.throws(
      () => parseNpy(npyBytes('<f4', [4], [1, 2, 3, 4]).subarray(0, cut)),
      (e) => isFaultlineError(e, 'FL_ERR_NPY_FORMAT'),
    );
  }
});

test('wav reader: truncated data chunk, unsupported encodings', async () => {
  const full = wavBytes(1, 8000, '16', sine);
  const dir = await folder('wavs', {
    'cut.wav': full.subarray(0, full.length - 100),
    'u8.wav': wavBytes(
      1,
      8000,
      '8',
      sine.map((v) => 128 + Math.round(v / 100)),
    ),
    'random.wav': new Uint8Array(Array.from({ length: 200 }, (_, i) => (i * 37) & 0xff)),
  });
  await assert.rejects(readSignalChannel(path.join(dir, 'cut.wav')), /truncated/);
  await assert.rejects(readSignalChannel(path.join(dir, 'u8.wav')), (e) =>
    isFaultlineError(e, 'FL_ERR_WAV_FORMAT'),
  );
  await assert.rejects(readSignalChannel(path.join(dir, 'random.wav')), (e) =>
    isFaultlineError(e, 'FL_ERR_WAV_FORMAT'),
  );
});
