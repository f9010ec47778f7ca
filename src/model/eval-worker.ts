/**
 * Worker thread of ./evaluate.ts: runs one (source domain, seed) unit with
 * its own tfjs backend and posts the results (or the error) back.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isFaultlineError } from '../errors.js';
import { runUnit } from './evaluate.js';

const port = parentPort;
if (port) {
  const { settings, unit } = workerData as {
    settings: Parameters<typeof runUnit>[0];
    unit: Parameters<typeof runUnit>[1];
  };
  try {
    const results = await runUnit(settings, unit, (m) => port.postMessage({ log: m }));
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
