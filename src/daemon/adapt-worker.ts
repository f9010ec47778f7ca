/**
 * Worker thread of ./adaptation.ts: rebuilds the labelled source recordings
 * (simulator or a data folder), wraps the live target signal as one
 * unlabelled recording, runs `adaptModel` with its own tfjs backend, and posts
 * progress and the outcome back. Diagnosis goes on in the main thread meanwhile.
 * With `verdicts` it reads the machine's verdict windows from disk here (not
 * sent from the main thread, which never holds them) and runs
 * `learnFromVerdicts` instead, the live signal as its unlabelled stream.
 */

import { parentPort, workerData } from 'node:worker_threads';
import type { AdaptStrategy, BearingGeometry } from '../contract/machine.js';
import { ratesMatch, resample } from '../data/resample.js';
import { isFaultlineError } from '../errors.js';
import type { Checkpoint } from '../model/adapt/selection.js';
import { learnFromVerdicts } from '../model/adapt/verdict-learn.js';
import { readModelMetadata } from '../model/artifact.js';
import { loadLabelledData } from '../model/domains.js';
import { adaptModel } from '../model/pipeline.js';
import { parseSimDatasetLabel, simRecordings } from '../sim/sim-model.js';
import type { Recording } from '../types.js';
import { readMachineVerdictWindows } from './verdict-files.js';

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
  /** Shaft speed reported by the frames during collection, rpm (undefined: estimated per window). */
  rpm?: number;
  /** The machine's configured bearing (a model reading fault orders needs it; else its own). */
  bearing?: BearingGeometry;
  command: string;
  /**
   * Learn from the machine's verdict windows in `dir` (`<stateDir>/verdicts`)
   * with finetune or features, the collected signal as its unlabelled stream.
   */
  verdicts?: { dir: string; minPerClass: number };
}

/** What a learning run adds to the outcome: the held-out windows' accuracy, the windows trained on. */
export interface VerdictOutcome {
  heldOut: { windows: number; before: number; after: number };
  trained: Record<string, number>;
}

/** Loss of one alignment step as the model code may report it (a number is the total loss). */
export type StepLoss = number | { loss?: number; classLoss?: number; domainLoss?: number };

/** What the worker posts. */
export type AdaptWorkerMessage =
  | {
      kind: 'progress';
      step: number;
      steps: number;
      /** Mean losses over the steps since the previous progress message (when reported). */
      loss?: number;
      classLoss?: number;
      domainLoss?: number;
    }
  | { kind: 'checkpoint'; checkpoint: Checkpoint }
  | {
      kind: 'done';
      outcome: Awaited<ReturnType<typeof adaptModel>> & { verdicts?: VerdictOutcome };
    }
  | { kind: 'error'; code?: string; message: string };

const port = parentPort;
if (port) {
  const o = workerData as AdaptWorkerInput;
  try {
    const sim = parseSimDatasetLabel(o.sourceDataset);
    let source: Recording[];
    let label = o.sourceDataset;
    // Everything at the model's analysis rate: the source folder and the live
    // signal of a sensor that may stream at another rate (26,667 Hz node).
    const modelRate = (await readModelMetadata(o.sourceDir)).sampleRate;
    if (sim) source = simRecordings(sim);
    else if (o.sourceDataDir) {
      source = (await loadLabelledData(o.sourceDataDir, { targetRate: modelRate })).recordings;
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
      // Unlabelled: dann/mmd never use target labels, adaptModel takes an empty one.
      label: '',
      domain: targetDomain,
      sampleRate: ratesMatch(o.sampleRate, modelRate) ? o.sampleRate : modelRate,
      samples: ratesMatch(o.sampleRate, modelRate)
        ? o.target
        : resample(o.target, o.sampleRate, modelRate),
      rpm: o.rpm,
      ...(o.bearing ? { bearing: o.bearing } : {}),
      meta: { live: true, collectedSampleRate: o.sampleRate },
    };
    if (o.verdicts) {
      if (o.strategy !== 'finetune' && o.strategy !== 'features')
        throw new Error(`learning from verdicts takes finetune or features, not ${o.strategy}`);
      const { windows, problems } = await readMachineVerdictWindows(o.verdicts.dir, o.machine);
      for (const p of problems) console.warn(`faultline adapt: verdict skipped: ${p}`);
      const r = await learnFromVerdicts({
        sourceDir: o.sourceDir,
        outDir: o.outDir,
        strategy: o.strategy,
        source,
        windows,
        minPerClass: o.verdicts.minPerClass,
        live: { samples: target.samples, ...(o.rpm !== undefined ? { rpm: o.rpm } : {}) },
        ...(o.bearing ? { bearing: o.bearing } : {}),
        command: o.command,
        datasetLabel: label,
        onStep: (step, steps) =>
          port.postMessage({ kind: 'progress', step, steps } satisfies AdaptWorkerMessage),
      });
      port.postMessage({
        kind: 'done',
        outcome: {
          meta: r.meta,
          guards: r.guards,
          promoted: r.promoted,
          verdicts: { heldOut: r.heldOut, trained: r.trained },
        },
      } satisfies AdaptWorkerMessage);
    } else await adaptLabelFree(port, o, source, target, label);
  } catch (err) {
    const code = isFaultlineError(err) ? err.code : (err as { code?: string }).code;
    port.postMessage({
      kind: 'error',
      code,
      message: (err as Error).message,
    } satisfies AdaptWorkerMessage);
  }
}

/** dann or mmd on the collected signal against the source data (the on-the-spot adaptation). */
async function adaptLabelFree(
  port: NonNullable<typeof parentPort>,
  o: AdaptWorkerInput,
  source: Recording[],
  target: Recording,
  label: string,
): Promise<void> {
  const targetDomain = target.domain;
  // Losses are averaged over the steps between two progress messages.
  const sums = { loss: 0, classLoss: 0, domainLoss: 0 };
  const counts = { loss: 0, classLoss: 0, domainLoss: 0 };
  const note = (info: StepLoss | undefined) => {
    const v = typeof info === 'number' ? { loss: info } : (info ?? {});
    for (const k of ['loss', 'classLoss', 'domainLoss'] as const) {
      const x = v[k];
      if (typeof x === 'number' && Number.isFinite(x)) {
        sums[k] += x;
        counts[k]++;
      }
    }
  };
  const means = () => {
    const out: { loss?: number; classLoss?: number; domainLoss?: number } = {};
    for (const k of ['loss', 'classLoss', 'domainLoss'] as const) {
      if (counts[k] > 0) out[k] = sums[k] / counts[k];
      sums[k] = 0;
      counts[k] = 0;
    }
    return out;
  };
  // The step loss arrives as onStep's third argument; checkpoints (with the
  // DANN discriminator's accuracy) through onCheckpoint.
  const options: Parameters<typeof adaptModel>[0] = {
    sourceDir: o.sourceDir,
    outDir: o.outDir,
    strategy: o.strategy,
    recordings: [...source, target],
    targetDomains: [targetDomain],
    // One machine in one state: its own guard set (src/model/adapt/guards.ts).
    targetKind: 'single-machine',
    steps: o.steps,
    command: o.command,
    datasetLabel: label,
    onStep: (step: number, steps: number, info?: StepLoss) => {
      note(info);
      if (step % 5 === 0 || step === steps)
        port.postMessage({
          kind: 'progress',
          step,
          steps,
          ...means(),
        } satisfies AdaptWorkerMessage);
    },
    onCheckpoint: (checkpoint: Checkpoint) =>
      port.postMessage({ kind: 'checkpoint', checkpoint } satisfies AdaptWorkerMessage),
  };
  const outcome = await adaptModel(options);
  port.postMessage({ kind: 'done', outcome } satisfies AdaptWorkerMessage);
}
