import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createFrontEnd, resolveFrontEndConfig } from '../../src/dsp/frontend.js';
import { isFaultlineError } from '../../src/errors.js';
import { buildCnn } from '../../src/model/architectures.js';
import {
  checkStreamCompatibility,
  contentHash,
  loadModelArtifact,
  type ModelMetadata,
  saveModelArtifact,
} from '../../src/model/artifact.js';
import { initBackend } from '../../src/model/backend.js';
import * as tf from '../../src/model/tf.js';
import { testArtifactMeta } from '../support/model-artifact.js';

const frontEnd = resolveFrontEndConfig({
  sampleRate: 1000,
  windowLength: 256,
  hop: 128,
  stft: { nfft: 64, freqBins: 16, frames: 8 },
});
let dir: string;
let saved: ModelMetadata;
let reference: Float32Array;
const input = () =>
  tf.tensor4d(
    Float32Array.from({ length: 2 * 16 * 8 }, (_, i) => Math.sin(i * 0.37)),
    [2, 16, 8, 1],
  );

function fileError(code: string) {
  return (err: unknown) => isFaultlineError(err) && err.code === code;
}

before(async () => {
  await initBackend({ log: () => {} });
  dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-artifact-'));
  const cnn = buildCnn([16, 8, 1], 3, 'strided', { seed: 7 });
  const x = input();
  reference = (cnn.model.predict(x) as tf.Tensor).dataSync() as Float32Array;
  x.dispose();
  saved = await saveModelArtifact(
    path.join(dir, 'm'),
    cnn.model,
    testArtifactMeta(cnn, {
      classes: ['a', 'b', 'c'],
      frontEnd,
      training: { seed: 7 },
      metrics: { sourceValAccuracy: 0.5 },
    }),
  );
  cnn.model.dispose();
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('a saved model loads back with identical predictions, metadata and hash', async () => {
  const m = await loadModelArtifact(path.join(dir, 'm'));
  const x = input();
  const got = (m.model.predict(x) as tf.Tensor).dataSync();
  const feats = m.features.predict(x) as tf.Tensor;
  assert.equal(feats.shape[0], 2);
  const viaParts = (m.classifier.predict(feats) as tf.Tensor).dataSync();
  for (let i = 0; i < reference.length; i++) {
    assert.ok(Math.abs(got[i] - reference[i]) < 1e-6, `output ${i}: ${got[i]} vs ${reference[i]}`);
    assert.ok(
      Math.abs(viaParts[i] - reference[i]) < 1e-5,
      'features → classifier equals the full model',
    );
  }
  x.dispose();
  assert.deepEqual(m.meta.classes, ['a', 'b', 'c']);
  assert.deepEqual(m.meta.frontEnd, JSON.parse(JSON.stringify(frontEnd)));
  const bytes = [
    await readFile(path.join(dir, 'm', 'model.json')),
    await readFile(path.join(dir, 'm', 'weights.bin')),
  ];
  assert.equal(m.meta.contentHash, contentHash(bytes[0], bytes[1]));
  assert.equal(saved.contentHash, m.meta.contentHash);
  m.model.dispose();
});

test('a flipped weight byte is refused with FL_ERR_MODEL_FILE (hash mismatch)', async () => {
  const d = path.join(dir, 'corrupt');
  await copyModel(path.join(dir, 'm'), d);
  const w = await readFile(path.join(d, 'weights.bin'));
  w[w.length >> 1] ^= 0x40;
  await writeFile(path.join(d, 'weights.bin'), w);
  await assert.rejects(
    loadModelArtifact(d),
    (e: unknown) => fileError('FL_ERR_MODEL_FILE')(e) && /hash/.test((e as Error).message),
  );
});

test('missing, non-JSON and non-Faultline metadata are refused with FL_ERR_MODEL_FILE', async () => {
  await assert.rejects(
    loadModelArtifact(path.join(dir, 'nothing-here')),
    fileError('FL_ERR_MODEL_FILE'),
  );
  const d = path.join(dir, 'badmeta');
  await copyModel(path.join(dir, 'm'), d);
  await writeFile(path.join(d, 'faultline.json'), '{ not json');
  await assert.rejects(loadModelArtifact(d), fileError('FL_ERR_MODEL_FILE'));
  await writeFile(
    path.join(d, 'faultline.json'),
    JSON.stringify({ ...saved, format: 'something-else' }),
  );
  await assert.rejects(loadModelArtifact(d), fileError('FL_ERR_MODEL_FILE'));
  await writeFile(
    path.join(d, 'faultline.json'),
    JSON.stringify({ ...saved, classes: ['only-one'] }),
  );
  await assert.rejects(loadModelArtifact(d), fileError('FL_ERR_MODEL_FILE'));
  // Metadata that disagrees with the network (4 classes for a 3-way output) is refused too.
  await writeFile(
    path.join(d, 'faultline.json'),
    JSON.stringify({ ...saved, classes: ['a', 'b', 'c', 'd'] }),
  );
  await assert.rejects(
    loadModelArtifact(d),
    (e: unknown) => fileError('FL_ERR_MODEL_FILE')(e) && /4 classes/.test((e as Error).message),
  );
  // A truncated model.json (with a matching hash) is still refused.
  await writeFile(path.join(d, 'model.json'), '{"modelTopology":');
  const fixed = {
    ...saved,
    contentHash: contentHash(
      await readFile(path.join(d, 'model.json')),
      await readFile(path.join(d, 'weights.bin')),
    ),
  };
  await writeFile(path.join(d, 'faultline.json'), JSON.stringify(fixed));
  await assert.rejects(loadModelArtifact(d), fileError('FL_ERR_MODEL_FILE'));
});

test('a stream with another sample rate or front end is refused with FL_ERR_MODEL_MISMATCH', () => {
  checkStreamCompatibility(saved, { sampleRate: 1000, frontEnd });
  assert.throws(
    () => checkStreamCompatibility(saved, { sampleRate: 12000 }),
    (e: unknown) => fileError('FL_ERR_MODEL_MISMATCH')(e) && /12000 Hz/.test((e as Error).message),
  );
  const other = resolveFrontEndConfig({ ...frontEnd, stft: { ...frontEnd.stft, nfft: 32 } });
  assert.throws(
    () => checkStreamCompatibility(saved, { sampleRate: 1000, frontEnd: other }),
    (e: unknown) => fileError('FL_ERR_MODEL_MISMATCH')(e) && /nfft/.test((e as Error).message),
  );
  const bigger = { ...saved, inputShape: [32, 8, 1] as [number, number, number] };
  assert.throws(
    () => checkStreamCompatibility(bigger, { sampleRate: 1000 }),
    fileError('FL_ERR_MODEL_MISMATCH'),
  );
  assert.deepEqual([...createFrontEnd(saved.frontEnd).inputShape], saved.inputShape);
});

async function copyModel(from: string, to: string): Promise<void> {
  const { mkdir, copyFile } = await import('node:fs/promises');
  await mkdir(to, { recursive: true });
  for (const f of ['model.json', 'weights.bin', 'faultline.json'])
    await copyFile(path.join(from, f), path.join(to, f));
}
