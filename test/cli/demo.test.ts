import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..', '..');

test('faultline demo names the simulated defect and writes a PNG', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-demo-'));
  try {
    for (const [fault, line] of [
      ['inner', 'BPFI'],
      ['outer', 'BPFO'],
    ] as const) {
      const out = path.join(dir, `${fault}.png`);
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--fault', fault, '--out', out],
        { cwd: root },
      );
      assert.match(stdout, new RegExp(`→ ${line}\\n`), stdout);
      assert.match(stdout, /zone [ABCD]/);
      const png = await readFile(out);
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
