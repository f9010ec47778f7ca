/**
 * A gateway running a multi-task model (`--heads`): every head reaches the
 * machine's diagnosis in the API, the retained MQTT state and the alert,
 * beside the primary fields that keep their meaning.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import { alertSchema, healthStatePayloadSchema } from '../../src/contract/alert.js';
import { headReadingsSchema } from '../../src/contract/heads.js';
import { headsText } from '../../src/contract/heads-text.js';
import type { MachineView } from '../../src/contract/machine.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { silentLogger } from '../../src/daemon/log.js';
import { type ModelMetadata, readModelMetadata } from '../../src/model/artifact.js';
import {
  type ObservedMessage,
  observeSite,
  streamFleet,
  until,
} from '../support/gateway-fixture.js';
import { headsModelDir } from '../support/heads-model.js';

let dir: string;
let meta: ModelMetadata;
let gw: Gateway;
let sub: MqttClient;
const received: ObservedMessage[] = [];

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-gateway-heads-'));
  const modelDir = await headsModelDir();
  meta = await readModelMetadata(modelDir);
  const input: GatewayConfigInput = {
    site: 't',
    gatewayId: 'gw-heads',
    stateDir: path.join(dir, 'state'),
    model: modelDir,
    machines: [
      {
        id: 'faulty-1',
        sensors: [{ id: 1, sampleRate: 12000 }],
        simulate: { fault: 'outer', severity: 0.8, seed: 22 },
      },
    ],
    broker: { port: 0 },
    http: { port: 0 },
    fleet: { speed: 2 },
    pipeline: { workers: 1 },
    alerts: { silentAfterMs: 2000 },
  };
  gw = await Gateway.start({ config: parseConfig(input), fleet: false, log: silentLogger() });
  sub = await observeSite(gw, 't', received);
  await streamFleet(gw, 't', 10);
});

after(async () => {
  await sub?.endAsync();
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

test('the model carries its heads; the gateway puts every head in the machine diagnosis', async () => {
  assert.deepEqual(
    meta.heads?.map((h) => h.name),
    ['location', 'condition'],
  );
  const m = await until('a diagnosis with heads', async () => {
    const r = await fetch(`${gw.apiUrl}/api/machines/faulty-1`, {
      headers: { authorization: `Bearer ${gw.token}` },
    });
    const v = (await r.json()) as MachineView;
    return v.diagnosis?.heads ? v : undefined;
  });
  const heads = headReadingsSchema.parse(m.diagnosis?.heads);
  assert.deepEqual(Object.keys(heads).sort(), ['condition', 'location']);
  assert.ok(meta.heads?.[0].classes.includes(heads.location.class), heads.location.class);
  assert.ok(['source-1797rpm', 'target-1200rpm'].includes(heads.condition.class));
  // The primary fields keep their meaning: the model's classes, not a head's.
  assert.ok(meta.classes.includes(m.diagnosis?.modelClass ?? ''));
  assert.match(headsText(heads), /^(normal|inner race|outer race|ball) \(\d\.\d\d\), condition /);
});

test('the retained state and the alert of the faulty machine carry the heads', async () => {
  const alert = await until('an alert with heads', () => {
    const a = received.find((r) => r.topic === 'faultline/t/faulty-1/alert');
    return a ? alertSchema.parse(a.payload) : undefined;
  });
  assert.ok(alert.heads?.location, JSON.stringify(alert));
  const state = await until('a state with heads', () => {
    const s = received
      .filter((r) => r.topic === 'faultline/t/faulty-1/state')
      .map((r) => healthStatePayloadSchema.parse(r.payload))
      .find((p) => p.heads);
    return s;
  });
  assert.ok(state.heads?.condition);
});
