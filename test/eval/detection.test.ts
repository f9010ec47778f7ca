import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { resolveFrontEndConfig } from '../../src/dsp/frontend.js';
import {
  detectionProtocol,
  planDetection,
  runDetectionJob,
  SIM_DETECTION,
} from '../../src/eval/detection.js';
import type { EvalSettings } from '../../src/eval/evaluate.js';
import { initBackend } from '../../src/model/backend.js';
import { DEFAULT_FRONT_END } from '../../src/model/domains.js';
import * as tf from '../../src/model/tf.js';

before(async () => {
  await initBackend({ log: () => {} });
});

const FAULTS = ['IR007', 'B007', 'OR007'];

test('detection is planned only where a domain has normal windows; the protocol says what is left out', () => {
  const domainClasses = {
    load0: [...FAULTS, 'normal'].sort(),
    load1: [...FAULTS].sort(),
    load3: [...FAULTS].sort(),
  };
  const { jobs, coverage } = planDetection({ classes: FAULTS, seeds: [1, 2] }, domainClasses);
  assert.deepEqual(coverage, { withNormal: ['load0'], withoutNormal: ['load1', 'load3'] });
  assert.deepEqual(jobs, [
    { kind: 'domain', domain: 'load0', seed: 1 },
    { kind: 'sim', seed: 1 },
    { kind: 'domain', domain: 'load0', seed: 2 },
    { kind: 'sim', seed: 2 },
  ]);
  const p = detectionProtocol('cwru', coverage, 'time');
  assert.match(p, /In-domain on load0/);
  assert.match(p, /load1, load3 have no 'normal' windows/);
  assert.match(p, /0 HP only/);
  assert.match(p, /target-1200rpm and target-noisy-gain/);
  // A domain whose only class is normal (no scored fault) is not scored either.
  const onlyNormal = planDetection({ classes: FAULTS, seeds: [1] }, { idle: ['normal'] });
  assert.deepEqual(onlyNormal.coverage, { withNormal: [], withoutNormal: ['idle'] });
  assert.match(detectionProtocol('byo', onlyNormal.coverage, 'order'), /No domain/);
  assert.match(
    detectionProtocol('byo', onlyNormal.coverage, 'order'),
    /target-1730rpm-load3 and target-noisy-gain/,
  );
});

test('a simulator detection job scores source-only and dann on each target, without leaking tensors', async () => {
  const settings: EvalSettings = {
    dataset: 'unused',
    tasks: [],
    strategies: ['source-only', 'dann'],
    seeds: [1],
    frontEnd: resolveFrontEndConfig(DEFAULT_FRONT_END),
    variant: 'strided',
    epochs: 1,
    adaptSteps: 4,
    workers: 0,
  };
  const tensors = tf.memory().numTensors;
  const entries = await runDetectionJob(settings, { kind: 'sim', seed: 1 });
  assert.equal(tf.memory().numTensors, tensors, 'a detection job must not leak tensors');
  const targets = SIM_DETECTION.targets.time;
  assert.deepEqual(
    entries.map((e) => `${e.target} ${e.strategy}`),
    [...targets.map((t) => `${t} source-only`), ...targets.map((t) => `${t} dann`)],
  );
  for (const e of entries) {
    assert.equal(e.dataset, 'sim');
    assert.equal(e.source, SIM_DETECTION.source);
    // 10 s per class, 15 % test segment, 2048-sample windows every 512: 32 windows per class.
    assert.equal(e.normalWindows, 32);
    assert.equal(e.faultWindows, 96);
    for (const v of [e.detectionRate, e.falseAlarmRate, e.balancedAccuracy, e.auroc, e.accuracy])
      assert.ok(v >= 0 && v <= 1, JSON.stringify(e));
    assert.ok(Math.abs(e.balancedAccuracy - (e.detectionRate + 1 - e.falseAlarmRate) / 2) < 1e-12);
    assert.ok(Number.isFinite(e.sourceBalancedAccuracy));
    assert.equal(e.selectedStep === undefined, e.strategy === 'source-only');
  }
  // Without dann among the strategies only source-only is scored.
  const only = await runDetectionJob(
    { ...settings, strategies: ['source-only'] },
    { kind: 'sim', seed: 1 },
  );
  assert.deepEqual(
    only.map((e) => e.strategy),
    ['source-only', 'source-only'],
  );
  // Same seed, same numbers.
  assert.deepEqual(
    only.map((e) => [e.detectionRate, e.falseAlarmRate, e.auroc]),
    entries.slice(0, 2).map((e) => [e.detectionRate, e.falseAlarmRate, e.auroc]),
  );
});
