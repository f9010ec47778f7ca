/**
 * The whole gateway against an external mosquitto that only speaks TLS with
 * a test CA and requires a password: the simulated fleet and ingest, and the
 * alert/presence client, all connect with `broker.caPath` + credentials.
 * (Before, the alert client got only username/password: its TLS handshake
 * failed on the private CA and no alert left the gateway.)
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { Alert } from '../../src/contract/alert.js';
import { parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { FAST_ALERTS, quiet, simModelDir, until } from '../support/gateway-fixture.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';
import { freePort } from '../support/ports.js';
import { makeTestPki, type TestPki, tlsListener, writePasswordFile } from '../support/tls.js';

const skip = !(await haveMosquitto()) ? 'mosquitto not installed' : false;
const USERS = { gw: 'pw-gw', console: 'pw-console' };
let dir: string;
let pki: TestPki;
let broker: Mosquitto;
let tlsUrl: string;
let gw: Gateway | undefined;
let watcher: MqttClient | undefined;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-sec-gwtls-'));
  pki = await makeTestPki(dir);
  const pw = await writePasswordFile(dir, USERS);
  const tlsPort = await freePort();
  tlsUrl = `mqtts://127.0.0.1:${tlsPort}`;
  broker = await startMosquitto({
    extraConfig: ['allow_anonymous false', `password_file ${pw}`, ...tlsListener(tlsPort, pki)],
  });
});

after(async () => {
  await gw?.close();
  await watcher?.endAsync(true).catch(() => undefined);
  await broker?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('gateway on a TLS broker with a private CA: alerts and presence arrive', {
  skip,
  timeout: 600_000,
}, async () => {
  const ca = await readFile(pki.ca);
  watcher = await mqtt.connectAsync(tlsUrl, {
    protocolVersion: 5,
    clientId: 'tls-console',
    username: 'console',
    password: USERS.console,
    ca,
  });
  const alerts: Alert[] = [];
  const presence: string[] = [];
  watcher.on('message', (topic, p) => {
    if (topic.endsWith('/alert')) alerts.push(JSON.parse(p.toString()) as Alert);
    else presence.push(p.toString());
  });
  await watcher.subscribeAsync(['faultline/tl/+/alert', 'faultline/tl/gateway/+/status'], {
    qos: 1,
  });

  gw = await Gateway.start({
    config: parseConfig({
      site: 'tl',
      gatewayId: 'gw-tls',
      stateDir: path.join(dir, 'state'),
      model: await simModelDir(),
      machines: [
        {
          id: 't-1',
          sensors: [{ id: 1, sampleRate: 12_000 }],
          simulate: { fault: 'outer', severity: 0.8, seed: 7 },
        },
      ],
      alerts: FAST_ALERTS,
      broker: {
        embedded: false,
        url: tlsUrl,
        caPath: pki.ca,
        username: 'gw',
        password: USERS.gw,
      },
      http: { port: 0 },
      pipeline: { workers: 1 },
      fleet: { speed: 2 },
    }),
    log: quiet,
  });
  const g = gw;
  await until(
    'the gateway presence online over TLS',
    () => presence.some((p) => (JSON.parse(p) as { status: string }).status === 'online'),
    60_000,
  );
  await until('an alert over TLS', () => alerts.length > 0, 180_000);
  assert.equal(alerts[0].machine, 't-1');
  assert.equal(g.health().alerts.connected, true);
  const stored = await g.alerts({ limit: 100 });
  assert.ok(
    stored.some((a) => a.id === alerts[0].id),
    'the received alert is the one the gateway recorded',
  );
});
