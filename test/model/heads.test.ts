import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isFaultlineError } from '../../src/errors.js';
import { loadModelArtifact, readModelMetadata } from '../../src/model/artifact.js';
import { initBackend } from '../../src/model/backend.js';
import { parseHeads } from '../../src/model/choices.js';
import {
  faultHeadValue,
  headLabels,
  headProbs,
  headSpecs,
  maskedCrossEntropy,
} from '../../src/model/heads.js';
import type { InputSet } from '../../src/model/inputs.js';
import { adaptModel, trainSourceModel } from '../../src/model/pipeline.js';
import * as tf from '../../src/model/tf.js';
import { accuracyOf, predictProbs } from '../../src/model/train.js';
import type { FaultType } from '../../src/sim/faults.js';
import { simulateRecording } from '../../src/sim/generator.js';
import type { Recording } from '../../src/types.js';

const FRONT_END = {
  sampleRate: 12000,
  windowLength: 2048,
  hop: 1024,
  mode: 'time' as const,
  stft: { nfft: 256, freqBins: 64, frames: 32 },
};

let work: string;
before(async () => {
  await initBackend({ log: () => {} });
  work = await mkdtemp(path.join(os.tmpdir(), 'faultline-heads-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('--heads parses names once each and refuses others', () => {
  assert.deepEqual(parseHeads(undefined), []);
  assert.deepEqual(parseHeads('none'), []);
  assert.deepEqual(parseHeads('location, size,condition'), ['location', 'size', 'condition']);
  for (const bad of ['location,location', 'speed'])
    assert.throws(
      () => parseHeads(bad),
      (e) => isFaultlineError(e) && e.code === 'FL_ERR_CLI_USAGE',
    );
});

test('fault heads read location and size from class names; windows without a size are masked', () => {
  assert.equal(faultHeadValue('location', 'IR014'), 'inner race');
  assert.equal(faultHeadValue('location', 'outer'), 'outer race');
  assert.equal(faultHeadValue('location', 'pump-cavitation'), undefined);
  assert.equal(faultHeadValue('size', 'B021'), '0.021 in');
  assert.equal(faultHeadValue('size', 'normal'), undefined);
  const classes = ['IR007', 'IR014', 'OR007', 'normal'];
  const { heads, dropped } = headSpecs(['location', 'size', 'condition'], classes, [
    'load0',
    'load0',
  ]);
  assert.deepEqual(
    heads.map((h) => [h.name, h.classes]),
    [
      ['location', ['inner race', 'normal', 'outer race']],
      ['size', ['0.007 in', '0.014 in']],
    ],
  );
  assert.match(dropped.join(), /condition \(the data gives one value\)/);
  const set: InputSet = {
    x: new Float32Array(5),
    y: Int32Array.from([0, 1, 2, 3, -1]),
    n: 5,
    shape: [1, 1, 1],
    domains: ['load0', 'load1', 'load0', 'load1', 'load1'],
  };
  assert.deepEqual([...headLabels(heads[1], set, classes)], [0, 1, 0, -1, -1]);
  assert.deepEqual([...headLabels(heads[0], set, classes)], [0, 0, 2, 1, -1]);
  const cond = headSpecs(['condition'], classes, ['load1', 'load0']).heads[0];
  assert.deepEqual([...headLabels(cond, set, classes)], [0, 1, 0, 1, 1]);
});

test('the masked cross-entropy averages over labelled rows only', () => {
  const p = tf.tensor2d([
    [0.5, 0.5],
    [0.9, 0.1],
    [0.2, 0.8],
  ]);
  const ce = maskedCrossEntropy(Int32Array.from([-1, 0, 1]), p);
  assert.ok(ce);
  const want = -(Math.log(0.9) + Math.log(0.8)) / 2;
  assert.ok(Math.abs(ce.dataSync()[0] - want) < 1e-5, `${ce.dataSync()[0]} vs ${want}`);
  assert.equal(maskedCrossEntropy(Int32Array.from([-1, -1, -1]), p), undefined);
  tf.dispose([p, ce]);
});

/**
 * Simulated windows named like CWRU classes (two sizes of inner race from
 * two severities) at two speeds: a location, a size and a condition to learn.
 */
function recordings(): Recording[] {
  const out: Recording[] = [];
  const kinds: [FaultType, number, string][] = [
    ['none', 0, 'normal'],
    ['inner', 0.3, 'IR007'],
    ['inner', 1.5, 'IR021'],
    ['outer', 1, 'OR014'],
  ];
  for (const condition of ['source-1797rpm', 'target-1200rpm'] as const)
    for (const [fault, severity, label] of kinds) {
      const r = simulateRecording({ fault: { type: fault, severity }, condition, seed: 3 }, 6);
      out.push({ ...r, label, id: `${r.id}/${label}` });
    }
  return out;
}

test('a multi-head model trains, saves, loads (one primary output), adapts and keeps its heads', async () => {
  const recs = recordings();
  const dir = path.join(work, 'source');
  const meta = await trainSourceModel({
    recordings: recs,
    domains: ['source-1797rpm'],
    datasetLabel: 'sim:heads',
    kind: 'memory',
    frontEnd: FRONT_END,
    epochs: 4,
    seed: 1,
    outDir: dir,
    command: 'test',
    heads: ['location', 'size', 'condition'],
  });
  assert.deepEqual(
    meta.heads?.map((h) => [h.name, h.classes]),
    [
      ['location', ['inner race', 'normal', 'outer race']],
      ['size', ['0.007 in', '0.014 in', '0.021 in']],
      ['condition', ['source-1797rpm', 'target-1200rpm']],
    ],
  );
  assert.ok(meta.metrics.headLocationTestAccuracy > 0.5, JSON.stringify(meta.metrics));

  const loaded = await loadModelArtifact(dir);
  assert.equal(loaded.model.outputs.length, 1, 'callers still get one output');
  assert.equal(loaded.model.outputs[0].shape[1], meta.classes.length);
  assert.deepEqual(
    loaded.heads?.map((h) => [h.spec.name, h.classifier.outputs[0].shape[1]]),
    [
      ['location', 3],
      ['size', 3],
      ['condition', 2],
    ],
  );
  // The heads run on the shared features and agree with training's metric.
  const { createFrontEnd } = await import('../../src/dsp/frontend.js');
  const { prepareDomain } = await import('../../src/model/domains.js');
  const data = prepareDomain(recs, ['source-1797rpm'], meta.classes, createFrontEnd(meta.frontEnd));
  const loc = loaded.heads?.[0];
  assert.ok(loc);
  const acc = accuracyOf(
    headProbs(loaded.features, loc.classifier, data.test),
    headLabels(loc.spec, data.test, meta.classes),
    3,
  );
  assert.ok(Math.abs(acc - meta.metrics.headLocationTestAccuracy) < 1e-6);
  assert.ok(accuracyOf(predictProbs(loaded.model, data.test), data.test.y, 4) > 0.5);
  loaded.model.dispose();

  // dann with the condition head trained on the (unlabelled) target too.
  const adapted = path.join(work, 'adapted');
  const r = await adaptModel({
    sourceDir: dir,
    outDir: adapted,
    strategy: 'dann',
    recordings: recs,
    targetDomains: ['target-1200rpm'],
    steps: 12,
    seed: 1,
    command: 'test',
    datasetLabel: 'sim:heads',
  });
  assert.deepEqual(r.meta.heads, meta.heads);
  const back = await loadModelArtifact(adapted);
  assert.equal(back.heads?.length, 3);
  assert.equal(back.model.outputs.length, 1);
  back.model.dispose();
});

test('a head whose output size disagrees with faultline.json, or a lost head, is FL_ERR_MODEL_FILE', async () => {
  const src = path.join(work, 'source');
  const meta = await readModelMetadata(src);
  const edit = async (name: string, f: (m: Record<string, unknown>) => void) => {
    const out = path.join(work, name);
    await cp(src, out, { recursive: true });
    const file = path.join(out, 'faultline.json');
    const m = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    f(m);
    await writeFile(file, JSON.stringify(m));
    return out;
  };
  const wrongSize = await edit('wrong-size', (m) => {
    (m.heads as { classes: string[] }[])[1].classes = ['a', 'b'];
  });
  const lost = await edit('lost', (m) => {
    delete m.heads;
  });
  const badName = await edit('bad-name', (m) => {
    (m.heads as { name: string }[])[0].name = 'colour';
  });
  for (const dir of [wrongSize, lost, badName])
    await assert.rejects(
      loadModelArtifact(dir),
      (e) => isFaultlineError(e) && e.code === 'FL_ERR_MODEL_FILE',
      dir,
    );
  assert.equal(meta.heads?.length, 3);
});
