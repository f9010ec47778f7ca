/**
 * Scale-out: three gateways (child processes, `cluster.enabled`) share one
 * site's six MQTT machines on a real mosquitto; one gateway is SIGKILLed.
 *
 * Each gateway learns the live gateways from the retained presence topics and
 * owns the machines it wins by rendezvous hash, subscribing only to their raw
 * topics (no `$share`: mosquitto would split a sensor's frames per message).
 *
 * Checked:
 * - every machine is diagnosed, by exactly one gateway (the rendezvous owner,
 *   computed here independently), the others receive none of its frames;
 * - after the SIGKILL the Last Will marks the gateway offline and its machines'
 *   diagnoses continue on the survivors; the time is measured and printed;
 * - a survivor hung by SIGSTOP (sockets stay open) is declared offline by the
 *   keep-alive (within OWNERSHIP_DEADLINE_MS, which a gateway that ignored
 *   `cluster.keepaliveS` would miss); the last gateway takes its machines, and
 *   gives them back after SIGCONT;
 * - at a QoS 1 persistent subscriber no alert any gateway recorded is lost,
 *   and an alert id that arrives twice carries the same alert.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { Alert } from '../../src/contract/alert.js';
import type { MachineView } from '../../src/contract/machine.js';
import { ownerOf } from '../../src/daemon/cluster.js';
import type { GatewayConfigInput } from '../../src/daemon/config.js';
import type { GatewayHealth } from '../../src/daemon/gateway.js';
import { resolveCondition } from '../../src/sim/conditions.js';
import { BearingSignalGenerator } from '../../src/sim/generator.js';
import { runSensorStream } from '../../src/sim/sensor-stream.js';
import { openMqttSink } from '../../src/sim/sinks.js';
import {
  FAST_ALERTS,
  type GatewayProcess,
  simModelDir,
  sleep,
  startGatewayProcess,
  until,
  writeConfig,
} from '../support/gateway-fixture.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';

const SITE = 'so';
const GATEWAYS = ['gw-a', 'gw-b', 'gw-c'];
const MACHINES: { id: string; fault: 'none' | 'inner' | 'outer' | 'ball' }[] = [
  { id: 'm1', fault: 'outer' },
  { id: 'm2', fault: 'inner' },
  { id: 'm3', fault: 'none' },
  { id: 'm4', fault: 'ball' },
  { id: 'm5', fault: 'outer' },
  { id: 'm6', fault: 'none' },
];
/** MQTT keep-alive of the gateways, s: a hung gateway's Last Will fires after 1.5 × this. */
const KEEPALIVE_S = 2;
/**
 * Deadline for a survivor to own a failed gateway's machines, ms. Ownership
 * follows the Last Will: at once after a SIGKILL, after 1.5 × KEEPALIVE_S
 * (3 s) plus the broker's coarse expiry check for a hung gateway. Generous
 * for a busy machine, yet short of the 90 s a hung gateway would take to be
 * declared dead if `cluster.keepaliveS` were not passed to the MQTT client
 * (MQTT.js's default keep-alive of 60 s).
 */
const OWNERSHIP_DEADLINE_MS = 60_000;
/** Deadline for the new owner's first diagnosis once it owns a machine, ms (CPU work: a busy machine takes its time). */
const DIAGNOSIS_DEADLINE_MS = 120_000;

const skip = !(await haveMosquitto()) ? 'mosquitto not installed' : false;
let dir: string;
let broker: Mosquitto;
let watcher: MqttClient | undefined;
const gateways = new Map<string, GatewayProcess>();
const sensors: { stop(): Promise<void> }[] = [];

before(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-fault-scale-'));
  broker = await startMosquitto();
});

after(async () => {
  for (const s of sensors) await s.stop().catch(() => undefined);
  await Promise.all([...gateways.values()].map((g) => g.stop().catch(() => undefined)));
  await watcher?.endAsync(true).catch(() => undefined);
  await broker?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** One simulated sensor per machine, publishing raw frames at QoS 1 in real time. */
async function startSensor(machine: string, sensorId: number, fault: string) {
  const gen = new BearingSignalGenerator({
    condition: resolveCondition('source-1797rpm'),
    fault: { type: fault as 'none', severity: 0.8 },
    sampleRate: 12_000,
    seed: 100 + sensorId,
  });
  const sink = await openMqttSink({
    url: broker.url,
    site: SITE,
    machine,
    clientId: `sensor-${machine}`,
    clean: true,
    sessionExpiryS: 0,
  });
  const abort = new AbortController();
  const run = runSensorStream({
    sensors: [{ sensorId, source: gen, rpm: gen.config.condition.rpm }],
    sampleRate: 12_000,
    sink,
    signal: abort.signal,
  }).catch(() => undefined);
  return {
    async stop() {
      abort.abort();
      await run;
      await sink.close().catch(() => undefined);
    },
  };
}

test('three gateways share a site by rendezvous ownership; a SIGKILLed or hung one fails over', {
  skip,
  timeout: 1_200_000,
}, async () => {
  const model = await simModelDir();

  // the QoS 1 persistent subscriber counting alerts
  const received: { alert: Alert; raw: string }[] = [];
  watcher = await mqtt.connectAsync(broker.url, {
    protocolVersion: 5,
    clientId: 'scale-out-alert-watch',
    clean: false,
    properties: { sessionExpiryInterval: 3600 },
  });
  watcher.on('message', (_t, p) => {
    const raw = p.toString();
    received.push({ alert: JSON.parse(raw) as Alert, raw });
  });
  await watcher.subscribeAsync(`faultline/${SITE}/+/alert`, { qos: 1 });

  const config = (id: string): GatewayConfigInput => ({
    site: SITE,
    gatewayId: id,
    stateDir: path.join(dir, id, 'state'),
    model,
    machines: MACHINES.map((m, i) => ({ id: m.id, sensors: [{ id: i + 1, sampleRate: 12_000 }] })),
    alerts: FAST_ALERTS,
    broker: { embedded: false, url: broker.url },
    http: { port: 0 },
    pipeline: { workers: 1 },
    cluster: { enabled: true, keepaliveS: KEEPALIVE_S, settleMs: 1000 },
  });
  await Promise.all(
    GATEWAYS.map(async (id) => {
      await mkdir(path.join(dir, id), { recursive: true });
      gateways.set(
        id,
        await startGatewayProcess(await writeConfig(path.join(dir, id), config(id))),
      );
    }),
  );
  const gw = (id: string) => gateways.get(id) as GatewayProcess;

  // every gateway sees the other two
  await until(
    'all gateways to see each other',
    async () => {
      for (const id of GATEWAYS) {
        const h = await gw(id).get<GatewayHealth>('/api/gateway');
        if (h.cluster?.live.length !== 3) return false;
      }
      return true;
    },
    120_000,
  );
  for (const [i, m] of MACHINES.entries()) sensors.push(await startSensor(m.id, i + 1, m.fault));

  // ── steady state: each machine diagnosed by exactly its rendezvous owner
  const expected = new Map(MACHINES.map((m) => [m.id, ownerOf(m.id, GATEWAYS) as string]));
  const views = async (ids: string[]) =>
    new Map(
      await Promise.all(
        ids.map(async (id) => [id, await gw(id).get<MachineView[]>('/api/machines')] as const),
      ),
    );
  await until(
    'every machine diagnosed by its owner',
    async () => {
      const v = await views(GATEWAYS);
      return MACHINES.every((m) => {
        const owner = expected.get(m.id) as string;
        return v.get(owner)?.find((x) => x.id === m.id)?.diagnosis !== undefined;
      });
    },
    180_000,
  );
  // Over a stretch in which every owner received 30 more frames of each of
  // its machines (however long that takes here), the others received none.
  const frames = (v: Awaited<ReturnType<typeof views>>, id: string, m: string) =>
    v.get(id)?.find((x) => x.id === m)?.ingest.frames ?? Number.NaN;
  const v1 = await views(GATEWAYS);
  const v2 = await until(
    'every owner to receive more frames of its machines',
    async () => {
      const v = await views(GATEWAYS);
      return MACHINES.every((m) => {
        const owner = expected.get(m.id) as string;
        return frames(v, owner, m.id) - frames(v1, owner, m.id) > 30;
      })
        ? v
        : undefined;
    },
    120_000,
  );
  for (const m of MACHINES) {
    const owner = expected.get(m.id) as string;
    for (const id of GATEWAYS) {
      const b = v2.get(id)?.find((x) => x.id === m.id) as MachineView;
      assert.deepEqual(b.cluster, { owned: id === owner, owner }, `${id}'s view of ${m.id}`);
      const grew = frames(v2, id, m.id) - frames(v1, id, m.id);
      if (id !== owner) {
        assert.equal(grew, 0, `${id} receives none of ${m.id}'s frames`);
        assert.equal(b.diagnosis, undefined, `${id} shows no diagnosis of ${m.id}`);
      }
    }
  }

  // ── fault: SIGKILL the gateway owning the most machines
  const counts = GATEWAYS.map((id) => [...expected.values()].filter((o) => o === id).length);
  const victim = GATEWAYS[counts.indexOf(Math.max(...counts))];
  const survivors = GATEWAYS.filter((id) => id !== victim);
  const moved = MACHINES.filter((m) => expected.get(m.id) === victim).map((m) => m.id);
  // The alerts the victim recorded and had published before it dies (its
  // publisher queue read empty after the list was taken): those must arrive.
  const victimAlerts = await until(
    `${victim} to have published the alerts it recorded`,
    async () => {
      const list = await gw(victim).get<Alert[]>('/api/alerts?limit=10000');
      const h = await gw(victim).get<GatewayHealth>('/api/gateway');
      return h.alerts.queued === 0 && h.alerts.connected ? list : undefined;
    },
    60_000,
  );
  await gw(victim).kill();
  const killedAt = Date.now();
  gateways.delete(victim);

  const newOwner = new Map(moved.map((m) => [m, ownerOf(m, survivors) as string]));
  await until(
    `the survivors to own ${moved.join(', ')}`,
    async () => {
      for (const m of moved) {
        const v = await gw(newOwner.get(m) as string).get<MachineView>(`/api/machines/${m}`);
        if (!v.cluster?.owned) return false;
      }
      return true;
    },
    OWNERSHIP_DEADLINE_MS,
    100,
  );
  const failoverMs = new Map<string, number>();
  await until(
    `diagnoses of ${moved.join(', ')} on the survivors`,
    async () => {
      for (const m of moved) {
        if (failoverMs.has(m)) continue;
        const v = await gw(newOwner.get(m) as string).get<MachineView>(`/api/machines/${m}`);
        if (v.cluster?.owned && v.diagnosis && v.diagnosis.t > killedAt)
          failoverMs.set(m, Date.now() - killedAt);
      }
      return failoverMs.size === moved.length;
    },
    DIAGNOSIS_DEADLINE_MS,
    100,
  );
  const worst = Math.max(...failoverMs.values());

  // machines that did not move stay where they were; everyone agrees on the owners
  const v3 = await views(survivors);
  for (const m of MACHINES) {
    const owner = moved.includes(m.id) ? newOwner.get(m.id) : expected.get(m.id);
    for (const id of survivors) {
      const x = v3.get(id)?.find((y) => y.id === m.id) as MachineView;
      assert.deepEqual(
        x.cluster,
        { owned: id === owner, owner },
        `after the kill: ${id} on ${m.id}`,
      );
    }
  }

  // ── fault 2: a survivor hangs (SIGSTOP: its sockets stay open, so only the keep-alive
  // reveals it); the last gateway takes every machine once the Last Will fires, and hands
  // back the hung one's machines when it resumes (SIGCONT) and announces itself again
  const [last, hung] = survivors;
  const hungMachines = MACHINES.filter((m) => ownerOf(m.id, survivors) === hung).map((m) => m.id);
  gw(hung).child.kill('SIGSTOP');
  const stoppedAt = Date.now();
  let ownedMs = 0;
  let hangMs = 0;
  try {
    // the keep-alive's part: the broker declares the hung gateway dead
    await until(
      `${last} to own ${hungMachines.join(', ')}`,
      async () => {
        for (const m of hungMachines) {
          const v = await gw(last).get<MachineView>(`/api/machines/${m}`);
          if (!v.cluster?.owned) return false;
        }
        return true;
      },
      OWNERSHIP_DEADLINE_MS,
      100,
    );
    ownedMs = Date.now() - stoppedAt;
    await until(
      `${last} to diagnose ${hungMachines.join(', ')}`,
      async () => {
        for (const m of hungMachines) {
          const v = await gw(last).get<MachineView>(`/api/machines/${m}`);
          if (!(v.cluster?.owned && v.diagnosis && v.diagnosis.t > stoppedAt)) return false;
        }
        return true;
      },
      DIAGNOSIS_DEADLINE_MS,
      100,
    );
    hangMs = Date.now() - stoppedAt;
  } finally {
    gw(hung).child.kill('SIGCONT');
  }
  const contAt = Date.now();
  await until(
    `${hung} to take its machines back`,
    async () => {
      const v = await gw(hung).get<MachineView[]>('/api/machines');
      return hungMachines.every((m) => {
        const x = v.find((y) => y.id === m);
        return x?.cluster?.owned && x.diagnosis !== undefined && x.diagnosis.t > contAt;
      });
    },
    OWNERSHIP_DEADLINE_MS + DIAGNOSIS_DEADLINE_MS,
  );

  // alerts of every faulty machine have arrived (the moved ones' new owners
  // raise theirs too); then stop the sensors and let the queues drain
  const faulty = MACHINES.filter((m) => m.fault !== 'none').map((m) => m.id);
  await until(
    'alerts of every faulty machine',
    () => faulty.every((m) => received.some((r) => r.alert.machine === m)),
    120_000,
  );
  await sleep(3000); // a few more windows on the new owners, for the count below
  for (const s of sensors.splice(0)) await s.stop();
  await until(
    'survivors to have published every alert',
    async () => {
      for (const id of survivors) {
        const h = await gw(id).get<GatewayHealth>('/api/gateway');
        if (h.alerts.queued > 0 || !h.alerts.connected) return false;
      }
      return true;
    },
    60_000,
  );

  // ── alerts: none lost, duplicates only with equal ids (and equal content)
  const recorded = new Map<string, Alert>();
  for (const a of victimAlerts) recorded.set(a.id, a);
  for (const id of survivors)
    for (const a of await gw(id).get<Alert[]>('/api/alerts?limit=10000')) recorded.set(a.id, a);
  // published means the broker has them for the QoS 1 session: wait for delivery
  const notReceived = () =>
    [...recorded.keys()].filter((id) => !received.some((r) => r.alert.id === id));
  await until('every recorded alert at the subscriber', () => notReceived().length === 0, 60_000)
    // the assertion below names what is missing
    .catch(() => undefined);
  const byId = new Map<string, string[]>();
  for (const r of received) byId.set(r.alert.id, [...(byId.get(r.alert.id) ?? []), r.raw]);
  const lost = [...recorded.keys()].filter((id) => !byId.has(id));
  assert.deepEqual(lost, [], 'alerts recorded by a gateway but never received');
  let duplicates = 0;
  for (const [id, raws] of byId) {
    duplicates += raws.length - 1;
    for (const r of raws.slice(1))
      assert.equal(r, raws[0], `alert ${id} arrived with other content`);
  }
  for (const m of faulty) {
    assert.ok(
      received.some((r) => r.alert.machine === m),
      `alerts of the faulty machine ${m} arrived`,
    );
  }
  console.log(
    `# scale-out: owners ${JSON.stringify(Object.fromEntries(expected))}; killed ${victim} ` +
      `(${moved.join(', ')}) → ${JSON.stringify(Object.fromEntries(newOwner))}; failover ` +
      `${[...failoverMs].map(([m, ms]) => `${m} ${ms} ms`).join(', ')} (worst ${worst} ms); ` +
      `hang (SIGSTOP ${hung}, keep-alive ${KEEPALIVE_S} s): owned after ${ownedMs} ms, diagnosed after ${hangMs} ms; ` +
      `alerts received ${received.length} (${byId.size} ids, ${duplicates} duplicates), recorded ${recorded.size}, lost ${lost.length}`,
  );
});
