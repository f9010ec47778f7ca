/**
 * MQTT access control against a real mosquitto configured here: TLS with a
 * self-signed CA made by the test (`openssl`), a password file
 * (`mosquitto_passwd`) and an ACL file limiting each gateway user to its own
 * site's topics (`faultline/<site>/#`) and each sensor user to publishing raw
 * frames of its site.
 *
 * MqttSource and AlertPublisher connect with CA + credentials; a wrong CA, a
 * wrong password and another site's topics are refused, each with a clear
 * error (or, for topics, by the broker silently not delivering — shown with
 * a positive control on the gateway's own site).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { AlertPublisher, gatewayConnectOptions } from '../../src/alerts/publisher.js';
import type { Alert } from '../../src/contract/alert.js';
import { isFaultlineError } from '../../src/errors.js';
import { MqttSource } from '../../src/ingest/mqtt-source.js';
import type { IngestedBlock } from '../../src/ingest/source.js';
import { exampleAlert } from '../alerts/example.js';
import { testFrame } from '../support/frames.js';
import { collect } from '../support/links.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';
import { freePort } from '../support/ports.js';
import { makeTestPki, tlsListener, writePasswordFile } from '../support/tls.js';

const skip = !(await haveMosquitto()) ? 'mosquitto not installed' : false;
let dir: string;
let broker: Mosquitto;
let tlsUrl: string;
const ca = () => path.join(dir, 'ca.pem');
const wrongCa = () => path.join(dir, 'wrong-ca.pem');
const USERS = {
  'gw-s1': 'pw-gw-s1',
  'gw-s2': 'pw-gw-s2',
  'sensor-s1': 'pw-sensor-s1',
  'sensor-s2': 'pw-sensor-s2',
};
const clients: MqttClient[] = [];
const sources: MqttSource[] = [];

before(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-sec-mqtt-'));
  // a CA, a server certificate for 127.0.0.1/localhost signed by it, and an unrelated CA
  const pki = await makeTestPki(dir);
  const pw = await writePasswordFile(dir, USERS);
  const acl = path.join(dir, 'acl');
  await writeFile(
    acl,
    [
      'user gw-s1',
      'topic readwrite faultline/s1/#',
      'user gw-s2',
      'topic readwrite faultline/s2/#',
      'user sensor-s1',
      'topic write faultline/s1/+/+/raw',
      'user sensor-s2',
      'topic write faultline/s2/+/+/raw',
      '',
    ].join('\n'),
  );
  const tlsPort = await freePort();
  tlsUrl = `mqtts://127.0.0.1:${tlsPort}`;
  broker = await startMosquitto({
    extraConfig: [
      'allow_anonymous false',
      `password_file ${pw}`,
      `acl_file ${acl}`,
      ...tlsListener(tlsPort, pki),
    ],
  });
  // mosquitto starts the TLS listener with the plain one; make sure it accepts
  await readFile(path.join(dir, 'server.pem'));
});

after(async () => {
  for (const s of sources) await s.close().catch(() => undefined);
  for (const c of clients) await c.endAsync(true).catch(() => undefined);
  await broker?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function source(
  user: keyof typeof USERS,
  o: { password?: string; caPath?: string; topics?: string[] } = {},
) {
  const s = new MqttSource({
    url: tlsUrl,
    clientId: `src-${user}-${Math.random().toString(36).slice(2, 8)}`,
    clean: true,
    username: user,
    password: o.password ?? USERS[user],
    caPath: o.caPath ?? ca(),
    topics: o.topics ?? ['faultline/s1/+/+/raw'],
    // a refusal (wrong CA, wrong password) comes at once; a busy machine may take its time to say yes
    connectTimeoutMs: 30_000,
  });
  sources.push(s);
  return s;
}

async function client(user: keyof typeof USERS): Promise<MqttClient> {
  const c = await mqtt.connectAsync(tlsUrl, {
    protocolVersion: 5,
    clientId: `c-${user}-${Math.random().toString(36).slice(2, 8)}`,
    username: user,
    password: USERS[user],
    ca: await readFile(ca()),
    reconnectPeriod: 0,
  });
  clients.push(c);
  return c;
}

const frame = (seq: number) => testFrame(1, seq, { fill: seq });

/**
 * Every block that arrives at `s` until one with sequence number `lastSeq`
 * (a positive control published after everything that must not arrive:
 * the broker delivers one connection's messages in order, so whatever was
 * let through before it has arrived by then). Rejects after 60 s.
 */
function gatherUntil(s: MqttSource, lastSeq: number): Promise<IngestedBlock[]> {
  const got: IngestedBlock[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      s.off('data', on);
      reject(new Error(`block ${lastSeq} did not arrive in 60 s (got ${got.map((b) => b.seq)})`));
    }, 60_000);
    const on = (b: IngestedBlock) => {
      got.push(b);
      if (b.seq !== lastSeq) return;
      clearTimeout(timer);
      s.off('data', on);
      resolve(got);
    };
    s.on('data', on);
  });
}

test('MqttSource connects over TLS with the CA and a password, and receives its site', {
  skip,
}, async () => {
  const s = source('gw-s1');
  await s.start();
  const sensor = await client('sensor-s1');
  const pending = collect(s, 5);
  for (let i = 0; i < 5; i++)
    await sensor.publishAsync('faultline/s1/pump/1/raw', frame(i), { qos: 1 });
  const got = await pending;
  assert.deepEqual(
    got.map((b) => b.seq),
    [0, 1, 2, 3, 4],
  );
  assert.equal(got[0].origin.link === 'mqtt' && got[0].origin.site, 's1');
});

test('a wrong CA is refused with a clear certificate error', { skip }, async () => {
  const err = await source('gw-s1', { caPath: wrongCa() })
    .start()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(isFaultlineError(err) && err.code === 'FL_ERR_MQTT_CONNECT', String(err));
  assert.match((err as Error).message, /certificate/i);
  assert.match((err as Error).message, /mqtts:\/\/127\.0\.0\.1/);
});

test('a wrong password is refused with a clear error', { skip }, async () => {
  const err = await source('gw-s1', { password: 'not-it' })
    .start()
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(isFaultlineError(err) && err.code === 'FL_ERR_MQTT_CONNECT', String(err));
  assert.match((err as Error).message, /Bad User Name or Password|Not authorized/i);
});

test("another site's topics are denied by the ACL (with a positive control)", {
  skip,
}, async () => {
  // gw-s1 subscribes to site s2 as well as s1; sensors of both publish
  const s = source('gw-s1', { topics: ['faultline/s1/+/+/raw', 'faultline/s2/+/+/raw'] });
  await s.start();
  const s1 = await client('sensor-s1');
  const s2 = await client('sensor-s2');
  // the denied message first, then the positive control: once the control
  // arrived, the denied one would have too (see gatherUntil)
  const pending = gatherUntil(s, 1);
  await s2.publishAsync('faultline/s2/pump/1/raw', frame(2), { qos: 1 });
  await s1.publishAsync('faultline/s1/pump/1/raw', frame(1), { qos: 1 });
  const got = await pending;
  assert.deepEqual(
    got.map((b) => (b.origin.link === 'mqtt' ? b.origin.site : '')),
    ['s1'],
    'only the own site arrives',
  );
  // a sensor of s1 cannot publish into s2 either: gw-s2 sees nothing from it
  const g2 = source('gw-s2', { topics: ['faultline/s2/+/+/raw'] });
  await g2.start();
  const p2 = gatherUntil(g2, 4);
  await s1.publishAsync('faultline/s2/pump/1/raw', frame(3), { qos: 1 }).catch(() => undefined);
  await s2.publishAsync('faultline/s2/pump/1/raw', frame(4), { qos: 1 });
  assert.deepEqual(
    (await p2).map((b) => b.seq),
    [4],
    'the s1 sensor publishing into s2 is dropped',
  );
});

test('AlertPublisher connects with CA + credentials and publishes; a wrong CA errors clearly', {
  skip,
  timeout: 120_000,
}, async () => {
  const base = { ca: await readFile(ca()), username: 'gw-s1', password: USERS['gw-s1'] };
  const c = mqtt.connect(tlsUrl, gatewayConnectOptions({ site: 's1', gatewayId: 'g1', base }));
  clients.push(c);
  c.on('error', () => undefined);
  const pub = new AlertPublisher({ client: c, site: 's1', gatewayId: 'g1', log: () => {} });
  pub.start();
  const watcher = await client('gw-s1');
  const seen: Alert[] = [];
  watcher.on('message', (_t, p) => seen.push(JSON.parse(p.toString()) as Alert));
  await watcher.subscribeAsync('faultline/s1/+/alert', { qos: 1 });
  const alert = { ...exampleAlert, site: 's1' };
  pub.publishAlert(alert);
  await pub.flushed(); // the test's timeout bounds it
  const deadline = Date.now() + 60_000;
  while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  assert.deepEqual(
    seen.map((a) => a.id),
    [alert.id],
  );
  assert.equal(pub.stats().published, 1);
  await pub.close();

  const bad = mqtt.connect(
    tlsUrl,
    gatewayConnectOptions({
      site: 's1',
      gatewayId: 'g2',
      base: { ...base, ca: await readFile(wrongCa()), reconnectPeriod: 0 },
    }),
  );
  clients.push(bad);
  const e = await new Promise<Error>((resolve) => bad.once('error', resolve));
  assert.match(e.message, /self[- ]signed certificate|unable to verify|certificate/i);
  assert.equal(bad.connected, false);
});
