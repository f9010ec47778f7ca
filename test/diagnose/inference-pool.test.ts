/**
 * The inference pool's watchdog and restart backoff, with a scripted worker
 * (./fixtures/scripted-worker.ts) in a real worker thread: a worker that
 * never answers is terminated and its windows come back failed so the
 * sensor moves on; a worker that keeps dying is restarted after growing
 * delays; the pool serves again afterwards.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { CWRU_DE_BEARING } from '../../src/contract/bearing.js';
import { InferencePool, type PoolJob } from '../../src/diagnose/inference-pool.js';
import type { WindowResult } from '../../src/diagnose/inference-protocol.js';

import { waitFor } from '../support/links.js';

const WORKER = new URL('./fixtures/scripted-worker.ts', import.meta.url);

const task = {
  rpm: 1797,
  rpmSource: 'config' as const,
  evidence: false,
  spectrogram: false,
  bearing: CWRU_DE_BEARING,
  iso: { group: 2 as const, foundation: 'rigid' as const },
  fullScaleG: 16,
};

const pools: InferencePool<number>[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.close();
});

function pool(o: Partial<ConstructorParameters<typeof InferencePool<number>>[0]> = {}) {
  const results: { job: PoolJob<number>; r: WindowResult }[] = [];
  const errors: { at: number; err: Error }[] = [];
  const p = new InferencePool<number>({
    workers: 1,
    maxBatch: 1,
    maxLatencyMs: 0,
    workerModule: WORKER,
    onResult: (job, r) => results.push({ job, r }),
    onError: (err) => errors.push({ at: Date.now(), err }),
    ...o,
  });
  pools.push(p);
  return { p, results, errors };
}

const job = (key: string, ctx: number): PoolJob<number> => ({
  key,
  window: new Float32Array(16),
  task,
  ctx,
});

test('a hung worker: its batch fails with FL_ERR_INFERENCE_TIMEOUT, the worker is replaced, the pool serves again', {
  timeout: 180_000,
}, async () => {
  const { p, results } = pool({ batchTimeoutMs: 300 });
  await p.start();
  for (const k of ['hang', 'ok']) await p.load(k, `/models/${k}`);
  assert.equal(p.submit(job('hang', 1)), true);
  await waitFor(() => results.length === 1, 'the hung batch to fail');
  assert.equal(results[0].job.ctx, 1);
  assert.equal(results[0].r.ok, false);
  assert.equal(results[0].r.code, 'FL_ERR_INFERENCE_TIMEOUT');
  assert.ok(p.stats().batchTimeouts >= 1);
  assert.ok(p.stats().workerRestarts >= 1);
  // the replacement takes the next window
  assert.equal(p.submit(job('ok', 2)), true);
  await waitFor(() => results.some((x) => x.job.ctx === 2), 'a result from the new worker');
  assert.equal(results.find((x) => x.job.ctx === 2)?.r.ok, true);
});

test('a worker that keeps dying is restarted after growing delays, and the pool serves again', {
  timeout: 180_000,
}, async () => {
  const { p, results, errors } = pool({ respawn: { minMs: 300, maxMs: 600 } });
  await p.start();
  for (const k of ['crash', 'ok']) await p.load(k, `/models/${k}`);
  // one at a time: a worker holds two batches, and one death fails both
  for (let i = 0; i < 4; i++) {
    assert.equal(p.submit(job('crash', i)), true);
    await waitFor(() => results.length === i + 1, `crash ${i + 1}`);
  }
  assert.ok(results.every((x) => !x.r.ok && x.r.code === 'FL_ERR_BACKEND'));
  assert.equal(p.stats().workerRestarts, 4);
  // crash 1 restarts at once; then ≥ 300, 600, 600 ms apart (a lower bound: a
  // slow machine only widens the gaps)
  const gaps = errors.slice(1).map((e, i) => e.at - errors[i].at);
  assert.equal(errors.length, 4, errors.map((e) => e.err.message).join('; '));
  assert.ok(gaps[1] >= 290 && gaps[2] >= 590, `gaps ${gaps.join(', ')} ms`);
  assert.equal(p.submit(job('ok', 9)), true);
  await waitFor(() => results.some((x) => x.job.ctx === 9), 'a result after the crashes');
  assert.equal(results.find((x) => x.job.ctx === 9)?.r.ok, true);
});
