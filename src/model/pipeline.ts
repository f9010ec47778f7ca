/**
 * The two model-making operations as the CLI and daemon call them:
 * `trainSourceModel` (labelled data → model folder) and `adaptModel`
 * (source model folder + target data → candidate model folder,
 * promoted only when the guards pass).
 */
import { createFrontEnd, resolveFrontEndConfig } from '../dsp/frontend.js';
import { FaultlineError } from '../errors.js';
import type { Recording } from '../types.js';
import { alignDomains } from './adapt/align.js';
import { finetune, newHead, trainNewHead } from './adapt/finetune.js';
import { evaluateGuards, type GuardOptions, type GuardResult } from './adapt/guards.js';
import { predictionStats } from './adapt/selection.js';
import type { CnnVariant } from './architectures.js';
import {
  checkStreamCompatibility,
  loadModelArtifact,
  type ModelMetadata,
  saveModelArtifact,
} from './artifact.js';
import { initBackend } from './backend.js';
import { DEFAULT_FRACTIONS, prepareDomain } from './domains.js';
import { type InputSet, takeRows } from './inputs.js';
import { accuracyOf, buildSeededCnn, predictProbs, trainClassifier } from './train.js';

export interface TrainSourceOptions {
  recordings: Recording[];
  datasetLabel: string;
  kind: 'cwru' | 'byo' | 'sim' | 'memory';
  /** Labelled source domains; default all. */
  domains?: string[];
  /** Classes; default every label of the chosen domains. */
  classes?: string[];
  frontEnd: Parameters<typeof resolveFrontEndConfig>[0];
  variant?: CnnVariant;
  epochs?: number;
  seed?: number;
  outDir: string;
  command: string;
  onStep?: (step: number, steps: number, epoch: number) => void;
  onEpoch?: (epoch: number, valAccuracy: number, valLoss: number) => void;
}

/** Trains a source model and writes it (model.json, weights.bin, faultline.json) to `outDir`. */
export async function trainSourceModel(o: TrainSourceOptions): Promise<ModelMetadata> {
  const backend = await initBackend();
  const domains = o.domains ?? [...new Set(o.recordings.map((r) => r.domain))].sort();
  const inDomains = o.recordings.filter((r) => domains.includes(r.domain));
  const classes = o.classes ?? [...new Set(inDomains.map((r) => r.label))].sort();
  if (classes.length < 2)
    throw new FaultlineError(
      'FL_ERR_TRAIN',
      `training needs ≥ 2 classes, the data has ${classes.join(', ') || 'none'}`,
    );
  const feConfig = resolveFrontEndConfig(o.frontEnd);
  const fe = createFrontEnd(feConfig);
  const data = prepareDomain(o.recordings, domains, classes, fe, DEFAULT_FRACTIONS);
  const variant = o.variant ?? 'strided';
  const seed = o.seed ?? 1;
  const cnn = buildSeededCnn(
    [fe.inputShape[0], fe.inputShape[1], 1],
    classes.length,
    variant,
    seed,
  );
  const epochs = o.epochs ?? 15;
  const batchSize = 64;
  const learningRate = 1e-3;
  try {
    const r = await trainClassifier(cnn.model, data.train, data.val, {
      epochs,
      seed,
      batchSize,
      learningRate,
      onStep: o.onStep,
      onEpoch: (e) => o.onEpoch?.(e.epoch, e.valAccuracy, e.valLoss),
    });
    const testAcc = accuracyOf(predictProbs(cnn.model, data.test), data.test.y, classes.length);
    return await saveModelArtifact(o.outDir, cnn.model, {
      classes,
      sampleRate: feConfig.sampleRate,
      windowLength: feConfig.windowLength,
      hop: feConfig.hop,
      inputShape: [fe.inputShape[0], fe.inputShape[1]],
      frontEnd: feConfig,
      architecture: {
        variant,
        params: cnn.model.countParams(),
        featureLayer: 'flatten',
        classifierLayer: cnn.classifier.name,
      },
      training: {
        command: o.command,
        seed,
        epochs,
        bestEpoch: r.bestEpoch,
        batchSize,
        learningRate,
        backend: backend.name,
        seconds: Math.round(r.seconds * 10) / 10,
      },
      provenance: {
        dataset: o.datasetLabel,
        kind: o.kind,
        domains,
        recordings: data.recordings,
        split: DEFAULT_FRACTIONS,
        windows: { train: data.train.n, val: data.val.n, test: data.test.n },
      },
      metrics: {
        sourceValAccuracy: r.valAccuracy,
        sourceValLoss: r.valLoss,
        sourceTestAccuracy: testAcc,
      },
    });
  } finally {
    cnn.model.dispose();
  }
}

export type AdaptStrategy = 'dann' | 'mmd' | 'finetune' | 'features';

export interface AdaptOptions {
  sourceDir: string;
  outDir: string;
  strategy: AdaptStrategy;
  /** Source recordings (labelled) — the model's provenance domains are used from them. */
  recordings: Recording[];
  /** Target domain(s) (unlabelled for dann/mmd). */
  targetDomains: string[];
  steps?: number;
  seed?: number;
  command: string;
  datasetLabel: string;
  guards?: GuardOptions;
  /** finetune/features: labelled target windows per class; default 10. */
  labelledPerClass?: number;
  onStep?: (step: number, steps: number) => void;
}

export interface AdaptOutcome {
  meta: ModelMetadata;
  guards: GuardResult[];
  promoted: boolean;
}

/**
 * Adapts the source model in `sourceDir` to the target domains and writes the
 * candidate to `outDir`, with `adaptation.promoted` false when a guard failed.
 * dann/mmd use target windows without labels; finetune/features use the first
 * `labelledPerClass` windows of each class of the target's train segment.
 */
export async function adaptModel(o: AdaptOptions): Promise<AdaptOutcome> {
  await initBackend();
  const src = await loadModelArtifact(o.sourceDir);
  const meta = src.meta;
  const sampleRate = o.recordings[0]?.sampleRate ?? Number.NaN;
  checkStreamCompatibility(meta, { sampleRate, label: o.datasetLabel });
  const fe = createFrontEnd(meta.frontEnd);
  const seed = o.seed ?? 1;
  const t0 = performance.now();
  const sourceData = prepareDomain(o.recordings, meta.provenance.domains, meta.classes, fe);
  const targetRecs = o.recordings.filter((r) => o.targetDomains.includes(r.domain));
  if (targetRecs.length === 0) {
    throw new FaultlineError(
      'FL_ERR_DATASET_EMPTY',
      `no recording of target domain(s) ${o.targetDomains.join(', ')} in ${o.datasetLabel}`,
    );
  }
  const newLabels = o.strategy === 'features';
  const targetClasses = newLabels
    ? [...new Set(targetRecs.map((r) => r.label))].sort()
    : meta.classes;
  const targetData = prepareDomain(o.recordings, o.targetDomains, targetClasses, fe);
  const unlabelled = { ...targetData.train, y: new Int32Array(targetData.train.n).fill(-1) };
  const C = meta.classes.length;
  const before = {
    source: accuracyOf(predictProbs(src.model, sourceData.val), sourceData.val.y, C),
    target: predictionStats(predictProbs(src.model, unlabelled), C),
  };
  let model = src.model;
  let classes = meta.classes;
  let classifierLayer = meta.architecture.classifierLayer;
  let selection: string;
  try {
    if (o.strategy === 'dann' || o.strategy === 'mmd') {
      const a = await alignDomains(src, sourceData.train, sourceData.val, unlabelled, {
        strategy: o.strategy,
        steps: o.steps ?? 300,
        seed,
        onStep: o.onStep,
      });
      selection = a.selection;
    } else {
      const few = firstPerClass(targetData.train, o.labelledPerClass ?? 10);
      if (o.strategy === 'finetune') {
        await finetune(src, few, sourceData.val, { seed });
        selection = `fixed 10 epochs on ${few.n} labelled target windows, conv stages 1–2 frozen`;
      } else {
        const head = newHead(src.features, targetClasses.length, seed);
        const r = await trainNewHead(head, src.features, few, targetData.val, { seed });
        model = head.model;
        classes = targetClasses;
        classifierLayer = head.classifier.name;
        selection = `new head on the frozen extractor: ${few.n} labelled target windows, epoch of lowest target validation loss (val accuracy ${(r.valAccuracy * 100).toFixed(1)} %)`;
      }
    }
    const Cn = classes.length;
    const after = {
      source: newLabels
        ? Number.NaN
        : accuracyOf(predictProbs(model, sourceData.val), sourceData.val.y, C),
      target: predictionStats(predictProbs(model, unlabelled), Cn),
    };
    let guards = evaluateGuards(
      {
        sourceAccuracyBefore: before.source,
        sourceAccuracyAfter: after.source,
        targetBefore: before.target,
        targetAfter: after.target,
      },
      o.guards,
    );
    // A new label set has no source task to forget and no comparable "before".
    if (newLabels) guards = guards.filter((g) => g.name === 'class-collapse');
    const promoted = guards.every((g) => g.passed);
    const { contentHash: _h, format: _f, formatVersion: _v, createdAt: _c, ...rest } = meta;
    const out = await saveModelArtifact(o.outDir, model, {
      ...rest,
      classes,
      architecture: { ...meta.architecture, classifierLayer, params: model.countParams() },
      training: {
        ...meta.training,
        command: o.command,
        seed,
        seconds: Math.round((performance.now() - t0) / 100) / 10,
      },
      provenance: { ...meta.provenance, targetDomains: o.targetDomains },
      metrics: {
        ...meta.metrics,
        sourceValAccuracyBefore: before.source,
        ...(newLabels ? {} : { sourceValAccuracyAfter: after.source }),
        targetImBefore: before.target.im,
        targetImAfter: after.target.im,
        targetMarginalEntropyAfter: after.target.marginalEntropy,
      },
      adaptation: {
        strategy: o.strategy,
        sourceModelHash: meta.contentHash,
        sourceModelDir: o.sourceDir,
        promoted,
        guards,
        selection,
      },
    });
    return { meta: out, guards, promoted };
  } finally {
    src.model.dispose();
  }
}

/** The first `k` windows (in time order) of each class of `set`. */
function firstPerClass(set: InputSet, k: number): InputSet {
  const taken = new Map<number, number>();
  const idx: number[] = [];
  for (let i = 0; i < set.n; i++) {
    const c = set.y[i];
    if (c < 0 || (taken.get(c) ?? 0) >= k) continue;
    taken.set(c, (taken.get(c) ?? 0) + 1);
    idx.push(i);
  }
  return takeRows(set, idx);
}
