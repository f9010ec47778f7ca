/**
 * Worker thread of ./adaptation.ts: rebuilds the labelled source recordings
 * (simulator or a data folder), wraps the live target signal as one
 * unlabelled recording, runs `adaptModel` with its own tfjs backend, and posts
 * progress and the outcome back. Diagnosis goes on in the main thread meanwhile.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isFaultlineError } from '../errors.js';
import { loadLabelledData } from '../model/domains.js';
import { type AdaptStrategy, adaptModel } from '../model/pipeline.js';
import type { Recording } from '../types.js';
import { parseSimDatasetLabel, simRecordings } from './sim-model.js';

/** What the main thread sends. */
export interface AdaptWorkerInput {
  sourceDir: string;
  outDir: string;
  strategy: AdaptStrategy;
  steps: number;
  /** Data-set label of the source model (a simulator label is regenerated). */
  sourceDataset: string;
  /** Labelled source data folder when the model was not trained on the simulator. */
  sourceDataDir?: string;
  machine: string;
  /** The collected live signal of the machine's sensor, g. */
  target: Float32Array;
  sampleRate: number;
  /**
   * A class of the model to put on the live recording: adaptModel only keeps
   * target windows whose label is a model class, then discards the labels
   * (dann/mmd never see them).
   */
  placeholderLabel: string;
  command: string;
}

/** What the worker posts. */
export type AdaptWorkerMessage =
  | { kind: 'progress'; step: number; steps: number }
  | { kind: 'done'; outcome: Awaited<ReturnType<typeof adaptModel>> }
  | { kind: 'error'; code?: string; message: string };

const port = parentPort;
if (port) {
  const o = workerData as AdaptWorkerInput;
  try {
    const sim = parseSimDatasetLabel(o.sourceDataset);
    let source: Recording[];
    let label = o.sourceDataset;
    if (sim) source = simRecordings(sim);
    else if (o.sourceDataDir) {
      source = (await loadLabelledData(o.sourceDataDir)).recordings;
      label = o.sourceDataDir;
    } else {
      throw Object.assign(
        new Error(
          `the model was trained on ${o.sourceDataset}, which the gateway cannot regenerate; set adaptation.sourceData to that labelled data folder`,
        ),
        { code: 'FL_ERR_CONFIG' },
      );
    }
    const targetDomain = `live:${o.machine}`;
    const target: Recording = {
      id: `${targetDomain}:collected`,
      label: o.placeholderLabel,
      domain: targetDomain,
      sampleRate: o.sampleRate,
      samples: o.target,
      meta: { live: true },
    };
    const outcome = await adaptModel({
      sourceDir: o.sourceDir,
      outDir: o.outDir,
      strategy: o.strategy,
      recordings: [...source, target],
      targetDomains: [targetDomain],
      steps: o.steps,
      command: o.command,
      datasetLabel: label,
      onStep: (step, steps) => {
        if (step % 5 === 0 || step === steps)
          port.postMessage({ kind: 'progress', step, steps } satisfies AdaptWorkerMessage);
      },
    });
    port.postMessage({ kind: 'done', outcome } satisfies AdaptWorkerMessage);
  } catch (err) {
    const code = isFaultlineError(err) ? err.code : (err as { code?: string }).code;
    port.postMessage({
      kind: 'error',
      code,
      message: (err as Error).message,
    } satisfies AdaptWorkerMessage);
  }
}
