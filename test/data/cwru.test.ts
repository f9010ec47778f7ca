import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CWRU_DE_BEARING } from '../../src/contract/bearing.js';
import {
  CWRU_CLASSES,
  CWRU_FILES,
  CWRU_NOMINAL_RPM,
  cwruChannel,
  cwruRpmVariable,
  loadCwru,
  selectCwru,
} from '../../src/data/cwru.js';
import { isFaultlineError } from '../../src/errors.js';
import { requireCwru } from '../support/cwru.js';

interface ManifestRow {
  number: number;
  label: string;
  loadHp: number;
  nominalRpm: number;
  fileRpm: number;
  samples: number;
  fs: number;
}

/** The file table of the data folder's MANIFEST.md. */
function manifestRows(dir: string): ManifestRow[] {
  const rows: ManifestRow[] = [];
  for (const line of readFileSync(path.join(dir, 'MANIFEST.md'), 'utf8').split('\n')) {
    const m = /^\|\s*(\d+)\.mat\s*\|/.exec(line);
    if (!m) continue;
    const cells = line.split('|').map((c) => c.trim());
    const [nominal, inFile] = cells[4].split('/').map((s) => Number(s.trim()));
    rows.push({
      number: Number(m[1]),
      label: cells[2],
      loadHp: Number(cells[3]),
      nominalRpm: nominal,
      fileRpm: inFile,
      samples: Number(cells[6]),
      fs: Number(cells[7]),
    });
  }
  return rows;
}

test('the catalogue in code matches MANIFEST.md row by row (class, load, fs, nominal rpm)', (t) => {
  const dir = requireCwru(t);
  if (!dir) return;
  const rows = manifestRows(dir);
  assert.equal(rows.length, 37);
  assert.equal(CWRU_FILES.length, 37);
  for (const row of rows) {
    const e = CWRU_FILES.find((f) => f.number === row.number);
    assert.ok(e, `${row.number}.mat is not catalogued`);
    assert.equal(e.label, row.label, `${row.number}.mat class`);
    assert.equal(e.loadHp, row.loadHp, `${row.number}.mat load`);
    assert.equal(e.sampleRate, row.fs, `${row.number}.mat fs`);
    assert.equal(CWRU_NOMINAL_RPM[e.loadHp], row.nominalRpm, `${row.number}.mat nominal rpm`);
  }
  assert.deepEqual(new Set(CWRU_FILES.map((f) => f.label)), new Set(CWRU_CLASSES));
});

test('variable names use the file number, zero-padded', () => {
  assert.equal(cwruChannel(97), 'X097_DE_time');
  assert.equal(cwruChannel(105), 'X105_DE_time');
  assert.equal(cwruRpmVariable(97), 'X097RPM');
});

test('loadCwru: all 37 recordings at 12 kHz with MANIFEST lengths and in-file rpm; 97 decimated 4:1', async (t) => {
  const dir = requireCwru(t);
  if (!dir) return;
  const t0 = performance.now();
  const recs = await loadCwru(dir);
  const ms = performance.now() - t0;
  assert.ok(ms < 8000, `loading took ${ms} ms`);
  const rows = new Map(manifestRows(dir).map((r) => [r.number, r]));
  assert.equal(recs.length, 37);
  assert.equal(new Set(recs.map((r) => r.id)).size, 37);
  for (const rec of recs) {
    const num = Number(rec.id.replace('cwru:', ''));
    const row = rows.get(num);
    assert.ok(row, rec.id);
    assert.equal(rec.label, row.label);
    assert.equal(rec.domain, `load${row.loadHp}`);
    assert.equal(rec.sampleRate, 12000);
    assert.equal(rec.rpm, row.fileRpm, `${rec.id} rpm`);
    assert.equal(rec.meta.rpmSource, 'file');
    assert.equal(rec.meta.nominalRpm, row.nominalRpm);
    assert.equal(rec.meta.originalSampleRate, row.fs);
    assert.equal(rec.meta.originalSamples, row.samples);
    assert.equal(rec.meta.channel, cwruChannel(num));
    assert.deepEqual(rec.bearing, CWRU_DE_BEARING, `${rec.id} bearing`);
    assert.equal(rec.meta.bearingDesignation, '6205');
    assert.ok(rec.samples instanceof Float32Array);
    if (num === 97) {
      assert.equal(rec.meta.resampled, true);
      assert.match(String(rec.meta.resampler), /ratio 1\/4/);
      assert.equal(rec.samples.length, Math.floor((row.samples - 1) / 4) + 1); // 60985
    } else {
      assert.equal(rec.meta.resampled, false);
      assert.equal(rec.meta.resampler, undefined);
      assert.equal(rec.samples.length, row.samples);
    }
    for (const x of rec.samples) assert.ok(Number.isFinite(x));
  }
  // Spot values (SciPy reference, rounded to float32).
  const r105 = recs.find((r) => r.id === 'cwru:105');
  assert.equal(r105?.samples[0], Math.fround(-0.08300435129740519));
  assert.equal(r105?.samples[1000], Math.fround(-0.1739680239520958));
});

test('decimated 97.mat keeps its spectrum below 5.4 kHz (same Fourier coefficients as at 48 kHz)', async (t) => {
  const dir = requireCwru(t);
  if (!dir) return;
  const [low] = await loadCwru(dir, { classes: ['normal'] });
  const [full] = await loadCwru(dir, { classes: ['normal'], targetRate: 48000 });
  assert.equal(full.samples.length, 243938);
  assert.equal(full.meta.resampled, false);
  // Hann-windowed Fourier coefficient at f Hz over the same 4.5 s span (edges skipped), per
  // sample. The window keeps leakage from the 6–24 kHz content (present only at 48 kHz) out.
  const coef = (
    x: Float32Array,
    fs: number,
    f: number,
    from: number,
    n: number,
  ): [number, number] => {
    let re = 0;
    let im = 0;
    for (let i = from; i < from + n; i++) {
      const ph = (2 * Math.PI * f * i) / fs;
      const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i - from)) / n);
      re += w * x[i] * Math.cos(ph);
      im -= w * x[i] * Math.sin(ph);
    }
    return [re / n, im / n];
  };
  // The low-frequency peaks MANIFEST.md lists for 97 at 48 kHz, plus points across the passband.
  for (const f of [147.9, 161.9, 191.9, 329.6, 359.6, 389.6, 1000, 2500, 4000, 5000]) {
    const [ar, ai] = coef(full.samples, 48000, f, 4 * 1000, 4 * 54000);
    const [br, bi] = coef(low.samples, 12000, f, 1000, 54000);
    const mag = Math.hypot(ar, ai);
    const diff = Math.hypot(ar - br, ai - bi);
    // Measured ≤ 3e-5 relative; plain every-4th-sample decimation is off by 0.3–80 % here.
    assert.ok(diff <= 1e-3 * mag, `${f} Hz: |48k| ${mag}, |48k − 12k| ${diff}`);
  }
});

test('filters, unknown classes and loads, missing files', async (t) => {
  assert.equal(selectCwru({ classes: ['normal'] }).length, 1);
  assert.equal(selectCwru({ loads: [0] }).length, 10);
  assert.equal(selectCwru({ classes: ['IR007', 'OR021'], loads: [1, 2] }).length, 4);
  assert.throws(() => selectCwru({ classes: ['IR999'] }), /not a CWRU class/);
  assert.throws(
    () => selectCwru({ loads: [4] }),
    (e) => isFaultlineError(e, 'FL_ERR_DATASET_EMPTY'),
  );
  assert.throws(
    () => selectCwru({ classes: ['normal'], loads: [2] }),
    /normal exists at 0 HP only/,
  );

  const dir = requireCwru(t);
  if (!dir) return;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'fl-cwru-'));
  try {
    for (const f of ['105.mat', '106.mat']) await symlink(path.join(dir, f), path.join(tmp, f));
    await assert.rejects(
      loadCwru(tmp, { classes: ['IR007'] }),
      (e) =>
        isFaultlineError(e, 'FL_ERR_DATASET_FILE') &&
        /lacks 107\.mat, 108\.mat/.test((e as Error).message),
    );
    const some = await loadCwru(tmp, { classes: ['IR007'], allowMissing: true });
    assert.deepEqual(
      some.map((r) => r.id),
      ['cwru:105', 'cwru:106'],
    );
    await assert.rejects(loadCwru(tmp, { classes: ['B007'], allowMissing: true }), (e) =>
      isFaultlineError(e, 'FL_ERR_DATASET_EMPTY'),
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
