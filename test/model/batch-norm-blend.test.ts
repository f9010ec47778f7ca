/**
 * blendBatchNormStatistics (src/model/adapt/verdict-learn.ts): the moving
 * mean and variance of a network's batch norms moved towards the statistics
 * of their inputs over a set. Checked against a naive per-channel mean and
 * variance of the layer's input, and by a property that does not share its
 * code: with the set's own statistics (weight 1) the layer's output over the
 * set has mean β and variance γ² per channel.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { blendBatchNormStatistics } from '../../src/model/adapt/verdict-learn.js';
import { initBackend } from '../../src/model/backend.js';
import type { InputSet } from '../../src/model/inputs.js';
import { mulberry32 } from '../../src/model/inputs.js';
import * as tf from '../../src/model/tf.js';

before(async () => {
  await initBackend({ prefer: 'wasm', log: () => {} });
});

/** input [6, 5, 2] → conv (3 channels) → bn → relu → bn2: a network like the CNN's blocks. */
function net(): tf.LayersModel {
  const input = tf.input({ shape: [6, 5, 2] });
  const conv = tf.layers
    .conv2d({
      filters: 3,
      kernelSize: 2,
      name: 'conv1',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
    })
    .apply(input) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ name: 'bn1' }).apply(conv) as tf.SymbolicTensor;
  const relu = tf.layers.activation({ activation: 'relu' }).apply(bn) as tf.SymbolicTensor;
  const bn2 = tf.layers.batchNormalization({ name: 'bn2' }).apply(relu) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: bn2 });
  m.getLayer('bn1').setWeights([
    tf.tensor1d([1.5, 0.5, 2]),
    tf.tensor1d([0.1, -0.2, 0.3]),
    tf.tensor1d([0.4, -0.1, 0.2]),
    tf.tensor1d([2, 0.5, 1]),
  ]);
  return m;
}

function set(n: number, offset: number): InputSet {
  const rand = mulberry32(7);
  const x = new Float32Array(n * 60).map(() => offset + 3 * (rand() - 0.5));
  return { x, y: new Int32Array(n).fill(-1), n, shape: [6, 5, 2] };
}

/** Per-channel mean and (biased) variance of `layer`'s input over `s`, naively. */
function naive(
  m: tf.LayersModel,
  layer: string,
  s: InputSet,
): { mean: number[]; variance: number[] } {
  const probe = tf.model({
    inputs: m.inputs,
    outputs: m.getLayer(layer).getInputAt(0) as tf.SymbolicTensor,
  });
  const a = probe.predict(tf.tensor4d(s.x, [s.n, ...s.shape])) as tf.Tensor;
  const C = a.shape[3] as number;
  const d = Array.from(a.dataSync());
  const mean = Array.from({ length: C }, (_, c) => {
    const v = d.filter((_, i) => i % C === c);
    return v.reduce((p, q) => p + q, 0) / v.length;
  });
  const variance = mean.map((mu, c) => {
    const v = d.filter((_, i) => i % C === c);
    return v.reduce((p, q) => p + (q - mu) ** 2, 0) / v.length;
  });
  return { mean, variance };
}

const close = (a: number, b: number, what: string, tol = 1e-3) =>
  assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${what}: ${a} vs ${b}`);

test('weight ½ moves the moving statistics halfway to the set’s; weight 0 leaves them', () => {
  const m = net();
  const s = set(40, 1.5); // 40 inputs: more than one batch of 32
  const [, , mm0, mv0] = m
    .getLayer('bn1')
    .getWeights()
    .map((w) => Array.from(w.dataSync()));
  blendBatchNormStatistics(m, ['bn1'], s, 0);
  const [, , mmZ] = m
    .getLayer('bn1')
    .getWeights()
    .map((w) => Array.from(w.dataSync()));
  assert.deepEqual(mmZ, mm0);
  const ref = naive(m, 'bn1', s);
  blendBatchNormStatistics(m, ['bn1'], s, 0.5);
  const [g, b, mm, mv] = m
    .getLayer('bn1')
    .getWeights()
    .map((w) => Array.from(w.dataSync()));
  for (let c = 0; c < 3; c++) {
    close(mm[c], (mm0[c] + ref.mean[c]) / 2, `mean ${c}`);
    close(mv[c], (mv0[c] + ref.variance[c]) / 2, `variance ${c}`);
  }
  assert.deepEqual(g, [1.5, 0.5, 2], 'γ untouched');
  assert.deepEqual(
    b.map((v) => Math.round(v * 10) / 10),
    [0.1, -0.2, 0.3],
    'β untouched',
  );
});

test('weight 1, in order: each layer then normalises the set to β and γ² (the later one measured after the earlier moved)', () => {
  const m = net();
  const s = set(20, -2);
  blendBatchNormStatistics(m, ['bn1', 'bn2'], s, 1);
  for (const name of ['bn1', 'bn2']) {
    const out = tf.model({
      inputs: m.inputs,
      outputs: m.getLayer(name).getOutputAt(0) as tf.SymbolicTensor,
    });
    const a = out.predict(tf.tensor4d(s.x, [s.n, ...s.shape])) as tf.Tensor;
    const d = Array.from(a.dataSync());
    const [g, b] = m
      .getLayer(name)
      .getWeights()
      .map((w) => Array.from(w.dataSync()));
    for (let c = 0; c < 3; c++) {
      const v = d.filter((_, i) => i % 3 === c);
      const mu = v.reduce((p, q) => p + q, 0) / v.length;
      const va = v.reduce((p, q) => p + (q - mu) ** 2, 0) / v.length;
      close(mu, b[c], `${name} output mean ${c}`, 1e-2);
      // ε = 1e-3 in the denominator: a little under γ²
      close(va, g[c] ** 2, `${name} output variance ${c}`, 2e-2);
    }
  }
});
