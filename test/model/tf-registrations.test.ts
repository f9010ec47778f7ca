/**
 * The tfjs namespace without the umbrella package: tfjs-core's gradients and
 * chained ops are registered (src/model/tf-registrations.ts), so layers
 * models can train and `x.add(y)` works, on the backend the process runs.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { initBackend } from '../../src/model/backend.js';
import * as tf from '../../src/model/tf.js';
import { registrationsFileName } from '../../src/model/tf-registrations.js';

test('gradients of the ops our CNN trains through are registered', () => {
  for (const kernel of [
    'Conv2D',
    'BatchMatMul',
    'Relu',
    'FusedBatchNorm',
    'Softmax',
    'Mean',
    'Sum',
  ]) {
    assert.ok(tf.getGradient(kernel), `no gradient registered for ${kernel}`);
  }
});

test('chained ops work on tensors', async () => {
  await initBackend({ prefer: 'wasm', log: () => {} });
  const x = tf.tensor1d([1, 2, 3]);
  assert.deepEqual(Array.from(await x.add(1).square().data()), [4, 9, 16]);
});

test('tf.grad differentiates through a conv layer (the gradient of the umbrella package)', async () => {
  await initBackend({ prefer: 'wasm', log: () => {} });
  const f = (w: tf.Tensor) =>
    tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid').sum();
  const g = tf.grad(f)(tf.ones([3, 3, 1, 1]));
  // each of the 9 weights touches each of the 4 output pixels once, with input 1
  assert.deepEqual(Array.from(await g.data()), new Array(9).fill(4));
});

test('the bundle is named by the installed tfjs-core version and cached', () => {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@tensorflow/tfjs-core/package.json');
  const { version } = require(pkg) as { version: string };
  const name = registrationsFileName();
  assert.equal(name, `tfjs-core-${version}-registrations.cjs`);
  const cached = path.join(path.dirname(pkg), '..', '..', '.cache', 'faultline', name);
  assert.ok(existsSync(cached), `${cached} missing after the first import`);
});
