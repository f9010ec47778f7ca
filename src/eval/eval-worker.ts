/**
 * Worker thread of ./evaluate.ts: runs one (source domain, seed) unit with
 * its own tfjs backend and posts the results (or the error) back
 * (./worker-thread.ts).
 */
import { runUnit } from './evaluate.js';
import { serveWorkerJob } from './worker-thread.js';

await serveWorkerJob(
  (d: { settings: Parameters<typeof runUnit>[0]; unit: Parameters<typeof runUnit>[1] }, log) =>
    runUnit(d.settings, d.unit, log),
);
