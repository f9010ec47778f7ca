/**
 * Level-reading order maps (src/model/level.ts, `level` normalisation in
 * src/dsp/order-lines.ts): a model's reference level is the same as
 * shifting its inputs, the reference centres the source's median window, and
 * speed-shifted training windows are heard as hard as the speed law says.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createFrontEnd, resolveFrontEndConfig } from '../../src/dsp/frontend.js';
import { LEVEL_SCALE_DB } from '../../src/dsp/order-lines.js';
import { DEFAULT_FRACTIONS, prepareDomain } from '../../src/model/domains.js';
import type { InputSet } from '../../src/model/inputs.js';
import { medianLevel, readsLevels, shiftLevels, withLevelRef } from '../../src/model/level.js';
import { adaptModel, trainSourceModel } from '../../src/model/pipeline.js';
import type { Recording } from '../../src/types.js';
import { impactTrain } from '../dsp/synth.js';

const FS = 12_000;
const RPM = 1200;

/** Impacts at `order` × the shaft rate, each a 0.5 ms ring of `amp` g at 3 kHz. */
function defect(label: string, amp: number, order = 3.585, seconds = 6): Recording {
  const samples = impactTrain(FS * seconds, FS, (order * RPM) / 60, {
    amp,
    tauS: 0.0005,
    noise: 0.002,
    seed: Math.round(amp * 100),
  });
  return { id: `d:${label}`, label, domain: 'd', sampleRate: FS, samples, rpm: RPM, meta: {} };
}

const levelConfig = () =>
  resolveFrontEndConfig({ version: 2, mode: 'order', lines: { normalisation: 'level' } });

function windowMeans(set: InputSet): number[] {
  const size = set.x.length / set.n;
  return Array.from({ length: set.n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < size; j++) s += set.x[i * size + j];
    return s / size;
  });
}

test('medianLevel is the median window mean; shiftLevels takes a constant off a copy', () => {
  const shape = [1, 2, 1] as const;
  const set: InputSet = {
    x: Float32Array.from([1, 3, 10, 10, -4, -2]),
    y: Int32Array.from([0, 0, 0]),
    n: 3,
    shape: [...shape],
  };
  assert.equal(medianLevel(set), 2);
  const moved = shiftLevels(set, 2);
  assert.deepEqual([...moved.x], [-1, 1, 8, 8, -6, -4]);
  assert.deepEqual([...set.x], [1, 3, 10, 10, -4, -2], 'the input is left as it was');
  assert.equal(shiftLevels(set, 0), set);
  assert.equal(
    medianLevel({ ...set, x: set.x.subarray(0, 4), n: 2 }),
    6,
    'even count: the mid of the two window means',
  );
});

test('a reference level in the front end is the same as shifting its inputs', () => {
  const config = levelConfig();
  assert.ok(readsLevels(config));
  assert.ok(!readsLevels(resolveFrontEndConfig({ version: 2, mode: 'order' })), 'band does not');
  const recs = [defect('small', 0.2), defect('large', 1)];
  const plain = prepareDomain(recs, ['d'], ['small', 'large'], createFrontEnd(config));
  const m = medianLevel(plain.train);
  const moved = withLevelRef(config, m);
  assert.ok(Math.abs((moved.lines?.levelRef ?? 0) - m * LEVEL_SCALE_DB) < 1e-9);
  const centred = prepareDomain(recs, ['d'], ['small', 'large'], createFrontEnd(moved));
  const want = shiftLevels(plain.train, m);
  let err = 0;
  for (let i = 0; i < want.x.length; i++)
    err = Math.max(err, Math.abs(centred.train.x[i] - want.x[i]));
  assert.ok(err < 1e-3, `max difference ${err}`);
  assert.ok(Math.abs(medianLevel(centred.train)) < 1e-3, 'the source median window reads 0');
  // The larger defect reads louder, by about its 14 dB: the level is kept.
  const means = windowMeans(centred.test);
  const small = means.filter((_, i) => centred.test.y[i] === 0);
  const large = means.filter((_, i) => centred.test.y[i] === 1);
  const gap = (Math.min(...large) - Math.max(...small)) * LEVEL_SCALE_DB;
  assert.ok(gap > 6, `quietest large window above the loudest small one by ${gap.toFixed(1)} dB`);
});

test('speed-shifted training windows of a level map are heard as the speed law says', () => {
  const fe = createFrontEnd(levelConfig());
  const recs = [defect('a', 1)];
  const plain = prepareDomain(recs, ['d'], ['a'], fe, DEFAULT_FRACTIONS);
  const base = windowMeans(plain.train);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  // Told twice (half) as fast, the same impacts read at about the same level:
  // without the gain they would sit 6 dB (one power of 2) above (below).
  for (const k of [0.5, 2]) {
    const aug = prepareDomain(recs, ['d'], ['a'], fe, DEFAULT_FRACTIONS, { speedFactors: [k] });
    const extra = windowMeans(aug.train).slice(base.length);
    assert.ok(extra.length > 0);
    const off = (mean(extra) - mean(base)) * LEVEL_SCALE_DB;
    assert.ok(Math.abs(off) < 3, `told ${k}× as fast: ${off.toFixed(1)} dB from the plain windows`);
  }
});

test('training centres the source median window; a data set re-centres on its own, one machine keeps the source reference', {
  timeout: 600_000,
}, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-level-'));
  // The target: the same defects seen through a sensor 3 × as sensitive (+9.5 dB).
  const louder = (r: Recording, domain: string, label = r.label): Recording => ({
    ...r,
    id: `${domain}:${r.id}`,
    domain,
    label,
    samples: r.samples.map((v) => 3 * v),
  });
  const src = [defect('small', 0.2), defect('large', 1)].map((r) => ({ ...r, domain: 'src' }));
  const tgt = src.map((r) => louder(r, 'tgt'));
  const machine = louder(src[0], 'live:m1', '');
  try {
    const meta = await trainSourceModel({
      recordings: [...src, ...tgt],
      domains: ['src'],
      datasetLabel: 'test',
      kind: 'memory',
      frontEnd: { version: 2, mode: 'order', lines: { normalisation: 'level' } },
      epochs: 1,
      outDir: path.join(dir, 'src'),
      command: 'test',
    });
    const sourceRef = meta.frontEnd.lines?.levelRef;
    assert.ok(
      sourceRef !== undefined && Number.isFinite(sourceRef),
      `source levelRef ${sourceRef}`,
    );
    const common = {
      sourceDir: path.join(dir, 'src'),
      strategy: 'dann' as const,
      steps: 4,
      command: 'test',
      datasetLabel: 'test',
    };
    const set = await adaptModel({
      ...common,
      outDir: path.join(dir, 'set'),
      recordings: [...src, ...tgt],
      targetDomains: ['tgt'],
    });
    const moved = (set.meta.frontEnd.lines?.levelRef ?? Number.NaN) - sourceRef;
    assert.ok(
      Math.abs(moved - 20 * Math.log10(3)) < 0.5,
      `a data set's reference moved ${moved} dB`,
    );
    assert.ok(Math.abs((set.meta.metrics.targetLevelShiftDb ?? 0) - moved) < 1e-6, 'and says so');
    const one = await adaptModel({
      ...common,
      outDir: path.join(dir, 'one'),
      recordings: [...src, machine],
      targetDomains: ['live:m1'],
      targetKind: 'single-machine',
    });
    assert.equal(one.meta.frontEnd.lines?.levelRef, sourceRef, 'one machine is in one state');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
