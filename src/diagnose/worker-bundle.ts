/**
 * Starts a worker thread from a TypeScript module when Faultline runs from
 * source (through tsx), without tsx in the worker.
 *
 * Why: a worker that loads its module through tsx's loader pays for the
 * loader (~10 MB) and for tsx's handling of every file it imports — tfjs
 * alone grows a worker by ~95 MB through tsx against ~55 MB in plain Node.
 * With two inference workers that was ~130 MB of the gateway's resident
 * memory. So the module is bundled once per process with esbuild (a
 * devDependency; our own sources only, packages stay external and load from
 * node_modules as usual) into node_modules/.cache/faultline, named by the
 * hash of its content, and the worker runs that plain JS file.
 *
 * When esbuild or the cache folder is unavailable (a production install
 * without devDependencies, a read-only tree), the worker falls back to
 * tsx's loader: slower to start, heavier, same behaviour.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

const bundles = new Map<string, Promise<string | null>>();

/** Bundles `entry` (a .ts file URL) to plain ESM; resolves with its path, or null if it cannot. */
function bundle(entry: URL): Promise<string | null> {
  let p = bundles.get(entry.href);
  if (!p) {
    p = build(entry).catch(() => null);
    bundles.set(entry.href, p);
  }
  return p;
}

async function build(entry: URL): Promise<string | null> {
  const file = fileURLToPath(entry);
  // The cache must sit under the project's node_modules so the bundle's bare
  // imports (@tensorflow/…, zod) resolve exactly as the source's do.
  let root = path.dirname(file);
  while (!existsSync(path.join(root, 'node_modules'))) {
    const up = path.dirname(root);
    if (up === root) return null;
    root = up;
  }
  // A variable specifier: esbuild is a devDependency, absent from type-checking in production.
  const specifier = 'esbuild';
  const esbuild = (await import(specifier)) as {
    build(o: Record<string, unknown>): Promise<{ outputFiles: { text: string }[] }>;
  };
  const out = await esbuild.build({
    entryPoints: [file],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const text = out.outputFiles[0]?.text;
  if (!text) return null;
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const dir = path.join(root, 'node_modules', '.cache', 'faultline');
  const target = path.join(dir, `${path.basename(file, '.ts')}-${hash}.mjs`);
  if (!existsSync(target)) {
    await mkdir(dir, { recursive: true });
    // Write then rename: a concurrent process never runs a half-written file.
    const tmp = `${target}.${process.pid}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, target);
  }
  return target;
}

/**
 * A Worker running `moduleUrl`: the .js file itself when running from built
 * JS, else the esbuild bundle of the .ts file (see above), else the .ts file
 * through tsx's loader.
 */
export async function startModuleWorker(
  moduleUrl: URL,
  options: Pick<WorkerOptions, 'resourceLimits'> = {},
): Promise<Worker> {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, options);
  const built = await bundle(moduleUrl);
  // execArgv: [] — do not inherit --import tsx from the parent: the bundle needs no loader.
  if (built) return new Worker(built, { ...options, execArgv: [] });
  return new Worker(
    `import('tsx/esm/api').then((api) => api.tsImport(${JSON.stringify(moduleUrl.href)}, ${JSON.stringify(moduleUrl.href)}));`,
    { ...options, eval: true },
  );
}
