/**
 * Learning from verdicts (issue #16, "the operator teaches the model"): the
 * held-out split on its own, then a real in-process gateway (embedded
 * broker, simulated fleet, the simulator-trained model, SQLite) whose
 * verdicts are given through the real ack path, and learning jobs on them
 * through the API: refused without enough verdicts (409, nothing starts),
 * refused for a label-free strategy with fromVerdicts and for finetune
 * without it (400), and a finetune run on a confirmed fault: registered,
 * its guards (with held-out-verdicts) reported, activated only when every
 * guard passed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Alert } from '../../src/contract/alert.js';
import { type AdaptJob, adaptJobSchema, type MachineView } from '../../src/contract/machine.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { readMachineVerdictWindows } from '../../src/daemon/verdict-files.js';
import { splitVerdictWindows } from '../../src/model/adapt/verdict-split.js';
import { quiet, simModelDir, until } from '../support/gateway-fixture.js';

test('split: whole alerts held out where a class has several, the latest windows and a gap where it has one', () => {
  const w = (label: string, alert: string, t: number) => ({ label, alert, t });
  const windows = [
    // outer: three alerts of 4 windows
    ...[0, 1, 2, 3].map((i) => w('outer', 'a1', 100 + i)),
    ...[0, 1, 2, 3].map((i) => w('outer', 'a2', 200 + i)),
    ...[0, 1, 2, 3].map((i) => w('outer', 'a3', 300 + i)),
    // normal: one alert of 10 windows, out of time order
    ...[9, 3, 0, 1, 2, 4, 5, 6, 7, 8].map((i) => w('normal', 'f1', 1000 + i)),
    // ball: too few to split
    ...[0, 1, 2].map((i) => w('ball', 'b1', 2000 + i)),
  ];
  const s = splitVerdictWindows(windows, 3);
  const alertsOf = (idx: number[], label: string) =>
    new Set(idx.filter((i) => windows[i].label === label).map((i) => windows[i].alert));
  // the latest outer alert is held out whole, the others train
  assert.deepEqual([...alertsOf(s.heldOut, 'outer')], ['a3']);
  assert.deepEqual([...alertsOf(s.train, 'outer')].sort(), ['a1', 'a2']);
  assert.deepEqual(s.byAlert, ['outer']);
  // normal: the 3 latest held out, the 3 before them dropped, the first 4 train
  const ts = (idx: number[]) =>
    idx
      .filter((i) => windows[i].label === 'normal')
      .map((i) => windows[i].t - 1000)
      .sort((a, b) => a - b);
  assert.deepEqual(ts(s.heldOut), [7, 8, 9]);
  assert.deepEqual(ts(s.train), [0, 1, 2, 3]);
  assert.equal(s.dropped, 3);
  // ball only trains
  assert.equal(s.heldOut.filter((i) => windows[i].label === 'ball').length, 0);
  assert.equal(s.train.filter((i) => windows[i].label === 'ball').length, 3);
  // every window is in at most one part
  const all = [...s.train, ...s.heldOut];
  assert.equal(new Set(all).size, all.length);
  assert.equal(all.length + s.dropped, windows.length);
  // nothing to split: nothing held out
  assert.deepEqual(splitVerdictWindows([], 3), { train: [], heldOut: [], dropped: 0, byAlert: [] });
});

let dir: string;
let gw: Gateway;

function input(stateDir: string, model: string): GatewayConfigInput {
  return {
    site: 'vl',
    gatewayId: 'gw-verdict-learn',
    stateDir,
    model,
    machines: [
      {
        id: 'pump-a',
        sensors: [{ id: 1, sampleRate: 12000 }],
        simulate: { fault: 'outer', severity: 0.8, seed: 81 },
      },
      {
        id: 'pump-b',
        sensors: [{ id: 2, sampleRate: 12000 }],
        simulate: { fault: 'inner', severity: 0.8, seed: 82 },
      },
    ],
    broker: { port: 0 },
    http: { port: 0 },
    fleet: { speed: 1 },
    pipeline: { workers: 1 },
    adaptation: { keepJobs: 5 },
    verdicts: { windows: 64, aroundS: 10, minPerClass: 10 },
  };
}

async function api(route: string, body?: unknown): Promise<Response> {
  return fetch(`${gw.apiUrl}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${gw.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

const json = async <T>(route: string): Promise<T> => (await (await api(route)).json()) as T;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-verdict-learn-'));
  gw = await Gateway.start({
    config: parseConfig(input(path.join(dir, 'state'), await simModelDir())),
    log: quiet,
  });
});

after(async () => {
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

test('learning is refused clearly, and nothing starts: too few verdicts (409), a wrong strategy (400)', async () => {
  const few = await api('/api/machines/pump-a/adapt', { fromVerdicts: true, seconds: 2 });
  assert.equal(few.status, 409);
  const e = (await few.json()) as { error: string; message: string };
  assert.equal(e.error, 'FL_ERR_API_VERDICTS_FEW');
  assert.match(e.message, /no windows.*at least 10 windows/);
  const dann = await api('/api/machines/pump-a/adapt', {
    fromVerdicts: true,
    strategy: 'dann',
    seconds: 2,
  });
  assert.equal(dann.status, 400);
  const ft = await api('/api/machines/pump-a/adapt', { strategy: 'finetune', seconds: 2 });
  assert.equal(ft.status, 400);
  assert.match(((await ft.json()) as { message: string }).message, /fromVerdicts/);
  assert.deepEqual(await json<AdaptJob[]>('/api/machines/pump-a/adapt'), []);
  // the machine keeps being diagnosed
  await until(
    'a diagnosis of pump-a',
    async () => (await json<MachineView>('/api/machines/pump-a')).diagnosis,
  );
});

test('finetune from verdicts: a confirmed fault through the ack path, then learning, guards and activation', {
  timeout: 600_000,
}, async () => {
  const alert = await until(
    'an alert on pump-a',
    async () => (await json<Alert[]>('/api/alerts?machine=pump-a')).at(-1),
    120_000,
  );
  // the windows up to aroundS after the alert are labelled too: answer once they have come
  await new Promise((r) =>
    setTimeout(r, Math.max(0, Date.parse(alert.time) + 11_000 - Date.now())),
  );
  const ack = await api(`/api/alerts/${alert.id}/ack`, {
    by: 'ana',
    verdict: { kind: 'confirmed', faultClass: 'outer' },
  });
  assert.equal(ack.status, 200);
  const m = await json<MachineView>('/api/machines/pump-a');
  assert.equal(m.verdictsMinPerClass, 10);
  const labelled = m.verdicts?.outer ?? 0;
  assert.ok(labelled >= 10, `${labelled} windows labelled outer`);
  const { windows } = await readMachineVerdictWindows(
    path.join(dir, 'state', 'verdicts'),
    'pump-a',
  );
  assert.equal(windows.length, labelled);
  assert.ok(
    windows.every((w) => w.rpm !== undefined && w.rpm > 0),
    'the speed is kept per row',
  );

  const fromVersion = m.model?.version;
  const res = await api('/api/machines/pump-a/adapt', {
    fromVerdicts: true,
    strategy: 'finetune',
    seconds: 3,
  });
  assert.equal(res.status, 202);
  const started = adaptJobSchema.parse(await res.json());
  assert.equal(started.fromVerdicts, true);
  assert.equal(started.strategy, 'finetune');
  // one job at a time, learning or not
  const busy = await api('/api/machines/pump-b/adapt', { seconds: 2 });
  assert.equal(busy.status, 409);
  const job = await until(
    'the learning job to finish',
    async () => {
      const j = adaptJobSchema.parse(await json(`/api/adaptations/${started.id}`));
      return j.state === 'collecting' || j.state === 'adapting' ? undefined : j;
    },
    540_000,
  );
  assert.ok(job.state === 'done' || job.state === 'rejected', `${job.state}: ${job.error ?? ''}`);
  assert.ok(job.version, 'registered');
  const names = (job.guards ?? []).map((g) => g.name);
  assert.deepEqual(names, [
    'source-forgetting',
    'negative-transfer',
    'verdict-stability',
    'held-out-verdicts',
  ]);
  const held = job.guards?.find((g) => g.name === 'held-out-verdicts');
  assert.ok(job.heldOut && job.heldOut.windows > 0, 'windows were held out');
  assert.match(
    held?.detail ?? '',
    new RegExp(`on ${job.heldOut.windows} held-out verdict windows`),
  );
  assert.equal(held?.passed, job.heldOut.after >= job.heldOut.before);
  assert.ok((job.trained?.outer ?? 0) > 0);
  assert.ok((job.trained?.outer ?? 0) + job.heldOut.windows <= labelled, 'held out ≠ trained');
  assert.equal(
    job.promoted,
    job.guards?.every((g) => g.passed),
  );
  const after = await json<MachineView>('/api/machines/pump-a');
  // activated exactly when every guard passed
  assert.equal(after.model?.version, job.promoted ? job.version : fromVersion);
  console.log(
    `# verdict-learn finetune: ${job.trained?.outer} windows trained, held-out accuracy ${job.heldOut.before} → ${job.heldOut.after} on ${job.heldOut.windows}; ${job.state}; ${(job.guards ?? []).map((g) => `${g.name} ${g.passed ? 'ok' : 'FAILED'}: ${g.detail}`).join(' | ')}`,
  );
});
