/**
 * `faultline eval` over folders as users hand them over: a source folder and
 * a target folder with a label map and a label column, through the command's
 * own function (in-process, few epochs and steps); the label-free choice
 * beside the oracle; default tasks; parsing errors.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Command } from 'commander';
import { parseSeeds, registerEvalCommand } from '../../src/cli/commands/eval.js';
import { EXIT_USAGE, exitStatusOfCode } from '../../src/cli/exit-codes.js';
import { resolveFrontEndConfig } from '../../src/dsp/frontend.js';
import { isFaultlineError } from '../../src/errors.js';
import { runDetectionJob } from '../../src/eval/detection.js';
import {
  folderPrefixes,
  loadEvalData,
  parseFolderArg,
  parseLabelMap,
} from '../../src/eval/eval-data.js';
import { type EvalReport, type EvalSettings, parseTasks } from '../../src/eval/evaluate.js';
import { oracleOf } from '../../src/eval/oracle.js';
import { defaultFrontEnd } from '../../src/model/domains.js';
import { writeSimDataset } from '../../src/sim/dataset.js';

let root: string;
let plantA: string;
let plantB: string;

/**
 * Rewrites a simulated folder's manifest with a `location` column built from
 * each row's label, so that `--label-column location` has something to read.
 */
async function addLocation(dir: string, location: (label: string, k: number) => string) {
  const p = path.join(dir, 'manifest.csv');
  const [header, ...rows] = (await readFile(p, 'utf8')).trim().split('\n');
  const seen = new Map<string, number>();
  const out = rows.map((r) => {
    const label = r.split(',')[1];
    const k = seen.get(label) ?? 0;
    seen.set(label, k + 1);
    return `${r},${location(label, k)}`;
  });
  await writeFile(p, `${header},Location\n${out.join('\n')}\n`);
}

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fl-evalcli-'));
  plantA = path.join(root, 'plantA');
  plantB = path.join(root, 'plantB');
  const common = {
    faults: ['none', 'inner', 'outer'] as const,
    recordingsPerClass: 2,
    durationS: 1.5,
    sampleRate: 12000,
    format: 'csv' as const,
  };
  // Both folders have a domain called 'source-1797rpm': they must stay apart.
  await writeSimDataset(plantA, { ...common, conditions: ['source-1797rpm'], seed: 3 });
  await writeSimDataset(plantB, {
    ...common,
    conditions: ['source-1797rpm', 'target-noisy-gain'],
    seed: 11,
  });
  // Plant A names its faults by size (as CWRU does), plant B by location.
  await addLocation(plantA, (label, k) =>
    label === 'inner'
      ? ['IR007', 'IR014'][k]
      : label === 'outer'
        ? ['OR007', 'OR014'][k]
        : 'normal',
  );
  await addLocation(plantB, (label) => label);
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs `faultline eval …args` through the command's own function; resolves with its stdout. */
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

async function usageError(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(isFaultlineError(e), String(e));
    // FL_ERR_CLI_USAGE from the command, FL_ERR_EVAL_* from src/eval: each a usage error (exit 2)
    assert.equal(exitStatusOfCode(e.code), EXIT_USAGE, `${e.code}: ${e.message}`);
    assert.match(e.message, re);
    return true;
  });
}

const FAST = ['--epochs', '1', '--adapt-steps', '60', '--no-detection'];
const MAP = 'IR007=inner,IR014=inner,OR007=outer,OR014=outer,inner=inner,outer=outer';

test('--source/--target/--label-map/--label-column: two folders, prefixed domains, oracle beside the label-free choice', async () => {
  const json = path.join(root, 'two-folders.json');
  const stdout = await evalCli(
    ...['--source', plantA, '--target', plantB, '--label-map', MAP],
    ...['--label-column', 'location', '--strategies', 'source-only,dann'],
    ...['--workers', '1', '--json', json, ...FAST],
  );
  const report = JSON.parse(await readFile(json, 'utf8')) as EvalReport;
  // Every source domain → every target domain; the shared name stays apart by its prefix.
  const pairs = [...new Set(report.tasks.map((t) => `${t.source}→${t.target}`))];
  assert.deepEqual(pairs, [
    'plantA/source-1797rpm→plantB/source-1797rpm',
    'plantA/source-1797rpm→plantB/target-noisy-gain',
  ]);
  assert.deepEqual(report.settings.tasks, [
    { source: 'plantA/source-1797rpm', target: 'plantB/source-1797rpm' },
    { source: 'plantA/source-1797rpm', target: 'plantB/target-noisy-gain' },
  ]);
  // 'normal' is not in the map: left out on both sides; the sizes merged into inner/outer.
  assert.deepEqual(report.classes, ['inner', 'outer']);
  assert.deepEqual(report.domainClasses, {
    'plantA/source-1797rpm': ['inner', 'outer'],
    'plantB/source-1797rpm': ['inner', 'outer'],
    'plantB/target-noisy-gain': ['inner', 'outer'],
  });
  // The data spec is in the report (and travelled to the worker inside the settings).
  assert.equal(report.data?.source.dir, plantA);
  assert.equal(report.data?.target?.dir, plantB);
  assert.equal(report.data?.source.prefix, 'plantA/');
  assert.equal(report.data?.labelColumn, 'location');
  assert.deepEqual(report.data?.labelMap, parseLabelMap(MAP));
  assert.deepEqual(report.data?.sourceDomains, ['plantA/source-1797rpm']);
  // The report keeps its shape: tasks[] and summary.
  assert.deepEqual(Object.keys(report.summary).sort(), ['dann', 'source-only']);
  assert.equal(report.tasks.length, 4);
  for (const t of report.tasks) {
    assert.ok(t.windows > 0 && t.accuracy >= 0 && t.accuracy <= 1);
    assert.equal(t.confusion.length, 2);
    if (t.strategy === 'source-only') {
      assert.equal(t.oracle, undefined);
      continue;
    }
    // Checkpoints at steps 0, 50, 60: the oracle is one of them, never below the label-free choice.
    assert.ok(t.oracle, 'dann entry has an oracle');
    assert.ok([0, 50, 60].includes(t.oracle.step), `oracle step ${t.oracle.step}`);
    assert.ok([0, 50, 60].includes(t.selectedStep ?? -1));
    assert.ok(t.oracle.accuracy >= t.accuracy - 1e-9, `${t.oracle.accuracy} < ${t.accuracy}`);
    if (t.oracle.step === t.selectedStep)
      assert.ok(Math.abs(t.oracle.accuracy - t.accuracy) < 1e-9);
  }
  assert.match(report.protocol, /Source folder .*plantA .*→ target folder .*plantB/);
  assert.match(report.protocol, /Labels mapped \(IR007→inner, /);
  // Markdown: both choices and the gap.
  const md = await readFile(json.replace(/\.json$/, '.md'), 'utf8');
  assert.match(md, /## Label-free choice against the oracle checkpoint/);
  assert.match(md, /\| strategy \| label-free \| oracle \| gap \| entries \|/);
  assert.match(md, /\| dann \| \d+\.\d\d % \| \d+\.\d\d % \| \d+\.\d\d pp \| 2 \|/);
  assert.match(
    md,
    /\| plantA\/source-1797rpm→plantB\/target-noisy-gain \| dann \| 1 \| (0|50|60) \| \d+\.\d\d % \| (0|50|60) \| \d+\.\d\d % \| \d+\.\d\d pp \|/,
  );
  assert.match(md, /Label map: IR007 → inner, /);
  assert.match(stdout, /dann\s+label-free \d+\.\d\d %\s+oracle checkpoint \d+\.\d\d %\s+gap/);
});

test('one bring-your-own folder without --tasks: every ordered pair of its domains; --tasks as before', async () => {
  const json = path.join(root, 'one-folder.json');
  await evalCli(plantB, '--strategies', 'source-only', '--workers', '0', '--json', json, ...FAST);
  const report = JSON.parse(await readFile(json, 'utf8')) as EvalReport;
  assert.deepEqual(report.settings.tasks, [
    { source: 'source-1797rpm', target: 'target-noisy-gain' },
    { source: 'target-noisy-gain', target: 'source-1797rpm' },
  ]);
  // Labels as they are (no map), no prefix for one folder.
  assert.deepEqual(report.classes, ['inner', 'normal', 'outer']);
  // Without --heads: one head, nothing about heads in the report.
  assert.equal(report.settings.heads, undefined);
  assert.equal(report.tasks[0].heads, undefined);
  assert.equal(report.data?.target, undefined);

  const data = await loadEvalData({ source: { dir: plantB, prefix: '' } });
  assert.deepEqual(parseTasks('target-noisy-gain:source-1797rpm', data), [
    { source: 'target-noisy-gain', target: 'source-1797rpm' },
  ]);
  await usageError(
    Promise.resolve().then(() => parseTasks('source-1797rpm:pumpZ', data)),
    /target domain 'pumpZ' is not in the data \(target domains: source-1797rpm, target-noisy-gain\)/,
  );
  await usageError(
    Promise.resolve().then(() => parseTasks('source-1797rpm:source-1797rpm', data)),
    /same source and target/,
  );
  await usageError(
    Promise.resolve().then(() => parseTasks('a-b', data)),
    /not <source>:<target>/,
  );
});

test('--heads: the multi-task model is scored on its primary classes, each head beside it', async () => {
  const json = path.join(root, 'heads.json');
  await evalCli(
    plantB,
    '--tasks',
    'source-1797rpm:target-noisy-gain',
    '--heads',
    'location,size,condition',
    '--workers',
    '0',
    '--json',
    json,
    ...FAST,
  );
  const report = JSON.parse(await readFile(json, 'utf8')) as EvalReport;
  assert.deepEqual(report.settings.heads, ['location', 'size', 'condition']);
  assert.deepEqual(report.classes, ['inner', 'normal', 'outer']);
  assert.deepEqual(
    report.tasks.map((t) => t.strategy),
    ['source-only', 'dann-im'],
  );
  for (const t of report.tasks) {
    // Labels without a size: the size head is left out, the two others are scored.
    assert.deepEqual(Object.keys(t.heads ?? {}).sort(), ['condition', 'location']);
    for (const v of Object.values(t.heads ?? {})) assert.ok(v >= 0 && v <= 1, String(v));
    assert.ok(t.accuracy >= 0 && t.accuracy <= 1);
  }
  await usageError(evalCli(plantB, '--heads', 'colour', ...FAST), /--heads: unknown head 'colour'/);
});

test('two folders: restricted domains, unprefixed task names, the same folder on both sides', async () => {
  const spec = {
    source: {
      ...parseFolderArg(`${plantA}:source-1797rpm`, '/cwru', '--source'),
      prefix: 'plantA/',
    },
    target: {
      ...parseFolderArg(`${plantB}:target-noisy-gain`, '/cwru', '--target'),
      prefix: 'plantB/',
    },
    labelColumn: 'location',
    labelMap: parseLabelMap(MAP),
  };
  const data = await loadEvalData(spec);
  assert.deepEqual(data.sourceDomains, ['plantA/source-1797rpm']);
  assert.deepEqual(data.targetDomains, ['plantB/target-noisy-gain']);
  assert.ok(data.recordings.every((r) => r.label === 'inner' || r.label === 'outer'));
  assert.equal(data.recordings.length, 8);
  // A name without its prefix is found on its side; the full name works too.
  assert.deepEqual(parseTasks('source-1797rpm:target-noisy-gain', data), [
    { source: 'plantA/source-1797rpm', target: 'plantB/target-noisy-gain' },
  ]);
  // The same folder on both sides: loaded once, one prefix, its domains on both sides.
  const [p1, p2] = folderPrefixes(plantB, `${plantB}/`);
  assert.equal(p1, 'plantB/');
  assert.equal(p2, 'plantB/');
  const same = await loadEvalData({
    source: { dir: plantB, domains: ['source-1797rpm'], prefix: p1 },
    target: { dir: plantB, prefix: p2 },
  });
  assert.equal(same.recordings.length, 12);
  assert.equal(new Set(same.recordings.map((r) => r.id)).size, 12);
  assert.deepEqual(parseTasks(undefined, same), [
    { source: 'plantB/source-1797rpm', target: 'plantB/target-noisy-gain' },
  ]);
  assert.deepEqual(folderPrefixes('/x/data', '/y/data'), ['source-data/', 'target-data/']);
  // A domain a folder lacks, a map key no label carries, a side left empty.
  await usageError(
    loadEvalData({ ...spec, source: { ...spec.source, domains: ['pumpZ'] } }),
    /domain\(s\) pumpZ not in .*plantA \(domains: source-1797rpm\)/,
  );
  await usageError(
    loadEvalData({ ...spec, labelMap: { ...spec.labelMap, IR021: 'inner' } }),
    /label map key\(s\) IR021 match no label of the data/,
  );
  await assert.rejects(
    loadEvalData({ ...spec, labelMap: { inner: 'inner' } }),
    (e) =>
      isFaultlineError(e) &&
      e.code === 'FL_ERR_DATASET_EMPTY' &&
      /no source recording/.test(e.message),
  );
});

test('detection jobs load the same spec: in-domain detection on a prefixed target domain', async () => {
  const settings: EvalSettings = {
    dataset: `${plantA} → ${plantB}`,
    data: {
      source: { dir: plantA, prefix: 'plantA/' },
      target: { dir: plantB, domains: ['target-noisy-gain'], prefix: 'plantB/' },
      labelColumn: 'location',
      labelMap: { ...parseLabelMap(MAP), normal: 'normal' },
    },
    tasks: [],
    strategies: ['source-only'],
    seeds: [1],
    frontEnd: resolveFrontEndConfig(defaultFrontEnd('time', 12000)),
    variant: 'strided',
    epochs: 1,
    adaptSteps: 4,
    workers: 0,
  };
  const [e] = await runDetectionJob(settings, {
    kind: 'domain',
    domain: 'plantB/target-noisy-gain',
    seed: 1,
  });
  assert.equal(e.source, 'plantB/target-noisy-gain');
  assert.deepEqual(e.classes, ['inner', 'outer', 'normal']);
  assert.ok(e.normalWindows > 0 && e.faultWindows > 0);
});

test('command-line errors are usage errors: label maps, folder arguments, seeds', async () => {
  await usageError(
    evalCli('--source', plantA, '--target', plantB, '--label-map', 'IR007inner'),
    /entry 'IR007inner' is not <label>=<class>/,
  );
  await usageError(
    evalCli('--source', plantA, '--target', plantB, '--label-map', 'IR007=inner,IR007=outer'),
    /gives 'IR007' twice \(IR007=inner and IR007=outer\)/,
  );
  assert.throws(() => parseLabelMap('IR007=inner,=outer'), /entry '=outer'/);
  assert.throws(() => parseLabelMap('IR007=inner,'), /entry ''/);
  assert.throws(() => parseLabelMap('a=b=c'), /entry 'a=b=c'/);
  assert.deepEqual(parseLabelMap(' IR007 = inner ,OR007=outer'), {
    IR007: 'inner',
    OR007: 'outer',
  });
  await usageError(evalCli(plantA, '--source', plantA, '--target', plantB), /not both/);
  await usageError(evalCli('--source', plantA), /both --source .* and --target/);
  await usageError(evalCli(), /give a data folder/);
  await usageError(evalCli('--source', `${plantA}:`, '--target', plantB), /empty domain name/);
  assert.deepEqual(parseFolderArg('cwru:0,3', '/data/cwru', '--source'), {
    dir: '/data/cwru',
    domains: ['0', '3'],
  });
  assert.deepEqual(parseFolderArg('../pumps', '/data/cwru', '--target'), { dir: '../pumps' });
  assert.deepEqual(parseSeeds('3'), [1, 2, 3]);
  assert.deepEqual(parseSeeds('4-6'), [4, 5, 6]);
  assert.deepEqual(parseSeeds('4,5,6'), [4, 5, 6]);
  for (const bad of ['0', '6-4', '4,4', 'x', '1.5'])
    assert.throws(
      () => parseSeeds(bad),
      (e) => isFaultlineError(e) && e.code === 'FL_ERR_CLI_USAGE',
      bad,
    );
  assert.deepEqual(
    oracleOf([
      { step: 0, accuracy: 0.5 },
      { step: 50, accuracy: 0.9 },
      { step: 100, accuracy: 0.9 },
    ]),
    { step: 50, accuracy: 0.9 },
  );
});
