/**
 * Picks and starts the TensorFlow.js backend, once per process (or worker).
 *
 * Order when nothing is preferred:
 * 1. `node` — `@tensorflow/tfjs-node` (native libtensorflow, multi-threaded), an
 *    optional dependency: used when it is installed and loads.
 * 2. `wasm` — `@tensorflow/tfjs-backend-wasm` (XNNPACK, SIMD) plus Faultline's
 *    gradient kernels (./kernels), without which conv nets cannot train on wasm.
 * 3. `cpu`  — pure JS; correct but 10-50× slower; the last resort.
 * `prefer` (CLI `--backend`) forces one and fails with FL_ERR_BACKEND rather
 * than silently running something else. Every model file imports `tf` from
 * ./tf.ts, so the same code runs on all three.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { FaultlineError } from '../errors.js';
import { registerWasmGradKernels } from './kernels/index.js';
import * as tf from './tf.js';

export type BackendName = 'node' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['node', 'wasm', 'cpu'];

/** tfjs's own name for each backend (`tf.getBackend()`). */
const TF_BACKEND: Record<BackendName, string> = { node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

export interface InitBackendOptions {
  /** Backend to use; default: the first of node, wasm, cpu that works. */
  prefer?: BackendName;
  /** Where to report which backend runs and why; default: stderr. */
  log?: (message: string) => void;
}

export interface BackendInfo {
  /** The backend that runs. */
  name: BackendName;
  /** Why this one (and why not the faster ones). */
  reason: string;
  /** The tfjs namespace bound to it (same as `import * as tf from './tf.js'`). */
  tf: typeof tf;
  /** Kernels Faultline registered for this backend (wasm only). */
  kernels: string[];
}

let current: BackendInfo | undefined;
let pending: Promise<BackendInfo> | undefined;

const defaultLog = (message: string): void => {
  process.stderr.write(`faultline: model: ${message}\n`);
};

/**
 * Starts the backend and returns which one runs and why. Idempotent: later
 * calls return the first result, unless they `prefer` a different backend, in
 * which case tfjs switches to it (benchmarks and tests compare backends this way).
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const { prefer, log = defaultLog } = options;
  if (prefer !== undefined && !BACKEND_NAMES.includes(prefer)) {
    throw new FaultlineError(
      'FL_ERR_BACKEND',
      `unknown backend '${String(prefer)}': use one of ${BACKEND_NAMES.join(', ')}`,
    );
  }
  if (pending) await pending.catch(() => undefined);
  if (current && (prefer === undefined || prefer === current.name)) return current;
  pending = select(prefer, log);
  current = await pending;
  log(`backend ${current.name}: ${current.reason}`);
  return current;
}

/** The running backend, or undefined before {@link initBackend}. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

async function select(
  prefer: BackendName | undefined,
  log: (m: string) => void,
): Promise<BackendInfo> {
  const order: BackendName[] = prefer ? [prefer] : ['node', 'wasm', 'cpu'];
  const skipped: string[] = [];
  for (const name of order) {
    try {
      const kernels = await start(name);
      const why = prefer
        ? 'requested'
        : skipped.length
          ? `fallback (${skipped.join('; ')})`
          : 'fastest available';
      return { name, reason: why, tf, kernels };
    } catch (err) {
      const msg = `${name} unavailable: ${(err as Error).message}`;
      if (prefer)
        throw new FaultlineError('FL_ERR_BACKEND', `${msg}; choose another --backend`, {
          cause: err,
        });
      skipped.push(msg);
      if (name !== 'node') log(msg); // tfjs-node's absence is the normal case here
    }
  }
  throw new FaultlineError('FL_ERR_BACKEND', `no tfjs backend works: ${skipped.join('; ')}`);
}

/** Makes `name` the active tfjs backend; returns the kernels Faultline registered for it. */
async function start(name: BackendName): Promise<string[]> {
  if (name === 'node') await loadNode();
  if (name === 'wasm') await loadWasm();
  const ok = await tf.setBackend(TF_BACKEND[name]);
  if (!ok || tf.getBackend() !== TF_BACKEND[name]) throw new Error('tfjs could not initialise it');
  await tf.ready();
  // Register after initialisation: the stock kernels' setup has run, so we can
  // still call them (fallbacks) after replacing them.
  return name === 'wasm' ? registerWasmGradKernels() : [];
}

async function loadNode(): Promise<void> {
  if (tf.findBackend('tensorflow')) return;
  // A variable specifier: the package is optional and absent from type-checking.
  const specifier = '@tensorflow/tfjs-node';
  try {
    await import(specifier);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ERR_MODULE_NOT_FOUND'
        ? 'package @tensorflow/tfjs-node not installed'
        : (err as Error).message,
    );
  }
  // tfjs-node registers into the tfjs-core it resolves; if that is another copy
  // than ours, our `tf` would never see it.
  if (!tf.findBackend('tensorflow')) {
    throw new Error(
      '@tensorflow/tfjs-node loaded a different @tensorflow/tfjs-core than Faultline (two copies installed?)',
    );
  }
}

let wasmLoaded = false;

async function loadWasm(): Promise<void> {
  if (wasmLoaded) return;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // In Node, Emscripten reads the .wasm with fs from a path; point it at the
  // package's dist/ explicitly so bundling or a different cwd cannot break it.
  const require = createRequire(import.meta.url);
  const dist = path.join(
    path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')),
    'dist',
  );
  wasm.setWasmPaths(`${dist}${path.sep}`);
  wasmLoaded = true;
}
