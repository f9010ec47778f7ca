/**
 * scripts/firmware-test.js, npm test's firmware step: where make or the C
 * compiler is missing it skips with a message (exit 0), except under CI,
 * where it fails; where they are found it runs `make test` (that case is
 * npm test's own run).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../support/gateway-fixture.js';

const run = promisify(execFile);
const script = path.join(repoRoot, 'scripts', 'firmware-test.js');

async function withoutTools(
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // an empty PATH: neither make nor cc can be found
    const r = await run(process.execPath, [script], {
      env: { PATH: '', CC: '', ...env },
      timeout: 60_000,
    });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('make and cc missing: skipped with a message naming them', async () => {
  const r = await withoutTools({});
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^firmware-bridge tests: make and cc not found on PATH: skipped/);
});

test('make and cc missing under CI: a failure, not a skip', async () => {
  const r = await withoutTools({ CI: 'true' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /make and cc not found on PATH; CI needs them/);
});

test('a missing compiler named by CC is the one reported', async () => {
  const r = await withoutTools({ CC: 'my-cross-gcc -m32' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /make and my-cross-gcc not found/);
});
