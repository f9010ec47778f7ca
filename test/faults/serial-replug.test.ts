/**
 * Fault: the serial device disappears (socat, which provides the pty pair,
 * is killed — as when a USB adapter is pulled) and comes back at the same
 * path. The gateway must report the sensor silent (machine state, a
 * `silent` alert, the serial source reconnecting), then reopen the device on
 * its own and resume diagnosis.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Alert } from '../../src/contract/alert.js';
import type { MachineView } from '../../src/contract/machine.js';
import type { GatewayHealth } from '../../src/daemon/gateway.js';
import {
  FAST_ALERTS,
  type GatewayProcess,
  type SerialSensor,
  simModelDir,
  startGatewayProcess,
  startSerialSensor,
  until,
  writeConfig,
} from '../support/gateway-fixture.js';
import { type PtyPair, startPtyPair } from '../support/socat.js';

let dir: string | undefined;
let gw: GatewayProcess | undefined;
let pty: PtyPair | undefined;
let sensor: SerialSensor | undefined;

after(async () => {
  await sensor?.stop();
  await gw?.stop();
  await pty?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('serial device gone and back: sensor reported silent, then diagnosis resumes', {
  timeout: 600_000,
}, async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-fault-serial-'));
  const model = await simModelDir();
  pty = await startPtyPair();
  const config = await writeConfig(dir, {
    site: 'fs',
    gatewayId: 'gw-fs',
    stateDir: path.join(dir, 'state'),
    model,
    machines: [{ id: 'ser-1', sensors: [{ id: 9, sampleRate: 12_000, serial: pty.a }] }],
    alerts: FAST_ALERTS,
    broker: { port: 0 },
    http: { port: 0 },
    pipeline: { workers: 1 },
  });
  gw = await startGatewayProcess(config);
  const g = gw;
  const machine = () => g.get<MachineView>('/api/machines/ser-1');
  sensor = await startSerialSensor({ path: pty.b, sensorId: 9, fault: 'ball' });
  await until('diagnosis of the serial machine', async () => (await machine()).diagnosis, 120_000);

  // ── fault: the device vanishes
  const goneAt = Date.now();
  await pty.kill();
  await sensor.stop();
  sensor = undefined;
  const silent = await until(
    'the machine to be reported silent',
    async () => {
      const m = await machine();
      return m.state === 'silent' ? m : undefined;
    },
    60_000,
  );
  const silentMs = Date.now() - goneAt;
  // The machine goes silent on its timer; the serial source learns of the
  // lost device when the port's 'close' arrives, which on a loaded machine
  // can come after that timer: wait for it rather than race it.
  const src = await until(
    'the serial source to say it is reconnecting',
    async () => {
      const h = await g.get<GatewayHealth>('/api/gateway');
      const s = h.ingest.sources.find((x) => x.link === 'serial');
      assert.ok(s, 'a serial source is listed');
      return s.state === 'reconnecting' ? s : undefined;
    },
    60_000,
  );
  assert.equal(src.state, 'reconnecting');
  const alerts = await g.get<Alert[]>('/api/alerts?machine=ser-1');
  assert.ok(
    alerts.some((a) => a.state === 'silent'),
    'a silent alert was raised',
  );
  const framesGone = silent.ingest.frames;

  // ── the device comes back at the same path
  await pty.restart();
  const backAt = Date.now();
  sensor = await startSerialSensor({ path: pty.b, sensorId: 9, fault: 'ball', seed: 8 });
  await until(
    'frames after the replug',
    async () => (await machine()).ingest.frames > framesGone + 20,
    120_000,
  );
  const framesMs = Date.now() - backAt;
  const back = await until(
    'the machine to leave silent',
    async () => {
      const m = await machine();
      return m.state !== 'silent' ? m : undefined;
    },
    120_000,
  );
  const resumeMs = Date.now() - backAt;
  const h2 = await g.get<GatewayHealth>('/api/gateway');
  const src2 = h2.ingest.sources.find((s) => s.link === 'serial');
  assert.equal(src2?.state, 'connected');
  assert.ok((src2?.reconnects ?? 0) >= 1, 'the source counted the reconnect');
  console.log(
    `# serial-replug: silent reported ${silentMs} ms after unplug; frames again ${framesMs} ms and state ${back.state} ${resumeMs} ms after replug; reconnects ${src2?.reconnects}`,
  );
});
