/**
 * Access to the embedded broker (aedes, in this process, on loopback), with
 * the accounts a configuration gives it (`brokerAccounts`): a non-loopback
 * listen address without credentials is a configuration error; anonymous
 * and wrong-password clients are refused; a sensor publishes only its own
 * raw topic and subscribes to nothing; a console reads and acks; a packet
 * over broker.maxPacketBytes cuts its client off; broker.maxConnections
 * holds; broker.tls serves mqtts.
 *
 * What must not arrive is shown with a positive control published after it
 * on the same connection (the broker keeps one connection's order).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { EmbeddedBroker } from '../../src/daemon/broker.js';
import { brokerAccounts, topicMatches } from '../../src/daemon/broker-auth.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { PacketScanner } from '../../src/daemon/mqtt-packet-guard.js';
import { isFaultlineError } from '../../src/errors.js';
import { until } from '../support/gateway-fixture.js';
import { makeTestPki, type TestPki } from '../support/tls.js';

const PW = { gw: 'pw-gateway-0123', s1: 'pw-sensor-1', s2: 'pw-sensor-2', con: 'pw-console' };
const input = (broker: GatewayConfigInput['broker'] = {}): GatewayConfigInput => ({
  site: 's1',
  machines: [
    { id: 'pump', sensors: [{ id: 1, sampleRate: 12_000 }] },
    { id: 'fan', sensors: [{ id: 2, sampleRate: 12_000 }] },
  ],
  broker: {
    port: 0,
    username: 'gw',
    password: PW.gw,
    users: [
      { username: 's1', password: PW.s1, role: 'sensor', sensors: [1] },
      { username: 's2', password: PW.s2, role: 'sensor', sensors: [2] },
      { username: 'con', password: PW.con, role: 'console' },
    ],
    ...broker,
  },
});

let dir: string;
let pki: TestPki;
let broker: EmbeddedBroker;
const clients: MqttClient[] = [];

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-sec-broker-'));
  broker = await EmbeddedBroker.start({
    host: '127.0.0.1',
    port: 0,
    accounts: brokerAccounts(parseConfig(input())),
    maxPacketBytes: 4096,
    maxConnections: 12,
  });
});

after(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => undefined);
  await broker?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Connects (MQTT 3.1.1, no reconnect); rejects with the broker's refusal. */
async function connect(
  user?: keyof typeof PW,
  o: { password?: string; url?: string; ca?: Buffer } = {},
): Promise<MqttClient> {
  const c = await mqtt.connectAsync(o.url ?? broker.url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 30_000,
    clientId: `t-${user ?? 'anon'}-${Math.random().toString(36).slice(2, 8)}`,
    ...(user ? { username: user, password: o.password ?? PW[user] } : {}),
    ...(o.ca ? { ca: o.ca } : {}),
  });
  clients.push(c);
  return c;
}

/** Messages arriving at `c` until one on `lastTopic` with payload `last`. */
function gatherUntil(c: MqttClient, last: string): Promise<string[]> {
  const got: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`"${last}" did not arrive in 60 s`)), 60_000);
    c.on('message', (topic, payload) => {
      got.push(`${topic} ${payload.toString()}`);
      if (payload.toString() === last) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

const refused = (p: Promise<unknown>) =>
  p.then(
    () => 'connected',
    (e: Error) => e.message,
  );

/** 'connected', or why not: a refusal may come as an error or as a bare close. */
function attempt(url: string, ca?: Buffer): Promise<string> {
  const c = mqtt.connect(url, {
    protocolVersion: 4,
    reconnectPeriod: 0,
    username: 'con',
    password: PW.con,
    ...(ca ? { ca } : {}),
  });
  return new Promise<string>((resolve) => {
    c.once('connect', () => resolve('connected'));
    c.once('error', (e) => resolve(e.message));
    c.once('close', () => resolve('closed'));
  }).finally(() => c.end(true));
}

test('config: a non-loopback broker.host without credentials is refused with FL_ERR_CONFIG', () => {
  const bare = { machines: input().machines, broker: { host: '0.0.0.0' } };
  assert.throws(
    () => parseConfig(bare),
    (e: unknown) =>
      isFaultlineError(e, 'FL_ERR_CONFIG') &&
      /broker\.host: .*0\.0\.0\.0.*without credentials/.test((e as Error).message),
  );
  // with the gateway's credentials it is allowed; loopback needs none
  assert.equal(parseConfig(input({ host: '0.0.0.0' })).broker.host, '0.0.0.0');
  assert.equal(parseConfig({ machines: input().machines }).broker.host, '127.0.0.1');
  // users without the gateway's own account, a user naming an unknown sensor
  assert.throws(
    () => parseConfig(input({ username: undefined, password: undefined })),
    /broker\.username: broker\.users need/,
  );
  assert.throws(
    () =>
      parseConfig(
        input({ users: [{ username: 'x', password: 'y', role: 'sensor', sensors: [9] }] }),
      ),
    /broker\.users\[0\]\.sensors\[0\]: sensor 9/,
  );
});

test('topicMatches follows MQTT wildcards', () => {
  assert.ok(topicMatches('a/+/c', 'a/b/c'));
  assert.ok(topicMatches('a/#', 'a'));
  assert.ok(topicMatches('a/#', 'a/b/c'));
  assert.ok(!topicMatches('a/+/c', 'a/b/d'));
  assert.ok(!topicMatches('a/b', 'a/b/c'));
  assert.ok(!topicMatches('a/b/c', 'a/b'));
});

test('an anonymous client and a wrong password are refused at CONNECT', async () => {
  const before = broker.stats().access.refusedConnects;
  assert.match(await refused(connect()), /Bad username or password|Not authorized/i);
  assert.match(await refused(connect('s1', { password: 'nope' })), /Bad username or password/i);
  // right user name with another user's password
  assert.match(await refused(connect('s1', { password: PW.s2 })), /Bad username or password/i);
  assert.equal(broker.stats().access.refusedConnects, before + 3);
  assert.equal(await refused(connect('s1')), 'connected');
});

test("a sensor publishes its own raw topic, never another sensor's; it subscribes to nothing", async () => {
  const gw = await connect('gw');
  await gw.subscribeAsync('faultline/#', { qos: 1 });
  const s1 = await connect('s1');
  const arrived = gatherUntil(gw, 'control');
  const closed = new Promise<void>((r) => s1.once('close', () => r()));
  await s1.publishAsync('faultline/s1/pump/1/raw', 'own', { qos: 0 });
  // sensor 1 forging sensor 2's topic: dropped, and the forger is cut off
  s1.publish('faultline/s1/fan/2/raw', 'forged', { qos: 0 });
  await closed;
  const s2 = await connect('s2');
  await s2.publishAsync('faultline/s1/fan/2/raw', 'control', { qos: 1 });
  assert.deepEqual(await arrived, [
    'faultline/s1/pump/1/raw own',
    'faultline/s1/fan/2/raw control',
  ]);
  assert.ok(broker.stats().access.deniedPublishes >= 1);
  // subscribing is not a sensor's business
  const err = await s2.subscribeAsync('faultline/#', { qos: 0 }).then(
    () => undefined,
    (e: { packet?: { granted?: number[] } }) => e,
  );
  assert.deepEqual(err?.packet?.granted, [128]);
});

test('a console reads everything and publishes acks, but no raw frames', async () => {
  const con = await connect('con');
  const granted = await con.subscribeAsync('faultline/s1/#', { qos: 1 });
  assert.equal(granted[0].qos, 1);
  const gw = await connect('gw');
  await gw.subscribeAsync('faultline/s1/+/alert/ack', { qos: 1 });
  const acks = gatherUntil(gw, '{"id":"a1","by":"op"}');
  await con.publishAsync('faultline/s1/pump/alert/ack', '{"id":"a1","by":"op"}', { qos: 1 });
  assert.deepEqual(await acks, ['faultline/s1/pump/alert/ack {"id":"a1","by":"op"}']);
  const closed = new Promise<void>((r) => con.once('close', () => r()));
  con.publish('faultline/s1/pump/1/raw', 'console posing as a sensor', { qos: 0 });
  await closed;
});

test('a packet over maxPacketBytes disconnects its client; one under it passes', async () => {
  const gw = await connect('gw');
  await gw.subscribeAsync('faultline/s1/pump/1/raw', { qos: 0 });
  const s1 = await connect('s1');
  const arrived = gatherUntil(gw, 'small');
  await s1.publishAsync('faultline/s1/pump/1/raw', Buffer.alloc(3000, 1), { qos: 0 });
  await s1.publishAsync('faultline/s1/pump/1/raw', 'small', { qos: 1 });
  assert.equal((await arrived).length, 2);
  const before = broker.stats().access.oversizePackets;
  const closed = new Promise<void>((r) => s1.once('close', () => r()));
  s1.publish('faultline/s1/pump/1/raw', Buffer.alloc(64 * 1024, 2), { qos: 0 });
  await closed;
  assert.equal(broker.stats().access.oversizePackets, before + 1);
});

test('a header announcing a huge packet is cut before its body arrives', async () => {
  // raw TCP: a PUBLISH header announcing 200 MiB, then nothing
  const sock = net.connect(broker.port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  sock.on('error', () => undefined);
  sock.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]));
  await closed;
  // the scanner across chunk boundaries
  const s = new PacketScanner(100);
  assert.equal(s.feed(Buffer.from([0x30])), undefined);
  assert.equal(s.feed(Buffer.from([0x05, 1, 2])), undefined);
  assert.equal(s.feed(Buffer.from([3, 4, 5, 0xc0, 0x00])), undefined);
  assert.match(s.feed(Buffer.from([0x30, 0xe4, 0x00])) ?? '', /exceeds the 100-byte limit/);
  assert.match(
    new PacketScanner(1e9).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff])) ?? '',
    /malformed/,
  );
});

test('broker.maxConnections holds: the connection over the cap is refused', async () => {
  const capped = await EmbeddedBroker.start({ port: 0, maxConnections: 2 });
  try {
    const a = await mqtt.connectAsync(capped.url, { protocolVersion: 4, reconnectPeriod: 0 });
    const b = await mqtt.connectAsync(capped.url, { protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(a, b);
    // the server closes a socket over the cap at once, before any MQTT is spoken
    const third = net.connect(capped.port, '127.0.0.1');
    third.on('error', () => undefined);
    await new Promise<void>((r) => third.once('close', () => r()));
    await a.endAsync(true);
    await until('a free slot after one client left', () => capped.stats().clients < 2);
    const d = await mqtt.connectAsync(capped.url, { protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(d);
  } finally {
    await capped.close();
  }
});

test('broker.tls: mqtts with the configured certificate; plain MQTT is not spoken', async () => {
  pki = await makeTestPki(dir);
  const tlsBroker = await EmbeddedBroker.start({
    port: 0,
    accounts: brokerAccounts(parseConfig(input())),
    tls: { certPath: pki.serverCert, keyPath: pki.serverKey },
  });
  try {
    assert.match(tlsBroker.url, /^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const ca = await readFile(pki.ca);
    const c = await connect('con', { url: tlsBroker.url, ca });
    assert.ok(c.connected);
    assert.notEqual(await attempt(tlsBroker.url.replace('mqtts', 'mqtt')), 'connected');
    assert.match(await attempt(tlsBroker.url, await readFile(pki.wrongCa)), /certificate/i);
  } finally {
    await tlsBroker.close();
  }
});
