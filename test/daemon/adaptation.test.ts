/**
 * Adaptation progress plumbing (src/daemon/adaptation.ts `applyWorkerProgress`):
 * losses and label-free checkpoints from the adaptation worker folded into the
 * job the API and the stream report; the stream's `view` message parser; and a
 * real adaptation job through AdaptationManager (worker, registry, rollback).
 */

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { AdaptJob } from '../../src/contract/machine.js';
import {
  AdaptationManager,
  applyWorkerProgress,
  MAX_CURVE_POINTS,
} from '../../src/daemon/adaptation.js';
import { httpStatusOf } from '../../src/daemon/http-errors.js';
import { ModelRegistry } from '../../src/daemon/registry.js';
import { viewRequest } from '../../src/daemon/websocket.js';
import { recordingWindows } from '../../src/dsp/frontend.js';
import { isFaultlineError } from '../../src/errors.js';
import { BearingSignalGenerator } from '../../src/sim/generator.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const job = (): AdaptJob => ({
  id: 'a',
  machine: 'm',
  strategy: 'dann',
  seconds: 2,
  state: 'adapting',
  collectedS: 2,
  step: 0,
  steps: 10,
  startedAt: new Date(0).toISOString(),
});

test('progress: step and mean losses; a curve point per message; non-finite values dropped', () => {
  const j = job();
  applyWorkerProgress(j, { kind: 'progress', step: 5, steps: 10 });
  assert.equal(j.step, 5);
  assert.equal(j.losses, undefined, 'no loss reported, no curve');
  applyWorkerProgress(j, {
    kind: 'progress',
    step: 10,
    steps: 10,
    loss: 1.5,
    domainLoss: Number.NaN,
  });
  assert.equal(j.loss, 1.5);
  assert.equal(j.domainLoss, undefined);
  assert.deepEqual(j.losses, [{ step: 10, loss: 1.5 }]);
});

test('the loss curve stays bounded: thinned by half when full, newest kept', () => {
  const j = job();
  for (let s = 1; s <= 5 * MAX_CURVE_POINTS; s++)
    applyWorkerProgress(j, { kind: 'progress', step: s, steps: 5 * MAX_CURVE_POINTS, loss: 1 / s });
  const pts = j.losses ?? [];
  assert.ok(pts.length <= MAX_CURVE_POINTS && pts.length >= MAX_CURVE_POINTS / 2, `${pts.length}`);
  assert.equal(pts.at(-1)?.step, 5 * MAX_CURVE_POINTS);
  assert.ok(
    pts.every((p, i) => i === 0 || p.step > pts[i - 1].step),
    'in step order',
  );
});

test('checkpoints: label-free criterion and discriminator accuracy, in order', () => {
  const j = job();
  const target = { meanEntropy: 0.2, marginalEntropy: 0.9, im: 0.7 };
  applyWorkerProgress(j, {
    kind: 'checkpoint',
    checkpoint: { step: 0, sourceValAccuracy: 0.98, target },
  });
  applyWorkerProgress(j, {
    kind: 'checkpoint',
    checkpoint: { step: 50, sourceValAccuracy: 0.97, target, discriminatorAccuracy: 0.55 },
  });
  assert.deepEqual(j.checkpoints, [
    { step: 0, sourceValAccuracy: 0.98, im: 0.7, meanEntropy: 0.2, marginalEntropy: 0.9 },
    {
      step: 50,
      sourceValAccuracy: 0.97,
      im: 0.7,
      meanEntropy: 0.2,
      marginalEntropy: 0.9,
      discriminatorAccuracy: 0.55,
    },
  ]);
  assert.equal(j.discriminatorAccuracy, 0.55);
  // a malformed checkpoint is ignored, not a crash
  applyWorkerProgress(j, { kind: 'checkpoint', checkpoint: {} as never });
  assert.equal(j.checkpoints?.length, 2);
});

test('view messages: a list or one machine; anything else is not a view request', () => {
  assert.deepEqual(viewRequest('{"type":"view","machines":["a","b","a",3]}'), ['a', 'b']);
  assert.deepEqual(viewRequest('{"type":"view","machine":"a"}'), ['a']);
  assert.deepEqual(viewRequest('{"type":"view","machine":null}'), []);
  assert.deepEqual(viewRequest('{"type":"view"}'), []);
  assert.equal(viewRequest('{"type":"other","machines":["a"]}'), undefined);
  assert.equal(viewRequest('not json'), undefined);
  assert.equal(viewRequest('null'), undefined);
  const many = JSON.stringify({
    type: 'view',
    machines: Array.from({ length: 500 }, (_, i) => `m${i}`),
  });
  assert.equal(viewRequest(many)?.length, 64, 'bounded');
});

/**
 * On the spot, for real: the shipped simulator model (trained at 1797 rpm,
 * no load) adapted in a worker thread to 10 s of a simulated outer-race
 * machine at 1730 rpm under load (unlabelled), a few DANN steps. The
 * single-machine guards must let it through (class collapse would not: the
 * machine is all one class), the candidate is registered, activated and
 * swapped in; rollback restores the shipped version.
 */
test('an adaptation job on a faulty machine at another condition is promoted, activated and rolled back', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-adapt-job-'));
  const swaps: { machine: string; dir: string }[] = [];
  let mgr: AdaptationManager | undefined;
  try {
    const registry = await ModelRegistry.open(path.join(dir, 'registry'));
    const shipped = await registry.register(path.resolve(repoRoot, 'models', 'sim-12k'), {
      origin: 'shipped',
    });
    await registry.activate('m1', shipped.id);
    mgr = new AdaptationManager({
      registry,
      workDir: path.join(dir, 'work'),
      steps: 12,
      maxSampleBytes: 64 * 2 ** 20,
      keepJobs: 20,
      setModel: async (machine, modelDir) => {
        swaps.push({ machine, dir: modelDir });
      },
      sensorOf: (m) =>
        m === 'm1' || m === 'm2' ? { sensor: 7, sampleRate: 12_000, channel: 0 } : undefined,
    });
    const events: AdaptJob[] = [];
    // bytes of samples the main thread held once the worker reported its first steps
    let heldWhileAdapting: number | undefined;
    const finished = new Promise<AdaptJob>((resolve) => {
      mgr?.on('progress', (j) => {
        events.push(j);
        if (j.state === 'adapting' && j.step > 0 && heldWhileAdapting === undefined)
          heldWhileAdapting = mgr?.heldSampleBytes();
        if (j.state !== 'collecting' && j.state !== 'adapting') resolve(j);
      });
    });
    const t0 = performance.now();
    const job = mgr.start('m1', { seconds: 10, strategy: 'dann' });
    assert.equal(job.fromVersion, shipped.id);
    for (const m of ['m1', 'm2'])
      assert.throws(
        () => mgr?.start(m, { seconds: 10, strategy: 'dann' }),
        (e) => isFaultlineError(e, 'FL_ERR_API_BUSY'),
        `a second job (${m}) while one runs on the gateway is busy (409)`,
      );
    assert.equal(mgr.heldSampleBytes(), 10 * 12_000 * 4, 'the buffer, allocated once');
    // The machine's live signal, in 0.1 s blocks as a sensor node sends them; rpm reported.
    const gen = new BearingSignalGenerator({
      condition: 'target-1730rpm-load3',
      fault: { type: 'outer', severity: 0.3 },
      sampleRate: 12_000,
      seed: 4242,
    });
    for (let seq = 0; seq < 101; seq++) {
      mgr.offer('m1', {
        sensorId: 7,
        seq,
        t0Us: BigInt(seq) * 100_000n,
        sampleRate: 12_000,
        channels: 1,
        samples: gen.next(1200),
        rpm: 1730,
        gap: 0,
        origin: { link: 'serial', path: 'test' },
      });
    }
    const done = await finished;
    const seconds = (performance.now() - t0) / 1000;
    const guards = done.guards ?? [];
    process.stderr.write(
      `# adaptation job ${seconds.toFixed(1)} s: ${guards.map((g) => `${g.name}: ${g.detail}`).join('; ')}\n`,
    );
    assert.equal(done.state, 'done', `${done.error ?? ''} ${JSON.stringify(guards)}`);
    assert.equal(heldWhileAdapting, 0, 'the samples were transferred to the worker, not copied');
    assert.equal(done.promoted, true);
    assert.deepEqual(
      guards.map((g) => g.name),
      ['source-forgetting', 'negative-transfer', 'verdict-stability', 'verdict-agreement'],
    );
    assert.ok(guards.every((g) => g.passed));
    assert.match(guards[3].detail, /outer \(100 %.*→ outer/);
    // a new version, active, swapped in
    assert.ok(done.version && done.version !== shipped.id);
    const active = registry.active('m1');
    assert.equal(active?.id, done.version);
    assert.equal(active?.parent, shipped.id);
    assert.equal(active?.adaptation?.promoted, true);
    assert.deepEqual(swaps, [{ machine: 'm1', dir: active?.dir }]);
    const meta = await registry.metadata(done.version);
    assert.equal(meta.adaptation?.targetKind, 'single-machine');
    // 10 s at 1730 rpm (the frames' speed), cut as the model's front end cuts a recording
    const w = recordingWindows(meta.frontEnd, 1730);
    assert.equal(
      meta.metrics.targetWindows,
      Math.floor((120_000 - w.length) / w.hop) + 1,
      '10 s in windows of the model front end',
    );
    // progress for the console: steps, loss terms, checkpoints with the discriminator's accuracy
    assert.equal(done.step, 12);
    assert.ok(
      events.some((e) => e.state === 'collecting' && e.collectedS > 0 && e.collectedS < 10),
    );
    const last = done.losses?.at(-1);
    assert.ok(last && [last.loss, last.classLoss, last.domainLoss].every(Number.isFinite));
    assert.ok(Math.abs((last.classLoss ?? 0) + (last.domainLoss ?? 0) - (last.loss ?? 0)) < 1e-4);
    const cps = done.checkpoints ?? [];
    assert.deepEqual(
      cps.map((c) => c.step),
      [0, 3, 6, 9, 12],
    );
    assert.ok(
      cps.every((c) => c.discriminatorAccuracy !== undefined && c.discriminatorAccuracy >= 0),
    );
    // rollback: the shipped version again, swapped back in
    const r = await mgr.rollback('m1');
    assert.equal(r.from.id, done.version);
    assert.equal(r.to.id, shipped.id);
    assert.equal(registry.active('m1')?.id, shipped.id);
    assert.deepEqual(swaps.at(-1), { machine: 'm1', dir: shipped.dir });
  } finally {
    await mgr?.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** A manager over an empty registry: a job collects, then fails at once (no active model). */
async function idleManager(dir: string, o: { maxSampleBytes?: number; keepJobs?: number } = {}) {
  const registry = await ModelRegistry.open(path.join(dir, 'registry'));
  return new AdaptationManager({
    registry,
    workDir: path.join(dir, 'work'),
    steps: 1,
    maxSampleBytes: o.maxSampleBytes ?? 64 * 2 ** 20,
    keepJobs: o.keepJobs ?? 20,
    setModel: async () => {},
    sensorOf: (m) =>
      m.startsWith('m') ? { sensor: 1, sampleRate: 12_000, channel: 0 } : undefined,
  });
}

/** Offers one second of signal to `machine`'s job and waits for the job to end. */
async function runToEnd(mgr: AdaptationManager, machine: string): Promise<AdaptJob> {
  const job = mgr.start(machine, { seconds: 1, strategy: 'dann' });
  const ended = new Promise<AdaptJob>((resolve) => {
    const on = (j: AdaptJob) => {
      if (j.id === job.id && j.state !== 'collecting' && j.state !== 'adapting') {
        mgr.off('progress', on);
        resolve(j);
      }
    };
    mgr.on('progress', on);
  });
  mgr.offer(machine, {
    sensorId: 1,
    seq: 0,
    t0Us: 0n,
    sampleRate: 12_000,
    channels: 1,
    samples: new Float32Array(12_000),
    gap: 0,
    origin: { link: 'serial', path: 'test' },
  });
  return ended;
}

test('one adaptation at a time per gateway: another machine is FL_ERR_API_BUSY (409) until the job ends', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-adapt-busy-'));
  const mgr = await idleManager(dir);
  try {
    const first = mgr.start('m1', { seconds: 1, strategy: 'dann' });
    assert.throws(
      () => mgr.start('m2', { seconds: 1, strategy: 'mmd' }),
      (e) =>
        isFaultlineError(e, 'FL_ERR_API_BUSY') &&
        e.message.includes(first.id) &&
        httpStatusOf(e) === 409,
    );
    assert.throws(
      () => mgr.start('nope', { seconds: 1, strategy: 'dann' }),
      (e) => isFaultlineError(e, 'FL_ERR_API_NOT_FOUND'),
      'an unknown machine is still a 404',
    );
    await mgr.close();
    // once the running job has ended (here: it fails, the registry has no model), the slot is free
    const mgr2 = await idleManager(dir);
    const a = await runToEnd(mgr2, 'm1');
    assert.equal(a.state, 'failed');
    const b = await runToEnd(mgr2, 'm2');
    assert.equal(b.state, 'failed');
    await mgr2.close();
  } finally {
    await mgr.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the sample buffer is capped in bytes before it is allocated (adaptation.maxSampleBytes)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-adapt-cap-'));
  const mgr = await idleManager(dir, { maxSampleBytes: 64 * 1024 });
  try {
    // 2 s at 12 kHz = 96,000 B > 64 KiB
    assert.throws(
      () => mgr.start('m1', { seconds: 2, strategy: 'dann' }),
      (e) =>
        isFaultlineError(e, 'FL_ERR_API_REQUEST') &&
        /adaptation\.maxSampleBytes/.test(e.message) &&
        /at most 1 s/.test(e.message),
    );
    assert.equal(mgr.heldSampleBytes(), 0, 'nothing allocated for a refused job');
    assert.deepEqual(mgr.jobs(), [], 'a refused job is not listed');
    mgr.start('m1', { seconds: 1, strategy: 'dann' });
    assert.equal(mgr.heldSampleBytes(), 48_000);
  } finally {
    await mgr.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('old jobs and their work folders are pruned (keep the last adaptation.keepJobs); leftovers of a crash at start', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'faultline-adapt-prune-'));
  const work = path.join(dir, 'work');
  await mkdir(path.join(work, 'adapt-crashed-1'), { recursive: true });
  await writeFile(path.join(work, 'adapt-crashed-1', 'weights.bin'), 'partial');
  const mgr = await idleManager(dir, { keepJobs: 2 });
  try {
    await mgr.prune();
    assert.deepEqual(await readdir(work), [], "a previous run's folder belongs to no job");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const j = await runToEnd(mgr, 'm1');
      assert.equal(j.state, 'failed', 'each job leaves its work folder behind');
      ids.push(j.id);
    }
    await mgr.prune();
    const kept = ids.slice(-2);
    assert.deepEqual(
      mgr.jobs().map((j) => j.id),
      [...kept].reverse(),
      'the last two, most recent first',
    );
    assert.deepEqual((await readdir(work)).sort(), [...kept].sort());
    assert.equal(mgr.job(ids[0]), undefined);
  } finally {
    await mgr.close();
    await rm(dir, { recursive: true, force: true });
  }
});
