/**
 * Fault: InfluxDB goes away and comes back while the gateway (a child
 * process) keeps diagnosing a simulated machine.
 *
 * 1. Outage of $FAULTLINE_FAULT_OUTAGE_S (default 15 s; the minute
 *    is `FAULTLINE_FAULT_OUTAGE_S=60 npm run test:faults`): zero points lost.
 *    Checked independently of the gateway's counters: every window's point
 *    carries the sensor-clock time of its last sample, windows advance by a
 *    fixed hop, so the vibration series in InfluxDB must have no hole from
 *    before the outage to after it.
 * 2. A tiny queue bound (`influx.queueMaxBytes`): the queue never exceeds it,
 *    what it drops is counted, the newest points survive, the gateway lives.
 * 3. A full disk under the queue (a 64 KiB tmpfs — needs root to mount, else
 *    skipped): points lost to ENOSPC are counted with a clear error, the
 *    gateway lives, and writes resume once the database is back.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { GatewayConfigInput } from '../../src/daemon/config.js';
import type { GatewayHealth } from '../../src/daemon/gateway.js';
import {
  FAST_ALERTS,
  type GatewayProcess,
  OUTAGE_S,
  simModelDir,
  sleep,
  startGatewayProcess,
  until,
  writeConfig,
} from '../support/gateway-fixture.js';
import { haveInfluxd, type Influxd, startInfluxd } from '../support/influxd.js';

const run = promisify(execFile);
const skip = !(await haveInfluxd()) ? 'influxd not installed' : false;
let dir: string;
let influx: Influxd;
let model: string;
const gateways: GatewayProcess[] = [];
const mounts: string[] = [];

before(async () => {
  if (skip) return;
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-fault-influx-'));
  model = await simModelDir();
  influx = await startInfluxd();
});

after(async () => {
  for (const g of gateways) await g.stop();
  for (const m of mounts) await run('umount', [m]).catch(() => undefined);
  await influx?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function config(name: string, influxExtra: Record<string, unknown> = {}): GatewayConfigInput {
  return {
    site: 'fi',
    gatewayId: `gw-${name}`,
    stateDir: path.join(dir, name),
    model,
    machines: [
      {
        id: name,
        sensors: [{ id: 1, sampleRate: 12_000 }],
        simulate: { fault: 'inner', severity: 0.8, seed: 51 },
      },
    ],
    alerts: FAST_ALERTS,
    broker: { port: 0 },
    influx: {
      host: '127.0.0.1',
      port: influx.port,
      database: 'fl',
      retentionPolicy: 'fl',
      ...influxExtra,
    },
    http: { port: 0 },
    pipeline: { workers: 1 },
  };
}

async function start(name: string, influxExtra?: Record<string, unknown>) {
  const d = path.join(dir, name);
  await mkdir(d, { recursive: true });
  const g = await startGatewayProcess(await writeConfig(d, config(name, influxExtra)));
  gateways.push(g);
  return g;
}

/** Times (ms) of a machine's vibration points in InfluxDB, ascending. */
async function vibrationTimes(machine: string): Promise<number[]> {
  const q = `SELECT rms_g FROM "fl"."fl"."vibration" WHERE "machine" = '${machine}'`;
  const res = await fetch(`${influx.url}/query?db=fl&epoch=ms&q=${encodeURIComponent(q)}`);
  const body = (await res.json()) as {
    results: { series?: { values: [number, number][] }[] }[];
  };
  return (body.results[0].series?.[0].values ?? []).map((v) => v[0]);
}

/** Holes in an evenly spaced series: steps longer than 1.5 × the median step. */
function holes(times: number[]): { step: number; missing: number; at: number[] } {
  const d = times.slice(1).map((t, i) => t - times[i]);
  const step = [...d].sort((a, b) => a - b)[Math.floor(d.length / 2)] ?? 0;
  let missing = 0;
  const at: number[] = [];
  d.forEach((x, i) => {
    if (x > 1.5 * step) {
      missing += Math.round(x / step) - 1;
      at.push(times[i]);
    }
  });
  return { step, missing, at };
}

async function storeOf(g: GatewayProcess) {
  return (await g.get<GatewayHealth>('/api/gateway')).store as GatewayHealth['store'] & {
    pendingPoints: number;
  };
}

test(`InfluxDB down for ${OUTAGE_S} s, then back: zero points lost`, {
  skip,
  timeout: 480_000 + OUTAGE_S * 2000,
}, async () => {
  const g = await start('out-1');
  await until('points written directly', async () => (await storeOf(g)).written > 20, 120_000);
  const t0 = Date.now();
  await influx.kill();
  await until('the gateway to notice', async () => !(await storeOf(g)).connected, 60_000);
  await sleep(Math.max(0, OUTAGE_S * 1000 - (Date.now() - t0)));
  // The outage lasts OUTAGE_S and at least until a point has queued: how
  // many windows a second brings depends on the machine.
  const during = await until(
    'points queued during the outage',
    async () => {
      const s = await storeOf(g);
      return s.queued > 0 ? s : undefined;
    },
    120_000,
  );
  await influx.restart();
  const back = Date.now();
  await until(
    'the queue to drain',
    async () => {
      const s = await storeOf(g);
      return s.connected && s.queued === 0 ? s : undefined;
    },
    120_000,
  );
  const drainMs = Date.now() - back;
  const written0 = (await storeOf(g)).written;
  const s = await until(
    'more points written directly after the outage',
    async () => {
      const x = await storeOf(g);
      return x.written >= written0 + 3 ? x : undefined;
    },
    60_000,
  );
  const times = await vibrationTimes('out-1');
  const h = holes(times);
  const span = times[times.length - 1] - times[0];
  const pipe = (await g.get<GatewayHealth>('/api/gateway')).pipeline as {
    dropped: { windows: Record<string, number> };
  };
  console.log(
    `# influx-outage: ${OUTAGE_S} s outage, ${during.queued} points queued (${during.queuedBytes} B), drained ${drainMs} ms after restart; vibration points ${times.length} over ${(span / 1000).toFixed(1)} s at ${h.step} ms, missing ${h.missing}; store dropped ${s.dropped} rejected ${s.rejected}; pipeline dropped windows ${JSON.stringify(pipe.dropped.windows)}`,
  );
  assert.ok(span / 1000 > OUTAGE_S, `the series spans the outage (${span} ms)`);
  // a window the pipeline itself dropped (CPU starved) never became a point: not the store's loss
  const pipelineDropped = Object.values(pipe.dropped.windows).reduce((a, b) => a + b, 0);
  assert.ok(
    h.missing <= pipelineDropped,
    `${h.missing} points missing (pipeline dropped ${pipelineDropped}) after ${h.at.map((t) => new Date(t).toISOString())}`,
  );
  assert.equal(s.dropped, 0);
  assert.equal(s.rejected, 0);
});

test('the store-and-forward queue stays within influx.queueMaxBytes and keeps the newest points', {
  skip,
  timeout: 600_000,
}, async () => {
  const bound = 16 * 1024;
  const g = await start('bound-1', { queueMaxBytes: bound });
  await until('points written directly', async () => (await storeOf(g)).written > 10, 120_000);
  await influx.kill();
  // How many bytes a second of points takes depends on the machine (window
  // rate, field widths), so the outage lasts until the queue has overflowed,
  // not a fixed time; every sample on the way checks the bound.
  let maxQueued = 0;
  const during = await until(
    'the queue to reach its bound and drop its oldest points',
    async () => {
      const s = await storeOf(g);
      maxQueued = Math.max(maxQueued, s.queuedBytes);
      return s.dropped > 0 ? s : undefined;
    },
    150_000,
    100,
  );
  // A few more windows queue (and push out older ones) before the restart.
  const dropped0 = during.dropped;
  await until(
    'a later point to push out another old one',
    async () => {
      const s = await storeOf(g);
      maxQueued = Math.max(maxQueued, s.queuedBytes);
      return s.dropped > dropped0;
    },
    60_000,
    100,
  );
  await influx.restart();
  // The sensor-clock time of the newest window diagnosed while the gateway
  // still saw the database down: that window's point was queued, and the
  // queued points leading up to it must survive the drops.
  let newestQueued = 0;
  await until(
    'the gateway to reconnect',
    async () => {
      const s = await storeOf(g);
      if (s.connected) return true;
      const m = await g.get<{ diagnosis?: { t: number } }>('/api/machines/bound-1');
      newestQueued = m.diagnosis?.t ?? newestQueued;
      return false;
    },
    60_000,
    100,
  );
  assert.ok(newestQueued > 0, 'a window was diagnosed during the outage');
  await until(
    'the queue to drain',
    async () => {
      const s = await storeOf(g);
      return s.connected && s.queued === 0;
    },
    60_000,
  );
  const times = await until(
    'points written directly after the restart',
    async () => {
      const t = await vibrationTimes('bound-1');
      return t.length > 0 && t[t.length - 1] > newestQueued ? t : undefined;
    },
    60_000,
  );
  const h = holes(times);
  console.log(
    `# influx-bound: bound ${bound} B, largest queue seen ${maxQueued} B, dropped ${during.dropped}+ points (${during.lastError ?? ''}); after recovery ${times.length} points, one hole of ${h.missing} windows`,
  );
  assert.ok(maxQueued <= bound, `queue ${maxQueued} B over the bound ${bound} B`);
  assert.ok(h.missing > 0, 'the dropped points are missing from the database');
  // One contiguous stretch was dropped; any other hole is a window the
  // pipeline itself dropped on a starved CPU, never the store's doing.
  const gaps = times.slice(1).map((t, i) => ({ before: times[i], after: t, ms: t - times[i] }));
  const dropStretch = gaps.reduce((a, b) => (b.ms > a.ms ? b : a));
  const otherMissing = gaps
    .filter((x) => x !== dropStretch && x.ms > 1.5 * h.step)
    .reduce((a, x) => a + Math.round(x.ms / h.step) - 1, 0);
  const pipe = (await g.get<GatewayHealth>('/api/gateway')).pipeline as {
    dropped: { windows: Record<string, number> };
  };
  const pipelineDropped = Object.values(pipe.dropped.windows).reduce((a, b) => a + b, 0);
  assert.ok(
    otherMissing <= pipelineDropped,
    `holes besides the dropped stretch: ${otherMissing} windows (pipeline dropped ${pipelineDropped})`,
  );
  // the oldest were dropped, the newest kept: the stretch after the hole
  // starts before the last window queued during the outage
  const holeEnd = dropStretch.after;
  assert.ok(
    holeEnd < newestQueued,
    `the queued points before ${new Date(newestQueued).toISOString()} survived (hole ends ${new Date(holeEnd).toISOString()})`,
  );
});

test('a full disk under the queue: losses counted with a clear error, then writes resume', {
  skip,
  timeout: 480_000,
}, async (t) => {
  const qdir = path.join(dir, 'tiny-queue');
  await mkdir(qdir, { recursive: true });
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', qdir]);
    mounts.push(qdir);
  } catch (e) {
    t.skip(`cannot mount a tmpfs to fill (needs root): ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  const g = await start('full-1', { queueDir: qdir });
  await until('points written directly', async () => (await storeOf(g)).written > 10, 120_000);
  await influx.kill();
  // Filling 64 KiB takes as long as the machine needs to diagnose that many
  // windows (≈ 35 s where 8 s queued 15 KB): wait for the disk to be full.
  const s = await until(
    'ENOSPC to be reported',
    async () => {
      const x = await storeOf(g);
      return x.dropped > 0 && /ENOSPC/.test(x.lastError ?? '') ? x : undefined;
    },
    240_000,
  );
  assert.match(s.lastError ?? '', /queue append failed: ENOSPC/);
  const alive = await g.get<GatewayHealth>('/api/gateway');
  assert.ok(alive.uptimeS > 0, 'the gateway still answers');
  await influx.restart();
  const back = Date.now();
  const written0 = (await storeOf(g)).written + (await storeOf(g)).flushed;
  await until(
    'writes to resume after the disk-full outage',
    async () => {
      const x = await storeOf(g);
      return x.connected && x.written + x.flushed > written0 + 10;
    },
    120_000,
  );
  console.log(
    `# influx-enospc: ${s.dropped} points lost to ENOSPC, error "${s.lastError}"; writes resumed ${Date.now() - back} ms after the database came back`,
  );
});
