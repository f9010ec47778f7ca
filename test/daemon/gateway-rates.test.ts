/**
 * The gateway end to end with sensors at another rate than the model's:
 * the project's reference node streams 26 667 Hz, the simulator model is
 * 12 kHz. In-process gateway on loopback (embedded broker, SQLite, API on a
 * free port), the simulated fleet publishing frames over MQTT at twice real
 * time, and the simulator model cached across test files (test/support/gateway-fixture.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { MqttClient } from 'mqtt';
import type { Alert, HealthStatePayload } from '../../src/contract/alert.js';
import type { MachineView } from '../../src/contract/machine.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import {
  type ObservedMessage,
  observeSite,
  quiet,
  simModelDir,
  streamFleet,
  until,
} from '../support/gateway-fixture.js';

let dir: string;
let gw: Gateway;
let sub: MqttClient;
const received: ObservedMessage[] = [];

function input(stateDir: string, model: string): GatewayConfigInput {
  return {
    site: 'r',
    gatewayId: 'gw-rates',
    stateDir,
    model,
    machines: [
      {
        // The reference sensor node: 26 667 Hz into the 12 kHz model.
        id: 'node-26k',
        sensors: [{ id: 1, sampleRate: 26667 }],
        simulate: { fault: 'inner', severity: 0.8, seed: 31 },
      },
      {
        // Reads channel 1 of mono frames: every block is dropped as a misfit.
        id: 'wrong-channel',
        sensors: [{ id: 2, sampleRate: 26667, channel: 1 }],
        simulate: { fault: 'none', seed: 32 },
      },
    ],
    alerts: { mismatchAfterMs: 1500 },
    broker: { port: 0 },
    http: { port: 0 },
    pipeline: { workers: 1 },
  };
}

async function api<T>(route: string): Promise<T> {
  const res = await fetch(`${gw.apiUrl}${route}`, {
    headers: { authorization: `Bearer ${gw.token}` },
  });
  assert.equal(res.status, 200, route);
  return (await res.json()) as T;
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-gateway-rates-'));
  const model = await simModelDir();
  gw = await Gateway.start({
    config: parseConfig(input(path.join(dir, 'state'), model)),
    fleet: false,
    log: quiet,
  });
  sub = await observeSite(gw, 'r', received);
  await streamFleet(gw, 'r', 10);
});

after(async () => {
  await sub?.endAsync();
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

test('a 26 667 Hz sensor is diagnosed live by the 12 kHz model, its stream shown in /api/machines', async () => {
  const m = await until('node-26k diagnosed', async () => {
    const ms = await api<MachineView[]>('/api/machines');
    const x = ms.find((v) => v.id === 'node-26k');
    return x?.diagnosis && x.ingest.frames > 300 ? x : undefined;
  });
  assert.notEqual(m.state, 'starting');
  assert.notEqual(m.state, 'stream-mismatch');
  const s = m.sensors[0];
  assert.equal(s.sampleRate, 26667);
  assert.equal(s.streamRate, 26667);
  assert.match(
    s.resampling ?? '',
    /Kaiser-windowed sinc, ratio 0\.44\d+ \(arbitrary\)|ratio 4000\/8889/,
  );
  assert.equal(s.misfit, undefined);
  assert.equal(s.droppedBlocks, undefined, 'no block dropped');
  assert.equal(m.diagnosis?.faultClass, 'inner race');
  assert.match(m.model?.version ?? '', /^v1-/);
  const gwHealth = await api<{ pipeline: { windowsOut: number; dropped: unknown } }>(
    '/api/gateway',
  );
  assert.ok(gwHealth.pipeline.windowsOut > 10, JSON.stringify(gwHealth.pipeline));
});

test('a sensor whose blocks never fit shows stream-mismatch with the reason: API, MQTT state and alert', async () => {
  const m = await until('wrong-channel in stream-mismatch', async () => {
    const x = (await api<MachineView[]>('/api/machines')).find((v) => v.id === 'wrong-channel');
    return x?.state === 'stream-mismatch' ? x : undefined;
  });
  assert.match(m.stateReason ?? '', /^sensor 2: reads channel 1 but the block has 1/);
  const s = m.sensors[0];
  assert.match(s.misfit?.reason ?? '', /reads channel 1 but the block has 1/);
  assert.ok((s.misfit?.blocks ?? 0) > 10);
  assert.ok((s.droppedBlocks?.['bad-block'] ?? 0) > 10);
  assert.equal(m.diagnosis, undefined, 'nothing diagnosed');

  const alert = await until('the stream-mismatch alert', () => {
    const a = received.find(
      (x) =>
        x.topic === 'faultline/r/wrong-channel/alert' &&
        (x.payload as Alert).state === 'stream-mismatch',
    );
    return a?.payload as Alert | undefined;
  });
  assert.equal(alert.sensor, '2');
  assert.match(alert.reason, /sensor 2: no block fitted for \d+\.\d s: reads channel 1/);
  const state = await until('the retained stream-mismatch state', () => {
    const st = received.findLast((x) => x.topic === 'faultline/r/wrong-channel/state');
    const p = st?.payload as HealthStatePayload | undefined;
    return p?.state === 'stream-mismatch' ? p : undefined;
  });
  assert.match(state.reason ?? '', /reads channel 1 but the block has 1/);
  // The 26 667 Hz machine never was in it.
  assert.ok(
    !received.some(
      (x) =>
        x.topic === 'faultline/r/node-26k/alert' &&
        (x.payload as Alert).state === 'stream-mismatch',
    ),
  );
});
