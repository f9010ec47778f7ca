/**
 * Fault: the gateway process is killed with SIGKILL (no shutdown code runs)
 * and started again on the same configuration and state directory.
 *
 * Before the kill the gateway has raised alerts, recorded acknowledgements
 * (one through the API, one over MQTT), registered two model versions and —
 * through a reload and a rollback at run time — made a machine run a version
 * other than the one its configuration names. After the restart all of it
 * must be as it was: alert history, acknowledgements, the registry and the
 * active model of every machine.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import mqtt from 'mqtt';
import type { Alert } from '../../src/contract/alert.js';
import type { MachineView } from '../../src/contract/machine.js';
import type { GatewayConfigInput } from '../../src/daemon/config.js';
import type { GatewayHealth } from '../../src/daemon/gateway.js';
import type { ModelVersion } from '../../src/daemon/registry.js';
import {
  FAST_ALERTS,
  type GatewayProcess,
  simModelDir,
  startGatewayProcess,
  until,
  variantModel,
  writeConfig,
} from '../support/gateway-fixture.js';

type Models = { versions: ModelVersion[]; active: Record<string, string | null> };

let dir: string | undefined;
let gw: GatewayProcess | undefined;

after(async () => {
  await gw?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('SIGKILL and restart: alert history, acks, model registry and active models intact', {
  timeout: 900_000,
}, async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-fault-kill-'));
  const model = await simModelDir();
  const variant = await variantModel(model, path.join(dir, 'variant'));
  const base = (k1Model?: string): GatewayConfigInput => ({
    site: 'fk',
    gatewayId: 'gw-fk',
    stateDir: path.join(dir as string, 'state'),
    model,
    machines: [
      {
        id: 'k-1',
        ...(k1Model ? { model: k1Model } : {}),
        sensors: [{ id: 1, sampleRate: 12_000 }],
        simulate: { fault: 'outer', severity: 0.8, seed: 41 },
      },
      {
        id: 'k-2',
        sensors: [{ id: 2, sampleRate: 12_000 }],
        simulate: { fault: 'none', seed: 42 },
      },
    ],
    alerts: FAST_ALERTS,
    broker: { port: 0 },
    http: { port: 0 },
    pipeline: { workers: 1 },
  });
  const configFile = await writeConfig(dir, base());
  gw = await startGatewayProcess(configFile);
  let g = gw;

  // alerts, then one ack through the API and one over MQTT
  const alerts = await until(
    'two alerts of k-1',
    async () => {
      const a = await g.get<Alert[]>('/api/alerts?machine=k-1');
      return a.length >= 2 ? a : undefined;
    },
    120_000,
  );
  await g.post(`/api/alerts/${alerts[0].id}/ack`, { by: 'ana', comment: 'bearing ordered' });
  const brokerUrl = (g.output().match(/"broker":"(mqtt:\/\/[^"\s]+)/) ?? [])[1];
  assert.ok(brokerUrl, 'the gateway printed its broker URL');
  const op = await mqtt.connectAsync(brokerUrl, { protocolVersion: 4, clientId: 'operator' });
  await op.publishAsync(
    'faultline/fk/k-1/alert/ack',
    JSON.stringify({ id: alerts[1].id, by: 'bo' }),
    {
      qos: 1,
    },
  );
  await op.endAsync();
  await until(
    'the MQTT ack to be stored',
    async () => {
      const a = await g.get<Alert[]>('/api/alerts?machine=k-1&limit=1000');
      return a.find((x) => x.id === alerts[1].id)?.acknowledged?.by === 'bo';
    },
    60_000,
  );

  // a second model through a reload, then a rollback: k-1 now runs v1 although
  // its configuration names the variant — state only the registry remembers
  await writeConfig(dir, base(variant));
  g.child.kill('SIGHUP');
  await until(
    'k-1 to run the variant',
    async () => {
      const m = await g.get<Models>('/api/models');
      return m.versions.length === 2 && m.active['k-1'] !== m.active['k-2'];
    },
    120_000,
  );
  await g.post('/api/machines/k-1/rollback', {});
  const before = {
    alerts: await g.get<Alert[]>('/api/alerts?limit=10000'),
    models: await g.get<Models>('/api/models'),
  };
  assert.equal(before.models.active['k-1'], before.models.active['k-2'], 'rolled back to v1');
  assert.equal(before.models.versions.length, 2);

  // ── fault
  await g.kill();
  const ex = await g.exited();
  assert.equal(ex.signal, 'SIGKILL');
  const restartAt = Date.now();
  gw = await startGatewayProcess(configFile);
  g = gw;
  const upMs = Date.now() - restartAt;
  const after = {
    alerts: await g.get<Alert[]>('/api/alerts?limit=10000'),
    models: await g.get<Models>('/api/models'),
  };
  // every alert from before, with its ack, is still there
  const byId = new Map(after.alerts.map((a) => [a.id, a]));
  const lost = before.alerts.filter((a) => !byId.has(a.id));
  assert.deepEqual(lost, [], 'alerts lost by the kill');
  for (const a of before.alerts) {
    assert.deepEqual(byId.get(a.id)?.acknowledged, a.acknowledged, `ack of ${a.id}`);
  }
  assert.equal(byId.get(alerts[0].id)?.acknowledged?.comment, 'bearing ordered');
  assert.equal(byId.get(alerts[1].id)?.acknowledged?.by, 'bo');
  // the registry and the active model of every machine
  assert.deepEqual(
    after.models.versions.map((v) => [v.id, v.contentHash]),
    before.models.versions.map((v) => [v.id, v.contentHash]),
  );
  assert.deepEqual(after.models.active, before.models.active);
  const k1 = await g.get<MachineView>('/api/machines/k-1');
  assert.equal(k1.model?.version, before.models.active['k-1'], 'k-1 runs the rolled-back version');
  // and diagnosis resumes
  await until(
    'diagnosis after the restart',
    async () => (await g.get<MachineView>('/api/machines/k-1')).diagnosis !== undefined,
    120_000,
  );
  const diagMs = Date.now() - restartAt;
  const h = await g.get<GatewayHealth>('/api/gateway');
  console.log(
    `# sigkill: alerts ${before.alerts.length} → ${after.alerts.length} (lost ${lost.length}), acks kept 2/2, versions ${after.models.versions.length}, active ${JSON.stringify(after.models.active)}; API up ${upMs} ms, first diagnosis ${diagMs} ms after restart; store ${h.store.kind}`,
  );
});
