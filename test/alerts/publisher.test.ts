/**
 * AlertPublisher against a real mosquitto on loopback.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import {
  AlertPublisher,
  type AlertPublisherOptions,
  gatewayConnectOptions,
  type ReceivedAck,
} from '../../src/alerts/publisher.js';
import { parseAlert } from '../../src/alerts/schema.js';
import type { Alert } from '../../src/contract/alert.js';
import { ackTopic, alertTopic, gatewayStatusTopic, stateTopic } from '../../src/contract/topics.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';
import { freePort } from '../support/ports.js';
import { alertFor } from './example.js';

const SITE = 'plant1';
const skip = !(await haveMosquitto())
  ? process.env.CI === 'true'
    ? false // in CI a missing broker must fail, not skip
    : 'mosquitto not installed (apt-get install mosquitto)'
  : false;

interface Received {
  topic: string;
  payload: string;
  packet: IPublishPacket;
}

/** Collects messages; `next(pred)` waits for the first matching one (5 s). */
function collector(client: MqttClient) {
  const got: Received[] = [];
  const waiters: Array<{ pred: (r: Received) => boolean; resolve: (r: Received) => void }> = [];
  client.on('message', (topic, payload, packet) => {
    const r = { topic, payload: payload.toString(), packet };
    got.push(r);
    for (const w of [...waiters]) {
      if (w.pred(r)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(r);
      }
    }
  });
  return {
    got,
    next(pred: (r: Received) => boolean, ms = 60_000): Promise<Received> {
      const hit = got.find(pred);
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching message in ${ms} ms`)), ms);
        waiters.push({
          pred,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        });
      });
    },
  };
}

describe('AlertPublisher on a real mosquitto', { skip, timeout: 600_000 }, () => {
  let broker: Mosquitto;
  const clients: MqttClient[] = [];
  const connect = async (opts: mqtt.IClientOptions = {}) => {
    const c = await mqtt.connectAsync(broker.url, {
      protocolVersion: 5,
      reconnectPeriod: 200,
      ...opts,
    });
    clients.push(c);
    return c;
  };
  const publisher = async (gatewayId: string, extra: Partial<AlertPublisherOptions> = {}) => {
    const client = await connect(
      gatewayConnectOptions({ site: SITE, gatewayId, base: { reconnectPeriod: 200 } }),
    );
    const logs: string[] = [];
    const pub = new AlertPublisher({
      client,
      site: SITE,
      gatewayId,
      log: (m) => logs.push(m),
      ...extra,
    });
    pub.start();
    return { pub, client, logs };
  };

  before(async () => {
    broker = await startMosquitto();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})));
    await broker?.stop();
  });

  test('alert arrives with QoS 1, not retained; state is retained for late subscribers', async () => {
    const sub = await connect();
    const inbox = collector(sub);
    await sub.subscribeAsync(`faultline/${SITE}/+/alert`, { qos: 1 });
    const { pub } = await publisher('gw-a');
    const alert = alertFor('pump1', 1, 'alarm');
    pub.publishAlert(alert);
    pub.publishState({
      site: SITE,
      machine: 'pump1',
      state: 'alarm',
      since: alert.time,
      faultClass: 'inner',
      confidence: 0.93,
      isoZone: 'C',
      alertId: alert.id,
      time: alert.time,
    });
    await pub.flushed();
    const r = await inbox.next((m) => m.topic === alertTopic(SITE, 'pump1'));
    assert.equal(r.packet.qos, 1);
    assert.equal(r.packet.retain, false);
    assert.deepEqual(parseAlert(JSON.parse(r.payload)), alert);
    assert.deepEqual(
      { published: pub.stats().published, statesPublished: pub.stats().statesPublished },
      { published: 1, statesPublished: 1 },
    );

    // Retained messages follow each SUBACK in order: subscribed to alerts
    // first, a retained alert would arrive before the retained state.
    const late = await connect();
    const lateInbox = collector(late);
    await late.subscribeAsync(`faultline/${SITE}/+/alert`, { qos: 1 });
    await late.subscribeAsync(`faultline/${SITE}/+/state`, { qos: 1 });
    const s = await lateInbox.next((m) => m.topic === stateTopic(SITE, 'pump1'));
    assert.equal(s.packet.retain, true);
    assert.equal(JSON.parse(s.payload).alertId, alert.id);
    assert.ok(!lateInbox.got.some((m) => m.topic.endsWith('/alert')), 'alerts are not retained');
  });

  test('Last Will: an abrupt connection loss publishes retained offline, reconnect → online', async () => {
    const watcher = await connect();
    const inbox = collector(watcher);
    const topic = gatewayStatusTopic(SITE, 'gw-lwt');
    const { client } = await publisher('gw-lwt');
    await watcher.subscribeAsync(topic, { qos: 1 });
    await inbox.next((m) => m.topic === topic && JSON.parse(m.payload).status === 'online');
    const t0 = Date.now();
    client.stream.destroy(); // no DISCONNECT packet: the broker must fire the will
    const off = await inbox.next(
      (m) => m.topic === topic && JSON.parse(m.payload).status === 'offline',
    );
    const willMs = Date.now() - t0;
    assert.equal(JSON.parse(off.payload).gateway, 'gw-lwt');
    const before = inbox.got.length;
    await inbox.next(
      (m) =>
        inbox.got.indexOf(m) >= before &&
        m.topic === topic &&
        JSON.parse(m.payload).status === 'online',
    );
    console.log(`# will published ${willMs} ms after the socket died; back online after reconnect`);

    // A later subscriber sees the retained presence.
    const late = await connect();
    const lateInbox = collector(late);
    await late.subscribeAsync(topic, { qos: 1 });
    const r = await lateInbox.next((m) => m.topic === topic);
    assert.equal(r.packet.retain, true);
    assert.equal(JSON.parse(r.payload).status, 'online');
  });

  test('acks round-trip as events; malformed acks are counted, never crash', async () => {
    const { pub, logs } = await publisher('gw-ack');
    const operator = await connect();
    // The publisher subscribes to acks once connected; a probe ack on another
    // machine's topic, repeated until one comes back, shows the subscription
    // is in place (however long that took), so nothing below can be missed.
    const probe = ackTopic(SITE, 'probe');
    const probed = once(pub, 'ack');
    let answered = false;
    void probed.then(() => {
      answered = true;
    });
    for (let i = 0; !answered && i < 600; i++) {
      await operator.publishAsync(probe, JSON.stringify({ id: alertFor('probe', 1).id, by: 'x' }), {
        qos: 1,
      });
      await Promise.race([probed, new Promise((res) => setTimeout(res, 100))]);
    }
    assert.ok(answered, 'the publisher receives acks');
    const acks: ReceivedAck[] = [];
    pub.on('ack', (a) => {
      if (a.machine === 'pump2') acks.push(a);
    });
    const bad: string[] = [];
    pub.on('bad-ack', (b) => bad.push(b.error));
    const id = alertFor('pump2', 3).id;
    const topic = ackTopic(SITE, 'pump2');
    await operator.publishAsync(topic, '{not json', { qos: 1 });
    await operator.publishAsync(topic, JSON.stringify({ id }), { qos: 1 }); // no `by`
    await operator.publishAsync(topic, JSON.stringify({ id: 'x', by: 'ana' }), { qos: 1 });
    const got = new Promise<void>((res) =>
      pub.on('ack', (a) => {
        if (a.machine === 'pump2') res();
      }),
    );
    await operator.publishAsync(
      topic,
      JSON.stringify({ id, by: 'ana', comment: 'bearing ordered' }),
      {
        qos: 1,
      },
    );
    await got;
    assert.equal(acks.length, 1);
    assert.deepEqual(
      { id: acks[0].id, by: acks[0].by, comment: acks[0].comment, machine: acks[0].machine },
      { id, by: 'ana', comment: 'bearing ordered', machine: 'pump2' },
    );
    assert.equal(pub.stats().badAcks, 3);
    assert.equal(bad.length, 3);
    assert.match(bad[0], /not JSON/);
    assert.match(bad[1], /by/);
    assert.equal(logs.length, 3);
  });

  test('offline: alerts queue in order, the bound drops the oldest non-alarm, all flushed on reconnect', async () => {
    // The subscriber keeps a persistent session so the broker queues for it across the restart.
    const sub = await connect({
      clientId: 'fl-test-offline-sub',
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    });
    const inbox = collector(sub);
    await sub.subscribeAsync(`faultline/${SITE}/pump9/alert`, { qos: 1 });
    const { pub } = await publisher('gw-off', { maxQueue: 5 });
    const dropped: Alert[] = [];
    pub.on('dropped', (a) => dropped.push(a));

    await broker.kill();
    const gone = Date.now() + 60_000;
    while (pub.stats().connected && Date.now() < gone)
      await new Promise((res) => setTimeout(res, 25));
    assert.equal(pub.stats().connected, false);
    const sent = [
      alertFor('pump9', 1, 'watch'),
      alertFor('pump9', 2, 'alarm'),
      alertFor('pump9', 3, 'warning'),
      alertFor('pump9', 4, 'alarm'),
      alertFor('pump9', 5, 'alarm'),
      alertFor('pump9', 6, 'alarm'), // full: drops #1 (watch)
      alertFor('pump9', 7, 'alarm'), // full: drops #3 (warning)
      alertFor('pump9', 8, 'ok'), // full of alarms: the incoming ok is the oldest non-alarm
      alertFor('pump9', 9, 'alarm'), // all alarms: drops the oldest alarm #2
    ];
    for (const a of sent) pub.publishAlert(a);
    assert.deepEqual(
      dropped.map((a) => a.time.slice(17, 19)),
      ['01', '03', '08', '02'],
    );
    assert.equal(pub.stats().dropped, 4);
    assert.equal(pub.stats().queued, 5);

    const t0 = Date.now();
    await broker.restart();
    await pub.flushed();
    const flushMs = Date.now() - t0;
    const expected = [sent[3], sent[4], sent[5], sent[6], sent[8]].map((a) => a.id);
    const deadline = Date.now() + 60_000;
    while (inbox.got.length < expected.length && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 25));
    }
    assert.deepEqual(
      inbox.got.map((m) => JSON.parse(m.payload).id),
      expected,
      'remaining alerts arrive once each, in order',
    );
    console.log(`# broker restart → 5 queued alerts acknowledged in ${flushMs} ms`);
    assert.equal(pub.stats().queued, 0);
  });
});

test('bad options are TypeErrors at construction', async () => {
  const port = await freePort(); // nothing listens: the client never connects
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  client.on('error', () => {});
  try {
    assert.throws(() => new AlertPublisher({ client, site: 'a/b', gatewayId: 'g' }), TypeError);
    assert.throws(
      () => new AlertPublisher({ client, site: 's', gatewayId: 'g', maxQueue: 1 }),
      TypeError,
    );
    const opts = gatewayConnectOptions({ site: 's', gatewayId: 'g1', nowMs: 0 });
    assert.equal(opts.protocolVersion, 5);
    assert.equal(opts.will?.topic, 'faultline/s/gateway/g1/status');
    assert.equal(opts.will?.retain, true);
    assert.equal(opts.will?.qos, 1);
    assert.deepEqual(JSON.parse(String(opts.will?.payload)), {
      status: 'offline',
      gateway: 'g1',
      since: '1970-01-01T00:00:00.000Z',
    });
  } finally {
    client.end(true);
  }
});
