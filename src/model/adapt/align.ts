/**
 * Unsupervised domain alignment: the training loop shared by DANN and MMD.
 *
 * Each step draws a labelled source batch and an UNLABELLED target batch,
 * runs both through the feature extractor in one pass (so batch norm sees
 * both domains) and minimises
 *
 *   CE(classifier(f_s), y_s) + alignment(f_s, f_t)
 *
 * where alignment is, for `dann`, the discriminator's binary cross-entropy
 * behind a gradient reversal layer with coefficient 2/(1+exp(−10p))−1, and
 * for `mmd`, β·MK-MMD²(f_s, f_t) with the same ramp on β. Every
 * `evalEvery` steps a checkpoint is scored without target labels
 * (./selection.ts) and the chosen one is restored at the end.
 *
 * Progress for a console: `onStep` gets each step's losses (total, the
 * source cross-entropy and the alignment term) and `onCheckpoint` each scored
 * checkpoint, with, for DANN, the discriminator's accuracy on held-out source
 * validation and target windows (0.5: the domains can no longer be told apart).
 */
import { FaultlineError } from '../../errors.js';
import { type InputSet, mulberry32, permutation, withSeededMathRandom } from '../inputs.js';
import * as tf from '../tf.js';
import {
  accuracyOf,
  batchTensor,
  crossEntropy,
  disposeAll,
  predictProbs,
  snapshotWeights,
  trainableVariables,
} from '../train.js';
import { dannCoefficient, reverseGradient } from './gradient-reversal.js';
import { mmd2 } from './mmd.js';
import {
  type Checkpoint,
  predictionStats,
  type SelectionCriterion,
  selectCheckpoint,
} from './selection.js';

export type AlignStrategy = 'dann' | 'mmd';

/** The three weight-sharing parts of a CNN (see ../architectures.ts). */
export interface CnnParts {
  model: tf.LayersModel;
  features: tf.LayersModel;
  classifier: tf.LayersModel;
}

/** Losses of one alignment step (mean over its batch); `loss = classLoss + domainLoss`. */
export interface StepLoss {
  loss: number;
  /** Cross-entropy of the labelled source batch. */
  classLoss: number;
  /** dann: the discriminator's binary cross-entropy; mmd: the weighted MK-MMD² term. */
  domainLoss: number;
}

export interface AlignOptions {
  strategy: AlignStrategy;
  /** Optimisation steps; default 300. */
  steps?: number;
  /** Windows per domain per step; default 32. */
  batchSize?: number;
  /** Adam learning rate (annealed as lr/(1+10p)^0.75); default 5e-4. */
  learningRate?: number;
  /** Largest weight of the alignment term; default 1 (dann), 1 (mmd). */
  weight?: number;
  /** Steps between label-free checkpoints; default 50. */
  evalEvery?: number;
  /** Seed of batch draws and the discriminator's initialiser; default 1. */
  seed?: number;
  /** Units of the discriminator's hidden layer; default 64. */
  discriminatorUnits?: number;
  /** How checkpoints are ranked on the target (./selection.ts); default `im`. */
  criterion?: SelectionCriterion;
  onStep?: (step: number, steps: number, loss: StepLoss) => void;
  onCheckpoint?: (c: Checkpoint) => void;
}

export interface AlignResult {
  checkpoints: Checkpoint[];
  /** The kept checkpoint (index into checkpoints; 0 = the unadapted model). */
  chosen: number;
  selection: string;
  seconds: number;
}

/** Target windows scored at each checkpoint (a fixed, seeded subset). */
const MAX_SCORE_WINDOWS = 512;

/**
 * Adapts `cnn` in place from labelled `source` to unlabelled `target`
 * (its labels, if any, are ignored). `sourceVal` is labelled source data
 * for checkpoint selection.
 */
export async function alignDomains(
  cnn: CnnParts,
  source: InputSet,
  sourceVal: InputSet,
  target: InputSet,
  options: AlignOptions,
): Promise<AlignResult> {
  // Dropout masks come from Math.random: seed it too, so a run repeats exactly.
  return withSeededMathRandom(options.seed ?? 1, () =>
    alignLoop(cnn, source, sourceVal, target, options),
  );
}

async function alignLoop(
  cnn: CnnParts,
  source: InputSet,
  sourceVal: InputSet,
  target: InputSet,
  options: AlignOptions,
): Promise<AlignResult> {
  const {
    strategy,
    steps = 300,
    batchSize = 32,
    learningRate = 5e-4,
    weight = 1,
    evalEvery = 50,
    seed = 1,
    criterion = 'im',
  } = options;
  if (source.n < 2 || target.n < 2 || sourceVal.n === 0) {
    throw new FaultlineError(
      'FL_ERR_TRAIN',
      `adaptation needs source (${source.n}), source validation (${sourceVal.n}) and target (${target.n}) windows`,
    );
  }
  const t0 = performance.now();
  const C = cnn.model.outputs[0].shape[1] as number;
  const featureDim = cnn.features.outputs[0].shape[1] as number;
  const rand = mulberry32(seed);
  const scoreIdx = permutation(target.n, rand).slice(0, Math.min(MAX_SCORE_WINDOWS, target.n));
  const targetScore = takeSubset(target, scoreIdx);
  const sourceScore =
    sourceVal.n > MAX_SCORE_WINDOWS
      ? takeSubset(sourceVal, permutation(sourceVal.n, rand).slice(0, MAX_SCORE_WINDOWS))
      : sourceVal;

  let disc: tf.LayersModel | undefined;
  if (strategy === 'dann') {
    const units = options.discriminatorUnits ?? 64;
    const input = tf.input({ shape: [featureDim] });
    const h = tf.layers
      .dense({
        units,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: seed + 101 }),
      })
      .apply(input) as tf.SymbolicTensor;
    const out = tf.layers
      .dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 202 }) })
      .apply(h) as tf.SymbolicTensor;
    disc = tf.model({ inputs: input, outputs: out, name: 'domain_discriminator' });
  }
  const vars = trainableVariables(cnn.model, ...(disc ? [disc] : []));
  const optimizer = tf.train.adam(learningRate);
  // Adam reads `learningRate` at every step; annealing it is a plain assignment.
  const setLr = (v: number) => {
    (optimizer as unknown as { learningRate: number }).learningRate = v;
  };
  const domainLabels = tf.tidy(() =>
    tf.concat([tf.ones([batchSize, 1]), tf.zeros([batchSize, 1])]),
  );

  const checkpoints: Checkpoint[] = [];
  const snapshots: tf.Tensor[][] = [];
  const score = (step: number): void => {
    const sv = predictProbs(cnn.model, sourceVal);
    const tp = predictProbs(cnn.model, targetScore);
    const c: Checkpoint = {
      step,
      sourceValAccuracy: accuracyOf(sv, sourceVal.y, C),
      target: predictionStats(tp, C),
      ...(disc ? { discriminatorAccuracy: discriminatorAccuracy(cnn, disc) } : {}),
    };
    checkpoints.push(c);
    snapshots.push(snapshotWeights(cnn.model));
    options.onCheckpoint?.(c);
  };

  /** Share of held-out source and target windows the discriminator assigns to their domain. */
  const discriminatorAccuracy = (parts: CnnParts, d: tf.LayersModel): number => {
    let right = 0;
    for (const [set, isSource] of [
      [sourceScore, true],
      [targetScore, false],
    ] as const) {
      const logits = tf.tidy(() => {
        const [F, T] = set.shape;
        const x = tf.tensor4d(set.x, [set.n, F, T, 1]);
        return d.predict(parts.features.predict(x, { batchSize: 64 }) as tf.Tensor) as tf.Tensor;
      });
      const v = logits.dataSync();
      logits.dispose();
      for (const l of v) if (l > 0 === isSource) right++;
    }
    return right / (sourceScore.n + targetScore.n);
  };

  let srcOrder = permutation(source.n, rand);
  let tgtOrder = permutation(target.n, rand);
  let sp = 0;
  let tp = 0;
  try {
    score(0);
    for (let step = 1; step <= steps; step++) {
      if (sp + batchSize > source.n) {
        srcOrder = permutation(source.n, rand);
        sp = 0;
      }
      if (tp + batchSize > target.n) {
        tgtOrder = permutation(target.n, rand);
        tp = 0;
      }
      const bs = Math.min(batchSize, source.n);
      const bt = Math.min(batchSize, target.n);
      const s = batchTensor(source, srcOrder, sp, sp + bs);
      const t = batchTensor(target, tgtOrder, tp, tp + bt);
      sp += bs;
      tp += bt;
      const p = (step - 1) / steps;
      const coeff = dannCoefficient(p);
      setLr(learningRate / (1 + 10 * p) ** 0.75);
      const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(s.y, 'int32'), C));
      // The two terms leave the minimize scope kept, read after it, then disposed.
      let ceKept: tf.Tensor | undefined;
      let alignKept: tf.Tensor | undefined;
      const cost = optimizer.minimize(
        () => {
          const feats = cnn.features.apply(tf.concat([s.x, t.x]), {
            training: true,
          }) as tf.Tensor2D;
          const fs = tf.slice(feats, [0, 0], [bs, featureDim]);
          const probs = cnn.classifier.apply(fs, { training: true }) as tf.Tensor;
          const ce = crossEntropy(ys, probs);
          ceKept = tf.keep(ce);
          if (disc) {
            const logits = disc.apply(reverseGradient(feats, coeff * weight), {
              training: true,
            }) as tf.Tensor;
            const labels =
              bs === batchSize && bt === batchSize
                ? domainLabels
                : tf.concat([tf.ones([bs, 1]), tf.zeros([bt, 1])]);
            alignKept = tf.keep(tf.losses.sigmoidCrossEntropy(labels, logits));
            return tf.add(ce, alignKept) as tf.Scalar;
          }
          const ft = tf.slice(feats, [bs, 0], [bt, featureDim]);
          alignKept = tf.keep(tf.mul(coeff * weight, mmd2(fs, ft)));
          return tf.add(ce, alignKept) as tf.Scalar;
        },
        true,
        vars,
      );
      const v = cost?.dataSync()[0] ?? 0;
      const classLoss = ceKept?.dataSync()[0] ?? Number.NaN;
      const domainLoss = alignKept?.dataSync()[0] ?? Number.NaN;
      tf.dispose([cost, ceKept, alignKept].filter((t): t is tf.Tensor => t !== undefined));
      ys.dispose();
      s.x.dispose();
      t.x.dispose();
      if (!Number.isFinite(v))
        throw new FaultlineError(
          'FL_ERR_TRAIN',
          `the ${strategy} loss became ${v} at step ${step}; lower the learning rate`,
        );
      options.onStep?.(step, steps, { loss: v, classLoss, domainLoss });
      if (step % evalEvery === 0 || step === steps) score(step);
      if (step % 8 === 0) await new Promise<void>((r) => setImmediate(r));
    }
    const chosen = selectCheckpoint(checkpoints, 0.01, criterion);
    cnn.model.setWeights(snapshots[chosen]);
    return {
      checkpoints,
      chosen,
      selection:
        `label-free: ${criterion === 'im' ? 'highest target IM score (H(mean p) − mean H(p))' : 'lowest mean target prediction entropy'} among checkpoints every ${evalEvery} steps ` +
        `whose source validation accuracy is within 1 point of the best; chose step ${checkpoints[chosen].step}`,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    for (const snap of snapshots) disposeAll(snap);
    optimizer.dispose();
    domainLabels.dispose();
    disc?.dispose();
  }
}

function takeSubset(set: InputSet, idx: Int32Array): InputSet {
  const size = set.shape[0] * set.shape[1];
  const x = new Float32Array(idx.length * size);
  idx.forEach((r, i) => {
    x.set(set.x.subarray(r * size, (r + 1) * size), i * size);
  });
  return { x, y: new Int32Array(idx.length).fill(-1), n: idx.length, shape: set.shape };
}
