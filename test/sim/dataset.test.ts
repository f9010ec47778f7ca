import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadByo } from '../../src/data/byo.js';
import { isFaultlineError } from '../../src/errors.js';
import { defineCondition } from '../../src/sim/conditions.js';
import { planSimDataset, writeSimDataset } from '../../src/sim/dataset.js';
import { generateBearingSignal } from '../../src/sim/generator.js';

const tmp = await mkdtemp(path.join(os.tmpdir(), 'faultline-sim-dataset-'));
after(() => rm(tmp, { recursive: true, force: true }));

test('the plan is conditions × classes × recordings with distinct seeds, deterministic', () => {
  const plan = planSimDataset({
    conditions: ['source-1797rpm', 'target-600rpm'],
    recordingsPerClass: 2,
  });
  assert.equal(plan.length, 2 * 4 * 2);
  assert.deepEqual(
    planSimDataset({ conditions: ['source-1797rpm', 'target-600rpm'], recordingsPerClass: 2 }),
    plan,
  );
  assert.equal(new Set(plan.map((e) => e.seed)).size, plan.length);
  assert.equal(new Set(plan.map((e) => e.file)).size, plan.length);
  assert.deepEqual([...new Set(plan.map((e) => e.label))], ['normal', 'inner', 'outer', 'ball']);
  for (const e of plan) {
    assert.equal(e.file, `${e.domain}/${e.label}_${e.file.endsWith('_0.wav') ? 0 : 1}.wav`);
    if (e.fault === 'none') assert.equal(e.severity, 0);
    else assert.ok(e.severity >= 0.35 && e.severity <= 0.65, `severity ${e.severity}`);
  }
  // A condition's recordings do not depend on which conditions come after it.
  const alone = planSimDataset({ conditions: ['source-1797rpm'], recordingsPerClass: 2 });
  assert.deepEqual(
    alone.map((e) => e.seed),
    plan.filter((e) => e.domain === 'source-1797rpm').map((e) => e.seed),
  );
});

test('writes files and a manifest that the bring-your-own loader reads', async () => {
  const dir = path.join(tmp, 'ds');
  const custom = defineCondition('source-1797rpm', { name: 'pump-a', rpm: 1480, noiseRms: 0.06 });
  const result = await writeSimDataset(dir, {
    conditions: ['source-1797rpm', 'target-1200rpm', custom],
    recordingsPerClass: 1,
    durationS: 0.25,
    format: 'npy',
    seed: 5,
  });
  const manifest = (await readFile(result.manifestPath, 'utf8')).trimEnd().split('\n');
  assert.equal(manifest[0], 'file,label,domain,sample_rate,channel,rpm');
  assert.equal(manifest.length, 1 + 3 * 4);
  assert.equal(manifest[1], 'source-1797rpm/normal_0.npy,normal,source-1797rpm,12000,0,1797');

  const recs = await loadByo(dir);
  assert.equal(recs.length, 12);
  const byFile = new Map(recs.map((r) => [String(r.meta.file), r]));
  for (const e of result.entries) {
    const r = byFile.get(e.file);
    assert.ok(r, `loader missed ${e.file}`);
    assert.equal(r.label, e.label);
    assert.equal(r.domain, e.domain);
    assert.equal(r.rpm, e.rpm);
    assert.equal(r.sampleRate, 12000);
    assert.equal(r.samples.length, 3000);
    // The file holds exactly what the generator makes from the entry's parameters.
    const expected = generateBearingSignal(
      { condition: e.condition, fault: { type: e.fault, severity: e.severity }, seed: e.seed },
      3000,
    );
    assert.deepEqual(r.samples, expected, e.file);
  }
  assert.deepEqual([...new Set(recs.map((r) => r.domain))].sort(), [
    'pump-a',
    'source-1797rpm',
    'target-1200rpm',
  ]);
});

test('refuses a non-empty folder and bad options with FL_ERR_SIM_PARAMS', async () => {
  const dir = path.join(tmp, 'busy');
  await mkdir(dir);
  await writeFile(path.join(dir, 'keep.txt'), 'mine');
  await assert.rejects(writeSimDataset(dir, { durationS: 0.1 }), (e) =>
    isFaultlineError(e, 'FL_ERR_SIM_PARAMS'),
  );
  assert.equal(await readFile(path.join(dir, 'keep.txt'), 'utf8'), 'mine');

  const bad = (o: Parameters<typeof planSimDataset>[0]) =>
    assert.throws(
      () => planSimDataset(o),
      (e) => isFaultlineError(e, 'FL_ERR_SIM_PARAMS'),
    );
  bad({ conditions: [] });
  bad({ conditions: ['source-1797rpm', 'source-1797rpm'] });
  bad({ conditions: ['nope' as never] });
  bad({ faults: [] });
  bad({ faults: ['cage' as never] });
  bad({ recordingsPerClass: 0 });
  bad({ durationS: Number.NaN });
  bad({ format: 'mat' as never });
  bad({ conditions: [defineCondition('source-1797rpm', { name: 'a/b' })] });
});
