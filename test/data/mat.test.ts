import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { matScalar, matVector, parseMat, readMat } from '../../src/data/mat.js';
import { isFaultlineError } from '../../src/errors.js';
import { requireCwru } from '../helpers/cwru.js';
import { dataElement, type FixtureVar, matHeader, writeMat } from './mat-writer.js';

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
      if (f.kind === 'char' || f.kind === 'cell') continue;
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
