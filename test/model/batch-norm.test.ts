/**
 * The fused training gradient of batch norm (src/model/batch-norm.ts) against
 * tfjs-layers' stock BatchNormalization, whose gradient tfjs-core derives op
 * by op (moments, then batchNorm): an independent reference. Compared on the
 * cpu backend (scalar reference kernels) and on wasm.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/model/backend.js';
import { withFusedTrainingGradient } from '../../src/model/batch-norm.js';
import * as tf from '../../src/model/tf.js';

function assertClose(actual: Float32Array, expected: Float32Array, what: string, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol * (1 + Math.abs(expected[i])))) {
      assert.fail(`${what}: element ${i} is ${actual[i]}, stock says ${expected[i]}`);
    }
  }
}

/** A built BatchNormalization layer with non-trivial γ, β; fused or stock. */
function layer(fused: boolean, channels: number, rank = 4): tf.layers.Layer {
  const l = tf.layers.batchNormalization({ momentum: 0.9 });
  const shape = rank === 4 ? [2, 3, 4, channels] : [5, channels];
  l.build(shape);
  const ramp = (a: number, b: number) =>
    tf.tensor1d(Array.from({ length: channels }, (_, i) => a + b * i));
  l.setWeights([ramp(0.5, -0.4), ramp(0.1, 0.2), tf.zeros([channels]), tf.ones([channels])]);
  return fused ? withFusedTrainingGradient(l) : l;
}

/**
 * One training-mode pass of `l` on `x`: loss Σ w·y², its gradients w.r.t. γ, β
 * and x, and the moving statistics afterwards.
 */
function trainPass(l: tf.layers.Layer, x: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const w = tf.randomUniform(x.shape, -1, 1, 'float32', 11);
    const f = (xx: tf.Tensor) =>
      tf.sum(tf.mul(tf.square(l.apply(xx, { training: true }) as tf.Tensor), w)) as tf.Scalar;
    const vars = l.trainableWeights.map((v) => v.read() as tf.Variable);
    const { value, grads } = tf.variableGrads(() => f(x), vars);
    const dx = tf.grad(f)(x);
    return [value, grads[vars[0].name], grads[vars[1].name], dx, ...l.getWeights().slice(2)].map(
      (t) => t.dataSync() as Float32Array,
    );
  });
}

const PARTS = ['loss', 'dGamma', 'dBeta', 'dx', 'movingMean', 'movingVariance'];

describe('batch norm with the fused training gradient', () => {
  before(async () => {
    await initBackend({ prefer: 'wasm', log: () => {} });
  });

  for (const backend of ['cpu', 'wasm']) {
    for (const [what, offset, scale] of [
      ['unit-scale input', 0, 1],
      ['input far from zero (mean 500, σ 0.01)', 500, 0.01],
    ] as const) {
      it(`matches the stock gradient on ${backend} for ${what}`, async () => {
        await tf.setBackend(backend);
        try {
          const x = tf.tidy(() =>
            tf.add(tf.mul(tf.randomNormal([3, 5, 6, 4], 0, 1, 'float32', 7), scale), offset),
          );
          const stock = trainPass(layer(false, 4), x);
          const fused = trainPass(layer(true, 4), x);
          // Far from zero, float32 moments agree only to ~1e-4 relative.
          const tol = offset === 0 ? 1e-4 : 2e-3;
          for (const [i, p] of PARTS.entries())
            assertClose(fused[i], stock[i], `${backend} ${p}`, tol);
          x.dispose();
        } finally {
          await tf.setBackend('wasm');
        }
      });
    }
  }

  it('matches on wasm what the stock layer computes on cpu', async () => {
    await tf.setBackend('cpu');
    const xv = tf.randomNormal([4, 3, 5, 6], 2, 3, 'float32', 3);
    const data = xv.dataSync().slice();
    const stock = trainPass(layer(false, 6), xv);
    xv.dispose();
    await tf.setBackend('wasm');
    const x = tf.tensor4d(data, [4, 3, 5, 6]);
    const fused = trainPass(layer(true, 6), x);
    x.dispose();
    for (const [i, p] of PARTS.entries()) assertClose(fused[i], stock[i], `wasm vs cpu ${p}`);
  });

  it('leaves inference, other ranks and the saved form to the stock layer', () => {
    const fused = layer(true, 4);
    const stock = layer(false, 4);
    assert.equal(fused.getClassName(), 'BatchNormalization');
    assert.deepEqual(fused.getConfig(), { ...stock.getConfig(), name: fused.name });
    tf.tidy(() => {
      const x = tf.randomNormal([2, 3, 4, 4], 1, 2, 'float32', 5);
      const a = (fused.apply(x, { training: false }) as tf.Tensor).dataSync();
      const b = (stock.apply(x, { training: false }) as tf.Tensor).dataSync();
      assert.deepEqual(a, b);
    });
    // Rank 2 (a dense layer's batch norm) falls through to the stock code.
    const d2f = layer(true, 3, 2);
    const d2s = layer(false, 3, 2);
    tf.tidy(() => {
      const x = tf.randomNormal([5, 3], 0, 1, 'float32', 9);
      const a = (d2f.apply(x, { training: true }) as tf.Tensor).dataSync();
      const b = (d2s.apply(x, { training: true }) as tf.Tensor).dataSync();
      assert.deepEqual(a, b);
    });
  });

  it('leaks no tensor in a training step', () => {
    const l = layer(true, 4);
    const x = tf.randomNormal([2, 3, 4, 4], 0, 1, 'float32', 1);
    trainPass(l, x); // first pass may create lazily-built state
    const before = tf.memory().numTensors;
    trainPass(l, x);
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
  });
});
