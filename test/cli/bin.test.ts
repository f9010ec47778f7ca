/**
 * bin/faultline.js chooses what to run: dist/ when it is built and current,
 * src/ through tsx when dist/ is absent or older than the sources (and tsx
 * is installed), a stale dist/ with a warning without tsx, and a clear
 * message (exit 1) with neither. Each case is a small copy of the layout
 * (bin/, dist/cli/main.js, src/cli/main.ts, node_modules) in a temporary
 * folder, with entry points that only say which one ran; the real built CLI
 * runs in ./build.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../support/gateway-fixture.js';

const run = promisify(execFile);
let tmp: string;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'fl-bin-'));
});

after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

interface Layout {
  dist?: 'current' | 'stale';
  src?: boolean;
  tsx?: boolean;
}

/** A package folder with the real bin/faultline.js and stand-in entry points. */
async function layout(name: string, o: Layout): Promise<string> {
  const dir = path.join(tmp, name);
  await mkdir(path.join(dir, 'bin'), { recursive: true });
  await copyFile(path.join(repoRoot, 'bin', 'faultline.js'), path.join(dir, 'bin', 'faultline.js'));
  await writeFile(path.join(dir, 'package.json'), '{ "type": "module" }\n');
  const old = new Date(Date.now() - 3_600_000);
  const now = new Date();
  if (o.src) {
    await mkdir(path.join(dir, 'src', 'cli'), { recursive: true });
    const main = path.join(dir, 'src', 'cli', 'main.ts');
    // a type annotation: only a TypeScript loader runs it
    await writeFile(main, "const from: string = 'src';\nconsole.log('ran', from);\n");
    const t = o.dist === 'stale' ? now : old;
    await utimes(main, t, t);
  }
  if (o.dist) {
    await mkdir(path.join(dir, 'dist', 'cli'), { recursive: true });
    const main = path.join(dir, 'dist', 'cli', 'main.js');
    await writeFile(main, "console.log('ran dist');\n");
    const t = o.dist === 'stale' ? old : now;
    await utimes(main, t, t);
  }
  if (o.tsx) await symlink(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

async function faultline(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [path.join(dir, 'bin', 'faultline.js')], {
      env: { ...process.env, NODE_OPTIONS: '' },
      timeout: 120_000,
    });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test('a current dist/ runs, with or without sources and tsx', async () => {
  for (const [name, o] of [
    ['dist-only', { dist: 'current' }],
    ['dist-and-src', { dist: 'current', src: true, tsx: true }],
  ] as const) {
    const r = await faultline(await layout(name, o));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ran dist\n', name);
    assert.equal(r.stderr, '', name);
  }
});

test('no dist/, or sources newer than it: src/ through tsx', async () => {
  for (const [name, o] of [
    ['src-only', { src: true, tsx: true }],
    ['stale-dist', { dist: 'stale', src: true, tsx: true }],
  ] as const) {
    const r = await faultline(await layout(name, o));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ran src\n', name);
  }
});

test('a stale dist/ without tsx runs with a warning', async () => {
  const r = await faultline(await layout('stale-no-tsx', { dist: 'stale', src: true }));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'ran dist\n');
  assert.match(r.stderr, /dist\/ is older than src\/ and tsx is not installed/);
});

test('neither dist/ nor tsx: a message naming the way out, exit 1', async () => {
  const r = await faultline(await layout('nothing', { src: true }));
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^faultline: no build in .*dist\/ and tsx is not installed.*npm install/);
});
