/**
 * Short recordings at low speed, as users hand them over: 3 s recordings at
 * 600 rpm (30 revolutions), sampled at 25.6 kHz, go through `train`,
 * `adapt` and `eval` with every front-end default: the 70/15/15 split in
 * time, windows of 4 revolutions at the recording's speed, resampling to the
 * 12 kHz analysis rate. Before version 2, order mode asked for 8-revolution
 * windows that a 15 % segment (4.5 revolutions) could not hold, and refused
 * every such recording (FL_ERR_SIGNAL_TOO_SHORT).
 *
 * What is checked is that each split holds windows and each command runs
 * to its end; accuracy on data this small belongs to the evaluations.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import { registerAdaptCommand } from '../../src/cli/commands/adapt.js';
import { registerEvalCommand } from '../../src/cli/commands/eval.js';
import { registerTrainCommand } from '../../src/cli/commands/train.js';
import { isFaultlineError } from '../../src/errors.js';
import type { EvalReport } from '../../src/eval/evaluate.js';
import type { ModelMetadata } from '../../src/model/artifact.js';
import { writeSimDataset } from '../../src/sim/dataset.js';

let root: string;
let data: string;
const SLOW = 'target-600rpm';
const FAST = 'source-1797rpm';

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fl-short-'));
  data = path.join(root, 'data');
  await writeSimDataset(data, {
    conditions: [FAST, SLOW],
    faults: ['none', 'inner', 'outer'],
    recordingsPerClass: 2,
    durationS: 3,
    sampleRate: 25_600,
    // Strong enough to be learnable at 600 rpm; the test is about lengths, not accuracy.
    severity: 2,
    seed: 21,
  });
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function cli(...args: string[]): Promise<void> {
  const program = new Command('faultline').exitOverride();
  registerTrainCommand(program);
  registerAdaptCommand(program);
  registerEvalCommand(program, {
    stdout: { write: () => true },
    stderr: { write: () => true },
  });
  await program.parseAsync(['node', 'faultline', ...args]);
}

const metadata = async (dir: string) =>
  JSON.parse(await readFile(path.join(dir, 'faultline.json'), 'utf8')) as ModelMetadata;

test('3 s at 600 rpm: train with the defaults splits 70/15/15 in time and every split holds windows', {
  timeout: 600_000,
}, async () => {
  const out = path.join(root, 'slow-model');
  await cli('train', data, '--out', out, '--domains', SLOW, '--epochs', '2');
  const meta = await metadata(out);
  assert.equal(meta.frontEnd.version, 2);
  assert.equal(meta.frontEnd.mode, 'order');
  assert.equal(meta.sampleRate, 12_000, 'resampled to the default analysis rate');
  assert.deepEqual(meta.frontEnd.window, { length: 4, hop: 0.618, unit: 'rev' });
  assert.deepEqual(meta.provenance.split, { train: 0.7, val: 0.15, test: 0.15 });
  assert.deepEqual(
    meta.training.speedAugment,
    [0.87, 1.15],
    'order mode trains on speed-shifted copies',
  );
  for (const split of ['train', 'val', 'test'])
    assert.ok(
      meta.provenance.windows[split] > 0,
      `${split} windows: ${JSON.stringify(meta.provenance.windows)}`,
    );
  assert.ok(Number.isFinite(meta.metrics.sourceTestAccuracy));

  // Adapted to the fast machine, and a fast model adapted to the slow one.
  const adapted = path.join(root, 'slow-to-fast');
  await adaptOrGuard(
    'adapt',
    '--model',
    out,
    '--data',
    data,
    '--target',
    FAST,
    '--out',
    adapted,
    '--steps',
    '20',
  );
  const fastModel = path.join(root, 'fast-model');
  await cli('train', data, '--out', fastModel, '--domains', FAST, '--epochs', '2');
  const toSlow = path.join(root, 'fast-to-slow');
  await adaptOrGuard(
    'adapt',
    '--model',
    fastModel,
    '--data',
    data,
    '--target',
    SLOW,
    '--out',
    toSlow,
    '--steps',
    '20',
  );
  for (const dir of [adapted, toSlow]) {
    const m = await metadata(dir);
    assert.ok(m.adaptation, `${dir} is an adaptation`);
    assert.ok(
      (m.metrics.targetWindows ?? 0) > 0,
      `${dir}: target windows ${m.metrics.targetWindows}`,
    );
  }
});

/**
 * Adaptation runs to its end: a candidate is written, promoted or refused by
 * a guard (a verdict on its quality, which data this small may earn), never
 * stopped by the recording's length.
 */
async function adaptOrGuard(...args: string[]): Promise<void> {
  try {
    await cli(...args);
  } catch (e) {
    if (isFaultlineError(e) && e.code === 'FL_ERR_ADAPT_GUARD') return;
    throw e;
  }
}

test('3 s at 600 rpm: eval both ways between 600 and 1797 rpm with the defaults (auto picks order mode, level on the same rig)', {
  timeout: 600_000,
}, async () => {
  const json = path.join(root, 'report.json');
  await cli(
    'eval',
    data,
    '--tasks',
    `${FAST}:${SLOW},${SLOW}:${FAST}`,
    '--strategies',
    'source-only,dann',
    '--epochs',
    '2',
    '--adapt-steps',
    '30',
    '--no-detection',
    '--workers',
    '1',
    '--json',
    json,
  );
  const report = JSON.parse(await readFile(json, 'utf8')) as EvalReport;
  assert.equal(report.tasks.length, 4);
  // The same-rig front end reads levels; each adapted task is re-centred on its target.
  assert.equal(report.settings.sameRigFrontEnd?.lines?.normalisation, 'level');
  // A 15 % segment of 3 s at 600 rpm holds 4.5 revolutions: the short window stays.
  assert.equal(report.frontEnd.window?.length, 4);
  for (const t of report.tasks) {
    assert.equal(t.frontEnd?.mode, 'order', `${t.source}→${t.target}: speeds differ 3×`);
    // One simulated machine at two speeds rings alike: levels are kept (level).
    assert.ok(t.frontEnd && t.frontEnd.profileShift < 2, JSON.stringify(t.frontEnd));
    assert.equal(t.frontEnd?.normalisation, 'level', 'the same rig: level normalisation');
    assert.ok(t.windows > 0, `${t.source}→${t.target} ${t.strategy}: target test windows`);
    assert.ok(t.accuracy >= 0 && t.accuracy <= 1);
  }
});
