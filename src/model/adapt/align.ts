/**
 * Unsupervised domain alignment: the training loop shared by DANN, CDAN and MMD.
 *
 * Each step draws a labelled source batch and an UNLABELLED target batch,
 * runs both through the feature extractor in one pass (so batch norm sees
 * both domains) and minimises
 *
 *   CE(classifier(f_s), y_s) + alignment(f_s, f_t) [+ λ·target(p_t)]
 *
 * where alignment is, for `dann`, the discriminator's binary cross-entropy
 * behind a gradient reversal layer with coefficient 2/(1+exp(−10p))−1, and
 * for `mmd`, β·MK-MMD²(f_s, f_t) with the same ramp on β. Every
 * `evalEvery` steps a checkpoint is scored without target labels
 * (./selection.ts) and the chosen one is restored at the end.
 *
 * Class-aware variants, because plain DANN aligns the two marginals and can
 * do so with whole classes swapped (CWRU load 3 → 0: IR014 mapped onto OR021):
 * - `cdan` — CDAN+E (Long et al., NeurIPS 2018): the discriminator sees the
 *   multilinear map f ⊗ p (features × softmax, p without gradient, as in the
 *   authors' code) so it aligns the joint of features and predictions, and
 *   each window's discriminator loss is weighted by 1 + exp(−H(p)) (normalised
 *   per domain) so uncertain, hard-to-transfer windows count less. The map
 *   is the exact outer product (featureDim·C inputs to the 64-unit
 *   discriminator), not the paper's randomised 1024-d approximation for
 *   large maps: affordable here, and nothing random to seed. About 2× the
 *   time of a DANN step.
 * - `dann-ent` — DANN plus target entropy minimisation (Grandvalet & Bengio
 *   2005) with weight 1 on the same ramp: pushes target windows away from the
 *   decision boundaries.
 * - `dann-im` — DANN plus the information-maximisation loss of SHOT (Liang
 *   et al., ICML 2020), mean H(p_t) + KL(mean p_t ‖ π), both terms weight 1
 *   on the same ramp: confident target predictions whose class mix is the
 *   source's (π; SHOT's uniform mix with `classPrior: 'uniform'`, where the
 *   term is −H(mean p_t) up to a constant), so the target (which holds every
 *   class, like the source) cannot fold one class into another.
 *   Only for a data-set target (the `im` selection criterion's assumption):
 *   on ONE machine in one state the diversity term would spread its windows
 *   over classes, so single-machine adaptation keeps to dann/mmd.
 *
 * Progress for a console: `onStep` gets each step's losses (total, the
 * source cross-entropy and the alignment term) and `onCheckpoint` each scored
 * checkpoint, with, for DANN/CDAN, the discriminator's accuracy on held-out
 * source validation and target windows (0.5: the domains can no longer be told apart).
 */
import { FaultlineError } from '../../errors.js';
import type { ClassPrior } from '../choices.js';
import { labelRows, maskedCrossEntropy } from '../heads.js';
import {
  type InputSet,
  inputSize,
  mulberry32,
  permutation,
  withSeededMathRandom,
} from '../inputs.js';
import * as tf from '../tf.js';
import {
  accuracyOf,
  batchTensor,
  crossEntropy,
  disposeAll,
  predictProbs,
  restoreWeights,
  snapshotWeights,
  trainableVariables,
} from '../train.js';
import { dannCoefficient, reverseGradient, stopGradient } from './gradient-reversal.js';
import { mmd2 } from './mmd.js';
import {
  type Checkpoint,
  predictionStats,
  type SelectionCriterion,
  selectCheckpoint,
} from './selection.js';

/** Label-free alignment strategies (see the file comment). */
export type AlignStrategy = 'dann' | 'mmd' | 'cdan' | 'dann-ent' | 'dann-im';
export const ALIGN_STRATEGIES: readonly AlignStrategy[] = [
  'dann',
  'mmd',
  'cdan',
  'dann-ent',
  'dann-im',
];

/**
 * Extra loss on the unlabelled target predictions: `entropy` = mean H(p_t);
 * `im` = mean H(p_t) − H(mean p_t) (SHOT's information maximisation).
 */
export type TargetLoss = 'none' | 'entropy' | 'im';

/** What each strategy is made of. */
interface Recipe {
  /** Adversarial discriminator (behind gradient reversal) or MK-MMD. */
  align: 'adversarial' | 'mmd';
  /** Discriminator on f ⊗ p with entropy-weighted windows (CDAN+E). */
  conditional: boolean;
  targetLoss: TargetLoss;
}

const RECIPES: Record<AlignStrategy, Recipe> = {
  dann: { align: 'adversarial', conditional: false, targetLoss: 'none' },
  mmd: { align: 'mmd', conditional: false, targetLoss: 'none' },
  cdan: { align: 'adversarial', conditional: true, targetLoss: 'none' },
  'dann-ent': { align: 'adversarial', conditional: false, targetLoss: 'entropy' },
  'dann-im': { align: 'adversarial', conditional: false, targetLoss: 'im' },
};

/** The three weight-sharing parts of a CNN (see ../architectures.ts). */
export interface CnnParts {
  model: tf.LayersModel;
  features: tf.LayersModel;
  classifier: tf.LayersModel;
}

/** Losses of one alignment step (mean over its batch); `loss = classLoss + domainLoss + targetLoss`. */
export interface StepLoss {
  loss: number;
  /** Cross-entropy of the labelled source batch. */
  classLoss: number;
  /** dann/cdan: the discriminator's binary cross-entropy; mmd: the weighted MK-MMD² term. */
  domainLoss: number;
  /** The weighted target term (dann-ent, dann-im); 0 without one. */
  targetLoss: number;
}

export interface AlignOptions {
  strategy: AlignStrategy;
  /** Optimisation steps; default 300. */
  steps?: number;
  /** Windows per domain per step; default 32. */
  batchSize?: number;
  /** Adam learning rate (annealed as lr/(1+10p)^0.75); default 5e-4. */
  learningRate?: number;
  /** Largest weight of the alignment term; default 1. */
  weight?: number;
  /** Target loss; default the strategy's (none for dann, cdan, mmd). */
  targetLoss?: TargetLoss;
  /** Largest weight of the target loss (ramped like the alignment term); default 1. */
  targetWeight?: number;
  /** Steps between label-free checkpoints; default 50. */
  evalEvery?: number;
  /** Seed of batch draws and the discriminator's initialiser; default 1. */
  seed?: number;
  /** Units of the discriminator's hidden layer; default 64. */
  discriminatorUnits?: number;
  /** How checkpoints are ranked on the target (./selection.ts); default `im`. */
  criterion?: SelectionCriterion;
  /**
   * The class mix expected of the target, for dann-im's diversity term and
   * the IM score: `source` (default) the source's class proportions,
   * `uniform` every class alike (SHOT's original term).
   */
  classPrior?: ClassPrior;
  onStep?: (step: number, steps: number, loss: StepLoss) => void;
  onCheckpoint?: (c: Checkpoint) => void;
  /**
   * Auxiliary heads of a multi-task model (../heads.ts), on the same shared
   * features as the discriminator. Each gives a label per `source` window and,
   * for the condition head (which needs no fault label), per `target` window;
   * fault heads give none for the target (-1 or absent) and so train on the
   * source only. Their masked cross-entropies join `classLoss`.
   */
  heads?: AlignHead[];
}

/** An auxiliary head during alignment. */
export interface AlignHead {
  classifier: tf.LayersModel;
  source: Int32Array;
  target?: Int32Array;
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
  if (!RECIPES[options.strategy])
    throw new FaultlineError(
      'FL_ERR_TRAIN',
      `unknown alignment strategy '${options.strategy}'; use ${ALIGN_STRATEGIES.join(', ')}`,
    );
  // Dropout masks come from Math.random: seed it too, so a run repeats exactly.
  return withSeededMathRandom(options.seed ?? 1, () =>
    alignLoop(cnn, source, sourceVal, target, options),
  );
}

/** Mean over rows of the entropy (nats) of probabilities `p` `[n, C]`. */
function meanEntropy(p: tf.Tensor): tf.Scalar {
  return tf.tidy(
    () => tf.neg(tf.mean(tf.sum(tf.mul(p, tf.log(tf.clipByValue(p, 1e-7, 1))), 1))) as tf.Scalar,
  );
}

/**
 * The source's class proportions (add-one smoothed): the class mix the
 * diversity term and the IM score expect of the target, instead of a uniform
 * one. A plant's data is mostly normal, and a data set rarely has equal
 * classes; a uniform target pushes windows of the commoner classes into the
 * rarer ones. Measured on development data (simulated rigs B and C, seeds
 * 8300/8400, eval seeds 1–2, six cross-speed/cross-rig tasks, with the speed
 * augmentation of ../domains.ts): weak 600 rpm inner-race windows went to
 * normal under the uniform term; dann-im 97.7 % → 99.3 %, worst 89.3 → 94.6 %.
 */
export function classPrior(y: Int32Array, C: number): Float64Array {
  const n = new Float64Array(C).fill(1);
  for (const v of y) if (v >= 0 && v < C) n[v]++;
  const total = n.reduce((a, b) => a + b, 0);
  return n.map((v) => v / total);
}

/** Per-row entropy (nats) of `p` `[n, C]` → `[n, 1]`. */
function rowEntropy(p: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.neg(tf.sum(tf.mul(p, tf.log(tf.clipByValue(p, 1e-7, 1))), 1, true)));
}

/** CDAN's multilinear map: `f` `[n, D]` ⊗ `p` `[n, C]` → `[n, D·C]` (row i = vec(f_i p_iᵀ)). */
function multilinear(f: tf.Tensor2D, p: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, D] = f.shape;
    const C = p.shape[1];
    return tf.reshape(tf.mul(tf.reshape(f, [n, D, 1]), tf.reshape(p, [n, 1, C])), [n, D * C]);
  });
}

async function alignLoop(
  ...[cnn, source, sourceVal, target, options]: Parameters<typeof alignDomains>
): Promise<AlignResult> {
  const {
    strategy,
    steps = 300,
    batchSize = 32,
    learningRate = 5e-4,
    weight = 1,
    targetWeight = 1,
    evalEvery = 50,
    seed = 1,
    criterion = 'im',
  } = options;
  const recipe = RECIPES[strategy];
  const targetLossKind = options.targetLoss ?? recipe.targetLoss;
  // Target predictions enter the loss: the classifier runs on both halves of the batch.
  const needTargetProbs = recipe.conditional || targetLossKind !== 'none';
  if (source.n < 2 || target.n < 2 || sourceVal.n === 0) {
    throw new FaultlineError(
      'FL_ERR_TRAIN',
      `adaptation needs source (${source.n}), source validation (${sourceVal.n}) and target (${target.n}) windows`,
    );
  }
  const t0 = performance.now();
  const C = cnn.model.outputs[0].shape[1] as number;
  const featureDim = cnn.features.outputs[0].shape[1] as number;
  const prior = options.classPrior === 'uniform' ? undefined : classPrior(source.y, C);
  const logPrior = prior ? tf.tensor2d(Array.from(prior, Math.log), [1, C]) : undefined;
  const rand = mulberry32(seed);
  const scoreIdx = permutation(target.n, rand).slice(0, Math.min(MAX_SCORE_WINDOWS, target.n));
  const targetScore = takeSubset(target, scoreIdx);
  const sourceScore =
    sourceVal.n > MAX_SCORE_WINDOWS
      ? takeSubset(sourceVal, permutation(sourceVal.n, rand).slice(0, MAX_SCORE_WINDOWS))
      : sourceVal;

  let disc: tf.LayersModel | undefined;
  if (recipe.align === 'adversarial') {
    const units = options.discriminatorUnits ?? 64;
    const input = tf.input({ shape: [recipe.conditional ? featureDim * C : featureDim] });
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
  const heads = options.heads ?? [];
  const headModels = heads.map((h) => h.classifier);
  // Checkpoints hold the heads' weights too: a restored checkpoint is one model.
  const saved = [cnn.model, ...headModels];
  const vars = trainableVariables(cnn.model, ...headModels, ...(disc ? [disc] : []));
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
      target: predictionStats(tp, C, prior),
      ...(disc ? { discriminatorAccuracy: discriminatorAccuracy(cnn, disc) } : {}),
    };
    checkpoints.push(c);
    snapshots.push(saved.flatMap(snapshotWeights));
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
        const x = tf.tensor4d(set.x, [set.n, ...set.shape]);
        const f = parts.features.predict(x, { batchSize: 64 }) as tf.Tensor2D;
        const z = recipe.conditional
          ? multilinear(f, parts.classifier.predict(f, { batchSize: 64 }) as tf.Tensor2D)
          : f;
        return d.predict(z) as tf.Tensor;
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
      // Each head's labels for the joint batch: source rows, then target rows (-1 without).
      const headY = heads.map((h) => {
        const y = new Int32Array(bs + bt).fill(-1);
        y.set(labelRows(h.source, srcOrder, sp, sp + bs));
        if (h.target) y.set(labelRows(h.target, tgtOrder, tp, tp + bt), bs);
        return y;
      });
      sp += bs;
      tp += bt;
      const p = (step - 1) / steps;
      const coeff = dannCoefficient(p);
      setLr(learningRate / (1 + 10 * p) ** 0.75);
      const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(s.y, 'int32'), C));
      // The terms leave the minimize scope kept, read after it, then disposed.
      let ceKept: tf.Tensor | undefined;
      let alignKept: tf.Tensor | undefined;
      let targetKept: tf.Tensor | undefined;
      const cost = optimizer.minimize(
        () => {
          const feats = cnn.features.apply(tf.concat([s.x, t.x]), {
            training: true,
          }) as tf.Tensor2D;
          const fs = tf.slice(feats, [0, 0], [bs, featureDim]);
          // Plain dann/mmd run the classifier on the source half only (as
          // before the class-aware variants: same dropout draws, same runs).
          const probsAll = needTargetProbs
            ? (cnn.classifier.apply(feats, { training: true }) as tf.Tensor2D)
            : undefined;
          const probs = probsAll
            ? tf.slice(probsAll, [0, 0], [bs, C])
            : (cnn.classifier.apply(fs, { training: true }) as tf.Tensor);
          let ce = crossEntropy(ys, probs);
          heads.forEach((h, i) => {
            const hce = maskedCrossEntropy(
              headY[i],
              h.classifier.apply(feats, { training: true }) as tf.Tensor,
            );
            if (hce) ce = tf.add(ce, hce) as tf.Scalar;
          });
          ceKept = tf.keep(ce);
          let total: tf.Scalar = ce;
          if (probsAll && targetLossKind !== 'none') {
            const pt = tf.slice(probsAll, [bs, 0], [bt, C]);
            let lt = meanEntropy(pt);
            if (targetLossKind === 'im') {
              // Diversity: KL(mean p_t ‖ π) up to a constant, i.e. −H(mean p_t) for a uniform π.
              const pm = tf.mean(pt, 0, true);
              lt = tf.sub(lt, meanEntropy(pm));
              if (logPrior) lt = tf.sub(lt, tf.sum(tf.mul(pm, logPrior)) as tf.Scalar);
            }
            targetKept = tf.keep(tf.mul(coeff * targetWeight, lt));
            total = tf.add(total, targetKept);
          }
          const labels =
            bs === batchSize && bt === batchSize
              ? domainLabels
              : tf.concat([tf.ones([bs, 1]), tf.zeros([bt, 1])]);
          if (disc && probsAll && recipe.conditional) {
            // CDAN+E: p enters the map without gradient (the authors' code
            // detaches it); weights 1 + e^−H(p), normalised within each domain.
            const pd = stopGradient(probsAll);
            const z = multilinear(feats, pd);
            const logits = disc.apply(reverseGradient(z, coeff * weight), {
              training: true,
            }) as tf.Tensor;
            const w = tf.add(1, tf.exp(tf.neg(rowEntropy(pd))));
            const ws = tf.slice(w, [0, 0], [bs, 1]);
            const wt = tf.slice(w, [bs, 0], [bt, 1]);
            const wn = tf.concat([tf.div(ws, tf.sum(ws)), tf.div(wt, tf.sum(wt))]);
            // Per-domain weights each sum to 1: the weighted sum / 2 is a weighted mean.
            alignKept = tf.keep(
              tf.div(tf.losses.sigmoidCrossEntropy(labels, logits, wn, 0, tf.Reduction.SUM), 2),
            );
          } else if (disc) {
            const logits = disc.apply(reverseGradient(feats, coeff * weight), {
              training: true,
            }) as tf.Tensor;
            alignKept = tf.keep(tf.losses.sigmoidCrossEntropy(labels, logits));
          } else {
            const ft = tf.slice(feats, [bs, 0], [bt, featureDim]);
            alignKept = tf.keep(tf.mul(coeff * weight, mmd2(fs, ft)));
          }
          return tf.add(total, alignKept) as tf.Scalar;
        },
        true,
        vars,
      );
      const v = cost?.dataSync()[0] ?? 0;
      const classLoss = ceKept?.dataSync()[0] ?? Number.NaN;
      const domainLoss = alignKept?.dataSync()[0] ?? Number.NaN;
      const targetLoss = targetKept?.dataSync()[0] ?? 0;
      tf.dispose(
        [cost, ceKept, alignKept, targetKept].filter((t): t is tf.Tensor => t !== undefined),
      );
      ys.dispose();
      s.x.dispose();
      t.x.dispose();
      if (!Number.isFinite(v))
        throw new FaultlineError(
          'FL_ERR_TRAIN',
          `the ${strategy} loss became ${v} at step ${step}; lower the learning rate`,
        );
      options.onStep?.(step, steps, { loss: v, classLoss, domainLoss, targetLoss });
      if (step % evalEvery === 0 || step === steps) score(step);
      if (step % 8 === 0) await new Promise<void>((r) => setImmediate(r));
    }
    const chosen = selectCheckpoint(checkpoints, 0.01, criterion);
    restoreWeights(saved, snapshots[chosen]);
    return {
      checkpoints,
      chosen,
      selection:
        `label-free: ${criterion === 'im' ? `highest target IM score (${prior ? '−KL(mean p ‖ source class mix)' : 'H(mean p)'} − mean H(p))` : 'lowest mean target prediction entropy'} among checkpoints every ${evalEvery} steps ` +
        `whose source validation accuracy is within 1 point of the best; chose step ${checkpoints[chosen].step}`,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    for (const snap of snapshots) disposeAll(snap);
    optimizer.dispose();
    logPrior?.dispose();
    domainLabels.dispose();
    disc?.dispose();
  }
}

function takeSubset(set: InputSet, idx: Int32Array): InputSet {
  const size = inputSize(set.shape);
  const x = new Float32Array(idx.length * size);
  idx.forEach((r, i) => {
    x.set(set.x.subarray(r * size, (r + 1) * size), i * size);
  });
  return { x, y: new Int32Array(idx.length).fill(-1), n: idx.length, shape: set.shape };
}
