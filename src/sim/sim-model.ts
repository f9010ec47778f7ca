/**
 * The source model of the simulated fleet: trained on simulator data only,
 * shipped as models/sim-12k (and retrained into the state directory when that
 * folder is missing or does not fit, see src/daemon/models.ts). Deterministic: the same
 * options give the same recordings and, on one backend, the same model. Also
 * regenerates the labelled source recordings an adaptation needs (adaptModel
 * aligns the target to them).
 *
 * Why the order-line front end (version 2, src/dsp/order-lines.ts): the
 * simulator, like a real bearing, rings the same housing modes with rolling
 * noise in every class (`rollingNoiseRms`), so band energy does not tell a
 * fault apart; the impact *rate* does. The envelope of the 1–5.4 kHz band,
 * resampled to the shaft angle and read on the bearing's own fault orders
 * (BPFO, BPFI and 2·BSF axes from the 6205 the simulator models), puts each
 * defect's lines on fixed rows whatever the speed — and whatever the
 * bearing, for a fleet machine configured with another one. Windows of 4
 * revolutions serve any speed from 300 to 6,000 rpm.
 *
 * Regenerate the shipped model:
 *
 *   npx tsx src/sim/sim-model.ts --out models/sim-12k
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { CWRU_DE_BEARING } from '../contract/bearing.js';
import {
  createFrontEnd,
  type FrontEndInput,
  recordingWindows,
  resolveFrontEndConfig,
} from '../dsp/frontend.js';
import { FAULT_AXES } from '../dsp/order-lines.js';
import { FaultlineError } from '../errors.js';
import { loadModelArtifact, METADATA_JSON, type ModelMetadata } from '../model/artifact.js';
import { buildInputs } from '../model/inputs.js';
import { trainSourceModel } from '../model/pipeline.js';
import { argmaxRows, predictProbs } from '../model/train.js';
import type { Recording, SignalWindow } from '../types.js';
import type { ConditionPresetName } from './conditions.js';
import { planSimDataset } from './dataset.js';
import { FAULT_LABELS, FAULT_TYPES } from './faults.js';
import { BearingSignalGenerator } from './generator.js';
import { DEFAULT_SAMPLE_RATE } from './options.js';

/** Data-set label written into the model's provenance; {@link simSourceRecordings} recognises it. */
export const SIM_DATASET_PREFIX = 'sim:';

/** Folder name of the shipped simulator model under `<repo>/models/`. */
export const SIM_MODEL_NAME = 'sim-12k';

/**
 * Front end of the simulator model: version 2 at 12 kHz, order mode, 4
 * revolutions per window (live windows sized for 300 rpm, every 0.25 s), the
 * 1–5.4 kHz envelope on the BPFO, BPFI and 2·BSF axes of the 6205, each
 * channel z-scored on its own: input [32, 16, 3].
 */
export const SIM_FRONT_END: FrontEndInput = {
  version: 2,
  sampleRate: DEFAULT_SAMPLE_RATE,
  mode: 'order',
  lines: { axes: [...FAULT_AXES], bearing: { ...CWRU_DE_BEARING }, normalisation: 'band' },
};

/** Output classes of the simulator model, sorted (the softmax order). */
export const SIM_CLASSES: readonly string[] = FAULT_TYPES.map((f) => FAULT_LABELS[f]).sort();

export interface SimModelOptions {
  /** Source condition (domain). Default `source-1797rpm`. */
  condition?: ConditionPresetName;
  /** Recordings per class. Default 10. */
  recordingsPerClass?: number;
  /** Seconds per recording. Default 8. */
  durationS?: number;
  /** Maximum epochs. Default 10. */
  epochs?: number;
  seed?: number;
}

const DEFAULTS = {
  condition: 'source-1797rpm' as ConditionPresetName,
  recordingsPerClass: 10,
  durationS: 8,
  epochs: 10,
  seed: 1,
};

/** Simulated labelled recordings (normal, inner, outer, ball) of one condition, 12 kHz. */
export function simRecordings(o: SimModelOptions = {}): Recording[] {
  const entries = planSimDataset({
    conditions: [o.condition ?? DEFAULTS.condition],
    recordingsPerClass: o.recordingsPerClass ?? DEFAULTS.recordingsPerClass,
    durationS: o.durationS ?? DEFAULTS.durationS,
    seed: o.seed ?? DEFAULTS.seed,
  });
  return entries.map((e) => {
    const gen = new BearingSignalGenerator({
      condition: e.condition,
      fault: { type: e.fault, severity: e.severity },
      sampleRate: e.sampleRate,
      seed: e.seed,
    });
    return {
      id: `sim:${e.file}`,
      label: e.label,
      domain: e.domain,
      sampleRate: e.sampleRate,
      samples: gen.next(Math.round(e.durationS * e.sampleRate)),
      rpm: e.rpm,
      bearing: { ...CWRU_DE_BEARING },
      meta: { simulated: true, fault: e.fault, severity: e.severity },
    };
  });
}

/** The data-set label of a simulator-trained model, e.g. `sim:source-1797rpm:10x8s:seed1`. */
export function simDatasetLabel(o: SimModelOptions = {}): string {
  return `${SIM_DATASET_PREFIX}${o.condition ?? DEFAULTS.condition}:${o.recordingsPerClass ?? DEFAULTS.recordingsPerClass}x${o.durationS ?? DEFAULTS.durationS}s:seed${o.seed ?? DEFAULTS.seed}`;
}

/** Parses a label written by {@link simDatasetLabel}; undefined for other data sets. */
export function parseSimDatasetLabel(label: string): SimModelOptions | undefined {
  const m = /^sim:([A-Za-z0-9._@+-]+):(\d+)x([\d.]+)s:seed(-?\d+)$/.exec(label);
  if (!m) return undefined;
  return {
    condition: m[1] as ConditionPresetName,
    recordingsPerClass: Number(m[2]),
    durationS: Number(m[3]),
    seed: Number(m[4]),
  };
}

/**
 * True when `meta` is a simulator model this code would build: simulator
 * provenance, the simulator's sample rate, classes and exactly
 * {@link SIM_FRONT_END}. A model from an older front end fails, so the
 * gateway retrains instead of running a model that no longer fits.
 */
export function isCurrentSimModel(meta: ModelMetadata): boolean {
  return (
    meta.provenance.kind === 'sim' &&
    meta.sampleRate === DEFAULT_SAMPLE_RATE &&
    isDeepStrictEqual(meta.classes, [...SIM_CLASSES]) &&
    isDeepStrictEqual(
      JSON.parse(JSON.stringify(meta.frontEnd)),
      JSON.parse(JSON.stringify(resolveFrontEndConfig(SIM_FRONT_END))),
    )
  );
}

/** The command line that regenerates a model with these options into `outDir`. */
export function simModelCommand(outDir: string, o: SimModelOptions = {}): string {
  const parts = ['npx tsx src/sim/sim-model.ts', `--out ${outDir}`];
  for (const [k, flag] of [
    ['recordingsPerClass', '--recordings'],
    ['durationS', '--duration'],
    ['epochs', '--epochs'],
    ['seed', '--seed'],
  ] as const) {
    if (o[k] !== undefined && o[k] !== DEFAULTS[k]) parts.push(`${flag} ${o[k]}`);
  }
  return parts.join(' ');
}

/**
 * Trains a source model on simulator data into `outDir` (≈ 20 s on 2 cores),
 * then scores it on held-out recordings of other seeds ({@link evaluateSimModel})
 * and adds those numbers to `metrics` (`heldOutAccuracy`, `heldOutRecall.<class>`).
 */
export async function trainSimModel(
  outDir: string,
  o: SimModelOptions = {},
  command = simModelCommand(outDir, o),
): Promise<ModelMetadata> {
  const recordings = simRecordings(o);
  const meta = await trainSourceModel({
    recordings,
    datasetLabel: simDatasetLabel(o),
    kind: 'sim',
    frontEnd: SIM_FRONT_END,
    epochs: o.epochs ?? DEFAULTS.epochs,
    seed: o.seed ?? DEFAULTS.seed,
    outDir,
    command,
  });
  const held = await evaluateSimModel(outDir, {
    condition: o.condition ?? DEFAULTS.condition,
    seed: (o.seed ?? DEFAULTS.seed) + HELD_OUT_SEED_OFFSET,
  });
  const metrics: Record<string, number> = { ...meta.metrics, heldOutAccuracy: held.accuracy };
  for (const [c, r] of Object.entries(held.recall)) metrics[`heldOutRecall.${c}`] = r;
  metrics.heldOutWindows = held.windows;
  // contentHash covers model.json + weights.bin only, so the metadata may gain metrics.
  const full: ModelMetadata = { ...meta, metrics };
  await writeFile(path.join(outDir, METADATA_JSON), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

/** Seed offset of the held-out recordings, far from any training seed's streams. */
const HELD_OUT_SEED_OFFSET = 1000;

export interface SimEvaluation {
  /** Fraction of windows classified right. */
  accuracy: number;
  /** Class → fraction of its windows classified right. */
  recall: Record<string, number>;
  /** Class → predicted class → windows. */
  confusion: Record<string, Record<string, number>>;
  windows: number;
}

/**
 * Scores the model in `dir` on fresh simulated recordings (each class,
 * `recordingsPerClass` × `durationS` s, non-overlapping windows) of
 * `condition`, with the condition's nominal rpm as the known speed.
 * Defaults: 6 recordings × 10 s per class (60 windows).
 */
export async function evaluateSimModel(
  dir: string,
  o: {
    condition?: ConditionPresetName;
    seed: number;
    recordingsPerClass?: number;
    durationS?: number;
  },
): Promise<SimEvaluation> {
  const m = await loadModelArtifact(dir);
  try {
    const fe = createFrontEnd(m.meta.frontEnd);
    const recs = simRecordings({
      condition: o.condition ?? DEFAULTS.condition,
      recordingsPerClass: o.recordingsPerClass ?? 6,
      durationS: o.durationS ?? 10,
      seed: o.seed,
    });
    const wins: SignalWindow[] = [];
    let L = 0;
    for (const r of recs) {
      // Non-overlapping windows as the front end cuts them at this speed.
      L = recordingWindows(fe.config, r.rpm).length;
      for (let s = 0; s + L <= r.samples.length; s += L) {
        wins.push({
          recordingId: r.id,
          start: s,
          samples: r.samples.subarray(s, s + L),
          sampleRate: r.sampleRate,
          label: r.label,
          rpm: r.rpm,
          ...(r.bearing ? { bearing: r.bearing } : {}),
        });
      }
    }
    if (wins.length === 0)
      throw new FaultlineError('FL_ERR_DATASET_EMPTY', `recordings shorter than ${L} samples`);
    const classes = m.meta.classes;
    const set = buildInputs(wins, fe, classes);
    const pred = argmaxRows(predictProbs(m.model, set), classes.length);
    const confusion: Record<string, Record<string, number>> = {};
    const recall: Record<string, number> = {};
    let right = 0;
    for (const [ci, c] of classes.entries()) {
      const row: Record<string, number> = {};
      let n = 0;
      for (let i = 0; i < set.n; i++) {
        if (set.y[i] !== ci) continue;
        n++;
        row[classes[pred[i]]] = (row[classes[pred[i]]] ?? 0) + 1;
      }
      confusion[c] = row;
      recall[c] = n > 0 ? (row[c] ?? 0) / n : Number.NaN;
      right += row[c] ?? 0;
    }
    return { accuracy: right / set.n, recall, confusion, windows: set.n };
  } finally {
    m.model.dispose();
  }
}

/** Reads faultline.json of `dir` if it is a current simulator model, else undefined. */
export async function currentSimModelMeta(dir: string): Promise<ModelMetadata | undefined> {
  try {
    const meta = JSON.parse(await readFile(path.join(dir, METADATA_JSON), 'utf8')) as ModelMetadata;
    return isCurrentSimModel(meta) ? meta : undefined;
  } catch {
    return undefined;
  }
}

/** `npx tsx src/sim/sim-model.ts --out <dir> [--recordings n] [--duration s] [--epochs n] [--seed n]` */
async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string' },
      recordings: { type: 'string' },
      duration: { type: 'string' },
      epochs: { type: 'string' },
      seed: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.out) {
    process.stdout.write(
      'usage: npx tsx src/sim/sim-model.ts --out <dir> [--recordings 10] [--duration 8] [--epochs 10] [--seed 1]\n' +
        'Trains the simulator source model (order-line front end, fault axes) and scores it on held-out seeds.\n',
    );
    if (!values.out) process.exitCode = values.help ? 0 : 2;
    return;
  }
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new FaultlineError('FL_ERR_SIM_PARAMS', `--${name} must be a number > 0, got '${v}'`);
    return n;
  };
  const o: SimModelOptions = {
    recordingsPerClass: num(values.recordings, 'recordings'),
    durationS: num(values.duration, 'duration'),
    epochs: num(values.epochs, 'epochs'),
    seed: num(values.seed, 'seed'),
  };
  const t0 = performance.now();
  const meta = await trainSimModel(values.out, o);
  const s = (performance.now() - t0) / 1000;
  const pct = (x: number | undefined) => `${(100 * (x ?? Number.NaN)).toFixed(1)} %`;
  process.stdout.write(
    `${values.out}: ${meta.provenance.dataset}, ${s.toFixed(1)} s total (fit ${meta.training.seconds} s, best epoch ${meta.training.bestEpoch})\n` +
      `  source test (time-split) ${pct(meta.metrics.sourceTestAccuracy)}; held-out seeds ${pct(meta.metrics.heldOutAccuracy)} over ${meta.metrics.heldOutWindows} windows\n` +
      `  recall: ${SIM_CLASSES.map((c) => `${c} ${pct(meta.metrics[`heldOutRecall.${c}`])}`).join(', ')}\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: Error) => {
    process.stderr.write(
      `sim-model: ${(err as { code?: string }).code ?? 'error'}: ${err.message}\n`,
    );
    process.exitCode = 2;
  });
}
