/**
 * The shipped simulator model (models/sim-12k): it loads, it fits the
 * simulator's stream and the current front end, it tells fresh simulated
 * windows of every class apart, and the gateway's default `builtin:sim`
 * resolves to it without training. No training here.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BUILTIN_SIM, resolveMachineModels } from '../../src/daemon/models.js';
import { ModelRegistry } from '../../src/daemon/registry.js';
import { createFrontEnd, resolveFrontEndConfig } from '../../src/dsp/frontend.js';
import {
  checkStreamCompatibility,
  type LoadedModel,
  loadModelArtifact,
} from '../../src/model/artifact.js';
import { initBackend } from '../../src/model/backend.js';
import { buildInputs } from '../../src/model/inputs.js';
import { argmaxRows, predictProbs } from '../../src/model/train.js';
import { conditionPreset } from '../../src/sim/conditions.js';
import { DEFAULT_SEVERITY_G, FAULT_LABELS, FAULT_TYPES } from '../../src/sim/faults.js';
import { BearingSignalGenerator } from '../../src/sim/generator.js';
import { DEFAULT_SAMPLE_RATE } from '../../src/sim/options.js';
import {
  currentSimModelMeta,
  isCurrentSimModel,
  parseSimDatasetLabel,
  SIM_CLASSES,
  SIM_FRONT_END,
  SIM_MODEL_NAME,
  simDatasetLabel,
} from '../../src/sim/sim-model.js';
import type { SignalWindow } from '../../src/types.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const modelDir = path.join(repoRoot, 'models', SIM_MODEL_NAME);
let model: LoadedModel;

before(async () => {
  await initBackend({ log: () => undefined });
  model = await loadModelArtifact(modelDir);
});
after(() => model?.model.dispose());

test('the shipped model fits the simulator stream and the current front end', () => {
  const { meta } = model;
  assert.equal(meta.sampleRate, DEFAULT_SAMPLE_RATE);
  assert.deepEqual(meta.classes, ['ball', 'inner', 'normal', 'outer']);
  assert.deepEqual(meta.classes, [...SIM_CLASSES]);
  assert.deepEqual(
    JSON.parse(JSON.stringify(meta.frontEnd)),
    JSON.parse(JSON.stringify(resolveFrontEndConfig(SIM_FRONT_END))),
  );
  assert.equal(meta.frontEnd.mode, 'order');
  assert.equal(meta.frontEnd.version, 2, 'the physical-units front end');
  assert.deepEqual(meta.frontEnd.lines?.axes, ['BPFO', 'BPFI', 'BSF2'], 'read on fault orders');
  assert.equal(meta.provenance.kind, 'sim');
  assert.ok(isCurrentSimModel(meta));
  // The label regenerates the source recordings for an adaptation.
  assert.deepEqual(
    parseSimDatasetLabel(meta.provenance.dataset),
    parseSimDatasetLabel(simDatasetLabel()),
  );
  assert.match(meta.training.command, /^npx tsx src\/sim\/sim-model\.ts --out models\/sim-12k/);
  assert.ok(
    (meta.metrics.heldOutAccuracy ?? 0) >= 0.97,
    `held-out ${meta.metrics.heldOutAccuracy}`,
  );
  // The live pipeline would refuse another rate; this one is accepted.
  checkStreamCompatibility(meta, { sampleRate: DEFAULT_SAMPLE_RATE, label: 'sim' });
  assert.throws(() => checkStreamCompatibility(meta, { sampleRate: 48_000, label: 'x' }), {
    name: 'FaultlineError',
  });
});

test('a front end or class set unlike the current one is not taken for the simulator model', () => {
  const { meta } = model;
  assert.equal(isCurrentSimModel({ ...meta, frontEnd: { ...meta.frontEnd, mode: 'time' } }), false);
  assert.equal(isCurrentSimModel({ ...meta, classes: ['inner', 'normal'] }), false);
  assert.equal(isCurrentSimModel({ ...meta, sampleRate: 48_000 }), false);
  assert.equal(
    isCurrentSimModel({ ...meta, provenance: { ...meta.provenance, kind: 'cwru' } }),
    false,
  );
});

test('fresh simulated windows of every class at the source condition are classified (≥ 90 % each)', () => {
  const fe = createFrontEnd(model.meta.frontEnd);
  const L = fe.config.windowLength;
  const condition = conditionPreset('source-1797rpm');
  const perClass = 20;
  const windows: SignalWindow[] = [];
  for (const [k, fault] of FAULT_TYPES.entries()) {
    // A seed no training or held-out recording used; 20 s of signal, 20 one-second windows.
    const gen = new BearingSignalGenerator({
      condition,
      fault: { type: fault, severity: DEFAULT_SEVERITY_G },
      seed: 90_210 + k,
    });
    const x = gen.next(perClass * L);
    for (let w = 0; w < perClass; w++) {
      windows.push({
        recordingId: fault,
        start: w * L,
        samples: x.subarray(w * L, (w + 1) * L),
        sampleRate: DEFAULT_SAMPLE_RATE,
        label: FAULT_LABELS[fault],
        rpm: condition.rpm,
      });
    }
  }
  const classes = model.meta.classes;
  const set = buildInputs(windows, fe, classes);
  const pred = argmaxRows(predictProbs(model.model, set), classes.length);
  for (const [ci, c] of classes.entries()) {
    let n = 0;
    let right = 0;
    for (let i = 0; i < set.n; i++) {
      if (set.y[i] !== ci) continue;
      n++;
      if (pred[i] === ci) right++;
    }
    assert.equal(n, perClass);
    assert.ok(right / n >= 0.9, `${c}: ${right}/${n} windows right`);
  }
});

test('the gateway default (builtin:sim) runs the shipped model, no training', async () => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'fl-sim-model-'));
  try {
    const registry = await ModelRegistry.open(path.join(stateDir, 'registry'));
    const logs: string[] = [];
    const active = await resolveMachineModels({
      config: {
        model: BUILTIN_SIM,
        machines: [{ id: 'm1', sensors: [{ id: 1, sampleRate: 12_000 }] }],
      } as unknown as Parameters<typeof resolveMachineModels>[0]['config'],
      registry,
      repoRoot,
      stateDir,
      log: (m) => logs.push(m),
    });
    assert.deepEqual(logs, []);
    assert.equal(active.get('m1')?.contentHash, model.meta.contentHash);
    // Nothing was trained into the state directory.
    assert.equal(
      await currentSimModelMeta(path.join(stateDir, 'models', SIM_MODEL_NAME)),
      undefined,
    );
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});
