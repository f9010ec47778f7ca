import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CWRU_FILES } from '../../src/data/cwru.js';
import { requireCwru } from '../support/cwru.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

/** Runs the real CLI; resolves with exit code, stdout and stderr. */
async function faultline(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      {
        cwd: repoRoot,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('dataset inspect --json lists all 37 CWRU files with class, load, rates and rpm, in under 10 s', async (t) => {
  const dir = requireCwru(t);
  if (!dir) return;
  const t0 = performance.now();
  const { code, stdout, stderr } = await faultline('dataset', 'inspect', dir, '--json');
  const s = (performance.now() - t0) / 1000;
  assert.equal(code, 0, stderr);
  assert.ok(s < 10, `took ${s.toFixed(1)} s`);
  const entries = JSON.parse(stdout) as Record<string, unknown>[];
  assert.equal(entries.length, 37);
  for (const e of CWRU_FILES) {
    const row = entries.find((x) => x.file === `${e.number}.mat`);
    assert.ok(row, `${e.number}.mat missing`);
    assert.deepEqual(Object.keys(row).sort(), [
      'bearing',
      'channel',
      'domain',
      'durationS',
      'file',
      'label',
      'originalSampleRate',
      'rpm',
      'sampleRate',
      'samples',
    ]);
    assert.equal(row.label, e.label);
    assert.equal(row.domain, `load${e.loadHp}`);
    // The drive-end channel monitors the SKF 6205-2RS JEM.
    assert.deepEqual(row.bearing, {
      designation: '6205',
      balls: 9,
      ballDiameter: 0.3126,
      pitchDiameter: 1.537,
      contactAngleDeg: 0,
    });
    assert.equal(row.sampleRate, 12000);
    assert.equal(row.originalSampleRate, e.sampleRate);
    assert.equal(typeof row.rpm, 'number');
    assert.ok(Math.abs((row.durationS as number) - (row.samples as number) / 12000) < 1e-3);
  }
  const n97 = entries.find((x) => x.file === '97.mat');
  assert.deepEqual([n97?.samples, n97?.rpm, n97?.originalSampleRate], [60985, 1796, 48000]);
});

test('dataset inspect prints a table for a bring-your-own folder; errors exit 2 with the code', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-inspect-'));
  try {
    await writeFile(
      path.join(dir, 'run1.csv'),
      Array.from({ length: 500 }, (_, i) => String(Math.sin(i))).join('\n'),
    );
    await writeFile(
      path.join(dir, 'manifest.csv'),
      'file,label,domain,sample_rate,channel,rpm\nrun1.csv,normal,pumpA,1000,,1480\n',
    );
    const ok = await faultline('dataset', 'inspect', dir);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^file\s+label\s+domain\s+rate Hz/m);
    assert.match(ok.stdout, /run1\.csv\s+normal\s+pumpA\s+1000\s+1000\s+500\s+0\.50\s+1480\s+0/);
    assert.match(ok.stdout, /1 recordings \(byo\)/);

    await writeFile(
      path.join(dir, 'manifest.csv'),
      'file,label,domain,sample_rate,channel\nrun2.csv,normal,pumpA,1000,\n',
    );
    const bad = await faultline('dataset', 'inspect', dir, '--json');
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^faultline: FL_ERR_DATASET_MANIFEST: .*\n\s+line 2: file 'run2\.csv' not found/m,
    );

    const usage = await faultline('dataset', 'inspect', dir, '--target-rate', 'fast');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /FL_ERR_CLI_USAGE/);

    const help = await faultline('dataset', 'inspect', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--json/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
