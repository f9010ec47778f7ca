/**
 * Builds the gateway and CLI to plain JavaScript: `src/**\/*.ts` →
 * `dist/**\/*.js`, one file per module (esbuild transpiles, no bundling), plus
 * the JSON files next to the sources (the alert schema), plus tfjs-core's
 * gradient registrations bundled into dist/model/ (the one bundle: see
 * src/model/tf-registrations.ts). `npm start` runs the
 * gateway from `dist/`.
 *
 * Why: run through tsx, the gateway's main thread carries tsx's loader and
 * its transformed module cache (~40–50 MB resident) for the life of the
 * daemon, and starts slower. `dist/` keeps `src/`'s folder depth, so paths
 * the code derives from its own location (the repository root, worker
 * modules next to their pool) resolve the same from either tree.
 *
 * Run: `npm run build` (or `tsx scripts/build.ts`). Built files are not
 * committed (.gitignore: dist/).
 */
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { buildRegistrations, registrationsFileName } from '../src/model/tf-registrations.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SRC = path.join(root, 'src');
export const DIST = path.join(root, 'dist');

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

/**
 * The folder a build for `who` goes to: a sibling of dist/ at the repository
 * root (the built code finds the root as two levels up, as from dist/), so
 * a test or a benchmark never rebuilds the dist/ another one is running.
 */
export function privateDist(who: string): string {
  return path.join(root, `.dist-${who}`);
}

/** Builds `outDir` (default `dist/`) afresh; resolves with the number of modules written. */
export async function buildDist(outDir: string = DIST): Promise<number> {
  const files = await filesUnder(SRC);
  const ts = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
  await rm(outDir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: ts,
    outdir: outDir,
    outbase: SRC,
    bundle: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  for (const f of files.filter((f) => f.endsWith('.json'))) {
    const to = path.join(outDir, path.relative(SRC, f));
    await mkdir(path.dirname(to), { recursive: true });
    await copyFile(f, to);
  }
  // tfjs-core's gradients as one CommonJS file beside the module that loads it,
  // so a deployed dist/ runs without a bundler (src/model/tf-registrations.ts)
  buildRegistrations(path.join(outDir, 'model', registrationsFileName()));
  return ts.length;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  const n = await buildDist();
  console.log(`dist/: ${n} modules in ${Math.round(performance.now() - t0)} ms`);
}
