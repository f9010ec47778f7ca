/**
 * One load run, shared by the short test (test/load/load.test.ts) and the
 * soak benchmark (bench/suites/soak.ts): N simulated sensors publish real
 * frames through mosquitto into a gateway child process for a set time,
 * loopback only. Sampled every 2 s: gateway RSS; at the end: frames, gaps
 * and bad frames per channel, dropped blocks and windows by reason, ingest
 * rate, inference latency percentiles. The rates and latencies are the
 * machine's (bench material); the losses by reason are the gateway's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { MachineView } from '../../src/contract/machine.js';
import type { GatewayHealth } from '../../src/daemon/gateway.js';
import {
  rssMiB,
  simModelDir,
  sleep,
  startGatewayProcess,
  until,
  writeConfig,
} from './gateway-fixture.js';
import { startMosquitto } from './mosquitto.js';

export interface LoadOptions {
  /** Simulated sensors (one machine each). */
  sensors: number;
  /** Measured time after warm-up, s. */
  seconds: number;
  /** Real-time multiple of every sensor. Default 1. */
  speed?: number;
}

export interface LoadResult {
  sensors: number;
  seconds: number;
  /** Frames per second each sensor sends (12 kHz / 512 samples × speed). */
  offeredFramesPerS: number;
  /** Frames per second ingested, summed over sensors, over the measured time. */
  ingestedFramesPerS: number;
  /** Channels (sensors) whose ingest kept ≥ 95 % of the offered rate. */
  sustainedChannels: number;
  /** Frames each channel delivered over the measured time. */
  framesPerChannel: number[];
  /** Sequence gaps (frames missing) over the measured time, all channels. */
  gaps: number;
  /** Frames that failed to decode over the measured time, all channels. */
  badFrames: number;
  droppedWindows: number;
  /** Dropped windows by reason (`queue-full`: the machine could not keep up). */
  droppedWindowsByReason: Record<string, number>;
  droppedBlocks: number;
  windowsOut: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Gateway RSS samples, MiB, every 2 s. */
  rssMiB: number[];
  /** RSS growth from the first third to the last third of the run, MiB. */
  rssGrowthMiB: number;
}

type Pipe = {
  windowsOut: number;
  dropped: { blocks: Record<string, number>; windows: Record<string, number> };
  latencyMs: { p50: number; p99: number };
};

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
const minus = (a: Record<string, number>, b: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(a)
      .map(([k, v]) => [k, v - (b[k] ?? 0)] as const)
      .filter(([, v]) => v !== 0),
  );

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const speed = o.speed ?? 1;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-load-'));
  const broker = await startMosquitto({ persistence: false });
  let gw: Awaited<ReturnType<typeof startGatewayProcess>> | undefined;
  try {
    const machines = Array.from({ length: o.sensors }, (_, i) => ({
      id: `m${i + 1}`,
      sensors: [{ id: i + 1, sampleRate: 12_000 }],
      simulate: { fault: (['none', 'inner', 'outer', 'ball'] as const)[i % 4], seed: 100 + i },
    }));
    gw = await startGatewayProcess(
      await writeConfig(dir, {
        site: 'load',
        gatewayId: 'gw-load',
        stateDir: path.join(dir, 'state'),
        model: await simModelDir(),
        machines,
        broker: { embedded: false, url: broker.url },
        http: { port: 0 },
        fleet: { speed },
      }),
    );
    const g = gw;
    const ingest = async () => (await g.get<MachineView[]>('/api/machines')).map((m) => m.ingest);
    const frames = async () => (await ingest()).map((x) => x.frames);
    await until('every sensor flowing', async () => (await frames()).every((f) => f > 20), 120_000);
    // warm-up: workers started, every machine diagnosed (however long that takes here)
    await until(
      'every machine diagnosed',
      async () =>
        (await g.get<MachineView[]>('/api/machines')).every((m) => m.diagnosis !== undefined),
      120_000,
    );
    const h0 = await g.get<GatewayHealth>('/api/gateway');
    const i0 = await ingest();
    const f0 = i0.map((x) => x.frames);
    const t0 = Date.now();
    const rss: number[] = [];
    while (Date.now() - t0 < o.seconds * 1000) {
      rss.push(await rssMiB(g.pid));
      await sleep(2000);
    }
    const i1 = await ingest();
    const f1 = i1.map((x) => x.frames);
    const dt = (Date.now() - t0) / 1000;
    const h1 = await g.get<GatewayHealth>('/api/gateway');
    const p0 = h0.pipeline as Pipe;
    const p1 = h1.pipeline as Pipe;
    const offered = (12_000 / 512) * speed;
    const rates = f1.map((f, i) => (f - f0[i]) / dt);
    const third = Math.max(1, Math.floor(rss.length / 3));
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    return {
      sensors: o.sensors,
      seconds: dt,
      offeredFramesPerS: offered,
      ingestedFramesPerS: rates.reduce((a, b) => a + b, 0),
      sustainedChannels: rates.filter((r) => r >= 0.95 * offered).length,
      framesPerChannel: f1.map((f, i) => f - f0[i]),
      gaps: i1.reduce((a, x, i) => a + x.gaps - i0[i].gaps, 0),
      badFrames: i1.reduce((a, x, i) => a + x.badFrames - i0[i].badFrames, 0),
      droppedWindows: sum(p1.dropped.windows) - sum(p0.dropped.windows),
      droppedWindowsByReason: minus(p1.dropped.windows, p0.dropped.windows),
      droppedBlocks: sum(p1.dropped.blocks) - sum(p0.dropped.blocks),
      windowsOut: p1.windowsOut - p0.windowsOut,
      latencyP50Ms: p1.latencyMs.p50,
      latencyP99Ms: p1.latencyMs.p99,
      rssMiB: rss.map((r) => Math.round(r)),
      rssGrowthMiB: mean(rss.slice(-third)) - mean(rss.slice(0, third)),
    };
  } finally {
    await gw?.stop();
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
