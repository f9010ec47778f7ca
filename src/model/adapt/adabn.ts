/**
 * Target batch-norm statistics (AdaBN, Li et al. 2016): re-estimate every
 * batch-norm layer's moving mean and variance on UNLABELLED target windows,
 * layer by layer from the input up (each layer's input depends on the
 * statistics below it). Label-free and cheap; it removes the first- and
 * second-order shift of every conv channel between operating conditions,
 * which is what a load or gain change mostly does to a spectrogram.
 */
import type { InputSet } from '../inputs.js';
import * as tf from '../tf.js';
import { batchTensor } from '../train.js';

/** Sets the moving statistics of every BatchNormalization layer of `model` from `set` (in place). */
export function recomputeBatchNormStats(
  model: tf.LayersModel,
  set: InputSet,
  batchSize = 256,
): void {
  const idx = Int32Array.from({ length: set.n }, (_, i) => i);
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const probe = tf.model({ inputs: model.inputs, outputs: layer.input as tf.SymbolicTensor });
    const channels = (layer.input as tf.SymbolicTensor).shape.at(-1) as number;
    const sum = new Float64Array(channels);
    const sumSq = new Float64Array(channels);
    let count = 0;
    for (let from = 0; from < set.n; from += batchSize) {
      const to = Math.min(set.n, from + batchSize);
      const { x } = batchTensor(set, idx, from, to);
      const [s, q, n] = tf.tidy(() => {
        const a = probe.predict(x) as tf.Tensor;
        const flat = tf.reshape(a, [-1, channels]);
        return [
          tf.sum(flat, 0).dataSync(),
          tf.sum(tf.square(flat), 0).dataSync(),
          flat.shape[0],
        ] as const;
      });
      x.dispose();
      for (let c = 0; c < channels; c++) {
        sum[c] += s[c];
        sumSq[c] += q[c];
      }
      count += n;
    }
    const mean = Float32Array.from(sum, (v) => v / count);
    const variance = Float32Array.from(sumSq, (v, c) => Math.max(0, v / count - mean[c] ** 2));
    const [gamma, beta] = layer.getWeights();
    const stats = [tf.tensor1d(mean), tf.tensor1d(variance)];
    layer.setWeights([gamma, beta, ...stats]);
    tf.dispose(stats);
  }
}
