/**
 * Supervised transfer with a FEW labelled target windows.
 *
 * - `finetune`: same classes; the lower conv blocks (generic time-frequency
 *   edges) are frozen and the upper block + head are trained briefly at a low
 *   learning rate, so a handful of windows cannot wreck the whole network.
 * - `features`: a new label set (say, a machine's own fault names): the whole
 *   feature extractor is frozen and a new classifier head is trained on it.
 */
import { FaultlineError } from '../../errors.js';
import { type InputSet, mulberry32, permutation, withSeededMathRandom } from '../inputs.js';
import { wrapLayerCall } from '../layer-call.js';
import * as tf from '../tf.js';
import {
  accuracyOf,
  crossEntropy,
  disposeAll,
  meanLoss,
  snapshotWeights,
  type TrainResult,
  trainableVariables,
  trainClassifier,
} from '../train.js';
import type { CnnParts } from './align.js';

/** Layers frozen by `finetune`: the first two conv stages and their batch norms. */
export const FINETUNE_FROZEN = /^(conv|bn|relu|pool)[12]$/;

/**
 * Fine-tunes `cnn` in place on labelled target windows with the lower conv
 * blocks frozen. `val` (labelled, e.g. source validation) only reports; the
 * epoch count is fixed because a few windows give no trustworthy early stop.
 */
export async function finetune(
  cnn: CnnParts,
  target: InputSet,
  val: InputSet,
  options: { epochs?: number; seed?: number } = {},
): Promise<TrainResult> {
  if (target.n === 0 || target.y.some((v) => v < 0)) {
    throw new FaultlineError(
      'FL_ERR_TRAIN',
      'finetune needs labelled target windows of the model’s classes',
    );
  }
  const frozen = cnn.model.layers.filter((l) => FINETUNE_FROZEN.test(l.name));
  for (const l of frozen) l.trainable = false;
  // tfjs's BatchNormalization normalises with the batch's statistics and
  // updates its moving mean/variance whenever it is called with
  // `training: true`, trainable or not (Keras ≥ 2.1.3 runs a frozen one in
  // inference mode). A frozen block must be the block the upper layers will
  // see at inference: run the frozen layers in inference mode while training.
  const restore = frozen.map((l) =>
    wrapLayerCall(l, (stock) => (inputs, kwargs) => stock(inputs, { ...kwargs, training: false })),
  );
  try {
    const epochs = options.epochs ?? 10;
    return await trainClassifier(cnn.model, target, val, {
      epochs,
      patience: epochs,
      learningRate: 3e-4,
      batchSize: 16,
      seed: options.seed ?? 1,
      variables: trainableVariables(cnn.model),
    });
  } finally {
    for (const r of restore) r();
    for (const l of frozen) l.trainable = true;
  }
}

/**
 * A new head for `numClasses` classes on the frozen `features` extractor;
 * returns the combined model (sharing the extractor's weights) and its head.
 */
export function newHead(
  features: tf.LayersModel,
  numClasses: number,
  seed = 1,
): { model: tf.LayersModel; classifier: tf.LayersModel } {
  const dim = features.outputs[0].shape[1] as number;
  const input = tf.input({ shape: [dim] });
  let h = tf.layers.dropout({ rate: 0.3 }).apply(input) as tf.SymbolicTensor;
  h = tf.layers
    .dense({ units: 32, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed }) })
    .apply(h) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({
      units: numClasses,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    })
    .apply(h) as tf.SymbolicTensor;
  const classifier = tf.model({ inputs: input, outputs: out, name: 'classifier_features' });
  const model = tf.model({
    inputs: features.inputs,
    outputs: classifier.apply(features.outputs[0]) as tf.SymbolicTensor,
  });
  return { model, classifier };
}

/**
 * Trains only the head of a {@link newHead} model. The frozen extractor runs
 * once in inference mode (so its batch-norm statistics stay untouched) and
 * the head is trained on the cached feature vectors; the epoch with the
 * lowest `val` loss is kept.
 */
export async function trainNewHead(
  parts: { model: tf.LayersModel; classifier: tf.LayersModel },
  features: tf.LayersModel,
  train: InputSet,
  val: InputSet,
  options: { epochs?: number; seed?: number } = {},
): Promise<{ valAccuracy: number; epochs: number }> {
  // The head's dropout masks come from Math.random: seed it, so a run repeats exactly.
  return withSeededMathRandom(options.seed ?? 1, () =>
    trainHead(parts, features, train, val, options),
  );
}

async function trainHead(
  parts: { model: tf.LayersModel; classifier: tf.LayersModel },
  features: tf.LayersModel,
  train: InputSet,
  val: InputSet,
  options: { epochs?: number; seed?: number },
): Promise<{ valAccuracy: number; epochs: number }> {
  const C = parts.classifier.outputs[0].shape[1] as number;
  if (train.n === 0 || val.n === 0 || train.y.some((v) => v < 0 || v >= C)) {
    throw new FaultlineError(
      'FL_ERR_TRAIN',
      `a new head needs labelled windows of its ${C} classes in train and validation`,
    );
  }
  const featsOf = (set: InputSet) => {
    const x = tf.tensor4d(set.x, [set.n, ...set.shape]);
    const f = tf.tidy(() => features.predict(x) as tf.Tensor2D);
    x.dispose();
    return f;
  };
  const ft = featsOf(train);
  const fv = featsOf(val);
  const yt = tf.tidy(() => tf.oneHot(tf.tensor1d(train.y, 'int32'), C));
  const vars = trainableVariables(parts.classifier);
  const optimizer = tf.train.adam(1e-3);
  const rand = mulberry32(options.seed ?? 1);
  const epochs = options.epochs ?? 30;
  let best: tf.Tensor[] | undefined;
  let bestLoss = Number.POSITIVE_INFINITY;
  let bestAcc = 0;
  try {
    for (let e = 0; e < epochs; e++) {
      const order = permutation(train.n, rand);
      for (let from = 0; from < train.n; from += 16) {
        const idx = tf.tensor1d(order.slice(from, Math.min(train.n, from + 16)), 'int32');
        optimizer.minimize(
          () =>
            crossEntropy(
              tf.gather(yt, idx),
              parts.classifier.apply(tf.gather(ft, idx), { training: true }) as tf.Tensor,
            ),
          false,
          vars,
        );
        idx.dispose();
      }
      const p = tf.tidy(() => parts.classifier.predict(fv) as tf.Tensor);
      const probs = p.dataSync() as Float32Array;
      p.dispose();
      const loss = meanLoss(probs, val.y, C);
      if (loss < bestLoss) {
        bestLoss = loss;
        bestAcc = accuracyOf(probs, val.y, C);
        disposeAll(best);
        best = snapshotWeights(parts.classifier);
      }
    }
    if (best) parts.classifier.setWeights(best);
  } finally {
    disposeAll(best);
    tf.dispose([ft, fv, yt]);
    optimizer.dispose();
  }
  return { valAccuracy: bestAcc, epochs };
}
