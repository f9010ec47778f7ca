#!/usr/bin/env node
// The `faultline` command. It runs the CLI built to plain JavaScript in dist/
// (`npm run build`, which `npm install` / `npm ci` run as `prepare`): no
// TypeScript loader in the process, which a daemon would carry (~40-50 MB)
// for as long as it runs.
//
// Without dist/, or with sources edited since it was built (a checkout in
// development), it runs src/ through tsx when tsx is installed, so the
// command never runs stale code; a stale dist/ without tsx runs with a
// warning. With neither, it says how to get a build, and exits 1.
import { existsSync, readdirSync, statSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const built = new URL('dist/cli/main.js', root);
const source = new URL('src/cli/main.ts', root);

/** Newest modification time (ms) of the .ts files under `dir`; 0 when there are none. */
function newestTs(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = new URL(e.name + (e.isDirectory() ? '/' : ''), dir);
    if (e.isDirectory()) newest = Math.max(newest, newestTs(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

const hasBuild = existsSync(built);
const hasSource = existsSync(source);
const stale = hasBuild && hasSource && newestTs(new URL('src/', root)) > statSync(built).mtimeMs;

/** tsx's loader API, or undefined when tsx is not installed. */
async function tsx() {
  try {
    return await import('tsx/esm/api');
  } catch {
    return undefined;
  }
}

if (hasBuild && !stale) {
  await import(built.href);
} else {
  const api = hasSource ? await tsx() : undefined;
  if (api) {
    api.register();
    await import(source.href);
  } else if (hasBuild) {
    process.stderr.write(
      'faultline: dist/ is older than src/ and tsx is not installed to run the sources: running dist/ (rebuild: npm run build)\n',
    );
    await import(built.href);
  } else {
    process.stderr.write(
      `faultline: no build in ${new URL('dist/', root).pathname}${hasSource ? ' and tsx is not installed to run the sources' : ''}: ` +
        'run `npm install` (it builds dist/), or `npm run build` where the dev dependencies are installed\n',
    );
    process.exitCode = 1;
  }
}
