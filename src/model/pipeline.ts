/**
 * The two model-making operations as the CLI and daemon call them:
 * `trainSourceModel` (labelled data → model folder) and `adaptModel`
 * (source model folder + target data → candidate model folder,
 * promoted only when the guards pass).
 */

import type { AdaptStrategy } from '../contract/machine.js';
import { ratesMatch } from '../data/resample.js';
import { createFrontEnd, resolveFrontEndConfig } from '../dsp/frontend.js';
import { LEVEL_SCALE_DB } from '../dsp/order-lines.js';
import { FaultlineError } from '../errors.js';
import type { Recording } from '../types.js';
import { alignDomains, classPrior, type StepLoss } from './adapt/align.js';
import { finetune, newHead, trainNewHead } from './adapt/finetune.js';
import {
  evaluateGuards,
  type GuardOptions,
  type GuardResult,
  type TargetKind,
  verdictOf,
} from './adapt/guards.js';
import { type Checkpoint, predictionStats } from './adapt/selection.js';
import type { CnnVariant } from './architectures.js';
import {
  checkStreamCompatibility,
  loadModelArtifact,
  type ModelMetadata,
  saveModelArtifact,
} from './artifact.js';
import { initBackend } from './backend.js';
import type { HeadName, HeadSpec } from './choices.js';
import {
  DEFAULT_FRACTIONS,
  type DomainSplits,
  prepareDomain,
  prepareUnlabelled,
  speedAugmentFor,
} from './domains.js';
import { buildHead, headLabels, headProbs, headSeed, headSpecs } from './heads.js';
import { type InputSet, takeRows } from './inputs.js';
import { medianLevel, readsLevels, shiftLevels, shiftSplits, withLevelRef } from './level.js';
import type * as tf from './tf.js';
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
  /** Order mode: speed factors of extra training windows (./domains.ts); default `auto`. */
  speedAugment?: readonly number[] | 'auto';
  outDir: string;
  command: string;
  /**
   * Auxiliary heads (./heads.ts) trained with the primary one; default none.
   * The condition head's classes are every domain of `recordings`.
   */
  heads?: readonly HeadName[];
  /** Messages for the operator (e.g. a head the data cannot train). */
  log?: (message: string) => void;
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
  const speedAugment = speedAugmentFor(feConfig, o.speedAugment);
  const prepared = prepareDomain(o.recordings, domains, classes, fe, DEFAULT_FRACTIONS, {
    speedFactors: speedAugment,
  });
  // A level-reading model reads levels relative to its source's median window (./level.ts).
  const level = readsLevels(feConfig) ? medianLevel(prepared.train, prepared.plainTrain) : 0;
  const data = shiftSplits(prepared, level);
  const savedFrontEnd = withLevelRef(feConfig, level);
  const variant = o.variant ?? 'strided';
  const seed = o.seed ?? 1;
  const cnn = buildSeededCnn([...fe.inputShape], classes.length, variant, seed);
  const conditions = [...new Set(o.recordings.map((r) => r.domain))];
  const { heads: specs, dropped } = headSpecs(o.heads ?? [], classes, conditions);
  if (dropped.length > 0) o.log?.(`heads left out: ${dropped.join(', ')}`);
  const headModels = specs.map((s, i) => buildHead(cnn.featureDim, s, headSeed(seed, i)));
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
      ...(specs.length > 0
        ? {
            heads: {
              features: cnn.features,
              classifier: cnn.classifier,
              heads: specs.map((s, i) => ({
                classifier: headModels[i],
                labels: headLabels(s, data.train, classes),
              })),
            },
          }
        : {}),
    });
    const testAcc = accuracyOf(predictProbs(cnn.model, data.test), data.test.y, classes.length);
    return await saveModelArtifact(
      o.outDir,
      cnn.model,
      {
        ...(specs.length > 0 ? { heads: specs } : {}),
        classes,
        sampleRate: feConfig.sampleRate,
        windowLength: feConfig.windowLength,
        hop: feConfig.hop,
        inputShape: [...fe.inputShape],
        frontEnd: savedFrontEnd,
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
          ...(speedAugment.length > 0 ? { speedAugment } : {}),
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
          ...headAccuracies(cnn.features, specs, headModels, data.test, classes),
        },
      },
      headModels,
    );
  } finally {
    for (const h of headModels) h.dispose();
    cnn.model.dispose();
  }
}

/** `head<Name>TestAccuracy` of each head on `test` (its labelled rows only), for `metrics`. */
function headAccuracies(
  features: tf.LayersModel,
  specs: readonly HeadSpec[],
  models: readonly tf.LayersModel[],
  test: InputSet,
  classes: readonly string[],
): Record<string, number> {
  const out: Record<string, number> = {};
  specs.forEach((s, i) => {
    const acc = accuracyOf(
      headProbs(features, models[i], test),
      headLabels(s, test, classes),
      s.classes.length,
    );
    if (Number.isFinite(acc))
      out[`head${s.name[0].toUpperCase()}${s.name.slice(1)}TestAccuracy`] = acc;
  });
  return out;
}

export interface AdaptOptions {
  sourceDir: string;
  outDir: string;
  strategy: AdaptStrategy;
  /** Source recordings (labelled) — the model's provenance domains are used from them. */
  recordings: Recording[];
  /**
   * Target domain(s). dann/mmd ignore target labels: a target recording may
   * carry an empty label (or a class of the model); one labelled with a class
   * the model lacks is left out.
   */
  targetDomains: string[];
  /**
   * `dataset` (default): several machines/recordings, every class expected;
   * aligns on the target's train split, checkpoints ranked by IM, the
   * dataset guards. `single-machine`: one live machine in one state (dann/mmd
   * only); aligns on all its windows, checkpoints ranked by confidence, the
   * single-machine guards (./adapt/guards.ts says why).
   */
  targetKind?: TargetKind;
  steps?: number;
  /** dann/mmd: Adam learning rate of the alignment; default 5e-4 (./adapt/align.ts). */
  learningRate?: number;
  seed?: number;
  command: string;
  datasetLabel: string;
  guards?: GuardOptions;
  /** finetune/features: labelled target windows per class; default 10. */
  labelledPerClass?: number;
  /**
   * dann/mmd/dann-im: the model's auxiliary heads that train during the
   * alignment; default all it has. The others are saved as they were.
   */
  heads?: readonly HeadName[];
  /** Called after each step; dann/mmd also pass the step's losses. */
  onStep?: (step: number, steps: number, loss?: StepLoss) => void;
  /** dann/mmd: each label-free checkpoint (with the discriminator's accuracy for dann). */
  onCheckpoint?: (c: Checkpoint) => void;
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
 * `targetKind` picks the guard set (./adapt/guards.ts).
 * @throws FaultlineError FL_ERR_TRAIN for single-machine with finetune/features
 *   or a diverging loss, FL_ERR_DATASET_EMPTY without target recordings
 */
export async function adaptModel(o: AdaptOptions): Promise<AdaptOutcome> {
  const kind = o.targetKind ?? 'dataset';
  const labelFree = o.strategy === 'dann' || o.strategy === 'mmd' || o.strategy === 'dann-im';
  if (kind === 'single-machine' && !(o.strategy === 'dann' || o.strategy === 'mmd')) {
    throw new FaultlineError(
      'FL_ERR_TRAIN',
      o.strategy === 'dann-im'
        ? 'dann-im assumes the target holds every class (its diversity term spreads windows over them); one machine is in one state: use dann or mmd'
        : `single-machine adaptation is label-free (dann or mmd), not ${o.strategy}`,
    );
  }
  await initBackend();
  const src = await loadModelArtifact(o.sourceDir);
  const meta = src.meta;
  // Every recording at the model's analysis rate (±1 %): the caller resamples.
  const off = o.recordings.find((r) => !ratesMatch(r.sampleRate, meta.sampleRate));
  checkStreamCompatibility(meta, {
    sampleRate: off?.sampleRate ?? o.recordings[0]?.sampleRate ?? Number.NaN,
    label: off ? `${o.datasetLabel} (${off.id})` : o.datasetLabel,
  });
  const fe = createFrontEnd(meta.frontEnd);
  const seed = o.seed ?? 1;
  const t0 = performance.now();
  // The source windows as the model was trained on them (augmented or not).
  const sourceData = prepareDomain(
    o.recordings,
    meta.provenance.domains,
    meta.classes,
    fe,
    DEFAULT_FRACTIONS,
    { speedFactors: meta.training.speedAugment ?? [] },
  );
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
  let targetData: DomainSplits | undefined;
  let unlabelled: InputSet;
  if (labelFree) {
    // One machine's few seconds are all used (and the guards judge the model
    // on the very machine it will diagnose); a data set keeps its later val
    // and test segments out of the alignment, as evaluation expects.
    const recs = targetRecs.filter((r) => !r.label || meta.classes.includes(r.label));
    const fractions = kind === 'single-machine' ? ALL_WINDOWS : DEFAULT_FRACTIONS;
    unlabelled = prepareUnlabelled(recs, fe, fractions).train;
  } else {
    targetData = prepareDomain(o.recordings, o.targetDomains, targetClasses, fe);
    unlabelled = { ...targetData.train, y: new Int32Array(targetData.train.n).fill(-1) };
  }
  // A data set of target recordings is re-centred on its own median level
  // (./level.ts); the guards' "before" reads the target as the source model does.
  const targetLevel =
    kind === 'dataset' && readsLevels(meta.frontEnd) ? medianLevel(unlabelled) : 0;
  const unlabelledBefore = unlabelled;
  unlabelled = shiftLevels(unlabelled, targetLevel);
  if (targetData) targetData = shiftSplits(targetData, targetLevel);
  const C = meta.classes.length;
  // The IM guard judges with the class mix the selection used (./adapt/align.ts).
  const prior = kind === 'dataset' && !newLabels ? classPrior(sourceData.train.y, C) : undefined;
  const probsBefore = predictProbs(src.model, unlabelledBefore);
  const before = {
    source: accuracyOf(predictProbs(src.model, sourceData.val), sourceData.val.y, C),
    target: predictionStats(probsBefore, C, prior),
    verdict: verdictOf(probsBefore, C),
  };
  let model = src.model;
  let classes = meta.classes;
  let classifierLayer = meta.architecture.classifierLayer;
  let selection: string;
  try {
    if (o.strategy === 'dann' || o.strategy === 'mmd' || o.strategy === 'dann-im') {
      const a = await alignDomains(src, sourceData.train, sourceData.val, unlabelled, {
        strategy: o.strategy,
        steps: o.steps ?? 300,
        seed,
        ...(o.learningRate !== undefined ? { learningRate: o.learningRate } : {}),
        // Short runs still get ≥ 4 label-free checkpoints to choose from.
        ...(o.steps !== undefined && o.steps < 200
          ? { evalEvery: Math.max(1, Math.ceil(o.steps / 4)) }
          : {}),
        criterion: kind === 'single-machine' ? 'confidence' : 'im',
        // Fault heads learn from the source only; the condition head from both.
        heads: (src.heads ?? [])
          .filter((h) => o.heads?.includes(h.spec.name) ?? true)
          .map((h) => ({
            classifier: h.classifier,
            source: headLabels(h.spec, sourceData.train, meta.classes),
            ...(h.spec.name === 'condition'
              ? { target: headLabels(h.spec, unlabelled, meta.classes) }
              : {}),
          })),
        onStep: o.onStep,
        onCheckpoint: o.onCheckpoint,
      });
      selection = a.selection;
    } else if (targetData) {
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
    } else {
      throw new FaultlineError('FL_ERR_TRAIN', `no labelled target data for ${o.strategy}`);
    }
    const Cn = classes.length;
    const probsAfter = predictProbs(model, unlabelled);
    const after = {
      source: newLabels
        ? Number.NaN
        : accuracyOf(predictProbs(model, sourceData.val), sourceData.val.y, C),
      target: predictionStats(probsAfter, Cn, prior),
      verdict: verdictOf(probsAfter, Cn),
    };
    let guards = evaluateGuards(
      {
        sourceAccuracyBefore: before.source,
        sourceAccuracyAfter: after.source,
        targetBefore: before.target,
        targetAfter: after.target,
        verdictBefore: before.verdict,
        verdictAfter: after.verdict,
        classes,
      },
      o.guards,
      kind,
    );
    // A new label set has no source task to forget and no comparable "before".
    if (newLabels) guards = guards.filter((g) => g.name === 'class-collapse');
    const promoted = guards.every((g) => g.passed);
    const { contentHash: _h, format: _f, formatVersion: _v, createdAt: _c, ...rest } = meta;
    const out = await saveModelArtifact(
      o.outDir,
      model,
      {
        ...rest,
        frontEnd: withLevelRef(meta.frontEnd, targetLevel),
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
          targetMeanEntropyBefore: before.target.meanEntropy,
          targetMeanEntropyAfter: after.target.meanEntropy,
          targetMajorityShareBefore: before.verdict.share,
          targetMajorityShareAfter: after.verdict.share,
          targetWindows: unlabelled.n,
          // How far the target's median window sat from the source's, dB (level maps).
          ...(targetLevel !== 0 ? { targetLevelShiftDb: targetLevel * LEVEL_SCALE_DB } : {}),
        },
        adaptation: {
          strategy: o.strategy,
          sourceModelHash: meta.contentHash,
          sourceModelDir: o.sourceDir,
          promoted,
          guards,
          selection,
          targetKind: kind,
        },
      },
      (src.heads ?? []).map((h) => h.classifier),
    );
    return { meta: out, guards, promoted };
  } finally {
    for (const h of src.heads ?? []) h.classifier.dispose();
    src.model.dispose();
  }
}

/** Every window of a recording in the "train" split: one machine's collected signal. */
const ALL_WINDOWS = { train: 1, val: 0, test: 0 };

/** The first `k` windows (in time order) of each class of `set`: the labelled windows finetune/features take. */
export function firstPerClass(set: InputSet, k: number): InputSet {
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
