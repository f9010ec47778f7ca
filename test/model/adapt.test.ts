import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createFrontEnd, resolveFrontEndConfig } from '../../src/dsp/frontend.js';
import { isFaultlineError } from '../../src/errors.js';
import { alignDomains, classPrior, type StepLoss } from '../../src/model/adapt/align.js';
import {
  dannCoefficient,
  reverseGradient,
  stopGradient,
} from '../../src/model/adapt/gradient-reversal.js';
import { evaluateGuards, verdictOf } from '../../src/model/adapt/guards.js';
import { mmd2 } from '../../src/model/adapt/mmd.js';
import type { Checkpoint } from '../../src/model/adapt/selection.js';
import { predictionStats, selectCheckpoint } from '../../src/model/adapt/selection.js';
import { readModelMetadata, saveModelArtifact } from '../../src/model/artifact.js';
import { initBackend } from '../../src/model/backend.js';
import { prepareDomain } from '../../src/model/domains.js';
import { adaptModel } from '../../src/model/pipeline.js';
import * as tf from '../../src/model/tf.js';
import {
  accuracyOf,
  buildSeededCnn,
  predictProbs,
  snapshotWeights,
  trainClassifier,
} from '../../src/model/train.js';
import { simulateRecording } from '../../src/sim/generator.js';
import { simRecordings } from '../../src/sim/sim-model.js';
import type { Recording } from '../../src/types.js';
import { testArtifactMeta } from '../support/model-artifact.js';

before(async () => {
  await initBackend({ log: () => {} });
});

test('gradient reversal is the identity forward and flips (and scales) the gradient', () => {
  const x = tf.tensor1d([0.5, -1, 2]);
  const w = tf.tensor1d([3, -2, 0.25]);
  for (const lambda of [1, 0.3]) {
    const y = reverseGradient(x, lambda);
    assert.deepEqual([...y.dataSync()], [...x.dataSync()]);
    // d/dx sum(w · GRL(x)) = −λ w; without the layer it would be +w.
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(w, reverseGradient(v, lambda))))(x);
    const plain = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(w, v)))(x);
    const gv = g.dataSync();
    const pv = plain.dataSync();
    for (let i = 0; i < 3; i++) {
      assert.ok(
        Math.abs(gv[i] + lambda * pv[i]) < 1e-6,
        `grad ${i}: ${gv[i]} vs ${-lambda * pv[i]}`,
      );
      assert.ok(Math.sign(gv[i]) === -Math.sign(pv[i]));
    }
    // Numeric check of the unreversed path: finite differences of sum(w·x) give w.
    const eps = 1e-3;
    const f = (v: number[]) => v.reduce((a, vi, i) => a + vi * [3, -2, 0.25][i], 0);
    const num = [0, 1, 2].map((i) => {
      const p = [0.5, -1, 2];
      const m = [0.5, -1, 2];
      p[i] += eps;
      m[i] -= eps;
      return (f(p) - f(m)) / (2 * eps);
    });
    num.forEach((n, i) => {
      assert.ok(Math.abs(gv[i] + lambda * n) < 1e-3);
    });
    tf.dispose([y, g, plain]);
  }
  tf.dispose([x, w]);
});

test('stopGradient passes values and blocks the gradient (CDAN detaches its predictions)', () => {
  const x = tf.tensor1d([0.5, -1, 2]);
  const y = stopGradient(x);
  assert.deepEqual([...y.dataSync()], [...x.dataSync()]);
  // d/dx [x · sg(x)] = sg(x) (only the first factor carries gradient), not 2x.
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, stopGradient(v))))(x);
  assert.deepEqual([...g.dataSync()], [0.5, -1, 2]);
  tf.dispose([x, y, g]);
});

test('the DANN coefficient ramps 0 → ~1 monotonically', () => {
  assert.equal(dannCoefficient(0), 0);
  assert.ok(Math.abs(dannCoefficient(1) - (2 / (1 + Math.exp(-10)) - 1)) < 1e-12);
  assert.ok(dannCoefficient(1) > 0.999);
  let prev = -1;
  for (let p = 0; p <= 1; p += 0.05) {
    const c = dannCoefficient(p);
    assert.ok(c > prev);
    prev = c;
  }
  assert.equal(dannCoefficient(-1), 0);
  assert.equal(dannCoefficient(2), dannCoefficient(1));
});

test('MMD is ~0 for identical distributions and grows with a mean shift', () => {
  const a = tf.randomNormal([64, 8], 0, 1, 'float32', 1) as tf.Tensor2D;
  const b = tf.randomNormal([64, 8], 0, 1, 'float32', 2) as tf.Tensor2D;
  const same = mmd2(a, a).dataSync()[0];
  assert.ok(Math.abs(same) < 1e-5, `MMD(a, a) = ${same}`);
  const iid = mmd2(a, b).dataSync()[0];
  const values = [0.5, 1, 2].map((shift) => {
    const c = tf.add(b, shift) as tf.Tensor2D;
    const v = mmd2(a, c).dataSync()[0];
    c.dispose();
    return v;
  });
  assert.ok(
    iid < values[0],
    `same-distribution MMD ${iid} should be below the shifted ${values[0]}`,
  );
  assert.ok(
    values[0] < values[1] && values[1] < values[2],
    `MMD should grow with the shift: ${values}`,
  );
  assert.ok(values[2] > 5 * iid);
  // Differentiable: the gradient w.r.t. the shifted batch is finite and non-zero.
  const g = tf.grad((c: tf.Tensor) => mmd2(a, c as tf.Tensor2D))(tf.add(b, 1));
  assert.ok(g.dataSync().every(Number.isFinite));
  assert.ok(tf.sum(tf.abs(g)).dataSync()[0] > 0);
  tf.dispose([a, b, g]);
});

test('label-free selection and guards', () => {
  const confident = Float32Array.from([0.98, 0.01, 0.01, 0.01, 0.98, 0.01, 0.01, 0.01, 0.98]);
  const uniform = new Float32Array(9).fill(1 / 3);
  const collapsed = Float32Array.from([0.98, 0.01, 0.01, 0.98, 0.01, 0.01, 0.98, 0.01, 0.01]);
  const c = predictionStats(confident, 3);
  const u = predictionStats(uniform, 3);
  const k = predictionStats(collapsed, 3);
  assert.ok(c.im > 0.8 && u.im < 1e-6 && k.im < 0.2, `${c.im} ${u.im} ${k.im}`);
  assert.ok(Math.abs(u.meanEntropy - 1) < 1e-6 && Math.abs(u.marginalEntropy - 1) < 1e-6);
  // Never picks a checkpoint that lost source accuracy, however good its target score.
  const pick = selectCheckpoint([
    { step: 0, sourceValAccuracy: 1, target: k },
    { step: 50, sourceValAccuracy: 0.9, target: c },
    {
      step: 100,
      sourceValAccuracy: 0.995,
      target: { meanEntropy: 0.3, marginalEntropy: 0.8, im: 0.5 },
    },
  ]);
  assert.equal(pick, 2);
  const ok = evaluateGuards({
    sourceAccuracyBefore: 1,
    sourceAccuracyAfter: 0.99,
    targetBefore: k,
    targetAfter: c,
  });
  assert.ok(ok.every((g) => g.passed));
  const bad = evaluateGuards({
    sourceAccuracyBefore: 1,
    sourceAccuracyAfter: 0.9,
    targetBefore: c,
    targetAfter: k,
  });
  assert.deepEqual(
    bad.filter((g) => !g.passed).map((g) => g.name),
    ['source-forgetting', 'negative-transfer', 'class-collapse'],
  );
});

test('IM with a class prior: uniform is the plain score; a target mix like the source scores best', () => {
  // Three windows of class 0, one of class 1, none of class 2 (labels -1 ignored).
  const prior = classPrior(Int32Array.from([0, 0, 0, 1, -1]), 3);
  assert.deepEqual(
    Array.from(prior, (v) => Math.round(v * 1000) / 1000),
    [0.571, 0.286, 0.143],
    'add-one smoothed proportions',
  );
  const confident = Float32Array.from([0.98, 0.01, 0.01, 0.01, 0.98, 0.01, 0.01, 0.01, 0.98]);
  const plain = predictionStats(confident, 3);
  const withUniform = predictionStats(confident, 3, [1 / 3, 1 / 3, 1 / 3]);
  assert.ok(Math.abs(plain.im - withUniform.im) < 1e-6);
  // Predictions that follow a 4:2:1 mix against ones spread evenly over the classes.
  const rows = (counts: number[]) =>
    Float32Array.from(
      counts.flatMap((n, c) =>
        Array.from({ length: n }, () => [0, 1, 2].map((j) => (j === c ? 0.98 : 0.01))).flat(),
      ),
    );
  const likeSource = rows([4, 2, 1]);
  const even = rows([3, 2, 2]);
  const p = [4 / 7, 2 / 7, 1 / 7];
  assert.ok(predictionStats(likeSource, 3, p).im > predictionStats(even, 3, p).im);
  assert.ok(
    predictionStats(likeSource, 3).im < predictionStats(even, 3).im,
    'uniform favours the even mix',
  );
});

test('DANN beats source-only on a simulated speed shift 1797 → 1200 rpm (unlabelled target)', async () => {
  const faults = ['none', 'inner', 'outer', 'ball'] as const;
  const recs: Recording[] = [];
  for (const condition of ['source-1797rpm', 'target-1200rpm'] as const) {
    faults.forEach((fault, i) => {
      recs.push(simulateRecording({ fault, condition, seed: 10 + i }, 4));
    });
  }
  const classes = ['normal', 'inner', 'outer', 'ball'];
  const fe = createFrontEnd(
    resolveFrontEndConfig({
      sampleRate: 12000,
      windowLength: 2048,
      hop: 512,
      stft: { nfft: 256, freqBins: 64, frames: 32 },
    }),
  );
  const src = prepareDomain(recs, ['source-1797rpm'], classes, fe);
  const tgt = prepareDomain(recs, ['target-1200rpm'], classes, fe);
  const cnn = buildSeededCnn([64, 32, 1], 4, 'strided', 1);
  await trainClassifier(cnn.model, src.train, src.val, { epochs: 6, seed: 1 });
  const sourceOnly = accuracyOf(predictProbs(cnn.model, tgt.test), tgt.test.y, 4);
  const base = snapshotWeights(cnn.model);
  const unlabelled = { ...tgt.train, y: new Int32Array(tgt.train.n).fill(-1) };
  const tensorsBefore = tf.memory().numTensors;
  const r = await alignDomains(cnn, src.train, src.val, unlabelled, {
    strategy: 'dann',
    steps: 100,
    evalEvery: 25,
    seed: 1,
  });
  assert.equal(tf.memory().numTensors, tensorsBefore, 'adaptation must not leak tensors');
  const dann = accuracyOf(predictProbs(cnn.model, tgt.test), tgt.test.y, 4);
  const srcAfter = accuracyOf(predictProbs(cnn.model, src.test), src.test.y, 4);
  process.stderr.write(
    `# source-only ${sourceOnly.toFixed(3)}, dann ${dann.toFixed(3)} (source ${srcAfter.toFixed(3)}), chose step ${r.checkpoints[r.chosen].step}\n`,
  );
  // The run is deterministic for its seed (shuffles, initialisers, dropout
  // masks): 47.7 % → 72.7 % at seed 1. Earlier unseeded runs gained 0 to 39
  // points, so DANN helps here on average, not for every seed; 5 points at seed 1.
  assert.ok(
    dann >= sourceOnly + 0.05,
    `dann ${dann} should beat source-only ${sourceOnly} by ≥ 5 points`,
  );
  assert.ok(srcAfter >= 0.85, `source accuracy after adaptation ${srcAfter}`);
  // The class-aware variants from the same source model: each step's terms
  // add up, the target term is really in the loss (dann-im), the conditioned
  // discriminator trains (cdan), no tensor leaks, and neither does worse than
  // the unadapted model on this shift.
  for (const strategy of ['cdan', 'dann-im'] as const) {
    cnn.model.setWeights(base);
    const losses: StepLoss[] = [];
    const before = tf.memory().numTensors;
    const v = await alignDomains(cnn, src.train, src.val, unlabelled, {
      strategy,
      steps: 100,
      evalEvery: 25,
      seed: 1,
      onStep: (_s, _n, l) => losses.push(l),
    });
    assert.equal(tf.memory().numTensors, before, `${strategy} must not leak tensors`);
    const acc = accuracyOf(predictProbs(cnn.model, tgt.test), tgt.test.y, 4);
    const accSrc = accuracyOf(predictProbs(cnn.model, src.test), src.test.y, 4);
    const disc = v.checkpoints.map((c) => c.discriminatorAccuracy ?? Number.NaN);
    process.stderr.write(
      `# ${strategy}: ${acc.toFixed(3)} (source ${accSrc.toFixed(3)}), chose step ${v.checkpoints[v.chosen].step}, discriminator ${disc.map((d) => d.toFixed(2)).join(' ')}\n`,
    );
    for (const l of losses) {
      assert.ok(Math.abs(l.classLoss + l.domainLoss + l.targetLoss - l.loss) < 1e-4);
    }
    if (strategy === 'dann-im') {
      // mean H(p) + KL(mean p ‖ source class mix): ≥ 0, ramped from 0, and really in the loss.
      assert.ok(losses[0].targetLoss === 0, `${losses[0].targetLoss}`);
      assert.ok(losses.every((l) => l.targetLoss >= -1e-6));
      assert.ok(losses.some((l) => l.targetLoss > 1e-3));
    } else {
      assert.ok(disc.every((d) => d >= 0 && d <= 1));
      assert.ok(losses.every((l) => l.targetLoss === 0 && l.domainLoss > 0));
    }
    assert.ok(
      acc >= sourceOnly,
      `${strategy} ${acc} should not fall below source-only ${sourceOnly}`,
    );
    assert.ok(accSrc >= 0.85, `${strategy} source accuracy after adaptation ${accSrc}`);
  }
  await assert.rejects(
    alignDomains(cnn, src.train, src.val, unlabelled, { strategy: 'nope' as 'dann' }),
    (e) => isFaultlineError(e) && e.code === 'FL_ERR_TRAIN',
  );
  // The same source model through the promotion path: an impossible guard
  // writes the candidate, marks it not promoted and says why.
  cnn.model.setWeights(base);
  tf.dispose(base);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-adapt-'));
  try {
    await saveModelArtifact(
      path.join(dir, 'src'),
      cnn.model,
      testArtifactMeta(cnn, {
        classes,
        frontEnd: fe.config,
        training: {
          seed: 1,
          epochs: 6,
          bestEpoch: 6,
          batchSize: 64,
          learningRate: 1e-3,
          backend: 'test',
        },
        provenance: {
          dataset: 'sim',
          kind: 'sim',
          domains: ['source-1797rpm'],
          recordings: src.recordings,
          split: { train: 0.7, val: 0.15, test: 0.15 },
        },
      }),
    );
    const out = await adaptModel({
      sourceDir: path.join(dir, 'src'),
      outDir: path.join(dir, 'cand'),
      strategy: 'dann',
      recordings: recs,
      targetDomains: ['target-1200rpm'],
      steps: 4,
      command: 'test',
      datasetLabel: 'sim',
      guards: { maxImDrop: -1 },
    });
    assert.equal(out.promoted, false);
    assert.deepEqual(
      out.guards.filter((g) => !g.passed).map((g) => g.name),
      ['negative-transfer'],
    );
    const meta = await readModelMetadata(path.join(dir, 'cand'));
    assert.equal(meta.adaptation?.promoted, false);
    assert.equal(meta.adaptation?.strategy, 'dann');
    assert.ok(meta.adaptation?.selection.startsWith('label-free'));
  } finally {
    await rm(dir, { recursive: true, force: true });
    cnn.model.dispose();
  }
});

test('single-machine guards: one class is expected; entropy up, flip-flopping or a changed confident verdict are refused', () => {
  // 10 windows of one machine, C = 4
  const rows = (cls: number[], p = 0.97) => {
    const out = new Float32Array(cls.length * 4).fill((1 - p) / 3);
    cls.forEach((c, i) => {
      out[i * 4 + c] = p;
    });
    return out;
  };
  const allOuter = rows(Array(10).fill(3));
  const v = verdictOf(allOuter, 4);
  assert.deepEqual(v, { majority: 3, share: 1 });
  assert.deepEqual(verdictOf(new Float32Array(0), 4), { majority: -1, share: 0 });
  const mixed = rows([3, 3, 3, 3, 3, 3, 0, 1, 2, 0]);
  assert.deepEqual(verdictOf(mixed, 4), { majority: 3, share: 0.6 });
  const input = (before: Float32Array, after: Float32Array, srcAfter = 1) => ({
    sourceAccuracyBefore: 1,
    sourceAccuracyAfter: srcAfter,
    targetBefore: predictionStats(before, 4),
    targetAfter: predictionStats(after, 4),
    verdictBefore: verdictOf(before, 4),
    verdictAfter: verdictOf(after, 4),
    classes: ['ball', 'inner', 'normal', 'outer'],
  });
  const failed = (g: { name: string; passed: boolean }[]) =>
    g.filter((x) => !x.passed).map((x) => x.name);
  // A machine all "outer", more sure after: every single-machine guard passes —
  // while the data-set guards call the same model collapsed.
  const good = input(rows(Array(10).fill(3), 0.9), allOuter);
  assert.deepEqual(failed(evaluateGuards(good, {}, 'single-machine')), []);
  assert.deepEqual(failed(evaluateGuards(good, {}, 'dataset')), ['class-collapse']);
  // Forgetting still counts.
  assert.deepEqual(failed(evaluateGuards(input(allOuter, allOuter, 0.9), {}, 'single-machine')), [
    'source-forgetting',
  ]);
  // Less sure than before: negative transfer (0.97 → 0.4 on the same class).
  assert.deepEqual(
    failed(evaluateGuards(input(allOuter, rows(Array(10).fill(3), 0.4)), {}, 'single-machine')),
    ['negative-transfer'],
  );
  // Confident but flip-flopping between classes on a machine in one state.
  assert.deepEqual(failed(evaluateGuards(input(allOuter, mixed), {}, 'single-machine')), [
    'verdict-stability',
  ]);
  // The source model was sure of "outer"; the adapted one says "inner" just as surely.
  const flipped = evaluateGuards(input(allOuter, rows(Array(10).fill(1))), {}, 'single-machine');
  assert.deepEqual(failed(flipped), ['verdict-agreement']);
  assert.match(flipped[3].detail, /outer .*→ inner.*needs a person/);
  // The source model was unsure (60 % majority): a stable, confident new verdict is allowed.
  assert.deepEqual(
    failed(evaluateGuards(input(mixed, rows(Array(10).fill(1))), {}, 'single-machine')),
    [],
  );
  // A NaN source accuracy (nothing shows the task was kept) fails, never passes silently.
  assert.deepEqual(
    failed(evaluateGuards(input(allOuter, allOuter, Number.NaN), {}, 'single-machine')),
    ['source-forgetting'],
  );
});

test('checkpoint selection by confidence for one machine, by IM for a data set', () => {
  const cps: Checkpoint[] = [
    {
      step: 0,
      sourceValAccuracy: 1,
      target: { meanEntropy: 0.3, marginalEntropy: 0.35, im: 0.05 },
    },
    // spreads the machine over the classes: best IM, worst for one machine
    { step: 5, sourceValAccuracy: 1, target: { meanEntropy: 0.2, marginalEntropy: 0.9, im: 0.7 } },
    {
      step: 10,
      sourceValAccuracy: 1,
      target: { meanEntropy: 0.01, marginalEntropy: 0.02, im: 0.01 },
    },
    // most confident, but forgot the source task
    { step: 15, sourceValAccuracy: 0.8, target: { meanEntropy: 0, marginalEntropy: 0, im: 0 } },
  ];
  assert.equal(selectCheckpoint(cps), 1);
  assert.equal(selectCheckpoint(cps, 0.01, 'im'), 1);
  assert.equal(selectCheckpoint(cps, 0.01, 'confidence'), 2);
});

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SIM_MODEL = path.join(repoRoot, 'models', 'sim-12k');

/**
 * adaptModel for one live machine: the shipped simulator model (1797 rpm, no
 * load) and 10 s of a simulated outer-race machine at 1730 rpm under load,
 * as an UNLABELLED recording (empty label), as the gateway passes it.
 */
test('single-machine adaptation: a faulty machine at another condition is promoted; a corrupted source is refused', async () => {
  const source = simRecordings(); // the model's own source data (10 × 8 s per class)
  const machine: Recording = {
    ...simulateRecording(
      { fault: 'outer', condition: 'target-1730rpm-load3', seed: 77, sampleRate: 12000 },
      10,
    ),
    label: '',
    domain: 'live:m1',
  };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-adapt-one-'));
  try {
    const losses: { loss: number; classLoss: number; domainLoss: number }[] = [];
    const cps: Checkpoint[] = [];
    const t0 = performance.now();
    const ok = await adaptModel({
      sourceDir: SIM_MODEL,
      outDir: path.join(dir, 'ok'),
      strategy: 'dann',
      recordings: [...source, machine],
      targetDomains: ['live:m1'],
      targetKind: 'single-machine',
      steps: 12,
      command: 'test',
      datasetLabel: 'sim',
      onStep: (_s, _n, l) => {
        if (l) losses.push(l);
      },
      onCheckpoint: (c) => cps.push(c),
    });
    const okS = (performance.now() - t0) / 1000;
    process.stderr.write(
      `# single-machine dann, 12 steps, ${okS.toFixed(1)} s: ${ok.guards.map((g) => g.detail).join('; ')}\n`,
    );
    assert.equal(ok.promoted, true, JSON.stringify(ok.guards));
    assert.deepEqual(
      ok.guards.map((g) => g.name),
      ['source-forgetting', 'negative-transfer', 'verdict-stability', 'verdict-agreement'],
    );
    assert.equal(ok.meta.adaptation?.targetKind, 'single-machine');
    assert.ok(ok.meta.adaptation?.selection.includes('lowest mean target prediction entropy'));
    // Every window of the 10 s, cut as the model's front end cuts a recording:
    // version 2 order mode, windows of `window.length` revolutions every
    // `window.hop` revolutions at the machine's 1730 rpm.
    const w = ok.meta.frontEnd.window;
    assert.ok(ok.meta.frontEnd.version === 2 && w?.unit === 'rev', JSON.stringify(w));
    const samplesPerRev = (12000 * 60) / 1730;
    const winLen = Math.ceil(w.length * samplesPerRev) + 1;
    const winHop = Math.round(w.hop * samplesPerRev);
    assert.equal(
      ok.meta.metrics.targetWindows,
      Math.floor((machine.samples.length - winLen) / winHop) + 1,
      `every window of the 10 s: ${w.length} rev every ${w.hop} rev at 1730 rpm`,
    );
    assert.equal(ok.meta.metrics.targetMajorityShareAfter, 1);
    // The data-set guard would have refused it: one machine is one class.
    assert.ok(ok.meta.metrics.targetMarginalEntropyAfter < 0.5);
    // Progress: a loss per step, its two terms adding up; checkpoints with the discriminator.
    assert.equal(losses.length, 12);
    for (const l of losses) {
      assert.ok([l.loss, l.classLoss, l.domainLoss].every(Number.isFinite));
      assert.ok(Math.abs(l.classLoss + l.domainLoss - l.loss) < 1e-4, JSON.stringify(l));
    }
    assert.deepEqual(
      cps.map((c) => c.step),
      [0, 3, 6, 9, 12],
    );
    for (const c of cps) {
      const a = c.discriminatorAccuracy ?? Number.NaN;
      assert.ok(a >= 0 && a <= 1, `discriminator accuracy ${a}`);
    }

    // Corrupted source: inner and outer labels swapped, and a learning rate
    // 10× the default so the few steps learn the swap. The adapted model then
    // calls the machine "inner" as surely as the source model said "outer":
    // refused, kept on disk for inspection.
    const swapped = source.map((r) => ({
      ...r,
      label: r.label === 'inner' ? 'outer' : r.label === 'outer' ? 'inner' : r.label,
    }));
    const mmdCps: Checkpoint[] = [];
    const bad = await adaptModel({
      sourceDir: SIM_MODEL,
      outDir: path.join(dir, 'bad'),
      strategy: 'mmd',
      recordings: [...swapped, machine],
      targetDomains: ['live:m1'],
      targetKind: 'single-machine',
      steps: 12,
      learningRate: 5e-3,
      command: 'test',
      datasetLabel: 'sim',
      onCheckpoint: (c) => mmdCps.push(c),
    });
    process.stderr.write(
      `# corrupted source (mmd, lr 5e-3): ${bad.guards.map((g) => `${g.name} ${g.passed}: ${g.detail}`).join('; ')}\n`,
    );
    assert.equal(bad.promoted, false);
    assert.ok(
      bad.guards.some((g) => g.name === 'verdict-agreement' && !g.passed),
      JSON.stringify(bad.guards),
    );
    assert.equal((await readModelMetadata(path.join(dir, 'bad'))).adaptation?.promoted, false);
    assert.ok(mmdCps.length > 1 && mmdCps.every((c) => c.discriminatorAccuracy === undefined));

    // Labels are needed by finetune/features: not a single-machine strategy.
    await assert.rejects(
      adaptModel({
        sourceDir: SIM_MODEL,
        outDir: path.join(dir, 'ft'),
        strategy: 'finetune',
        recordings: [...source, machine],
        targetDomains: ['live:m1'],
        targetKind: 'single-machine',
        command: 'test',
        datasetLabel: 'sim',
      }),
      (e) => isFaultlineError(e) && e.code === 'FL_ERR_TRAIN',
    );
    // dann-im spreads windows over every class: not for one machine in one state.
    await assert.rejects(
      adaptModel({
        sourceDir: SIM_MODEL,
        outDir: path.join(dir, 'im'),
        strategy: 'dann-im',
        recordings: [...source, machine],
        targetDomains: ['live:m1'],
        targetKind: 'single-machine',
        command: 'test',
        datasetLabel: 'sim',
      }),
      (e) => isFaultlineError(e) && e.code === 'FL_ERR_TRAIN' && /every class/.test(e.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
