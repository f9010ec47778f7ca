/**
 * Cluster ownership: the rendezvous hash (stability, balance, minimal
 * movement), membership from retained presence + Last Will on a real
 * mosquitto, and the ingest source's run-time subscriptions.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import {
  AlertPublisher,
  gatewayConnectOptions,
  gatewayStatus,
} from '../../src/alerts/publisher.js';
import { ClusterMembership, ownerOf, rendezvousWeight } from '../../src/daemon/cluster.js';
import { parseConfig } from '../../src/daemon/config.js';
import { isFaultlineError } from '../../src/errors.js';
import { encodeFrame } from '../../src/ingest/frame.js';
import { MqttSource } from '../../src/ingest/mqtt-source.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';

const skip = !(await haveMosquitto()) ? 'mosquitto not installed' : false;
let broker: Mosquitto;
const clients: MqttClient[] = [];
const sources: MqttSource[] = [];

before(async () => {
  if (!skip) broker = await startMosquitto({ persistence: false });
});
after(async () => {
  for (const s of sources) await s.close().catch(() => undefined);
  for (const c of clients) await c.endAsync(true).catch(() => undefined);
  await broker?.stop();
});

const machines = Array.from({ length: 600 }, (_, i) => `machine-${i}`);

test('rendezvous owner: deterministic, order-free, balanced', () => {
  assert.equal(rendezvousWeight('m1', 'a'), rendezvousWeight('m1', 'a'));
  assert.notEqual(rendezvousWeight('m1', 'a'), rendezvousWeight('m1', 'b'));
  assert.equal(ownerOf('m1', []), undefined);
  const gws = ['a', 'b', 'c'];
  const counts = new Map<string, number>();
  for (const m of machines) {
    const o = ownerOf(m, gws) as string;
    assert.equal(ownerOf(m, [...gws].reverse()), o, 'independent of the list order');
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  for (const g of gws) {
    const n = counts.get(g) ?? 0;
    assert.ok(n > 150 && n < 250, `${g} owns ${n} of 600 (expected ≈ 200)`);
  }
});

test('rendezvous owner: a leaving gateway moves only its machines, a joining one takes ≈ 1/n', () => {
  const before = new Map(machines.map((m) => [m, ownerOf(m, ['a', 'b', 'c']) as string]));
  for (const m of machines) {
    const after = ownerOf(m, ['a', 'c']) as string;
    if (before.get(m) !== 'b') assert.equal(after, before.get(m), `${m} stays put`);
  }
  let moved = 0;
  for (const m of machines) {
    const after = ownerOf(m, ['a', 'b', 'c', 'd']) as string;
    if (after !== before.get(m)) {
      moved++;
      assert.equal(after, 'd', `${m} only moves to the new gateway`);
    }
  }
  assert.ok(moved > 100 && moved < 200, `${moved} of 600 moved to the 4th gateway (≈ 150)`);
});

test('config: cluster defaults off; a share group and the cluster exclude each other', () => {
  const base = { machines: [{ id: 'm', sensors: [{ id: 1, sampleRate: 12_000 }] }] };
  const c = parseConfig(base);
  assert.deepEqual(c.cluster, { enabled: false, keepaliveS: 10, settleMs: 1000, heartbeatS: 10 });
  assert.throws(
    () =>
      parseConfig({
        ...base,
        broker: { shareGroup: 'g' },
        cluster: { enabled: true },
      }),
    (e) => isFaultlineError(e, 'FL_ERR_CONFIG') && /broker\.shareGroup/.test(e.message),
  );
});

test('membership follows retained presence, a clean offline and a Last Will', {
  skip,
  timeout: 180_000,
}, async () => {
  const site = 'cl';
  const publish = async (id: string, status: 'online' | 'offline') => {
    const c = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    await c.publishAsync(
      `faultline/${site}/gateway/${id}/status`,
      JSON.stringify(gatewayStatus(id, status, Date.now())),
      { qos: 1, retain: true },
    );
    await c.endAsync();
  };
  await publish('gw-old', 'offline');
  await publish('gw-b', 'online');
  // gw-c: a live client carrying its Last Will, killed later without DISCONNECT
  const gwC = await mqtt.connectAsync(
    broker.url,
    gatewayConnectOptions({ site, gatewayId: 'gw-c', base: { reconnectPeriod: 0 } }),
  );
  clients.push(gwC);
  gwC.on('error', () => undefined);
  await gwC.publishAsync(
    `faultline/${site}/gateway/gw-c/status`,
    JSON.stringify(gatewayStatus('gw-c', 'online', Date.now())),
    { qos: 1, retain: true },
  );
  const self = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  clients.push(self);
  const m = new ClusterMembership({ client: self, site, self: 'gw-a' });
  const changes: string[][] = [];
  m.on('change', (live) => changes.push(live));
  m.start();
  const wait = async (want: string[]) => {
    const deadline = Date.now() + 60_000;
    while (JSON.stringify(m.live()) !== JSON.stringify(want)) {
      if (Date.now() > deadline) assert.fail(`live ${JSON.stringify(m.live())}, want ${want}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await wait(['gw-a', 'gw-b', 'gw-c']);
  await publish('gw-b', 'offline');
  await wait(['gw-a', 'gw-c']);
  gwC.stream.destroy(); // a crash: the broker publishes the Last Will
  await wait(['gw-a']);
  assert.deepEqual(changes.at(-1), ['gw-a']);
  // garbage on a presence topic is ignored, not a crash
  const c = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  clients.push(c);
  await c.publishAsync(`faultline/${site}/gateway/gw-x/status`, 'not json', { qos: 1 });
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(m.live(), ['gw-a']);
  m.stop();
});

test('a retained online whose heartbeat stopped expires; a beating gateway and an old one without a period stay', {
  skip,
  timeout: 180_000,
}, async () => {
  const site = 'hb';
  const c = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  clients.push(c);
  const t = Date.now();
  // gw-dead: died while the broker was down, its retained online promised a beat every 0.2 s
  await c.publishAsync(
    `faultline/${site}/gateway/gw-dead/status`,
    JSON.stringify(gatewayStatus('gw-dead', 'online', t, { periodMs: 200, atMs: t })),
    { qos: 1, retain: true },
  );
  // gw-old: a gateway of a version without heartbeats (no promise, never expires)
  await c.publishAsync(
    `faultline/${site}/gateway/gw-old/status`,
    JSON.stringify(gatewayStatus('gw-old', 'online', t)),
    { qos: 1, retain: true },
  );
  // gw-live: beats every 5 s through the real publisher (expires only after 15 s of silence)
  const liveClient = await mqtt.connectAsync(
    broker.url,
    gatewayConnectOptions({ site, gatewayId: 'gw-live', base: { reconnectPeriod: 200 } }),
  );
  clients.push(liveClient);
  const pub = new AlertPublisher({
    client: liveClient,
    site,
    gatewayId: 'gw-live',
    heartbeatMs: 5000,
    log: () => undefined,
  });
  pub.start();
  const self = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  clients.push(self);
  const logs: string[] = [];
  const m = new ClusterMembership({
    client: self,
    site,
    self: 'gw-a',
    expiryCheckMs: 50,
    log: (x) => logs.push(x),
  });
  const seen = new Set<string>();
  m.on('change', (live) => {
    for (const g of live) seen.add(g);
  });
  m.start();
  const deadline = Date.now() + 60_000;
  while (JSON.stringify(m.live()) !== JSON.stringify(['gw-a', 'gw-live', 'gw-old'])) {
    if (Date.now() > deadline) assert.fail(`live ${JSON.stringify(m.live())}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(seen.has('gw-dead'), 'the retained online counted at first');
  assert.ok(logs.some((l) => l.includes('gw-dead') && l.includes('no heartbeat')));
  m.stop();
  await pub.close();
});

test('MqttSource: dynamic topics move the subscription; a share group gets session expiry 0', {
  skip,
  timeout: 20_000,
}, async () => {
  const shared = new MqttSource({ url: broker.url, shareGroup: 'g', site: 'x' });
  assert.equal(shared.sessionExpiryS, 0);
  assert.equal(new MqttSource({ url: broker.url, site: 'x' }).sessionExpiryS, 3600);
  assert.equal(
    new MqttSource({ url: broker.url, topics: ['$share/g/faultline/x/+/+/raw'] }).sessionExpiryS,
    0,
  );

  const s = new MqttSource({ url: broker.url, clientId: 'dyn', clean: true, dynamicTopics: true });
  sources.push(s);
  assert.deepEqual(s.topics, []);
  await s.start();
  const got: string[] = [];
  s.on('data', (b) => got.push(b.origin.link === 'mqtt' ? b.origin.machine : ''));
  const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  clients.push(pub);
  let seq = 0;
  const send = async (machine: string) =>
    pub.publishAsync(
      `faultline/dy/${machine}/1/raw`,
      Buffer.from(
        encodeFrame(
          {
            sensorId: 1,
            seq: seq++,
            t0Us: BigInt(seq) * 1000n,
            sampleRate: 12_000,
            channels: 1,
            format: 'int16',
            scale: 16 / 32768,
            rpm: 0,
          },
          new Int16Array(16),
        ),
      ),
      { qos: 1 },
    );
  const settle = () => new Promise((r) => setTimeout(r, 200));
  await send('a');
  await settle();
  assert.deepEqual(got, [], 'nothing subscribed yet');
  await s.setTopics(['faultline/dy/a/+/raw']);
  await send('a');
  await send('b');
  await settle();
  assert.deepEqual(got, ['a']);
  await s.setTopics(['faultline/dy/b/+/raw']);
  await send('a');
  await send('b');
  await settle();
  assert.deepEqual(got, ['a', 'b']);
  assert.deepEqual(s.topics, ['faultline/dy/b/+/raw']);
});
