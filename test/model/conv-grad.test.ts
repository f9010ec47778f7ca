/**
 * Conv layers trained through `tf.conv2d` (src/model/conv-grad.ts) against
 * stock tfjs-layers Conv2D (fused conv with its own custom gradient): same
 * outputs and gradients on cpu and wasm, and no input gradient computed when
 * only the weights are trained.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/model/backend.js';
import { withLazyInputGradient } from '../../src/model/conv-grad.js';
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

interface Case {
  x: [number, number, number, number];
  filters: number;
  strides: number;
  padding: 'same' | 'valid';
  useBias?: boolean;
  activation?: 'relu';
}

function conv(c: Case, lazy: boolean): tf.layers.Layer {
  const l = tf.layers.conv2d({
    filters: c.filters,
    kernelSize: 3,
    strides: c.strides,
    padding: c.padding,
    useBias: c.useBias ?? false,
    activation: c.activation,
    kernelInitializer: tf.initializers.heNormal({ seed: 3 }),
    biasInitializer: tf.initializers.randomNormal({ seed: 4 }),
  });
  return lazy ? withLazyInputGradient(l) : l;
}

/** Output, loss gradient w.r.t. the weights and w.r.t. x, in training mode. */
function pass(l: tf.layers.Layer, x: tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const out = l.apply(x, { training: true }) as tf.Tensor;
    const w = tf.randomUniform(out.shape, -1, 1, 'float32', 5);
    const f = (xx: tf.Tensor) =>
      tf.sum(tf.mul(tf.square(l.apply(xx, { training: true }) as tf.Tensor), w)) as tf.Scalar;
    const vars = l.trainableWeights.map((v) => v.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => f(x), vars);
    return [out, ...vars.map((v) => grads[v.name]), tf.grad(f)(x)].map(
      (t) => t.dataSync() as Float32Array,
    );
  });
}

const CASES: Case[] = [
  { x: [2, 8, 6, 1], filters: 4, strides: 2, padding: 'same' },
  { x: [3, 7, 9, 5], filters: 3, strides: 1, padding: 'valid' },
  { x: [2, 9, 8, 3], filters: 2, strides: 2, padding: 'valid' },
  // Not the plain case: these take the stock path and must still agree.
  { x: [2, 6, 6, 2], filters: 3, strides: 1, padding: 'same', useBias: true },
  { x: [2, 6, 6, 2], filters: 3, strides: 2, padding: 'same', activation: 'relu' },
];

describe('conv layers with a lazy input gradient', () => {
  before(async () => {
    await initBackend({ prefer: 'wasm', log: () => {} });
  });

  for (const backend of ['cpu', 'wasm']) {
    for (const c of CASES) {
      const what = `x ${c.x}, ${c.filters} filters, stride ${c.strides}, ${c.padding}${c.useBias ? ', bias' : ''}${c.activation ? `, ${c.activation}` : ''}`;
      it(`matches stock Conv2D on ${backend} for ${what}`, async () => {
        await tf.setBackend(backend);
        try {
          const x = tf.randomNormal(c.x, 0, 1, 'float32', 2);
          const stock = pass(conv(c, false), x);
          const lazy = pass(conv(c, true), x);
          assert.equal(lazy.length, stock.length);
          for (let i = 0; i < stock.length; i++) assertClose(lazy[i], stock[i], `${backend} #${i}`);
          x.dispose();
        } finally {
          await tf.setBackend('wasm');
        }
      });
    }
  }

  it('computes no input gradient when only the weights are trained', async () => {
    const c = CASES[0];
    const kernelsOf = async (lazy: boolean) => {
      const l = conv(c, lazy);
      const x = tf.randomNormal(c.x, 0, 1, 'float32', 2);
      l.apply(x); // build
      const vars = l.trainableWeights.map((v) => v.read() as tf.Variable);
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.sum(tf.square(l.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
          vars,
        );
        tf.dispose([value, ...Object.values(grads)]);
      });
      x.dispose();
      return info.kernels.map((k) => k.name);
    };
    // The stock layer computes it (and throws it away); the lazy one does not.
    assert.ok((await kernelsOf(false)).includes('Conv2DBackpropInput'));
    const lazy = await kernelsOf(true);
    assert.ok(lazy.includes('Conv2DBackpropFilter'));
    assert.ok(!lazy.includes('Conv2DBackpropInput'), `kernels run: ${lazy.join(', ')}`);
  });

  it('keeps the stock class, config and inference output', () => {
    const c = CASES[1];
    const lazy = conv(c, true);
    const stock = conv(c, false);
    assert.equal(lazy.getClassName(), 'Conv2D');
    tf.tidy(() => {
      const x = tf.randomNormal(c.x, 0, 1, 'float32', 8);
      const a = (lazy.apply(x) as tf.Tensor).dataSync();
      const b = (stock.apply(x) as tf.Tensor).dataSync();
      assert.deepEqual(a, b);
    });
    assert.deepEqual(lazy.getConfig(), { ...stock.getConfig(), name: lazy.name });
  });
});
