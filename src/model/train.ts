/**
 * Supervised training of the CNN on labelled windows (the "source" model),
 * plus the helpers every training loop here shares: seeded batches, a
 * cross-entropy on the softmax output, batched prediction, accuracy and
 * confusion matrices, weight snapshots for early stopping.
 *
 * A hand-written loop instead of `model.fit`: fit shuffles with Math.random
 * (not seedable), and the adaptation loops need the same batching with custom
 * gradients anyway. Every step runs inside `optimizer.minimize` (a tidy
 * scope) and the batch tensors are disposed after it, so no tensor leaks.
 */
import { FaultlineError } from '../errors.js';
import { buildCnn, type Cnn, type CnnVariant } from './architectures.js';
import { labelRows, maskedCrossEntropy } from './heads.js';
import { type InputSet, mulberry32, permutation, withSeededMathRandom } from './inputs.js';
import * as tf from './tf.js';

/** Options of {@link trainClassifier}. */
export interface TrainOptions {
  /** Maximum epochs; default 15. */
  epochs?: number;
  /** Windows per step; default 64. */
  batchSize?: number;
  /** Adam learning rate; default 1e-3. */
  learningRate?: number;
  /** Stop after this many epochs without a lower validation loss; default 3. */
  patience?: number;
  /** A validation loss must drop by this much (absolute) to count as better; default 1e-3. */
  minDelta?: number;
  /** Seed of the shuffles; default 1. */
  seed?: number;
  /** Called after each step with (step, stepsPerEpoch, epoch). */
  onStep?: (step: number, stepsPerEpoch: number, epoch: number) => void;
  /** Called after each epoch. */
  onEpoch?: (e: EpochLog) => void;
  /** Trainable weights to update; default all of the model's trainable weights. */
  variables?: tf.Variable[];
  /**
   * Auxiliary heads (./heads.ts) trained with the model: the loss becomes the
   * primary cross-entropy plus each head's masked one. Needs the model's two
   * parts (`features`, `classifier`) so the trunk runs once per step. The
   * best epoch is still the one of lowest primary validation loss.
   */
  heads?: AuxTraining;
}

/** What {@link trainClassifier} needs to train auxiliary heads. */
export interface AuxTraining {
  features: tf.LayersModel;
  classifier: tf.LayersModel;
  /** Each head's classifier and one label per `train` window (-1: not in this head's loss). */
  heads: { classifier: tf.LayersModel; labels: Int32Array }[];
}

export interface EpochLog {
  epoch: number;
  loss: number;
  valLoss: number;
  valAccuracy: number;
}

export interface TrainResult {
  history: EpochLog[];
  /** Epoch (1-based) whose weights were kept. */
  bestEpoch: number;
  valAccuracy: number;
  valLoss: number;
  epochsRun: number;
  seconds: number;
}

/** Mean cross-entropy of softmax probabilities `probs` `[b, C]` against one-hot `onehot` `[b, C]`. */
export function crossEntropy(onehot: tf.Tensor, probs: tf.Tensor): tf.Scalar {
  return tf.tidy(
    () =>
      tf.neg(
        tf.mean(tf.sum(tf.mul(onehot, tf.log(tf.clipByValue(probs, 1e-7, 1))), 1)),
      ) as tf.Scalar,
  );
}

/** Rows `idx[from…to)` of `set` as a `[b, F, T, K]` tensor (and their labels). */
export function batchTensor(
  set: InputSet,
  idx: ArrayLike<number>,
  from: number,
  to: number,
): { x: tf.Tensor4D; y: Int32Array } {
  const [F, T, K] = set.shape;
  const size = F * T * K;
  const b = to - from;
  const buf = new Float32Array(b * size);
  const y = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    const r = idx[from + i];
    buf.set(set.x.subarray(r * size, (r + 1) * size), i * size);
    y[i] = set.y[r];
  }
  return { x: tf.tensor4d(buf, [b, F, T, K]), y };
}

/** The tf.Variables behind a layers model's trainable weights. */
export function trainableVariables(...models: tf.LayersModel[]): tf.Variable[] {
  return models.flatMap((m) => m.trainableWeights.map((w) => w.read() as tf.Variable));
}

/** Copies of all weights (including batch-norm statistics), for restoring the best epoch. */
export function snapshotWeights(model: tf.LayersModel): tf.Tensor[] {
  return model.getWeights().map((w) => w.clone());
}

/** Sets the weights of `models` from one flat list, as `[model, ...].flatMap(snapshotWeights)` took them. */
export function restoreWeights(models: tf.LayersModel[], flat: tf.Tensor[]): void {
  let at = 0;
  for (const m of models) {
    const k = m.getWeights().length;
    m.setWeights(flat.slice(at, at + k));
    at += k;
  }
}

export function disposeAll(ts: tf.Tensor[] | undefined): void {
  if (ts) for (const t of ts) t.dispose();
}

/** Softmax outputs of `model` for every row of `set`, `[n × C]` row-major. */
export function predictProbs(model: tf.LayersModel, set: InputSet, batchSize = 256): Float32Array {
  const C = model.outputs[0].shape[1] as number;
  const out = new Float32Array(set.n * C);
  const idx = Int32Array.from({ length: set.n }, (_, i) => i);
  for (let from = 0; from < set.n; from += batchSize) {
    const to = Math.min(set.n, from + batchSize);
    const { x } = batchTensor(set, idx, from, to);
    const p = tf.tidy(() => model.predict(x) as tf.Tensor);
    out.set(p.dataSync() as Float32Array, from * C);
    p.dispose();
    x.dispose();
  }
  return out;
}

/** Index of the largest of each row of `probs` `[n × C]`. */
export function argmaxRows(probs: Float32Array, C: number): Int32Array {
  const n = probs.length / C;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (probs[i * C + c] > probs[i * C + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** Fraction of rows whose argmax equals the label (rows with label < 0 are skipped); NaN when none. */
export function accuracyOf(probs: Float32Array, y: Int32Array, C: number): number {
  const pred = argmaxRows(probs, C);
  let ok = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] < 0) continue;
    n++;
    if (pred[i] === y[i]) ok++;
  }
  return n === 0 ? Number.NaN : ok / n;
}

/** Mean cross-entropy of labelled rows. */
export function meanLoss(probs: Float32Array, y: Int32Array, C: number): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] < 0) continue;
    s -= Math.log(Math.max(probs[i * C + y[i]], 1e-7));
    n++;
  }
  return n === 0 ? Number.NaN : s / n;
}

/** Confusion matrix `[true][predicted]` counts. */
export function confusionMatrix(probs: Float32Array, y: Int32Array, C: number): number[][] {
  const m = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  const pred = argmaxRows(probs, C);
  for (let i = 0; i < y.length; i++) if (y[i] >= 0) m[y[i]][pred[i]]++;
  return m;
}

/**
 * Trains `model` (softmax output) on `train`, keeping the weights of the epoch
 * with the lowest loss on `val` and stopping after `patience` epochs without
 * improvement. Labels must all be ≥ 0.
 * @throws FaultlineError FL_ERR_TRAIN on empty sets, unlabelled rows or a non-finite loss
 */
export async function trainClassifier(
  model: tf.LayersModel,
  train: InputSet,
  val: InputSet,
  options: TrainOptions = {},
): Promise<TrainResult> {
  // Dropout masks come from Math.random: seed it too, so a run repeats exactly.
  return withSeededMathRandom(options.seed ?? 1, () => trainLoop(model, train, val, options));
}

async function trainLoop(
  model: tf.LayersModel,
  train: InputSet,
  val: InputSet,
  options: TrainOptions,
): Promise<TrainResult> {
  const {
    epochs = 15,
    batchSize = 64,
    learningRate = 1e-3,
    patience = 3,
    minDelta = 1e-3,
    seed = 1,
  } = options;
  const C = model.outputs[0].shape[1] as number;
  if (train.n === 0 || val.n === 0) {
    throw new FaultlineError(
      'FL_ERR_TRAIN',
      `training needs windows in both splits (train ${train.n}, val ${val.n})`,
    );
  }
  if (train.y.some((v) => v < 0 || v >= C)) {
    throw new FaultlineError(
      'FL_ERR_TRAIN',
      `every training window needs a label among the ${C} classes`,
    );
  }
  const t0 = performance.now();
  const rand = mulberry32(seed);
  const optimizer = tf.train.adam(learningRate);
  const aux = options.heads;
  const headModels = aux?.heads.map((h) => h.classifier) ?? [];
  const vars = options.variables ?? trainableVariables(model, ...headModels);
  const stepsPerEpoch = Math.ceil(train.n / batchSize);
  const history: EpochLog[] = [];
  let best: tf.Tensor[] | undefined;
  let bestLoss = Number.POSITIVE_INFINITY;
  let bestEpoch = 0;
  let bestAcc = 0;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = permutation(train.n, rand);
      let lossSum = 0;
      for (let s = 0; s < stepsPerEpoch; s++) {
        const from = s * batchSize;
        const to = Math.min(train.n, from + batchSize);
        const { x, y } = batchTensor(train, order, from, to);
        const yt = tf.tidy(() => tf.oneHot(tf.tensor1d(y, 'int32'), C));
        const headY = aux?.heads.map((h) => labelRows(h.labels, order, from, to));
        const cost = optimizer.minimize(
          () => {
            if (!aux || !headY)
              return crossEntropy(yt, model.apply(x, { training: true }) as tf.Tensor);
            const f = aux.features.apply(x, { training: true }) as tf.Tensor;
            let total = crossEntropy(yt, aux.classifier.apply(f, { training: true }) as tf.Tensor);
            aux.heads.forEach((h, i) => {
              const ce = maskedCrossEntropy(
                headY[i],
                h.classifier.apply(f, { training: true }) as tf.Tensor,
              );
              if (ce) total = tf.add(total, ce) as tf.Scalar;
            });
            return total;
          },
          true,
          vars,
        );
        lossSum += cost ? (cost.dataSync()[0] ?? 0) : 0;
        cost?.dispose();
        x.dispose();
        yt.dispose();
        options.onStep?.(s + 1, stepsPerEpoch, epoch);
        // Yield so a progress bar and signals get a turn.
        if (s % 8 === 7) await new Promise<void>((r) => setImmediate(r));
      }
      const loss = lossSum / stepsPerEpoch;
      if (!Number.isFinite(loss))
        throw new FaultlineError(
          'FL_ERR_TRAIN',
          `the training loss became ${loss} at epoch ${epoch}; lower the learning rate`,
        );
      const vp = predictProbs(model, val);
      const log: EpochLog = {
        epoch,
        loss,
        valLoss: meanLoss(vp, val.y, C),
        valAccuracy: accuracyOf(vp, val.y, C),
      };
      history.push(log);
      options.onEpoch?.(log);
      if (log.valLoss < bestLoss - minDelta) {
        bestLoss = log.valLoss;
        bestEpoch = epoch;
        bestAcc = log.valAccuracy;
        disposeAll(best);
        best = [model, ...headModels].flatMap(snapshotWeights);
      } else if (epoch - bestEpoch >= patience) {
        break;
      }
    }
    if (best) restoreWeights([model, ...headModels], best);
  } finally {
    disposeAll(best);
    optimizer.dispose();
  }
  return {
    history,
    bestEpoch,
    valAccuracy: bestAcc,
    valLoss: bestLoss,
    epochsRun: history.length,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * buildCnn with every initialiser seeded by `seed` (so the build draws nothing
 * from Math.random and repeats exactly).
 */
export function buildSeededCnn(
  inputShape: [number, number, number],
  numClasses: number,
  variant: CnnVariant,
  seed: number,
): Cnn {
  return buildCnn(inputShape, numClasses, variant, { seed });
}
