/**
 * Candidate CNN architectures for spectrogram classification, as tf.layers models.
 *
 * Every variant is split in two so domain adaptation (DANN, MMD) can be built
 * on top: a feature extractor `[batch, freq, time, 1] → [batch, featureDim]`
 * and a classifier head `[batch, featureDim] → [batch, numClasses]` (softmax
 * probabilities). `model` chains the two and shares their weights, so training
 * `model` trains both parts; a domain head is attached to `features.outputs`.
 *
 * Variants (all conv → batch norm → ReLU, 3×3 kernels, "same" padding, NHWC):
 * - `reference`: 16-32-64 channels, each followed by 2×2 max pooling.
 * - `strided`:   16-32-64 channels with stride 2 instead of pooling (~4× fewer
 *                multiply-adds in the first layer, no MaxPoolGrad).
 * - `slim`:      8-32-64 with pooling: fewer channels at full resolution.
 * - `strided_wide`: 16(s2)-32(s2)-64(s1)-64(s2): `strided` plus one stride-1 conv
 *                at 16×16 for capacity.
 * The dense head is flatten → dropout → dense(32, ReLU) → dropout → dense(numClasses);
 * flattening (not global pooling) keeps where in frequency a pattern sits.
 */
import { withFusedTrainingGradient } from './batch-norm.js';
import { CNN_VARIANTS, type CnnVariant } from './choices.js';
import { withLazyInputGradient } from './conv-grad.js';
import * as tf from './tf.js';

export { CNN_VARIANTS, type CnnVariant };

/** One conv stage: output channels, conv stride, whether 2×2 max pooling follows. */
interface Stage {
  filters: number;
  stride: 1 | 2;
  pool: boolean;
}

const STAGES: Record<CnnVariant, Stage[]> = {
  reference: [
    { filters: 16, stride: 1, pool: true },
    { filters: 32, stride: 1, pool: true },
    { filters: 64, stride: 1, pool: true },
  ],
  strided: [
    { filters: 16, stride: 2, pool: false },
    { filters: 32, stride: 2, pool: false },
    { filters: 64, stride: 2, pool: false },
  ],
  slim: [
    { filters: 8, stride: 1, pool: true },
    { filters: 32, stride: 1, pool: true },
    { filters: 64, stride: 1, pool: true },
  ],
  strided_wide: [
    { filters: 16, stride: 2, pool: false },
    { filters: 32, stride: 2, pool: false },
    { filters: 64, stride: 1, pool: false },
    { filters: 64, stride: 2, pool: false },
  ],
};

export interface CnnOptions {
  /** Units of the hidden dense layer of the head; default 32. */
  hiddenUnits?: number;
  /** Dropout rate before each dense layer; default 0.3. */
  dropout?: number;
  /**
   * Seed of every weight initialiser (reproducible builds); default unseeded.
   * Not given to the dropout layers: tfjs's dropout with a seed draws the SAME
   * mask at every step (it re-seeds its generator per call), which is not
   * dropout; training seeds their masks through Math.random instead
   * (`withSeededMathRandom` in ./inputs.ts).
   */
  seed?: number;
}

export interface Cnn {
  /** `[batch, H, W, C]` → `[batch, featureDim]` (flattened conv features). */
  features: tf.LayersModel;
  /** `[batch, featureDim]` → `[batch, numClasses]` softmax probabilities. */
  classifier: tf.LayersModel;
  /** `features` then `classifier`, sharing their layers. */
  model: tf.LayersModel;
  featureDim: number;
  variant: CnnVariant;
}

/**
 * Builds a CNN variant for inputs of `inputShape` = `[H, W, C]` (e.g. `[64, 64, 1]`:
 * 64 frequency bins × 64 frames × 1 channel) and `numClasses` classes.
 */
export function buildCnn(
  inputShape: [number, number, number],
  numClasses: number,
  variant: CnnVariant = 'reference',
  options: CnnOptions = {},
): Cnn {
  const stages = STAGES[variant];
  if (!stages)
    throw new TypeError(`unknown CNN variant '${variant}' (use ${CNN_VARIANTS.join(', ')})`);
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new TypeError(`numClasses must be an integer ≥ 2, got ${numClasses}`);
  }
  const { hiddenUnits = 32, dropout = 0.3, seed } = options;
  let seedCounter = seed ?? 0;
  const init = () =>
    seed === undefined ? 'heNormal' : tf.initializers.heNormal({ seed: seedCounter++ });
  // The softmax layer keeps tfjs's default Glorot, seeded like the others.
  const outInit = () =>
    seed === undefined ? 'glorotUniform' : tf.initializers.glorotUniform({ seed: seedCounter++ });

  const input = tf.input({ shape: inputShape, name: 'spectrogram' });
  let x = input as tf.SymbolicTensor;
  stages.forEach((stage, i) => {
    // Stock layers; only how their training gradient runs differs (./conv-grad.ts, ./batch-norm.ts).
    x = withLazyInputGradient(
      tf.layers.conv2d({
        filters: stage.filters,
        kernelSize: 3,
        strides: stage.stride,
        padding: 'same',
        useBias: false, // batch norm's beta is the bias
        kernelInitializer: init(),
        name: `conv${i + 1}`,
      }),
    ).apply(x) as tf.SymbolicTensor;
    x = withFusedTrainingGradient(tf.layers.batchNormalization({ name: `bn${i + 1}` })).apply(
      x,
    ) as tf.SymbolicTensor;
    x = tf.layers
      .activation({ activation: 'relu', name: `relu${i + 1}` })
      .apply(x) as tf.SymbolicTensor;
    if (stage.pool) {
      x = tf.layers
        .maxPooling2d({ poolSize: 2, strides: 2, name: `pool${i + 1}` })
        .apply(x) as tf.SymbolicTensor;
    }
  });
  const flat = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  const features = tf.model({ inputs: input, outputs: flat, name: `features_${variant}` });
  const featureDim = flat.shape[1] as number;

  const fIn = tf.input({ shape: [featureDim], name: 'features' });
  let h = tf.layers.dropout({ rate: dropout, name: 'drop1' }).apply(fIn) as tf.SymbolicTensor;
  h = tf.layers
    .dense({ units: hiddenUnits, activation: 'relu', kernelInitializer: init(), name: 'hidden' })
    .apply(h) as tf.SymbolicTensor;
  h = tf.layers.dropout({ rate: dropout, name: 'drop2' }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({
      units: numClasses,
      activation: 'softmax',
      kernelInitializer: outInit(),
      name: 'logits',
    })
    .apply(h) as tf.SymbolicTensor;
  const classifier = tf.model({ inputs: fIn, outputs: out, name: `classifier_${variant}` });

  const model = tf.model({
    inputs: input,
    outputs: classifier.apply(features.outputs[0]) as tf.SymbolicTensor,
    name: `cnn_${variant}`,
  });
  return { features, classifier, model, featureDim, variant };
}

/**
 * Gives the Conv2D and BatchNormalization layers of an already built or loaded
 * `model` (nested models included) the training paths buildCnn uses
 * (./conv-grad.ts, ./batch-norm.ts), so fine-tuning a loaded model trains as
 * fast as a fresh one. Weights, outputs and saved form stay the same; returns `model`.
 */
export function withFastTrainingGradients(model: tf.LayersModel): tf.LayersModel {
  const seen = new Set<tf.layers.Layer>();
  const visit = (layers: tf.layers.Layer[]) => {
    for (const layer of layers) {
      if (seen.has(layer)) continue;
      seen.add(layer);
      const cls = layer.getClassName();
      if (cls === 'Conv2D') withLazyInputGradient(layer);
      else if (cls === 'BatchNormalization') withFusedTrainingGradient(layer);
      const nested = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
      if (Array.isArray(nested)) visit(nested);
    }
  };
  visit(model.layers);
  return model;
}
