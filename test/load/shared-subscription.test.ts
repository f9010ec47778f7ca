/**
 * Scale-out groundwork on mosquitto: three MqttSources (one per would-be
 * gateway) share a site's sensors through an MQTT 5 shared subscription
 * (`$share/<group>/faultline/<site>/+/+/raw`); one is killed without a
 * DISCONNECT (its socket cut, as a crash does).
 *
 * What this shows, measured on the real broker:
 * - failover: every frame published once the broker has seen the cut
 *   reaches a survivor; the time until the first frame of each sensor
 *   arrives there is reported; frames lost are only those that were in
 *   flight to the dead member.
 * - the split: mosquitto 2.0 hands shared messages round-robin per message,
 *   so one sensor's consecutive frames land on different members. A
 *   gateway's per-sensor windows need contiguous frames, hence the daemon
 *   cannot use a plain shared group on mosquitto for diagnosis: see
 *   docs/deploy/README.md ("Many gateways") for the sticky alternatives.
 *   The test asserts the split, so it fails (and tells) if the broker's
 *   policy ever changes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import { MqttSource } from '../../src/ingest/mqtt-source.js';
import type { IngestedBlock } from '../../src/ingest/source.js';
import { testFrame } from '../support/frames.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';

const skip = !(await haveMosquitto()) ? 'mosquitto not installed' : false;
/** Not a multiple of the member count: with 3 sensors a per-message round-robin would look sticky. */
const SENSORS = 4;
const FPS = 40; // pacing, frames per second per sensor (a slow machine simply takes longer)
/** Rounds of one frame per sensor before the kill, and after it. */
const ROUNDS = 120;
let broker: Mosquitto;
let pub: MqttClient;
const members: MqttSource[] = [];

before(async () => {
  if (skip) return;
  broker = await startMosquitto({ persistence: false });
  pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: 'sensors' });
});

after(async () => {
  for (const m of members) await m.close().catch(() => undefined);
  await pub?.endAsync();
  await broker?.stop();
});

const frame = (sensorId: number, seq: number) =>
  testFrame(sensorId, seq, { samples: 128, t0StepUs: 12_800n, fill: seq & 0x7fff });

test('shared subscription on mosquitto: failover after a member is killed; frames split per message', {
  skip,
  timeout: 300_000,
}, async () => {
  // got[member] = "sensor:seq" received
  const got: { key: string; at: number }[][] = [[], [], []];
  for (let i = 0; i < 3; i++) {
    const s = new MqttSource({
      url: broker.url,
      clientId: `gw-${i}`,
      clean: true,
      // No session kept after a disconnect: mosquitto 2.0 keeps queueing a
      // disconnected member's round-robin share into its session while it
      // lasts, so with the link default (1 h) a crashed gateway's share would
      // wait for it instead of failing over.
      sessionExpiryS: 0,
      site: 'so',
      shareGroup: 'so-gateways',
      // The killed member's socket is cut, which the broker sees at once; a
      // short keep-alive would only let a starved test process lose a survivor.
      keepaliveS: 30,
    });
    s.on('data', (b: IngestedBlock) =>
      got[i].push({ key: `${b.sensorId}:${b.seq}`, at: Date.now() }),
    );
    await s.start();
    members.push(s);
  }
  assert.match(members[0].topics[0], /^\$share\/so-gateways\/faultline\/so\/\+\/\+\/raw$/);

  let killedAt = 0;
  let killSeq = 0;
  const sent: string[] = [];
  for (let seq = 0; seq < 2 * ROUNDS; seq++) {
    if (seq === ROUNDS) {
      // crash member 0: cut its socket, no DISCONNECT
      const client = (members[0] as unknown as { client: MqttClient }).client;
      client.options.reconnectPeriod = 0;
      client.stream.destroy();
      await members[0].close();
      killedAt = Date.now();
      killSeq = seq;
    }
    for (let s = 1; s <= SENSORS; s++) {
      await pub.publishAsync(`faultline/so/m${s}/${s}/raw`, frame(s, seq), { qos: 1 });
      sent.push(`${s}:${seq}`);
    }
    await new Promise((r) => setTimeout(r, 1000 / FPS));
  }
  // Each publish waits for the broker's PUBACK, so by the second round after
  // the cut the broker has handled the dead member's closed socket (it was
  // ready before those publishes were sent): from then on nothing may be lost.
  const late = (k: string) => Number(k.split(':')[1]) >= killSeq + 2;
  const received = () => new Set(got.flatMap((m) => m.map((x) => x.key)));
  await new Promise<void>((resolve) => {
    const deadline = Date.now() + 60_000;
    const poll = () => {
      const r = received();
      if (sent.filter(late).every((k) => r.has(k)) || Date.now() > deadline) resolve();
      else setTimeout(poll, 20);
    };
    poll();
  });

  const all = new Map<string, number>();
  for (const m of got) for (const x of m) all.set(x.key, (all.get(x.key) ?? 0) + 1);
  const lost = sent.filter((k) => !all.has(k));
  const dups = [...all.values()].filter((n) => n > 1).length;
  // once the broker saw the cut, everything reaches the survivors
  const lateLost = lost.filter(late);
  const survivors = [...got[1], ...got[2]].filter((x) => x.at >= killedAt);
  const firstPerSensor = Array.from({ length: SENSORS }, (_, i) => {
    const f = survivors.find((x) => x.key.startsWith(`${i + 1}:`));
    return f ? f.at - killedAt : Number.POSITIVE_INFINITY;
  });
  // the split: one sensor's frames before the kill, spread across the members
  const sensor1 = got.map((m) => m.filter((x) => x.key.startsWith('1:') && x.at < killedAt).length);
  console.log(
    `# shared-subscription: sent ${sent.length}, lost ${lost.length} (from the 2nd round after the kill: ${lateLost.length}), duplicates ${dups}; failover: first frame of each sensor on a survivor ${firstPerSensor.map((x) => `${x} ms`).join(', ')}; sensor 1 frames per member before the kill ${sensor1.join('/')}`,
  );
  assert.deepEqual(lateLost, [], 'frames lost after failover');
  assert.ok(
    lost.length <= 3 * SENSORS,
    `lost ${lost.length}: only frames in flight to the dead member`,
  );
  assert.equal(dups, 0);
  assert.ok(
    firstPerSensor.every(Number.isFinite),
    'every sensor continues on a survivor (the time it took is printed above)',
  );
  assert.ok(
    sensor1.filter((n) => n > 0).length >= 2,
    `mosquitto split one sensor across members (${sensor1.join('/')}): per-sensor windows need sticky assignment`,
  );
});
