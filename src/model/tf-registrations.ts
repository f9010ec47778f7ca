/**
 * Registers tfjs-core's gradients and chained ops (`x.add(y)`), which
 * `@tensorflow/tfjs-core` leaves out of its Node entry point.
 *
 * Why this file exists: Faultline depends on tfjs-core, tfjs-layers and the
 * cpu and wasm backends, not on the `@tensorflow/tfjs` umbrella, which also
 * brings webgl, the converter and tfjs-data (about 190 MB of a production
 * install that the gateway never loads). The umbrella's one other job is two
 * side-effect imports of tfjs-core, and tfjs-core ships them only as ES
 * modules with extensionless imports inside a package Node reads as CommonJS,
 * so Node cannot load them as they are. The umbrella's own build inlines them
 * into its CommonJS bundle; we do the same with esbuild, once per tfjs-core
 * version: the result registers into the same global engine and registries
 * (tfjs keeps those on the global object precisely so that bundles can share
 * them), exactly as the umbrella's copy does.
 *
 * Where the bundle comes from, in order:
 * 1. next to this module: `npm run build` writes it into dist/model/, so a
 *    deployed dist/ needs no bundler;
 * 2. `node_modules/.cache/faultline/`, where a checkout builds it on first use
 *    with esbuild (a devDependency), keyed by the tfjs-core version, so an
 *    upgrade of tfjs-core rebuilds it.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaultlineError } from '../errors.js';

const require = createRequire(import.meta.url);

/** The side-effect modules of tfjs-core that the umbrella package imports. */
const ENTRY = [
  "import '@tensorflow/tfjs-core/dist/register_all_gradients';",
  "import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';",
].join('\n');

/** The installed tfjs-core's folder and version. */
function tfjsCore(): { dir: string; version: string } {
  const pkg = require.resolve('@tensorflow/tfjs-core/package.json');
  return { dir: path.dirname(pkg), version: (require(pkg) as { version: string }).version };
}

/** The bundle's file name for the installed tfjs-core. */
export function registrationsFileName(): string {
  return `tfjs-core-${tfjsCore().version}-registrations.cjs`;
}

interface EsbuildSync {
  buildSync(o: Record<string, unknown>): unknown;
}

/**
 * Writes the registrations bundle to `outFile` (write then rename, so a
 * concurrent process never loads half a file). Throws when esbuild is not
 * installed.
 */
export function buildRegistrations(outFile: string): void {
  // A variable specifier: esbuild is a devDependency, absent from type-checking in production.
  const specifier = 'esbuild';
  const esbuild = require(specifier) as EsbuildSync;
  mkdirSync(path.dirname(outFile), { recursive: true });
  const tmp = `${outFile}.${process.pid}.${Date.now()}.tmp`;
  esbuild.buildSync({
    stdin: { contents: ENTRY, resolveDir: tfjsCore().dir, loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: tmp,
    legalComments: 'none',
    logLevel: 'silent',
  });
  renameSync(tmp, outFile);
}

function locate(): string {
  const name = registrationsFileName();
  const beside = path.join(path.dirname(fileURLToPath(import.meta.url)), name);
  if (existsSync(beside)) return beside;
  // tfjs-core's own node_modules folder: right for a checkout, a hoisted
  // install, and a worker bundled into node_modules/.cache.
  const nodeModules = path.resolve(tfjsCore().dir, '..', '..');
  const cached = path.join(nodeModules, '.cache', 'faultline', name);
  if (existsSync(cached)) return cached;
  try {
    buildRegistrations(cached);
  } catch (err) {
    throw new FaultlineError(
      'FL_ERR_BACKEND',
      `tfjs gradient registrations (${name}) are not built and cannot be built here: ${(err as Error).message}. ` +
        'Build dist/ where the dev dependencies are installed (npm run build) and deploy it whole',
      { cause: err },
    );
  }
  return cached;
}

require(locate());
