/**
 * Model throughput per backend and per CNN architecture variant.
 *
 * Input: 64×32×1 spectrogram windows (the shipped models' inputShape, see
 * models/<name>/faultline.json), 10 classes, batch 64, Adam, one core.
 * - `train_samples_per_s_<backend>`: training samples/s of the shipped `strided`
 *   CNN, stepped as `trainClassifier` does (optimizer.minimize on the
 *   cross-entropy; cpu: a single step is timed — it runs a few samples/s).
 * - `infer_windows_per_s_<backend>`: inference windows/s of the same CNN (batch 64).
 * - `train_samples_per_s_wasm_<variant>` / `infer_windows_per_s_wasm_<variant>`:
 *   every variant of src/model/architectures.ts on wasm, so the model can be
 *   picked on numbers. Targets on one core: ≥ 400 samples/s, ≥ 1,500 windows/s.
 * Synthetic inputs: throughput does not depend on the values.
 */

import { buildCnn, CNN_VARIANTS, type CnnVariant } from '../../src/model/architectures.js';
import { type BackendName, initBackend } from '../../src/model/backend.js';
import * as tf from '../../src/model/tf.js';
import { crossEntropy, trainableVariables } from '../../src/model/train.js';
import type { Metrics } from '../run.js';

export const name = 'model';

const BATCH = 64;
const INPUT: [number, number, number] = [64, 32, 1];
/** The variant the shipped models use (models/<name>/faultline.json). */
const SHIPPED: CnnVariant = 'strided';
const CLASSES = 10;

/** Samples/s of `steps` timed training steps after `warmup` untimed ones. */
async function trainRate(variant: CnnVariant, warmup: number, steps: number): Promise<number> {
  const { model } = buildCnn(INPUT, CLASSES, variant, { seed: 1 });
  const optimizer = tf.train.adam(1e-3);
  const vars = trainableVariables(model);
  const x = tf.randomNormal([BATCH, ...INPUT]);
  const y = tf.oneHot(tf.randomUniform([BATCH], 0, CLASSES, 'int32') as tf.Tensor1D, CLASSES);
  // The step of src/model/train.ts: the loss read back each step, as it logs it.
  const step = () => {
    const cost = optimizer.minimize(
      () => crossEntropy(y, model.apply(x, { training: true }) as tf.Tensor),
      true,
      vars,
    );
    cost?.dataSync();
    cost?.dispose();
  };
  for (let i = 0; i < warmup; i++) step();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const rate = (steps * BATCH * 1000) / (performance.now() - t0);
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return rate;
}

/** Windows/s of `reps` timed predict calls on a batch of 64. */
async function inferRate(variant: CnnVariant, reps: number): Promise<number> {
  const { model } = buildCnn(INPUT, CLASSES, variant, { seed: 1 });
  const x = tf.randomNormal([BATCH, ...INPUT]);
  const run = async () => {
    const p = model.predict(x) as tf.Tensor;
    await p.data();
    p.dispose();
  };
  await run();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await run();
  const rate = (reps * BATCH * 1000) / (performance.now() - t0);
  x.dispose();
  model.dispose();
  return rate;
}

export async function run(): Promise<Metrics> {
  const metrics: Metrics = {};
  const quiet = () => {};
  for (const backend of ['node', 'wasm', 'cpu'] as BackendName[]) {
    try {
      await initBackend({ prefer: backend, log: quiet });
    } catch (err) {
      process.stderr.write(`bench model: ${backend} skipped: ${(err as Error).message}\n`);
      continue;
    }
    const slow = backend === 'cpu';
    metrics[`train_samples_per_s_${backend}`] = await trainRate(
      SHIPPED,
      slow ? 0 : 2,
      slow ? 1 : 20,
    );
    metrics[`infer_windows_per_s_${backend}`] = await inferRate(SHIPPED, slow ? 1 : 40);
    if (backend !== 'wasm') continue;
    for (const variant of CNN_VARIANTS) {
      if (variant === SHIPPED) continue;
      metrics[`train_samples_per_s_wasm_${variant}`] = await trainRate(variant, 2, 10);
      metrics[`infer_windows_per_s_wasm_${variant}`] = await inferRate(variant, 20);
    }
  }
  return metrics;
}
