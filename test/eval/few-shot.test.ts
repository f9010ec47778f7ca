/**
 * `faultline eval --few-shot`: the labelled windows are k per class and come
 * from the target's training split only (never validation or test), the draws
 * repeat and nest across k, and the report carries `fewShot`, its Markdown
 * table and its PNG. One small in-process run on simulated data (time mode,
 * one epoch, few steps) keeps it fast.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import { registerEvalCommand } from '../../src/cli/commands/eval.js';
import { EXIT_USAGE, exitStatusOfCode } from '../../src/cli/exit-codes.js';
import { createFrontEnd, resolveFrontEndConfig } from '../../src/dsp/frontend.js';
import { isFaultlineError } from '../../src/errors.js';
import { loadEvalData } from '../../src/eval/eval-data.js';
import type { EvalReport } from '../../src/eval/evaluate.js';
import { drawShotRows, fewShotReport, parseFewShot, shotSet } from '../../src/eval/few-shot.js';
import { fewShotChart } from '../../src/eval/few-shot-chart.js';
import { defaultFrontEnd, prepareDomain } from '../../src/model/domains.js';
import { type InputSet, inputSize } from '../../src/model/inputs.js';
import { writeSimDataset } from '../../src/sim/dataset.js';

let root: string;
let sim: string;
const CLASSES = ['inner', 'normal', 'outer'];

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fl-fewshot-'));
  sim = path.join(root, 'sim');
  await writeSimDataset(sim, {
    faults: ['none', 'inner', 'outer'],
    recordingsPerClass: 2,
    durationS: 1.5,
    sampleRate: 12000,
    format: 'csv',
    conditions: ['source-1797rpm', 'target-noisy-gain'],
    seed: 5,
  });
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Each row of `set` as a string key of its bytes, to find it in another set. */
function rowKeys(set: InputSet): string[] {
  const size = inputSize(set.shape);
  return Array.from({ length: set.n }, (_, i) =>
    Buffer.from(set.x.buffer, set.x.byteOffset + i * size * 4, size * 4).toString('base64'),
  );
}

test('drawShotRows: k rows of each class, seeded, nested across k, all of a class that has fewer', () => {
  const y = Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1, 0, 0, 1, -1]);
  const set: InputSet = { x: new Float32Array(y.length), y, n: y.length, shape: [1, 1, 1] };
  const one = drawShotRows(set, 1, 3, 4);
  const three = drawShotRows(set, 3, 3, 4);
  assert.deepEqual(
    one.map((r) => y[r]),
    [0, 1, 2],
  );
  // Class 2 has two rows: both, and no more.
  assert.deepEqual(
    three.map((r) => y[r]),
    [0, 0, 0, 1, 1, 1, 2, 2],
  );
  assert.equal(new Set(three).size, three.length);
  for (const r of one) assert.ok(three.includes(r), 'the k = 1 draw is part of the k = 3 draw');
  assert.deepEqual(drawShotRows(set, 3, 3, 4), three, 'the same seed draws the same rows');
  assert.notDeepEqual(drawShotRows(set, 3, 3, 5), three, 'another seed draws others');
  assert.deepEqual(drawShotRows(set, 0, 3, 4), []);
});

test('shotSet: labelled windows from the target training split only, never validation or test', async () => {
  const { recordings } = await loadEvalData({ source: { dir: sim, prefix: '' } });
  const fe = createFrontEnd(resolveFrontEndConfig(defaultFrontEnd('time', 12000)));
  const target = prepareDomain(recordings, ['target-noisy-gain'], CLASSES, fe);
  const train = new Map(rowKeys(target.train).map((k, i) => [k, i]));
  const held = new Set([...rowKeys(target.val), ...rowKeys(target.test)]);
  for (const k of [1, 3]) {
    const shots = shotSet(target, k, CLASSES.length, 2);
    assert.equal(shots.n, k * CLASSES.length);
    rowKeys(shots).forEach((key, i) => {
      const row = train.get(key);
      assert.ok(row !== undefined, `shot ${i} (k = ${k}) is a training window`);
      assert.ok(!held.has(key), `shot ${i} (k = ${k}) is not a validation or test window`);
      assert.equal(shots.y[i], target.train.y[row], 'with its own label');
    });
    assert.deepEqual(
      [...shots.y],
      CLASSES.flatMap((_, c) => Array<number>(k).fill(c)),
    );
  }
});

async function evalCli(...args: string[]): Promise<string> {
  const program = new Command('faultline').exitOverride();
  const chunks: string[] = [];
  registerEvalCommand(program, {
    stdout: { write: (s: string) => chunks.push(s) },
    stderr: { write: () => true },
  });
  await program.parseAsync(['node', 'faultline', 'eval', ...args]);
  return chunks.join('');
}

test('eval --few-shot: fewShot per task and k (every seed, mean), its table and its PNG', async () => {
  const json = path.join(root, 'few.json');
  const stdout = await evalCli(
    sim,
    ...['--tasks', 'source-1797rpm:target-noisy-gain', '--strategies', 'dann-im'],
    ...['--seeds', '1,2', '--mode', 'time', '--epochs', '1', '--adapt-steps', '20'],
    ...['--few-shot', '3,0,1', '--few-shot-epochs', '2', '--workers', '0', '--no-detection'],
    ...['--json', json],
  );
  const report = JSON.parse(await readFile(json, 'utf8')) as EvalReport;
  const f = report.fewShot;
  assert.ok(f);
  assert.deepEqual(f.settings, { ks: [0, 1, 3], start: 'adapted', epochs: 2, strategy: 'dann-im' });
  assert.equal(f.tasks.length, 1);
  const [t] = f.tasks;
  assert.deepEqual([t.source, t.target], ['source-1797rpm', 'target-noisy-gain']);
  assert.deepEqual(
    t.points.map((p) => [p.k, p.windows, p.seeds]),
    [
      [0, 0, [1, 2]],
      [1, 3, [1, 2]],
      [3, 9, [1, 2]],
    ],
  );
  // k = 0 is the label-free dann-im entry of the same seed.
  const dann = report.tasks.filter((e) => e.strategy === 'dann-im');
  assert.deepEqual(
    t.points[0].accuracies,
    dann.map((e) => e.accuracy),
  );
  for (const p of t.points) {
    for (const a of p.accuracies) assert.ok(a >= 0 && a <= 1);
    assert.ok(Math.abs(p.mean - (p.accuracies[0] + p.accuracies[1]) / 2) < 1e-12);
  }
  assert.deepEqual(
    f.summary.map((s) => [s.k, s.n]),
    [
      [0, 2],
      [1, 2],
      [3, 2],
    ],
  );
  assert.deepEqual(report.settings.fewShot, { ks: [0, 1, 3], start: 'adapted', epochs: 2 });
  assert.match(stdout, /few-shot k=3 {3}mean/);
  const md = await readFile(json.replace(/\.json$/, '.md'), 'utf8');
  assert.match(md, /## Few-shot/);
  assert.match(md, /\| task \| k = 0 \| k = 1 \| k = 3 \|/);
  assert.match(md, /\| source-1797rpm→target-noisy-gain \| 3 \| 9 \| 2 \| /);
  const png = await readFile(json.replace(/\.json$/, '-few-shot.png'));
  assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
});

test('few-shot errors are usage errors; the section and chart take any number of tasks', async () => {
  const usage = async (p: Promise<unknown>, re: RegExp) =>
    assert.rejects(p, (e) => {
      assert.ok(isFaultlineError(e), String(e));
      assert.equal(exitStatusOfCode(e.code), EXIT_USAGE, `${e.code}: ${e.message}`);
      assert.match(e.message, re);
      return true;
    });
  assert.deepEqual(parseFewShot(' 20,0,5,1,5,10'), [0, 1, 5, 10, 20]);
  await usage(
    Promise.resolve().then(() => parseFewShot('0,-1')),
    /integers ≥ 0.*'0,-1'/,
  );
  await usage(
    Promise.resolve().then(() => parseFewShot('1.5')),
    /'1.5'/,
  );
  await usage(
    evalCli(sim, '--strategies', 'source-only', '--few-shot', '0,1'),
    /add it to --strategies/,
  );
  await usage(
    evalCli(sim, '--few-shot', '0,1', '--few-shot-start', 'scratch'),
    /adapted or source/,
  );
  const empty = fewShotReport({ ks: [0, 5], start: 'source', epochs: 3 }, []);
  assert.deepEqual(empty.tasks, []);
  assert.equal(empty.summary[1].n, 0);
  assert.match(empty.protocol, /from the source model/);
  const png = fewShotChart([
    {
      name: 'cwru',
      points: [
        { k: 0, mean: 1 },
        { k: 5, mean: 0.2 },
      ],
    },
    { name: 'sim', points: [] },
  ]);
  assert.ok(png.length > 100);
});
