import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { isFaultlineError } from '../../src/errors.js';
import { buildCnn } from '../../src/model/architectures.js';
import { initBackend } from '../../src/model/backend.js';
import { type InputSet, mulberry32, permutation } from '../../src/model/inputs.js';
import * as tf from '../../src/model/tf.js';
import {
  accuracyOf,
  confusionMatrix,
  meanLoss,
  predictProbs,
  trainClassifier,
} from '../../src/model/train.js';

before(async () => {
  await initBackend({ log: () => {} });
});

/** Three classes of 16×8 "spectrograms": a bright row band at a class-specific height, plus noise. */
function bands(n: number, seed: number): InputSet {
  const rand = mulberry32(seed);
  const x = new Float32Array(n * 128);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % 3;
    for (let f = 0; f < 16; f++) {
      for (let t = 0; t < 8; t++)
        x[i * 128 + f * 8 + t] = rand() - 0.5 + (Math.floor(f / 5) === y[i] ? 2 : 0);
    }
  }
  return { x, y, n, shape: [16, 8, 1] };
}

test('metrics against hand-computed values', () => {
  const probs = Float32Array.from([0.7, 0.2, 0.1, 0.1, 0.1, 0.8, 0.3, 0.4, 0.3]);
  const y = Int32Array.from([0, 1, -1]);
  assert.equal(accuracyOf(probs, y, 3), 0.5);
  assert.ok(Math.abs(meanLoss(probs, y, 3) - (-Math.log(0.7) - Math.log(0.1)) / 2) < 1e-6);
  assert.deepEqual(confusionMatrix(probs, y, 3), [
    [1, 0, 0],
    [0, 0, 1],
    [0, 0, 0],
  ]);
  assert.ok(Number.isNaN(accuracyOf(probs, Int32Array.from([-1, -1, -1]), 3)));
});

test('seeded permutations are permutations and repeat for the same seed', () => {
  const a = permutation(50, mulberry32(9));
  const b = permutation(50, mulberry32(9));
  assert.deepEqual(a, b);
  assert.deepEqual(
    [...a].sort((p, q) => p - q),
    Array.from({ length: 50 }, (_, i) => i),
  );
  assert.notDeepEqual(a, permutation(50, mulberry32(10)));
});

test('trainClassifier learns a separable problem and keeps its best epoch without leaking tensors', async () => {
  const cnn = buildCnn([16, 8, 1], 3, 'strided', { seed: 5 });
  const before = tf.memory().numTensors;
  const r = await trainClassifier(cnn.model, bands(96, 1), bands(30, 2), {
    epochs: 6,
    batchSize: 16,
    seed: 5,
    learningRate: 3e-3,
  });
  assert.equal(tf.memory().numTensors, before, 'training must not leak tensors');
  assert.ok(r.bestEpoch >= 1 && r.bestEpoch <= r.epochsRun);
  assert.equal(r.valLoss, Math.min(...r.history.map((h) => h.valLoss)));
  const test = bands(30, 3);
  assert.ok(accuracyOf(predictProbs(cnn.model, test), test.y, 3) >= 0.9);
  cnn.model.dispose();
});

test('unlabelled or empty training data is refused with FL_ERR_TRAIN', async () => {
  const cnn = buildCnn([16, 8, 1], 3, 'strided', { seed: 5 });
  const bad = bands(12, 1);
  bad.y[3] = -1;
  await assert.rejects(trainClassifier(cnn.model, bad, bands(6, 2)), (e: unknown) =>
    isFaultlineError(e, 'FL_ERR_TRAIN'),
  );
  const empty: InputSet = { x: new Float32Array(0), y: new Int32Array(0), n: 0, shape: [16, 8, 1] };
  await assert.rejects(trainClassifier(cnn.model, bands(12, 1), empty), (e: unknown) =>
    isFaultlineError(e, 'FL_ERR_TRAIN'),
  );
  cnn.model.dispose();
});

test('a seeded build draws nothing from Math.random and repeats exactly (every initialiser seeded)', () => {
  const original = Math.random;
  let calls = 0;
  Math.random = () => {
    calls++;
    return original();
  };
  let a: ReturnType<typeof buildCnn>;
  try {
    a = buildCnn([16, 8, 1], 3, 'strided', { seed: 9 });
  } finally {
    Math.random = original;
  }
  assert.equal(calls, 0);
  const b = buildCnn([16, 8, 1], 3, 'strided', { seed: 9 });
  const c = buildCnn([16, 8, 1], 3, 'strided', { seed: 10 });
  const wa = a.model.getWeights().map((t) => [...t.dataSync()]);
  assert.deepEqual(
    b.model.getWeights().map((t) => [...t.dataSync()]),
    wa,
  );
  // The output layer too (it used to keep tfjs's unseeded default).
  const logits = (m: typeof a) => [...m.classifier.getLayer('logits').getWeights()[0].dataSync()];
  assert.notDeepEqual(logits(c), logits(a));
  for (const m of [a, b, c]) m.model.dispose();
});
