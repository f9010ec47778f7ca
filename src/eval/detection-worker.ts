/**
 * Worker thread of ./detection.ts: runs one detection job with its own tfjs
 * backend and posts the entries (or the error) back (./worker-thread.ts).
 */
import { runDetectionJob } from './detection.js';
import { serveWorkerJob } from './worker-thread.js';

await serveWorkerJob(
  (
    d: {
      settings: Parameters<typeof runDetectionJob>[0];
      job: Parameters<typeof runDetectionJob>[1];
    },
    log,
  ) => runDetectionJob(d.settings, d.job, log),
);
