import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  MAX_ARRAY_ELEMENTS,
  MAX_DECODED_BYTES,
  MAX_INFLATED_BYTES,
  MAX_STRUCT_DEPTH,
  MAX_STRUCT_FIELDS,
  matScalar,
  matVariable,
  matVariableNames,
  matVector,
  parseMat,
  readMat,
} from '../../src/data/mat.js';
import { readSignalChannel } from '../../src/data/signals.js';
import { isFaultlineError } from '../../src/errors.js';
import { concat } from '../support/bytes.js';
import { requireCwru } from '../support/cwru.js';
import {
  compressedElement,
  compressedStream,
  dataElement,
  type FixtureVar,
  matHeader,
  matrixElement,
  writeMat,
} from './mat-writer.js';

/** Reference values from scipy.io.loadmat 1.17.1 (DE channel): [0], [1000], [last], sum, rms, rpm, length. */
const SCIPY = {
  97: {
    first: 0.05319692307692307,
    at1000: 0.07802215384615384,
    last: 0.04693846153846153,
    sum: 3063.424923692308,
    rms: 0.07376396805784112,
    rpm: 1796,
    n: 243938,
  },
  105: {
    first: -0.08300435129740519,
    at1000: -0.1739680239520958,
    last: 0.26736822355289425,
    sum: 1630.2332358882236,
    rms: 0.29152604538898663,
    rpm: 1797,
    n: 121265,
  },
  237: {
    first: -0.27613972055888225,
    at1000: -0.1868003992015968,
    last: 0.12954201596806386,
    sum: 433.06667504990014,
    rms: 0.5590146430159859,
    rpm: 1721,
    n: 121991,
  },
} as const;

const FIXTURE: FixtureVar[] = [
  { name: 'M', kind: 'double', dims: [3, 2], data: [1, 2, 3, 4, 5, -6.5] },
  { name: 'rpm', kind: 'uint16', dims: [1, 1], data: [1796] },
  { name: 'note', kind: 'char', text: 'hello' },
  { name: 'c', kind: 'cell', items: [{ name: '', kind: 'double', dims: [1, 2], data: [7, 8] }] },
  { name: 'v', kind: 'double', dims: [1, 4], data: [0.25, Number.NaN, 1e300, -0] },
  {
    name: 's',
    kind: 'struct',
    fields: [
      { name: 'gs', kind: 'double', dims: [3, 1], data: [0.5, -1.25, 3] },
      { name: 'sr', kind: 'double', storage: 'uint16', dims: [1, 1], data: [48828] },
      { name: 'load', kind: 'char', text: '250' },
      {
        name: 'in',
        kind: 'struct',
        fields: [{ name: 'c', kind: 'int16', dims: [1, 2], data: [-3, 4] }],
      },
    ],
  },
];

function assertMatError(
  fn: () => unknown,
  code: 'FL_ERR_MAT_FORMAT' | 'FL_ERR_MAT_TRUNCATED',
  why: string,
): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isFaultlineError(err, code), `${why}: expected ${code}, got ${String(err)}`);
    return true;
  });
}

/** Deterministic bytes (xorshift32) so failures reproduce. */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

test('reads CWRU drive-end channels and RPM with the values SciPy reads', async (t) => {
  const dir = requireCwru(t);
  if (!dir) return;
  for (const [num, ref] of Object.entries(SCIPY)) {
    const key = `X${num.padStart(3, '0')}`;
    const vars = await readMat(path.join(dir, `${num}.mat`));
    const de = matVector(vars, `${key}_DE_time`, num);
    assert.equal(de.length, ref.n);
    assert.equal(vars.get(`${key}_DE_time`)?.dims.join('x'), `${ref.n}x1`);
    assert.equal(de[0], ref.first);
    assert.equal(de[1000], ref.at1000);
    assert.equal(de[de.length - 1], ref.last);
    let sum = 0;
    let sq = 0;
    for (const x of de) {
      sum += x;
      sq += x * x;
    }
    assert.ok(Math.abs(sum - ref.sum) < 1e-9 * Math.abs(ref.sum), `${num} sum ${sum}`);
    assert.ok(Math.abs(Math.sqrt(sq / de.length) - ref.rms) < 1e-12, `${num} rms`);
    assert.equal(matScalar(vars, `${key}RPM`, num), ref.rpm);
    // 97 has DE and FE only; the fault files add BA.
    assert.equal(vars.size, num === '97' ? 3 : 4);
  }
});

test('decodes only the requested variables but lists all', async (t) => {
  const dir = requireCwru(t);
  if (!dir) return;
  const vars = await readMat(path.join(dir, '105.mat'), { variables: ['X105RPM'] });
  assert.deepEqual([...vars.keys()].sort(), [
    'X105RPM',
    'X105_BA_time',
    'X105_DE_time',
    'X105_FE_time',
  ]);
  assert.equal(vars.get('X105_DE_time')?.decoded, false);
  assert.equal(vars.get('X105_DE_time')?.data, undefined);
  assert.equal(matScalar(vars, 'X105RPM', '105.mat'), 1797);
  assert.throws(
    () => matVector(vars, 'X105_DE_time', '105.mat'),
    (e) => isFaultlineError(e, 'FL_ERR_MAT_VARIABLE'),
  );
  assert.throws(() => matVector(vars, 'X999_DE_time', '105.mat'), /it holds: X105_DE_time/);
});

for (const [label, options] of [
  ['little-endian', {}],
  ['big-endian', { bigEndian: true }],
  ['compressed', { compress: true }],
  ['big-endian compressed', { bigEndian: true, compress: true }],
] as const) {
  test(`round-trips a ${label} fixture (double matrix column-major, uint16 scalar, char, cell listed)`, () => {
    const vars = parseMat(writeMat(FIXTURE, options));
    const m = vars.get('M');
    assert.deepEqual(m?.dims, [3, 2]);
    assert.deepEqual([...(m?.data ?? [])], [1, 2, 3, 4, 5, -6.5]);
    assert.equal(vars.get('rpm')?.mxClass, 'uint16');
    assert.equal(matScalar(vars, 'rpm', 'f'), 1796);
    assert.equal(vars.get('note')?.text, 'hello');
    assert.equal(vars.get('c')?.decoded, false);
    assert.equal(vars.get('c')?.mxClass, 'cell');
    const v = [...matVector(vars, 'v', 'f')];
    assert.equal(v[0], 0.25);
    assert.ok(Number.isNaN(v[1]));
    assert.equal(v[2], 1e300);
    assert.ok(Object.is(v[3], -0));
    assert.deepEqual([...matVector(vars, 's.gs', 'f')], [0.5, -1.25, 3]);
    assert.equal(matScalar(vars, 's.sr', 'f'), 48828);
    assert.equal(matVariable(vars, 's.load', 'f').text, '250');
    assert.deepEqual([...matVector(vars, 's.in.c', 'f')], [-3, 4]);
  });
}

test('accepts a header-only file as holding no variables; does not modify the input buffer', () => {
  assert.equal(parseMat(matHeader(true)).size, 0);
  const be = writeMat(FIXTURE, { bigEndian: true });
  const copy = be.slice();
  parseMat(be);
  assert.deepEqual(be, copy);
});

test('truncated CWRU copies on disk give FL_ERR_MAT_TRUNCATED', async (t) => {
  const dir = requireCwru(t);
  if (!dir) return;
  const bytes = readFileSync(path.join(dir, '105.mat'));
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'fl-mat-'));
  try {
    for (const cut of [60, 127, 128 + 4, 200, 4096, bytes.length >> 1, bytes.length - 1]) {
      const p = path.join(tmp, `cut${cut}.mat`);
      await writeFile(p, bytes.subarray(0, cut));
      await assert.rejects(readMat(p), (e) => {
        assert.ok(isFaultlineError(e, 'FL_ERR_MAT_TRUNCATED'), `cut at ${cut}: ${String(e)}`);
        assert.match((e as Error).message, /cut|truncat|ends|remain|fewer/);
        return true;
      });
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('every prefix of a fixture (plain and compressed) is rejected or is a clean element boundary', () => {
  for (const compress of [false, true]) {
    const full = writeMat(FIXTURE, { compress });
    const whole = parseMat(full);
    for (let cut = 0; cut < full.length; cut++) {
      let vars: Map<string, unknown> | undefined;
      try {
        vars = parseMat(full.subarray(0, cut));
      } catch (err) {
        assert.ok(
          isFaultlineError(err, 'FL_ERR_MAT_TRUNCATED') ||
            (cut === 0 && isFaultlineError(err, 'FL_ERR_MAT_FORMAT')),
          `compress=${compress} cut=${cut}: ${String(err)}`,
        );
        continue;
      }
      // Success only when the cut falls exactly between whole variables.
      assert.ok(vars.size < whole.size, `cut ${cut} read ${vars.size} variables`);
    }
  }
});

test('non-MAT inputs give FL_ERR_MAT_FORMAT: empty, text, random bytes, v7.3, bad version/endian', async () => {
  assertMatError(() => parseMat(new Uint8Array(0)), 'FL_ERR_MAT_FORMAT', 'empty');
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'fl-mat-'));
  try {
    await writeFile(path.join(tmp, 'empty.mat'), '');
    await assert.rejects(readMat(path.join(tmp, 'empty.mat')), (e) =>
      isFaultlineError(e, 'FL_ERR_MAT_FORMAT'),
    );
    await writeFile(path.join(tmp, 'notes.mat'), 'time,accel\n0,0.1\n1,0.2\n'.repeat(20));
    await assert.rejects(readMat(path.join(tmp, 'notes.mat')), (e) =>
      isFaultlineError(e, 'FL_ERR_MAT_FORMAT'),
    );
    await assert.rejects(readMat(path.join(tmp, 'absent.mat')), (e) =>
      isFaultlineError(e, 'FL_ERR_DATASET_FILE'),
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  for (let seed = 1; seed <= 20; seed++) {
    assertMatError(
      () => parseMat(randomBytes(300, seed)),
      'FL_ERR_MAT_FORMAT',
      `random seed ${seed}`,
    );
  }
  const v73 = matHeader(true, 'MATLAB 7.3 MAT-file, Platform: GLNXA64');
  new DataView(v73.buffer).setUint16(124, 0x0200, true);
  assert.throws(() => parseMat(v73), /v7\.3 \(HDF5\)/);
  const badVersion = matHeader(true);
  badVersion[125] = 0x02;
  assertMatError(() => parseMat(badVersion), 'FL_ERR_MAT_FORMAT', 'version');
  const badEndian = matHeader(true);
  badEndian.set([0x58, 0x58], 126);
  assertMatError(() => parseMat(badEndian), 'FL_ERR_MAT_FORMAT', 'endian');
});

test('a valid header followed by random bytes never crashes or hangs', () => {
  const t0 = performance.now();
  for (let seed = 1; seed <= 300; seed++) {
    for (const le of [true, false]) {
      const body = randomBytes(64 + (seed % 200), seed);
      // Half of the cases start with a plausible miMATRIX tag so the walk goes deeper.
      if (seed % 2) new DataView(body.buffer).setUint32(0, 14, le);
      const file = new Uint8Array(128 + body.length);
      file.set(matHeader(le));
      file.set(body, 128);
      try {
        parseMat(file);
      } catch (err) {
        assert.ok(
          isFaultlineError(err, 'FL_ERR_MAT_FORMAT') ||
            isFaultlineError(err, 'FL_ERR_MAT_TRUNCATED'),
          `seed ${seed} le=${le}: ${String(err)}`,
        );
      }
    }
  }
  assert.ok(performance.now() - t0 < 5000);
});

test('inconsistent sizes are caught before decoding (no huge allocations, no loops)', () => {
  // Dimensions claim 10000×10000 doubles but the data holds 4 values.
  const lying = writeMat([{ name: 'x', kind: 'double', dims: [10000, 10000], data: [1, 2, 3, 4] }]);
  assert.throws(() => parseMat(lying), /need 800000000 bytes .* holds 32/);
  const huge = writeMat([{ name: 'x', kind: 'double', dims: [100000, 100000], data: [1] }]);
  assertMatError(() => parseMat(huge), 'FL_ERR_MAT_FORMAT', 'over 2^31 elements');
  // Data for 3 values, dims say 2.
  const short = writeMat([{ name: 'x', kind: 'double', dims: [1, 2], data: [1, 2, 3] }]);
  assertMatError(() => parseMat(short), 'FL_ERR_MAT_FORMAT', 'count mismatch');
  // Top-level element with nbytes = 0xFFFFFFF8 (-8 as int32: the library would loop forever).
  const neg = new Uint8Array(128 + 16);
  neg.set(matHeader(true));
  new DataView(neg.buffer).setUint32(128, 14, true);
  new DataView(neg.buffer).setUint32(132, 0xfffffff8, true);
  assertMatError(() => parseMat(neg), 'FL_ERR_MAT_TRUNCATED', 'negative length');
  // A top-level element of an unknown type.
  const odd = new Uint8Array(128 + 16);
  odd.set(matHeader(true));
  new DataView(odd.buffer).setUint32(128, 9, true);
  new DataView(odd.buffer).setUint32(132, 8, true);
  assertMatError(() => parseMat(odd), 'FL_ERR_MAT_FORMAT', 'non-matrix element');
  // A sub-element larger than its enclosing matrix.
  const inner = dataElement(14, dataElement(6, new Uint8Array(400), true).subarray(0, 24), true);
  const bad = new Uint8Array(128 + inner.length);
  bad.set(matHeader(true));
  bad.set(inner, 128);
  assertMatError(() => parseMat(bad), 'FL_ERR_MAT_FORMAT', 'sub-element overrun');
  // Compressed element holding garbage instead of a zlib stream.
  const z = new Uint8Array(128 + 8 + 16);
  z.set(matHeader(true));
  new DataView(z.buffer).setUint32(128, 15, true);
  new DataView(z.buffer).setUint32(132, 16, true);
  z.set(randomBytes(16, 7), 136);
  assertMatError(() => parseMat(z), 'FL_ERR_MAT_FORMAT', 'bad zlib');
});

/**
 * Every channel of four CWRU files per scipy.io.loadmat 1.17.1: [0], [1000], [last], and the
 * sum added in file order (so it must match bit for bit). The RPM scalars are mxDOUBLE stored
 * as miUINT16 (SciPy reports uint16 storage), the real case of a narrowed storage type.
 */
const SCIPY_CHANNELS: Record<string, [first: number, at1000: number, last: number, sum: number]> = {
  X097_DE_time: [0.05319692307692307, 0.07802215384615384, 0.04693846153846153, 3063.424923692273],
  X097_FE_time: [0.14566727272727273, -0.07971636363636364, 0.09019454545454544, 7653.753392727382],
  X105_BA_time: [
    0.06466148367952523, -4.023738872403561e-5, -0.020158931750741845, 739.4182696736087,
  ],
  X105_DE_time: [
    -0.08300435129740519, -0.1739680239520958, 0.26736822355289425, 1630.2332358881986,
  ],
  X105_FE_time: [
    -0.40207454545454546, -0.19641454545454545, 0.03307818181818182, 4004.067270909136,
  ],
  X130_BA_time: [
    -4.023738872403561e-5, 0.09222409495548962, -0.010501958456973295, 643.7772156676632,
  ],
  X130_DE_time: [
    0.008527844311377245, 0.09136976047904191, -0.10274021956087824, 2826.711559081802,
  ],
  X130_FE_time: [-0.40700545454545456, 0.4458363636363636, 0.027325454545454545, 3971.456498181836],
  X237_BA_time: [
    0.04934316518298714, -0.057634104846686456, 0.08733659742828882, 682.3824082492572,
  ],
  X237_DE_time: [-0.27613972055888225, -0.1868003992015968, 0.12954201596806386, 433.0666750499029],
  X237_FE_time: [0.3069490909090909, -0.23216363636363635, 0.08875636363636363, 3990.3439345454826],
};

test('every CWRU channel decodes bit-identically to SciPy (first, [1000], last, in-order sum)', async (t) => {
  const dir = requireCwru(t);
  if (!dir) return;
  const rpm: Record<string, number> = { '97': 1796, '105': 1797, '130': 1796, '237': 1721 };
  for (const num of ['97', '105', '130', '237']) {
    const key = `X${num.padStart(3, '0')}`;
    const vars = await readMat(path.join(dir, `${num}.mat`));
    assert.equal(vars.get(`${key}RPM`)?.mxClass, 'double');
    assert.equal(matScalar(vars, `${key}RPM`, num), rpm[num]);
    for (const [name, v] of vars) {
      if (name.endsWith('RPM')) continue;
      const ref = SCIPY_CHANNELS[name];
      assert.ok(ref, `${num}.mat: unexpected variable ${name}`);
      const x = matVector(vars, name, num);
      let sum = 0;
      for (const y of x) sum += y;
      assert.deepEqual([x[0], x[1000], x[x.length - 1], sum], ref, name);
      assert.equal(v.mxClass, 'double');
    }
  }
});

/** Numeric arrays stored as MATLAB narrows them; values checked against scipy.io.loadmat 1.17.1. */
const NARROWED: FixtureVar[] = [
  { name: 'd_u8', kind: 'double', storage: 'uint8', dims: [2, 3], data: [0, 1, 2, 200, 254, 255] },
  { name: 'd_i8', kind: 'double', storage: 'int8', dims: [1, 3], data: [-128, -5, 127] },
  { name: 'd_i16', kind: 'double', storage: 'int16', dims: [1, 4], data: [-32768, -1, 0, 32767] },
  { name: 'd_u16', kind: 'double', storage: 'uint16', dims: [1, 1], data: [1797] },
  {
    name: 'd_i32',
    kind: 'double',
    storage: 'int32',
    dims: [3, 1],
    data: [-(2 ** 31), 7, 2 ** 31 - 1],
  },
  { name: 'd_u32', kind: 'double', storage: 'uint32', dims: [1, 2], data: [0, 2 ** 32 - 1] },
  { name: 'd_f32', kind: 'double', storage: 'single', dims: [1, 2], data: [0.5, -1.25] },
  { name: 'u32_u8', kind: 'uint32', storage: 'uint8', dims: [1, 2], data: [9, 250] },
  { name: 's', kind: 'single', dims: [1, 2], data: [0.1, 3] },
  { name: 'i8', kind: 'int8', dims: [2, 2], data: [-1, 2, -3, 4] },
  { name: 'i64', kind: 'int64', dims: [1, 2], data: [-(2 ** 53 - 1), 5] },
  { name: 'u64', kind: 'uint64', dims: [1, 2], data: [0, 2 ** 53 - 1] },
];

for (const [label, options] of [
  ['little-endian', {}],
  ['big-endian', { bigEndian: true }],
  ['big-endian compressed', { bigEndian: true, compress: true }],
] as const) {
  test(`${label}: numeric arrays stored in a narrower data type than their class decode to their values`, () => {
    const vars = parseMat(writeMat(NARROWED, options));
    assert.equal(vars.size, NARROWED.length);
    for (const f of NARROWED) {
      if (f.kind === 'char' || f.kind === 'cell' || f.kind === 'struct') continue;
      const v = vars.get(f.name);
      assert.equal(v?.mxClass, f.kind, f.name);
      assert.deepEqual(v?.dims, f.dims, f.name);
      // Float32 storage holds 0.1 as its nearest float32; everything else is exact.
      const want = f.kind === 'single' ? f.data.map(Math.fround) : f.data;
      assert.deepEqual([...(v?.data ?? [])], want, f.name);
      assert.ok(v?.data instanceof Float64Array);
    }
  });
}

test('a data sub-element whose type cannot hold the array is FL_ERR_MAT_FORMAT, even when not requested', () => {
  const cases: [FixtureVar, RegExp][] = [
    // Numeric class, char (miUTF8) data: before, this was silently listed undecoded.
    [{ name: 'x', kind: 'double', dims: [1, 8], data: [1], dataType: 16 }, /data type 16/],
    // Numeric class, nested miMATRIX / miCOMPRESSED / reserved (8) type as data.
    [{ name: 'x', kind: 'double', dims: [1, 1], data: [1], dataType: 14 }, /unknown data type 14/],
    [{ name: 'x', kind: 'double', dims: [1, 1], data: [1], dataType: 15 }, /unknown data type 15/],
    [{ name: 'x', kind: 'double', dims: [1, 1], data: [1], dataType: 8 }, /unknown data type 8/],
    // Char class, miDOUBLE data (8 bytes = 4 UTF-16 units relabelled as one double).
    [{ name: 'x', kind: 'char', text: 'abcd', dataType: 9 }, /char array has data type 9/],
    // Narrowed storage whose tag type disagrees with the byte count the dims need.
    [
      {
        name: 'x',
        kind: 'double',
        storage: 'uint8',
        dims: [1, 4],
        data: [1, 2, 3, 4],
        dataType: 4,
      },
      /need 8 bytes of data type 4 .* holds 4/,
    ],
  ];
  for (const [fixture, message] of cases) {
    for (const bigEndian of [false, true]) {
      const file = writeMat([fixture, FIXTURE[0]], { bigEndian });
      for (const variables of [undefined, ['M']]) {
        assert.throws(
          () => parseMat(file, { variables }),
          (e) => isFaultlineError(e, 'FL_ERR_MAT_FORMAT') && message.test((e as Error).message),
          `${JSON.stringify(fixture)} be=${bigEndian} variables=${variables}`,
        );
      }
    }
  }
});

test('char arrays: UTF-8, UTF-16 and a multi-row matrix (stored column-major); bad UTF-8 is rejected', () => {
  const vars = parseMat(
    writeMat(
      [
        { name: 'u8', kind: 'char', text: 'café ✓', utf8: true },
        { name: 'u16', kind: 'char', text: 'naïve' },
        { name: 'rows', kind: 'char', text: 'adbecf', dims: [2, 3] },
        { name: 'col', kind: 'char', text: 'xyz', dims: [3, 1] },
        { name: 'empty', kind: 'char', text: '', dims: [0, 0] },
        // UTF-8 bytes relabelled miUINT8 (Latin-1).
        { name: 'latin', kind: 'char', text: 'abc', utf8: true, dataType: 2 },
      ],
      { bigEndian: true },
    ),
  );
  assert.equal(vars.get('u8')?.text, 'café ✓');
  assert.equal(vars.get('u16')?.text, 'naïve');
  assert.equal(vars.get('rows')?.text, 'abc\ndef');
  assert.equal(vars.get('col')?.text, 'xyz');
  assert.equal(vars.get('empty')?.text, '');
  assert.equal(vars.get('latin')?.text, 'abc');
  assert.equal(vars.get('u8')?.decoded, true);
  // Little-endian UTF-16 units 'a', NUL relabelled miUTF32 read as U+0061; 'ab' as 0x00620061,
  // beyond Unicode.
  const u32 = writeMat([{ name: 's', kind: 'char', text: 'a\u0000', dims: [1, 1], dataType: 18 }]);
  assert.equal(parseMat(u32).get('s')?.text, 'a');
  const beyond = writeMat([{ name: 's', kind: 'char', text: 'ab', dims: [1, 1], dataType: 18 }]);
  assert.throws(() => parseMat(beyond), /beyond Unicode/);

  // 'é' is C3 A9 in UTF-8; C3 28 is not valid UTF-8.
  const file = writeMat([{ name: 's', kind: 'char', text: 'café', utf8: true }]);
  const at = Buffer.from(file).indexOf(Buffer.from([0xc3, 0xa9]));
  file[at + 1] = 0x28;
  assertMatError(() => parseMat(file), 'FL_ERR_MAT_FORMAT', 'invalid UTF-8');
  // UTF-8 text holding more characters than its dimensions.
  const long = writeMat([{ name: 's', kind: 'char', text: 'abcdef', utf8: true, dims: [2, 2] }]);
  assert.throws(() => parseMat(long), /need 4 characters but the data holds 6/);
});

// ── structs ────────────────────────────────────────────────────────────────

/** Laid out like MathWorks' MFPT files: a 1×1 struct `bearing` (fields in their order) and scalars. */
function mfptLike(gs: number[]): FixtureVar[] {
  return [
    {
      name: 'bearing',
      kind: 'struct',
      fields: [
        { name: 'rate', kind: 'double', storage: 'uint8', dims: [1, 1], data: [25] },
        { name: 'load', kind: 'char', text: '0' },
        { name: 'gs', kind: 'double', dims: [gs.length, 1], data: gs },
        { name: 'sr', kind: 'double', storage: 'uint16', dims: [1, 1], data: [48828] },
      ],
    },
    { name: 'FTF', kind: 'double', dims: [1, 1], data: [14.8375] },
    { name: 'BPFI', kind: 'double', dims: [1, 1], data: [118.875] },
  ];
}

const MFPT_NAMES = ['bearing.rate', 'bearing.load', 'bearing.gs', 'bearing.sr', 'FTF', 'BPFI'];

for (const [label, options] of [
  ['little-endian', {}],
  ['big-endian', { bigEndian: true }],
  ['compressed', { compress: true }],
  ['big-endian, struct alone compressed', { bigEndian: true, compress: ['bearing'] }],
] as const) {
  test(`${label}: a 1×1 struct's field (bearing.gs) reads like a top-level variable, and only it is decoded when asked`, () => {
    const gs = Array.from({ length: 1000 }, (_, i) => Math.sin(i / 7) - 0.25);
    const file = writeMat(mfptLike(gs), options);
    const vars = parseMat(file);
    assert.deepEqual([...matVector(vars, 'bearing.gs', 'f')], gs);
    assert.deepEqual(matVariable(vars, 'bearing.gs', 'f').dims, [1000, 1]);
    assert.equal(matScalar(vars, 'bearing.sr', 'f'), 48828);
    assert.equal(matScalar(vars, 'bearing.rate', 'f'), 25);
    assert.equal(matVariable(vars, 'bearing.load', 'f').text, '0');
    assert.equal(vars.get('bearing')?.mxClass, 'struct');
    assert.deepEqual(vars.get('bearing')?.fieldNames, ['rate', 'load', 'gs', 'sr']);
    assert.deepEqual(matVariableNames(vars), MFPT_NAMES);

    const one = parseMat(file, { variables: ['bearing.gs'] });
    assert.deepEqual([...matVector(one, 'bearing.gs', 'f')], gs);
    for (const other of ['bearing.sr', 'bearing.load', 'FTF']) {
      const v = matVariable(one, other, 'f');
      assert.equal(v.decoded, false, other);
      assert.equal(v.data ?? v.text, undefined, other);
    }
    assert.deepEqual(matVariableNames(one), MFPT_NAMES);
    // Naming the struct decodes all of it, and nothing else.
    const whole = parseMat(file, { variables: ['bearing'] });
    assert.equal(matScalar(whole, 'bearing.sr', 'f'), 48828);
    assert.equal(matVariable(whole, 'bearing.load', 'f').text, '0');
    assert.equal(whole.get('FTF')?.decoded, false);
  });
}

test('a struct field holds any numeric storage a top-level variable may (narrowed, single, 64-bit)', () => {
  for (const options of [{}, { bigEndian: true }, { bigEndian: true, compress: true }]) {
    const vars = parseMat(writeMat([{ name: 'rec', kind: 'struct', fields: NARROWED }], options));
    for (const f of NARROWED) {
      if (f.kind === 'char' || f.kind === 'cell' || f.kind === 'struct') continue;
      const v = matVariable(vars, `rec.${f.name}`, 'f');
      assert.equal(v.mxClass, f.kind, f.name);
      assert.deepEqual(v.dims, f.dims, f.name);
      const want = f.kind === 'single' ? f.data.map(Math.fround) : f.data;
      assert.deepEqual([...(v.data ?? [])], want, `${f.name} ${JSON.stringify(options)}`);
    }
  }
});

test('nested structs: a.b.c reads through 1×1 structs; field-less structs and empty fields are listed', () => {
  const nested: FixtureVar = {
    name: 'a',
    kind: 'struct',
    fields: [
      {
        name: 'b',
        kind: 'struct',
        fields: [
          { name: 'c', kind: 'double', dims: [1, 3], data: [1, 2, 3] },
          { name: 'note', kind: 'char', text: 'x' },
        ],
      },
      { name: 'none', kind: 'struct', fields: [] },
      { name: 'e', kind: 'double', dims: [0, 0], data: [] },
    ],
  };
  for (const options of [{}, { bigEndian: true }, { compress: true }]) {
    const vars = parseMat(writeMat([nested], options), { variables: ['a.b.c'] });
    assert.deepEqual([...matVector(vars, 'a.b.c', 'f')], [1, 2, 3]);
    assert.equal(matVariable(vars, 'a.b.note', 'f').decoded, false);
    assert.deepEqual(matVariableNames(vars), ['a.b.c', 'a.b.note', 'a.none', 'a.e']);
    assert.deepEqual(matVariable(vars, 'a.none', 'f').fieldNames, []);
    assert.deepEqual(matVariable(vars, 'a.e', 'f').dims, [0, 0]);
  }

  // A field written as an empty placeholder (a miMATRIX of 0 bytes) reads as [].
  const le = true;
  const u32 = (...x: number[]) => new Uint8Array(new Uint32Array(x).buffer);
  const placeholder = dataElement(
    14,
    concat([
      dataElement(6, u32(2, 0), le),
      dataElement(5, u32(1, 1), le),
      dataElement(1, new Uint8Array(Buffer.from('p')), le),
      dataElement(5, u32(2), le),
      dataElement(1, new Uint8Array(Buffer.from('x\0')), le),
      dataElement(14, new Uint8Array(0), le),
    ]),
    le,
  );
  const vars = parseMat(concat([matHeader(le), placeholder]));
  assert.deepEqual(matVariable(vars, 'p.x', 'f').dims, [0, 0]);
  assert.equal(matVariable(vars, 'p.x', 'f').data?.length, 0);
});

test('struct lookups fail clearly: a missing field lists the fields; a non-struct or a struct array says so', () => {
  const file = writeMat([
    ...mfptLike([1, 2, 3]),
    {
      name: 'arr',
      kind: 'struct',
      dims: [1, 3],
      fields: [{ name: 'x', kind: 'double', dims: [1, 1], data: [7] }],
    },
  ]);
  const vars = parseMat(file);
  const fails = (name: string, message: RegExp) =>
    assert.throws(
      () => matVector(vars, name, 'f.mat'),
      (e) => isFaultlineError(e, 'FL_ERR_MAT_VARIABLE') && message.test((e as Error).message),
      name,
    );
  fails(
    'bearing.gx',
    /^f\.mat: struct 'bearing' has no field 'gx' \(its fields: rate, load, gs, sr\); name one of those/,
  );
  fails(
    'nope.gs',
    /^f\.mat has no variable 'nope\.gs' \(it holds: bearing\.rate, bearing\.load, bearing\.gs, bearing\.sr, FTF, BPFI, arr\)/,
  );
  fails('FTF.x', /^f\.mat: 'FTF' is a 1x1 double array, not a struct, so 'FTF\.x' does not exist/);
  fails('bearing.gs.x', /'bearing\.gs' is a 3x1 double array, not a struct/);
  fails('arr.x', /^f\.mat: 'arr' is a 1x3 struct array; only fields of a 1x1 struct can be read/);
  fails(
    'bearing',
    /'bearing' is a 1x1 struct; a real numeric vector is needed; name one of its fields: bearing\.rate, bearing\.load, bearing\.gs, bearing\.sr$/,
  );
  assert.deepEqual(vars.get('arr')?.fieldNames, ['x']);
  assert.equal(vars.get('arr')?.fields, undefined);
});

test('corrupt struct layouts are FL_ERR_MAT_FORMAT', () => {
  const two: FixtureVar[] = [
    { name: 'ab', kind: 'double', dims: [1, 1], data: [1] },
    { name: 'cd', kind: 'double', dims: [1, 1], data: [2] },
  ];
  const cases: [FixtureVar, RegExp][] = [
    // Names laid out 3 bytes apart; the length element says 0, 4 or 2 (three names, two fields).
    [
      { name: 's', kind: 'struct', fields: two, fieldNameLength: 0 },
      /not a whole number of 0-byte/,
    ],
    [
      { name: 's', kind: 'struct', fields: two, fieldNameLength: 4 },
      /not a whole number of 4-byte/,
    ],
    [
      { name: 's', kind: 'struct', fields: two, fieldNameLength: 2 },
      /field 's\.\w*' tag .* runs past/,
    ],
    // A field that is not a matrix: a numeric field with a miMATRIX data type is caught inside it.
    [
      {
        name: 's',
        kind: 'struct',
        fields: [{ name: 'x', kind: 'double', dims: [1, 1], data: [1], dataType: 14 }],
      },
      /\('s\.x'\): real part has unknown data type 14/,
    ],
  ];
  for (const [fixture, message] of cases) {
    for (const bigEndian of [false, true]) {
      assert.throws(
        () => parseMat(writeMat([fixture], { bigEndian })),
        (e) => isFaultlineError(e, 'FL_ERR_MAT_FORMAT') && message.test((e as Error).message),
        `${JSON.stringify(fixture)} be=${bigEndian}`,
      );
    }
  }
});

test(`structs nest at most ${MAX_STRUCT_DEPTH} deep and hold at most ${MAX_STRUCT_FIELDS} fields per file`, () => {
  const chain = (levels: number): FixtureVar => {
    let v: FixtureVar = { name: 'x', kind: 'double', dims: [1, 1], data: [5] };
    for (let i = 0; i < levels; i++)
      v = { name: i === levels - 1 ? 'a' : 'n', kind: 'struct', fields: [v] };
    return v;
  };
  const ok = parseMat(writeMat([chain(MAX_STRUCT_DEPTH)]));
  assert.equal(matScalar(ok, `a${'.n'.repeat(MAX_STRUCT_DEPTH - 1)}.x`, 'f'), 5);
  assert.throws(
    () => parseMat(writeMat([chain(MAX_STRUCT_DEPTH + 1)], { compress: true })),
    (e) =>
      isFaultlineError(e, 'FL_ERR_MAT_FORMAT') &&
      /nest deeper than 32 levels/.test((e as Error).message),
  );

  // Field names alone (an empty struct array) count: cheap to write, each one an object when read.
  const names = (n: number, name: string): FixtureVar => ({
    name,
    kind: 'struct',
    dims: [0, 0],
    fields: Array.from({ length: n }, (_, i) => ({
      name: `f${i}`,
      kind: 'double',
      dims: [0, 0],
      data: [],
    })),
  });
  const half = MAX_STRUCT_FIELDS / 2;
  assert.equal(
    parseMat(writeMat([names(half, 'p'), names(half, 'q')])).get('q')?.fieldNames?.length,
    half,
  );
  assert.throws(
    () => parseMat(writeMat([names(half, 'p'), names(half + 1, 'q')], { compress: true })),
    (e) =>
      isFaultlineError(e, 'FL_ERR_MAT_FORMAT') &&
      /\('q'\): the file's structs hold more than 65536 fields/.test((e as Error).message),
  );
});

test('mutated struct files (plain, big-endian, compressed) parse or fail with FL_ERR_MAT_*, nothing else', () => {
  const t0 = performance.now();
  let refused = 0;
  for (let seed = 1; seed <= 400; seed++) {
    const le = seed % 2 === 0;
    const element = matrixElement(mfptLike([1, 2, 3, 4])[0], le);
    const noise = randomBytes(8, seed);
    // 1–4 bytes overwritten at random positions past the element's own tag.
    for (let k = 0; k < 1 + (noise[0] % 4); k++) {
      const at = 8 + ((noise[1 + k] * 257 + noise[5] * seed) % (element.length - 8));
      element[at] = noise[k + 2] ^ (seed & 0xff);
    }
    const body = seed % 3 === 0 ? compressedElement(element, le) : element;
    try {
      const vars = parseMat(concat([matHeader(le), body]));
      matVector(vars, 'bearing.gs', 'f');
    } catch (err) {
      assert.ok(
        isFaultlineError(err, 'FL_ERR_MAT_FORMAT') ||
          isFaultlineError(err, 'FL_ERR_MAT_TRUNCATED') ||
          isFaultlineError(err, 'FL_ERR_MAT_VARIABLE'),
        `seed ${seed}: ${String(err)}`,
      );
      refused++;
    }
  }
  assert.ok(refused > 100, `only ${refused} of 400 mutations refused`);
  assert.ok(performance.now() - t0 < 5000);
});

// ── caps against hostile files ─────────────────────────────────────────────

test('element count × size is checked against the bytes present and the cap before any allocation', () => {
  // A top-level element declaring 1 GiB in a file of a few dozen bytes.
  const m = matrixElement({ name: 'x', kind: 'double', dims: [4, 1], data: [1, 2, 3, 4] });
  new DataView(m.buffer).setUint32(4, 2 ** 30, true);
  assert.throws(
    () => parseMat(concat([matHeader(true), m]), { label: 'big.mat' }),
    (e) =>
      isFaultlineError(e, 'FL_ERR_MAT_TRUNCATED') &&
      /^big\.mat: variable #0 at byte 128: element declares 1073741824 bytes but only \d+ remain/.test(
        (e as Error).message,
      ),
  );
  // A struct field whose matrix declares more than its struct holds.
  const field: FixtureVar = { name: 'gs', kind: 'double', dims: [2, 1], data: [1, 2] };
  const s = matrixElement({ name: 'b', kind: 'struct', fields: [field] });
  const at = Buffer.from(s).indexOf(Buffer.from(matrixElement({ ...field, name: '' })));
  new DataView(s.buffer).setUint32(at + 4, 2 ** 30, true);
  assert.throws(
    () => parseMat(concat([matHeader(true), s])),
    (e) =>
      isFaultlineError(e, 'FL_ERR_MAT_FORMAT') &&
      /field 'b\.gs' declares 1073741824 bytes/.test((e as Error).message),
  );
  // Dimensions asking for the cap's worth of doubles over 3 values present; then past the cap,
  // refused even when the variable is not asked for.
  const lying = writeMat([
    { name: 'b', kind: 'struct', fields: [{ ...field, dims: [MAX_ARRAY_ELEMENTS, 1] }] },
  ]);
  assert.throws(
    () => parseMat(lying),
    /\('b\.gs'\): dimensions 134217728x1 need 1073741824 bytes .* holds 16/,
  );
  const over = writeMat([
    { name: 'b', kind: 'struct', fields: [{ ...field, dims: [MAX_ARRAY_ELEMENTS + 1, 1] }] },
    { name: 'y', kind: 'double', dims: [1, 1], data: [1] },
  ]);
  assert.throws(
    () => parseMat(over, { variables: ['y'] }),
    (e) =>
      isFaultlineError(e, 'FL_ERR_MAT_FORMAT') &&
      /134217729 elements, more than the 134217728 \(2\^27\) Faultline reads from one numeric array/.test(
        (e as Error).message,
      ),
  );
  assert.throws(
    () => parseMat(writeMat([{ name: 'c', kind: 'char', text: 'ab', dims: [1, 2 ** 24 + 1] }])),
    /more than the 16777216 \(2\^24\) Faultline reads from one char array/,
  );
  // UTF-8 text longer than 4 bytes per character could ever be.
  assert.throws(
    () =>
      parseMat(
        writeMat([{ name: 'c', kind: 'char', text: 'abcdefghi', utf8: true, dims: [1, 2] }]),
      ),
    /allow at most 8 bytes of UTF-8 but the element holds 9/,
  );
});

/** A miMATRIX tag declaring `nbytes`, then `zeros` zero bytes: deflates ~1000-fold. */
function bombPayload(nbytes: number, zeros: number): Uint8Array {
  const out = new Uint8Array(8 + zeros);
  new DataView(out.buffer).setUint32(0, 14, true);
  new DataView(out.buffer).setUint32(4, nbytes, true);
  return out;
}

function adler32(b: Uint8Array): number {
  let a = 1;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    a = (a + b[i]) % 65521;
    s = (s + a) % 65521;
  }
  return ((s << 16) | a) >>> 0;
}

test('a decompression bomb is refused fast with the inflation cap’s error, memory bounded', async () => {
  const { deflateRawSync, inflateSync } = await import('node:zlib');
  const rss0 = process.memoryUsage().rss;

  // 1. 9 KiB of zlib declaring a 2 GiB matrix: refused once the first KiB is inflated.
  const declared = concat([
    matHeader(true),
    compressedElement(bombPayload(2 ** 31, 8 * 2 ** 20), true),
  ]);
  assert.ok(declared.length < 16_384, `${declared.length} bytes`);
  let t0 = performance.now();
  assert.throws(
    () => parseMat(declared, { label: 'bomb.mat' }),
    (e) =>
      isFaultlineError(e, 'FL_ERR_MAT_FORMAT') &&
      new RegExp(
        `^bomb\\.mat: variable #0 at byte 128: compressed element would inflate to 2147483656 bytes \\(its declared size\\), more than the ${MAX_INFLATED_BYTES} left .* decompression bomb — if the recording is genuine, split it`,
      ).test((e as Error).message),
  );
  assert.ok(performance.now() - t0 < 500, `took ${performance.now() - t0} ms`);

  // 2. Declaring 1 KiB but inflating to 8 MiB: stopped at its declared size.
  const liar = concat([matHeader(true), compressedElement(bombPayload(1024, 8 * 2 ** 20), true)]);
  t0 = performance.now();
  assert.throws(
    () => parseMat(liar),
    (e) =>
      isFaultlineError(e, 'FL_ERR_MAT_FORMAT') &&
      /inflates past its declared 1032 bytes/.test((e as Error).message),
  );
  assert.ok(performance.now() - t0 < 500);

  // 3. Honest elements that together pass the file's cap (lowered to 3 MiB here): the third is refused.
  const mib: FixtureVar[] = ['a', 'b', 'c'].map((name) => ({
    name,
    kind: 'double',
    dims: [2 ** 17, 1],
    data: new Array(2 ** 17).fill(0),
  }));
  const three = writeMat(mib, { compress: true });
  assert.ok(three.length < 16_384);
  assert.equal(parseMat(three).size, 3);
  assert.throws(
    () => parseMat(three, { maxInflatedBytes: 3 * 2 ** 20 }),
    (e) =>
      isFaultlineError(e, 'FL_ERR_MAT_FORMAT') &&
      /variable #2 .* would inflate to 1048632 bytes \(its declared size\), more than the 1048464 left of the file's 3145728-byte inflation cap/.test(
        (e as Error).message,
      ),
  );

  // 4. A valid stream whose first KiB holds no output (empty stored blocks) is bounded by the budget alone.
  const payload = bombPayload(2 ** 30, 8 * 2 ** 20);
  const adler = new Uint8Array(4);
  new DataView(adler.buffer).setUint32(0, adler32(payload));
  const stream = concat([
    new Uint8Array([0x78, 0x01]),
    ...Array.from({ length: 300 }, () => new Uint8Array([0x00, 0x00, 0x00, 0xff, 0xff])),
    new Uint8Array(deflateRawSync(payload)),
    adler,
  ]);
  assert.equal(inflateSync(stream).length, payload.length); // a valid zlib stream
  const hidden = concat([matHeader(true), compressedStream(stream, true)]);
  assert.throws(
    () => parseMat(hidden, { maxInflatedBytes: 2 ** 20 }),
    (e) =>
      isFaultlineError(e, 'FL_ERR_MAT_FORMAT') &&
      /would inflate to more than 1048576 bytes/.test((e as Error).message),
  );

  // None of it held on to more than a few MiB (inflating to the 1 GiB cap would show here).
  assert.ok(process.memoryUsage().rss - rss0 < 200 * 2 ** 20, 'rss grew by more than 200 MiB');
});

// ── the real MFPT files ────────────────────────────────────────────────────

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The MFPT folder ($FAULTLINE_MFPT_DIR or ../shared/data/mfpt); skips `t` when absent, fails under CI=true. */
function requireMfpt(t: TestContext): string | undefined {
  const dir =
    process.env.FAULTLINE_MFPT_DIR ?? path.resolve(repoRoot, '..', 'shared', 'data', 'mfpt');
  if (existsSync(path.join(dir, 'train_data', 'InnerRaceFault_vload_1.mat'))) return dir;
  const msg = `MFPT data not found at ${dir}; set FAULTLINE_MFPT_DIR`;
  if (process.env.CI === 'true') assert.fail(msg);
  t.skip(msg);
  return undefined;
}

test('reads bearing.gs of the real MFPT InnerRaceFault_vload_1.mat with the values SciPy reads', async (t) => {
  const dir = requireMfpt(t);
  if (!dir) return;
  const file = path.join(dir, 'train_data', 'InnerRaceFault_vload_1.mat');
  const vars = await readMat(file, { variables: ['bearing.gs'] });
  assert.deepEqual(matVariableNames(vars), [
    'bearing.rate',
    'bearing.load',
    'bearing.gs',
    'bearing.sr',
    'FTF',
    'BPFO',
    'BPFI',
    'BSF',
  ]);
  const gs = matVector(vars, 'bearing.gs', file);
  assert.equal(gs.length, 146_484);
  let sum = 0;
  for (const x of gs) {
    assert.ok(Number.isFinite(x));
    sum += x;
  }
  // scipy.io.loadmat 1.17.1: [0], [1000], [last], and the sum in file order.
  assert.deepEqual(
    [gs[0], gs[1000], gs[gs.length - 1], sum],
    [-0.1762558, 0.4413101, -0.3933298, -33691.68082582195],
  );
  assert.equal(matVariable(vars, 'bearing.sr', file).decoded, false);

  const all = await readMat(file);
  assert.equal(matScalar(all, 'bearing.sr', file), 48828);
  assert.equal(matScalar(all, 'bearing.rate', file), 25);
  assert.equal(matVariable(all, 'bearing.load', file).text, '0');
  assert.equal(matScalar(all, 'BPFI', file), 118.875);

  // The manifest's channel, and the default channel (the file's only vector), through the signal reader.
  for (const channel of ['bearing.gs', undefined]) {
    const ch = await readSignalChannel(file, channel);
    assert.equal(ch.channel, 'bearing.gs');
    assert.equal(ch.samples.length, 146_484);
    assert.equal(ch.samples[1000], Math.fround(0.4413101));
  }
});

test('decoded arrays are charged against the file’s decode cap before they are allocated', () => {
  assert.equal(MAX_DECODED_BYTES, MAX_ARRAY_ELEMENTS * 8 + 64 * 2 ** 20);
  // three 2^17-sample arrays stored as uint8 (128 KiB each on disk, 64 KiB compressed
  // to almost nothing) decode to 1 MiB of float64 each: a 2.5 MiB cap takes two
  const vars: FixtureVar[] = ['a', 'b', 'c'].map((name) => ({
    name,
    kind: 'double',
    storage: 'uint8',
    dims: [2 ** 17, 1],
    data: new Array(2 ** 17).fill(1),
  }));
  for (const compress of [false, true]) {
    const file = writeMat(vars, { compress });
    assert.equal(parseMat(file).size, 3);
    assert.throws(
      () => parseMat(file, { label: 'int8-bomb.mat', maxDecodedBytes: 2.5 * 2 ** 20 }),
      (e) =>
        isFaultlineError(e, 'FL_ERR_MAT_FORMAT') &&
        /^int8-bomb\.mat: variable #2 .*'c'\): decoding 131072x1 elements takes 1048576 bytes, more than the 524288 left of the file's 2621440-byte decode cap/.test(
          (e as Error).message,
        ),
    );
    // naming only what is needed decodes within the cap
    assert.equal(
      parseMat(file, { variables: ['c'], maxDecodedBytes: 2.5 * 2 ** 20 }).get('c')?.decoded,
      true,
    );
  }
});
