import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { registerSimulateCommand } from '../../src/cli/commands/simulate.js';
import { parseNpy } from '../../src/data/npy.js';
import { type ErrorCode, isFaultlineError } from '../../src/errors.js';
import { generateBearingSignal } from '../../src/sim/generator.js';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const main = path.join(repo, 'src', 'cli', 'main.ts');
const tmp = await mkdtemp(path.join(os.tmpdir(), 'faultline-sim-cli-'));
after(() => rm(tmp, { recursive: true, force: true }));

/** Runs the real CLI; resolves with {code, stdout, stderr} whatever the exit code. */
async function faultline(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', main, ...args], {
      cwd: repo,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('simulate --out writes the signal and prints the defect frequencies and RMS', async () => {
  const out = path.join(tmp, 'outer.npy');
  const r = await faultline(
    'simulate',
    '--fault',
    'outer',
    '--rpm',
    '1797',
    '--duration',
    '0.5',
    '--seed',
    '4',
    '--out',
    out,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /6000 samples at 12000 Hz/);
  assert.match(r.stdout, /BPFO 107\.36 Hz/);
  assert.match(r.stdout, /BPFI 162\.19 Hz/);
  assert.match(r.stdout, /BSF 70\.58 Hz/);
  assert.match(r.stdout, /FTF 11\.93 Hz/);
  const samples = parseNpy(new Uint8Array(await readFile(out))).data;
  const expected = generateBearingSignal({ fault: 'outer', rpm: 1797, seed: 4 }, 6000);
  assert.deepEqual(samples, expected);
  const rms = Math.sqrt(expected.reduce((s, v) => s + v * v, 0) / expected.length);
  assert.match(r.stdout, new RegExp(`RMS ${rms.toFixed(4)} g`));
});

test('simulate --dataset writes a manifest and one file per recording', async () => {
  const dir = path.join(tmp, 'ds');
  const r = await faultline(
    'simulate',
    '--dataset',
    dir,
    '--conditions',
    'source-1797rpm,target-600rpm',
    '--recordings',
    '1',
    '--duration',
    '0.1',
    '--format',
    'csv',
  );
  assert.equal(r.code, 0, r.stderr);
  const manifest = (await readFile(path.join(dir, 'manifest.csv'), 'utf8')).trimEnd().split('\n');
  assert.equal(manifest.length, 1 + 2 * 4);
  assert.deepEqual((await readdir(dir)).sort(), [
    'manifest.csv',
    'source-1797rpm',
    'target-600rpm',
  ]);
});

test('a bad argument exits 2 with its stable code on stderr', async () => {
  const r = await faultline('simulate', '--fault', 'cage', '--out', path.join(tmp, 'x.wav'));
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /^faultline: FL_ERR_CLI_USAGE: --fault "cage" must be one of none, inner, outer, ball/,
  );
});

/** Parses `args` with the simulate command alone, in-process (no output is written on these paths). */
async function parse(...args: string[]): Promise<void> {
  const program = new Command('faultline').exitOverride();
  registerSimulateCommand(program);
  await program.parseAsync(['node', 'faultline', 'simulate', ...args]);
}

test('bad arguments are rejected with FL_ERR_CLI_USAGE or FL_ERR_SIM_PARAMS', async () => {
  const x = path.join(tmp, 'x.wav');
  const cases: [string[], ErrorCode, RegExp][] = [
    [['--rpm', '-5', '--out', x], 'FL_ERR_CLI_USAGE', /--rpm "-5"/],
    [['--rpm', 'NaN', '--out', x], 'FL_ERR_CLI_USAGE', /--rpm "NaN"/],
    [['--rate', '0', '--out', x], 'FL_ERR_CLI_USAGE', /--rate "0"/],
    [['--severity', '-1', '--out', x], 'FL_ERR_CLI_USAGE', /--severity/],
    [['--out', path.join(tmp, 'x.txt')], 'FL_ERR_CLI_USAGE', /must end in \.wav, \.csv or \.npy/],
    [[], 'FL_ERR_CLI_USAGE', /exactly one of --out/],
    [['--out', x, '--dataset', tmp], 'FL_ERR_CLI_USAGE', /exactly one of --out/],
    [['--dataset', path.join(tmp, 'd1'), '--format', 'mat'], 'FL_ERR_CLI_USAGE', /--format "mat"/],
    [
      ['--condition', 'nope', '--out', x],
      'FL_ERR_SIM_PARAMS',
      /unknown operating condition "nope"/,
    ],
    [
      ['--dataset', path.join(tmp, 'd2'), '--conditions', 'source-1797rpm,nope'],
      'FL_ERR_SIM_PARAMS',
      /"nope"/,
    ],
    [['--rate', '500', '--out', x], 'FL_ERR_SIM_PARAMS', /sampleRate/],
    [
      ['--out', path.join(tmp, 'missing-dir', 'x.wav'), '--duration', '0.01'],
      'FL_ERR_CLI_USAGE',
      /cannot write/,
    ],
  ];
  for (const [args, code, message] of cases) {
    await assert.rejects(
      parse(...args),
      (err) => isFaultlineError(err, code) && message.test(err.message),
      args.join(' '),
    );
  }
});
