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

test('an exception inside mat-for-js surfaces as FL_ERR_MAT_FORMAT, not a raw error', () => {
  // The library decodes UTF-8 text byte-by-byte as signed chars; 'é' makes it throw a RangeError.
  const file = writeMat([{ name: 's', kind: 'char', text: 'café', utf8: true }]);
  assert.throws(
    () => parseMat(file),
    (e) =>
      isFaultlineError(e, 'FL_ERR_MAT_FORMAT') && /decoder rejected/.test((e as Error).message),
  );
  // ASCII UTF-8 text is fine.
  assert.equal(
    parseMat(writeMat([{ name: 's', kind: 'char', text: 'abc', utf8: true }])).get('s')?.text,
    'abc',
  );
});
