/**
 * Faults in what the gateway is given: a configuration with a bad field, a
 * corrupt model file, a sensor whose stream does not fit the model.
 * At start the first two must stop the gateway with a clear FL_ERR message
 * (exit 2, naming the bad field or file); on a reload (SIGHUP) of a running
 * gateway they must be refused while the previous good state keeps running.
 * A stream that does not fit is shown on its machine, never diagnosed, and
 * the gateway keeps serving.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { MachineView } from '../../src/contract/machine.js';
import type { GatewayConfigInput } from '../../src/daemon/config.js';
import type { GatewayHealth } from '../../src/daemon/gateway.js';
import {
  type GatewayProcess,
  runCli,
  simModelDir,
  startGatewayProcess,
  until,
  variantModel,
  writeConfig,
} from '../support/gateway-fixture.js';

let dir: string;
let model: string;
let corrupt: string;
let gw: GatewayProcess | undefined;

const good = (stateDir: string, over: Partial<GatewayConfigInput> = {}): GatewayConfigInput => ({
  site: 'fx',
  gatewayId: 'gw-fx',
  stateDir,
  model,
  machines: [
    {
      id: 'x-1',
      sensors: [{ id: 1, sampleRate: 12_000 }],
      simulate: { fault: 'outer', seed: 61 },
    },
  ],
  broker: { port: 0 },
  http: { port: 0 },
  pipeline: { workers: 1 },
  ...over,
});

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-fault-bad-'));
  model = await simModelDir();
  corrupt = await variantModel(model, path.join(dir, 'corrupt-model'));
  await truncate(path.join(corrupt, 'weights.bin'), 1000); // a copy cut short
});

after(async () => {
  await gw?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startFails(name: string, config: unknown): Promise<string> {
  const d = path.join(dir, name);
  await mkdir(d, { recursive: true });
  const file = path.join(d, 'gateway.yaml');
  await writeFile(file, typeof config === 'string' ? config : JSON.stringify(config));
  const r = await runCli(['gateway', '--config', file]);
  assert.equal(r.code, 2, `exit code 2 expected, output:\n${r.out}`);
  return r.out;
}

test('start with a bad field, bad YAML or a corrupt model: exit 2 with a clear error', async () => {
  const st = (n: string) => path.join(dir, n, 'state');
  const bad = good(st('bad-field'));
  (bad.machines[0].sensors[0] as { sampleRate: number }).sampleRate = -5;
  assert.match(
    await startFails('bad-field', bad),
    /faultline: FL_ERR_CONFIG: .*machines\[0\]\.sensors\[0\]\.sampleRate: expected a positive number/,
  );
  assert.match(
    await startFails('typo', { ...good(st('typo')), brokr: { port: 0 } }),
    /FL_ERR_CONFIG: .*brokr: unknown option/,
  );
  assert.match(
    await startFails('yaml', 'site: [unclosed\nmachines: {'),
    /FL_ERR_CONFIG: .* is not valid YAML/,
  );
  assert.match(
    await startFails('corrupt', good(st('corrupt'), { model: corrupt })),
    /faultline: FL_ERR_MODEL_FILE: .*corrupt-model/,
  );
});

test('a sensor whose stream does not fit the model: stream-mismatch with the reason, no diagnosis, the gateway serving', {
  timeout: 300_000,
}, async () => {
  // Any sample rate is resampled to the model's now (a 48 kHz sensor is
  // diagnosed, see test/daemon/gateway-rates.test.ts); what cannot fit is a
  // channel the frames do not have. The gateway starts (other machines keep
  // working), drops and counts the machine's blocks and shows why.
  const d = path.join(dir, 'mismatch');
  await mkdir(d, { recursive: true });
  const cfg = good(path.join(d, 'state'));
  (cfg.machines[0].sensors[0] as { channel?: number }).channel = 1;
  const g = await startGatewayProcess(await writeConfig(d, cfg));
  try {
    const m = await until(
      'x-1 in stream-mismatch',
      async () => {
        const x = await g.get<MachineView>('/api/machines/x-1');
        return x.state === 'stream-mismatch' ? x : undefined;
      },
      120_000,
    );
    assert.match(m.stateReason ?? '', /reads channel 1 but the block has 1/);
    assert.equal(m.diagnosis, undefined, 'no diagnosis of a stream that does not fit');
    assert.ok((m.sensors[0].droppedBlocks?.['bad-block'] ?? 0) > 0, JSON.stringify(m.sensors));
    const h = await g.get<GatewayHealth>('/api/gateway');
    assert.ok(h.uptimeS >= 0, 'the gateway serves');
  } finally {
    await g.stop();
  }
});

test('reload (SIGHUP) with a bad field or a corrupt model: refused, the running state kept', {
  timeout: 480_000,
}, async () => {
  const d = path.join(dir, 'running');
  await mkdir(d, { recursive: true });
  const cfg = good(path.join(d, 'state'));
  const file = await writeConfig(d, cfg);
  gw = await startGatewayProcess(file);
  const g = gw;
  const m0 = await until(
    'a diagnosis',
    async () => {
      const m = await g.get<MachineView>('/api/machines/x-1');
      return m.diagnosis ? m : undefined;
    },
    120_000,
  );

  // a bad field: refused with its path, the running configuration kept
  await writeFile(file, JSON.stringify({ ...cfg, http: { port: 'eighty' } }));
  g.child.kill('SIGHUP');
  const r1 = await until(
    'the reload verdict',
    async () => {
      const h = await g.get<GatewayHealth>('/api/gateway');
      return h.reload.at ? h.reload : undefined;
    },
    120_000,
  );
  assert.equal(r1.ok, false);
  assert.match(r1.error ?? '', /FL_ERR_CONFIG: .*http\.port: expected a TCP port number/);

  // a corrupt model for the machine: the model is not changed
  await writeFile(
    file,
    JSON.stringify({ ...cfg, machines: [{ ...cfg.machines[0], model: corrupt }] }),
  );
  g.child.kill('SIGHUP');
  await until(
    'the second reload',
    async () => {
      const h = await g.get<GatewayHealth>('/api/gateway');
      return h.reload.at !== r1.at ? h.reload : undefined;
    },
    120_000,
  );
  await until('the refusal in the log', () => /model of x-1 not changed/.test(g.output()), 120_000);
  assert.match(g.output(), /FL_ERR_MODEL_FILE|corrupt-model/);
  // After the refusal the gateway keeps ingesting and diagnosing with the
  // previous model: wait for newer frames and a newer window, however long
  // this machine takes to bring them.
  const seen = await g.get<MachineView>('/api/machines/x-1');
  const m1 = await until(
    'frames and a diagnosis after the refused reload',
    async () => {
      const m = await g.get<MachineView>('/api/machines/x-1');
      return m.ingest.frames > seen.ingest.frames &&
        (m.diagnosis?.t ?? 0) > (seen.diagnosis?.t ?? 0)
        ? m
        : undefined;
    },
    120_000,
  );
  assert.equal(m1.model?.version, m0.model?.version, 'the previous model still runs');
  assert.equal(m1.model?.contentHash, m0.model?.contentHash);
  assert.equal(m1.diagnosis?.modelVersion, m0.diagnosis?.modelVersion, 'diagnosed by it');
});
