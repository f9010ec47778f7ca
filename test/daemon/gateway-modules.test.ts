/**
 * The modules the gateway composes, each on its own with a hand-made
 * context: no broker, store, pipeline workers or timers. The gateway as a
 * whole runs in ./gateway.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type GatewayConfig, parseConfig } from '../../src/daemon/config.js';
import type { GatewayContext, GatewayParts } from '../../src/daemon/gateway-context.js';
import { IngestRouter, STATS_INTERVAL_MS } from '../../src/daemon/ingest-router.js';
import { silentLogger } from '../../src/daemon/log.js';
import { MachineTable, machineSpec } from '../../src/daemon/machine-table.js';
import { changedNeedingRestart } from '../../src/daemon/model-control.js';
import { Viewers } from '../../src/daemon/viewers.js';
import type { DiagnosisPipeline } from '../../src/diagnose/pipeline.js';
import { isFaultlineError } from '../../src/errors.js';
import type { IngestedBlock } from '../../src/ingest/source.js';
import type { HistoryPoint } from '../../src/store/types.js';

const quiet = silentLogger();

function config(ids: [string, string] = ['m1', 'm2']): Readonly<GatewayConfig> {
  return parseConfig({
    site: 's',
    gatewayId: 'gw-a',
    machines: [
      { id: ids[0], sensors: [{ id: 1, sampleRate: 12000 }] },
      { id: ids[1], sensors: [{ id: 2, sampleRate: 12000, serial: '/dev/ttyX' }] },
    ],
  });
}

/** A context whose parts are the given fakes, recording what is emitted. */
function context(parts: Partial<GatewayParts> = {}, ids?: [string, string]) {
  const c = config(ids);
  const emitted: { event: string; args: unknown[] }[] = [];
  const ctx: GatewayContext = {
    config: c,
    gatewayId: 'gw-a',
    stateDir: '/nonexistent',
    repoRoot: '/nonexistent',
    log: quiet,
    machines: new MachineTable(c, 'gw-a'),
    parts: { storeKind: 'sqlite', sources: [], ...parts },
    emit: (event, ...args) => void emitted.push({ event, args }),
    closing: false,
  };
  return { ctx, emitted };
}

/** The calls a fake pipeline received. */
function fakePipeline() {
  const pushed: { key: unknown; samples: number }[] = [];
  const display: string[] = [];
  const pipeline = {
    push: (b: IngestedBlock, key: unknown) => void pushed.push({ key, samples: b.samples.length }),
    noteStream: () => {},
    requestSpectrogram: (k: { sensor: string }, on: boolean) =>
      void display.push(`spec ${k.sensor} ${on}`),
    requestEnvelope: (k: { sensor: string }, on: boolean) =>
      void display.push(`env ${k.sensor} ${on}`),
  } as unknown as DiagnosisPipeline;
  return { pipeline, pushed, display };
}

const mqttBlock = (machine: string, sensor: number, n = 100): IngestedBlock => ({
  sensorId: sensor,
  seq: 0,
  gap: 0,
  t0Us: 0n,
  sampleRate: 12000,
  channels: 1,
  samples: new Float32Array(n),
  origin: {
    link: 'mqtt',
    topic: `faultline/s/${machine}/${sensor}/raw`,
    site: 's',
    machine,
    sensor: String(sensor),
  },
});

test('the machine table finds a machine by MQTT stream, serial stream and id', () => {
  const { ctx } = context();
  assert.equal(ctx.machines.ofStream('s/m1/1')?.config.id, 'm1');
  assert.equal(ctx.machines.ofStream('/dev/ttyX#2')?.config.id, 'm2');
  assert.equal(ctx.machines.firstOnSerial('/dev/ttyX')?.config.id, 'm2');
  assert.equal(ctx.machines.ofStream('s/m1/2'), undefined);
  assert.deepEqual(ctx.machines.ids(), ['m1', 'm2']);
  assert.deepEqual(ctx.machines.ownedIds(), ['m1', 'm2']);
});

test('machineSpec refuses a machine without a model version', () => {
  const c = config();
  assert.throws(
    () => machineSpec('s', c.machines[0], undefined),
    (e) => isFaultlineError(e, 'FL_ERR_MODEL_FILE'),
  );
});

test('the ingest router counts blocks it cannot route, and those of machines it does not own', () => {
  const { ctx } = context();
  const router = new IngestRouter(ctx, { queuePoints: () => {} });
  router.route(mqttBlock('m1', 1)); // no pipeline yet
  assert.equal(router.unrouted, 1);
  const { pipeline, pushed } = fakePipeline();
  ctx.parts.pipeline = pipeline;
  router.route(mqttBlock('nope', 9));
  assert.equal(router.unrouted, 2);
  const m1 = ctx.machines.get('m1');
  assert.ok(m1);
  m1.owned = false;
  router.route(mqttBlock('m1', 1));
  assert.equal(router.notOwned, 1);
  assert.equal(pushed.length, 0);
  assert.equal(m1.ingest.frames, 0);
});

test('the ingest router hands owned blocks to the pipeline and reports each interval', () => {
  const { ctx, emitted } = context();
  const { pipeline, pushed } = fakePipeline();
  ctx.parts.pipeline = pipeline;
  const points: HistoryPoint[] = [];
  const router = new IngestRouter(ctx, { queuePoints: (p) => void points.push(...p) });
  for (let i = 0; i < 4; i++) router.route(mqttBlock('m1', 1, 50));
  assert.deepEqual(pushed[0], { key: { site: 's', machine: 'm1', sensor: '1' }, samples: 50 });
  assert.equal(pushed.length, 4);
  const m1 = ctx.machines.get('m1');
  assert.equal(m1?.interval.bytes, 4 * 50 * 2);
  router.statsTick();
  assert.equal(m1?.ingest.framesPerS, (4 * 1000) / STATS_INTERVAL_MS);
  assert.equal(m1?.ingest.frames, 4);
  assert.deepEqual(m1?.interval, { frames: 0, crcErrors: 0, gaps: 0, bytes: 0 });
  assert.equal(points.length, 2, 'one ingest point per owned machine');
  const ingest = emitted.find((e) => e.event === 'ingest');
  assert.ok(ingest);
  const snapshot = ingest.args[0] as Record<string, { frames: number }>;
  assert.equal(snapshot.m1.frames, 4);
  assert.equal(snapshot.m2.frames, 0);
});

test('the ingest snapshot is keyed without a prototype: machines named __proto__ and constructor are entries', () => {
  const { ctx, emitted } = context({}, ['__proto__', 'constructor']);
  new IngestRouter(ctx, { queuePoints: () => {} }).statsTick();
  const snapshot = emitted.find((e) => e.event === 'ingest')?.args[0] as Record<
    string,
    { frames: number }
  >;
  assert.equal(Object.getPrototypeOf(snapshot), null);
  assert.deepEqual(Object.keys(snapshot).sort(), ['__proto__', 'constructor']);
  assert.equal(snapshot['constructor' as string].frames, 0);
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(snapshot))).sort(), [
    '__proto__',
    'constructor',
  ]);
});

test('viewers switch the display payloads on for the first and off after the last', () => {
  const { ctx } = context();
  const { pipeline, display } = fakePipeline();
  ctx.parts.pipeline = pipeline;
  const viewers = new Viewers(ctx);
  const a = viewers.view('m1');
  const b = viewers.view('m1');
  assert.equal(viewers.count('m1'), 2);
  assert.deepEqual(display, ['spec 1 true', 'env 1 true']);
  a();
  a(); // idempotent
  assert.equal(viewers.count('m1'), 1);
  b();
  assert.equal(viewers.count('m1'), 0);
  assert.deepEqual(display.slice(2), ['spec 1 false', 'env 1 false']);
  viewers.view('nope')();
  assert.equal(viewers.count('nope'), 0);
});

test('a reload names the settings that need a restart; a model change needs none', () => {
  const a = config();
  const model = parseConfig({ ...a, machines: a.machines.map((m) => ({ ...m, model: 'x' })) });
  assert.deepEqual(changedNeedingRestart(a, model), []);
  const site = parseConfig({ ...a, site: 'other' });
  assert.deepEqual(changedNeedingRestart(a, site), ['site']);
  const fewer = parseConfig({ ...a, machines: a.machines.slice(0, 1) });
  assert.deepEqual(changedNeedingRestart(a, fewer), ['machines']);
});
