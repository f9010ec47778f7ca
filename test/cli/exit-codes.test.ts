/**
 * The CLI's exit status (src/cli/exit-codes.ts), run as a user runs it (a
 * child process): 0 done, 1 a runtime failure, 2 a usage error, whether
 * commander refuses the arguments or a stage below the CLI refuses a value
 * given on the command line; `--version` is package.json's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { EXIT_STATUS_OF_CODE } from '../../src/cli/exit-codes.js';
import { ERROR_CODES } from '../../src/errors.js';
import { repoRoot } from '../support/gateway-fixture.js';
import { freePort } from '../support/ports.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `faultline <args>` to its end (SIGKILL after 120 s: a busy machine compiles slowly). */
async function faultline(...args: string[]): Promise<Run> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), ...args],
    { cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

test('every error code has an exit status, 1 or 2', () => {
  assert.deepEqual(Object.keys(EXIT_STATUS_OF_CODE).sort(), Object.keys(ERROR_CODES).sort());
  for (const [code, status] of Object.entries(EXIT_STATUS_OF_CODE))
    assert.ok(status === 1 || status === 2, code);
});

test('--version prints the version of package.json', async () => {
  const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as {
    version: string;
  };
  const r = await faultline('--version');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${pkg.version}\n`);
});

test('help asked for exits 0; no command, an unknown command or option, a refused choice exit 2', async () => {
  const help = await faultline('--help');
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /Usage: faultline/);
  for (const args of [
    [],
    ['frobnicate'],
    ['gateway', '--bogus'],
    ['gateway', '--log-level', 'loud'],
  ]) {
    const r = await faultline(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  const level = await faultline('gateway', '--log-level', 'loud');
  assert.match(level.stderr, /--log-level.*loud.*Allowed choices are fatal, error, warn, info/s);
});

test('a usage error exits 2 with its code, from the CLI or from the stage that refused the value', async () => {
  const port = await faultline('gateway', '--check', '--port', '70000');
  assert.equal(port.code, 2, port.stderr);
  assert.match(port.stderr, /^faultline: FL_ERR_CLI_USAGE: --port must be a port number/m);
  // refused by src/sim/fault-injection.ts, before anything is opened
  const inject = await faultline(
    'simulate-sensor',
    '--mqtt',
    'mqtt://127.0.0.1:1',
    '--inject',
    'bitflip=2',
  );
  assert.equal(inject.code, 2, inject.stderr);
  assert.match(inject.stderr, /^faultline: FL_ERR_SIM_LINK_FAULT: fault rate bitflip=2/m);
});

test('a runtime failure exits 1 with its code: no gateway where --url points', async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const r = await faultline('gateway', 'status', '--url', url, '--token', 't');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^faultline: FL_ERR_CLI_GATEWAY: cannot reach the gateway at/m);
});
