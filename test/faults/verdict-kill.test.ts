/**
 * Fault: a gateway process is killed with SIGKILL between an operator's
 * verdict and learning from it (issue #16). The ack with its verdict has
 * answered 200, which promises the verdict and its windows are on disk
 * (docs/verdicts.md: store first, then `.npy`, then the sidecar). No
 * shutdown code runs. After a restart on the same state directory no
 * verdict is lost (the alert's ack and verdict, the counts, the files), and
 * `faultline gateway adapt --from-verdicts` learns from them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Alert } from '../../src/contract/alert.js';
import { type AdaptJob, adaptJobSchema, type MachineView } from '../../src/contract/machine.js';
import type { GatewayConfigInput } from '../../src/daemon/config.js';
import { readMachineVerdictWindows } from '../../src/daemon/verdict-files.js';
import {
  type GatewayProcess,
  runCli,
  simModelDir,
  startGatewayProcess,
  until,
  writeConfig,
} from '../support/gateway-fixture.js';

let dir: string | undefined;
let gw: GatewayProcess | undefined;

after(async () => {
  await gw?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('SIGKILL after a verdict, before learning: no verdict lost, and learning from verdicts works after the restart', {
  timeout: 900_000,
}, async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-fault-verdict-'));
  const stateDir = path.join(dir, 'state');
  const config: GatewayConfigInput = {
    site: 'fv',
    gatewayId: 'gw-fv',
    stateDir,
    model: await simModelDir(),
    machines: [
      {
        id: 'v-1',
        sensors: [{ id: 1, sampleRate: 12_000 }],
        simulate: { fault: 'outer', severity: 0.8, seed: 91 },
      },
    ],
    broker: { port: 0 },
    http: { port: 0 },
    pipeline: { workers: 1 },
    verdicts: { windows: 64, aroundS: 10, minPerClass: 10 },
  };
  const configFile = await writeConfig(dir, config);
  gw = await startGatewayProcess(configFile);
  let g = gw;
  const alert = await until(
    'an alert of v-1',
    async () => (await g.get<Alert[]>('/api/alerts?machine=v-1')).at(-1),
    120_000,
  );
  // the windows up to aroundS after the alert are labelled too
  await new Promise((r) =>
    setTimeout(r, Math.max(0, Date.parse(alert.time) + 11_000 - Date.now())),
  );
  const acked = await g.post<Alert>(`/api/alerts/${alert.id}/ack`, {
    by: 'ana',
    verdict: { kind: 'confirmed', faultClass: 'outer' },
  });
  assert.deepEqual(acked.acknowledged?.verdict, { kind: 'confirmed', faultClass: 'outer' });
  const before = (await g.get<MachineView>('/api/machines/v-1')).verdicts ?? {};
  assert.ok((before.outer ?? 0) >= 10, `windows labelled: ${JSON.stringify(before)}`);

  // ── fault: at once after the 200, before any learning
  await g.kill();
  assert.equal((await g.exited()).signal, 'SIGKILL');
  const files = (await readdir(path.join(stateDir, 'verdicts', 'v-1'))).sort();
  gw = await startGatewayProcess(configFile);
  g = gw;

  // the verdict on the alert, the counts and the files are as they were
  const stored = (await g.get<Alert[]>('/api/alerts?machine=v-1&limit=1000')).find(
    (a) => a.id === alert.id,
  );
  assert.deepEqual(stored?.acknowledged?.verdict, { kind: 'confirmed', faultClass: 'outer' });
  assert.equal(stored?.acknowledged?.by, 'ana');
  assert.deepEqual((await g.get<MachineView>('/api/machines/v-1')).verdicts, before);
  assert.deepEqual((await readdir(path.join(stateDir, 'verdicts', 'v-1'))).sort(), files);
  assert.match(files.join(' '), /\.npy .*\.json|\.json .*\.npy/);
  const { windows, problems } = await readMachineVerdictWindows(
    path.join(stateDir, 'verdicts'),
    'v-1',
  );
  assert.deepEqual(problems, []);
  assert.equal(windows.length, before.outer);

  // learning from them, from the command line, waits and prints the job with its guards
  const cli = await runCli(
    [
      'gateway',
      'adapt',
      '--machine',
      'v-1',
      '--from-verdicts',
      '--seconds',
      '3',
      '--url',
      g.apiUrl,
      '--token',
      g.token,
    ],
    600_000,
  );
  assert.equal(cli.code, 0, cli.out);
  const printed = cli.out.slice(cli.out.indexOf('{'));
  const job: AdaptJob = adaptJobSchema.parse(JSON.parse(printed));
  assert.equal(job.fromVerdicts, true);
  assert.equal(job.strategy, 'finetune');
  assert.ok(job.state === 'done' || job.state === 'rejected', `${job.state}: ${job.error ?? ''}`);
  assert.ok(job.guards?.some((g) => g.name === 'held-out-verdicts'));
  assert.ok(job.heldOut && job.heldOut.windows > 0);
  const m = await g.get<MachineView>('/api/machines/v-1');
  if (job.promoted) assert.equal(m.model?.version, job.version);
  console.log(
    `# verdict kill: ${before.outer} windows kept across SIGKILL; learning ${job.state}, held-out accuracy ${job.heldOut.before} → ${job.heldOut.after} on ${job.heldOut.windows}`,
  );
});
