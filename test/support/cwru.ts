/**
 * Locates the CWRU bearing data for tests. The data is never copied into the
 * repo: it lives at $FAULTLINE_CWRU_DIR or, by default, ../shared/data/cwru
 * beside the repository.
 *
 * Tests that need it call `requireCwru(t)`: when the data is absent the test
 * is skipped with a message saying where it looked — except under CI=true,
 * where a missing data set must fail loudly rather than silently skip.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the CWRU folder is expected (whether or not it exists). */
export function cwruExpectedDir(): string {
  return process.env.FAULTLINE_CWRU_DIR ?? path.resolve(repoRoot, '..', 'shared', 'data', 'cwru');
}

/** The CWRU folder, or undefined when it (or its 105.mat) is not there. */
export function cwruDir(): string | undefined {
  const dir = cwruExpectedDir();
  return existsSync(path.join(dir, '105.mat')) ? dir : undefined;
}

/**
 * Returns the CWRU folder for test `t`. When absent: fails under CI=true,
 * otherwise marks `t` skipped and returns undefined — so write
 * `const dir = requireCwru(t); if (!dir) return;`.
 */
export function requireCwru(t: TestContext): string | undefined {
  const dir = cwruDir();
  if (dir) return dir;
  const msg = `CWRU data not found at ${cwruExpectedDir()}; set FAULTLINE_CWRU_DIR`;
  if (process.env.CI === 'true') assert.fail(msg);
  t.skip(msg);
  return undefined;
}
