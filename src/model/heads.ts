/**
 * Auxiliary heads of a multi-task model (`--heads location,size,condition`):
 * extra classifiers on the SAME shared features as the primary head, trained
 * together with it (the sum of the heads' cross-entropies).
 *
 * - `location`: where the fault is (normal, inner race, outer race, ball),
 *   read from the class name (../contract/fault-names.ts): CWRU `IR007`,
 *   the simulator's `inner`, a mapped label `outer`.
 * - `size`: the defect size the class name carries (CWRU's 0.007/0.014/0.021
 *   in). Windows of a class without one (normal, the simulator's classes) are
 *   left out of this head's loss by a mask (label -1), never given a made-up size.
 * - `condition`: the window's operating condition (its domain: a CWRU load,
 *   a speed). It needs no fault label, so during adaptation the target trains
 *   it too; fault heads train on the source only.
 *
 * The primary head (the model's `classes`) is unchanged: the artifact keeps a
 * single-output `model` for every existing caller (./artifact.ts).
 */
import { operatorClass } from '../contract/fault-names.js';
import type { HeadName, HeadSpec } from './choices.js';
import type { InputSet } from './inputs.js';
import * as tf from './tf.js';

export { HEAD_NAMES, type HeadName, type HeadSpec, parseHeads } from './choices.js';

/** A primary class's value for a fault head, or undefined when the class has none. */
export function faultHeadValue(head: 'location' | 'size', label: string): string | undefined {
  const op = operatorClass(label);
  if (head === 'size') return op.severity;
  const known = ['normal', 'inner race', 'outer race', 'ball'];
  return known.includes(op.faultClass) ? op.faultClass : undefined;
}

/**
 * The heads of `names` that the data can train: each needs ≥ 2 classes
 * (`conditions` for `condition`, the fault values of `classes` otherwise).
 * Heads that cannot are left out and named in `dropped` (with why), so a
 * `--heads size` on data without sizes says so instead of failing.
 */
export function headSpecs(
  names: readonly HeadName[],
  classes: readonly string[],
  conditions: readonly string[],
): { heads: HeadSpec[]; dropped: string[] } {
  const heads: HeadSpec[] = [];
  const dropped: string[] = [];
  for (const name of names) {
    const values =
      name === 'condition'
        ? [...new Set(conditions)].sort()
        : [
            ...new Set(
              classes
                .map((c) => faultHeadValue(name, c))
                .filter((v): v is string => v !== undefined),
            ),
          ].sort();
    if (values.length < 2) {
      dropped.push(`${name} (the data gives ${values.length === 1 ? 'one value' : 'no value'})`);
      continue;
    }
    heads.push({ name, classes: values, classifierLayer: `head_${name}` });
  }
  return { heads, dropped };
}

/**
 * One label per window of `set` for `head` (-1 where the head has none): fault
 * heads from the window's primary class (`set.y` indexes `classes`), the
 * condition head from the window's domain (`set.domains`).
 */
export function headLabels(head: HeadSpec, set: InputSet, classes: readonly string[]): Int32Array {
  const out = new Int32Array(set.n).fill(-1);
  if (head.name === 'condition') {
    const d = set.domains;
    if (d) for (let i = 0; i < set.n; i++) out[i] = head.classes.indexOf(d[i] ?? '');
    return out;
  }
  const name = head.name;
  const table = classes.map((c) => {
    const v = faultHeadValue(name, c);
    return v === undefined ? -1 : head.classes.indexOf(v);
  });
  for (let i = 0; i < set.n; i++) out[i] = set.y[i] >= 0 ? (table[set.y[i]] ?? -1) : -1;
  return out;
}

/**
 * A head classifier `[batch, featureDim] → [batch, classes]` built like the
 * primary head (../architectures.ts: dropout → dense(32, ReLU) → dropout →
 * softmax), with its own layer names so several heads save in one topology.
 */
export function buildHead(
  featureDim: number,
  spec: HeadSpec,
  seed: number,
  options: { hiddenUnits?: number; dropout?: number } = {},
): tf.LayersModel {
  const { hiddenUnits = 32, dropout = 0.3 } = options;
  const n = spec.name;
  const fIn = tf.input({ shape: [featureDim], name: `${n}_features` });
  let h = tf.layers.dropout({ rate: dropout, name: `${n}_drop1` }).apply(fIn) as tf.SymbolicTensor;
  h = tf.layers
    .dense({
      units: hiddenUnits,
      activation: 'relu',
      kernelInitializer: tf.initializers.heNormal({ seed }),
      name: `${n}_hidden`,
    })
    .apply(h) as tf.SymbolicTensor;
  h = tf.layers.dropout({ rate: dropout, name: `${n}_drop2` }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({
      units: spec.classes.length,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      name: `${n}_logits`,
    })
    .apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: fIn, outputs: out, name: spec.classifierLayer });
}

/** Seeds of the head initialisers: far from buildCnn's (which count up from the run's seed). */
export function headSeed(runSeed: number, index: number): number {
  return runSeed * 1000 + 500 + 2 * index;
}

/**
 * Mean cross-entropy of `probs` `[b, C]` over the rows whose label is ≥ 0
 * (`labels`, length b); undefined when no row has one (the head then adds
 * nothing to the step's loss). `tf.oneHot` of -1 is a zero row, so masked
 * rows add 0 to the sum.
 */
export function maskedCrossEntropy(labels: Int32Array, probs: tf.Tensor): tf.Scalar | undefined {
  let n = 0;
  for (const v of labels) if (v >= 0) n++;
  if (n === 0) return undefined;
  const C = probs.shape[1] as number;
  return tf.tidy(() => {
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), C);
    const ll = tf.sum(tf.mul(onehot, tf.log(tf.clipByValue(probs, 1e-7, 1))));
    return tf.div(tf.neg(ll), n) as tf.Scalar;
  });
}

/** The rows `idx[from…to)` of per-window `labels`. */
export function labelRows(
  labels: Int32Array,
  idx: ArrayLike<number>,
  from: number,
  to: number,
): Int32Array {
  const out = new Int32Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = labels[idx[i]];
  return out;
}

/**
 * Probabilities of a head for every row of `set`, `[n × C]` row-major: the
 * shared features, then the head (batched like ./train.ts predictProbs).
 */
export function headProbs(
  features: tf.LayersModel,
  head: tf.LayersModel,
  set: InputSet,
  batchSize = 256,
): Float32Array {
  const C = head.outputs[0].shape[1] as number;
  const size = set.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(set.n * C);
  for (let from = 0; from < set.n; from += batchSize) {
    const to = Math.min(set.n, from + batchSize);
    const p = tf.tidy(() => {
      const x = tf.tensor4d(set.x.subarray(from * size, to * size), [to - from, ...set.shape]);
      return head.predict(features.predict(x) as tf.Tensor) as tf.Tensor;
    });
    out.set(p.dataSync() as Float32Array, from * C);
    p.dispose();
  }
  return out;
}
