/**
 * Runs one job of a worker module (each worker thread holds its own tfjs
 * backend) and resolves with the results it posts back. The module speaks a
 * three-message protocol: `{ log }` any number of times, then `{ results }`
 * or `{ error: { code?, message } }`.
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { FaultlineError, isFaultlineError } from '../errors.js';

/**
 * @param moduleUrl the worker module: its `.ts` file when running from source
 *   (a worker does not inherit tsx's loader, so it is bootstrapped through
 *   tsx's API), its `.js` file in a compiled build
 * @param what names the job in the error when the worker dies without answering
 */
export function runWorkerJob<T>(
  moduleUrl: URL,
  workerData: unknown,
  log: (m: string) => void,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = moduleUrl.pathname.endsWith('.ts')
      ? new Worker(
          `import('tsx/esm/api').then((api) => api.tsImport(${JSON.stringify(moduleUrl.href)}, ${JSON.stringify(moduleUrl.href)}));`,
          { eval: true, workerData },
        )
      : new Worker(moduleUrl, { workerData });
    let done = false;
    w.on(
      'message',
      (m: { log?: string; results?: T; error?: { code?: string; message: string } }) => {
        if (m.log) log(m.log);
        if (m.results) {
          done = true;
          resolve(m.results);
        }
        if (m.error) {
          done = true;
          reject(
            m.error.code
              ? new FaultlineError(m.error.code as 'FL_ERR_TRAIN', m.error.message)
              : new Error(m.error.message),
          );
        }
      },
    );
    w.on('error', reject);
    w.on('exit', (code) => {
      if (!done)
        reject(new FaultlineError('FL_ERR_TRAIN', `worker for ${what} exited with code ${code}`));
    });
  });
}

/**
 * The worker side of runWorkerJob: runs `job` on this thread's workerData and
 * speaks the protocol (`{ log }`…, then `{ results }` or `{ error }`). Does
 * nothing outside a worker thread.
 */
export async function serveWorkerJob<D, T>(
  job: (data: D, log: (m: string) => void) => Promise<T>,
): Promise<void> {
  const port = parentPort;
  if (!port) return;
  try {
    const results = await job(workerData as D, (m) => port.postMessage({ log: m }));
    port.postMessage({ results });
  } catch (err) {
    port.postMessage({
      error: {
        code: isFaultlineError(err) ? err.code : undefined,
        message: (err as Error).message,
      },
    });
  }
}
