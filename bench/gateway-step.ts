/**
 * One step of the gateway benchmark (bench/suites/gateway.ts), run in a
 * child process of its own so its resident memory is the gateway's alone
 * (pipeline + inference workers + sensors or MQTT client), not the bench
 * harness's (other suites' imports, the fixture trainer).
 *
 * Started with fork(); takes a StepRequest as argv[2] (JSON) and sends one
 * StepReport back over IPC.
 * - mode 'inproc': N sensors injected in-process in real time (a 0.1 s block
 *   per channel every 100 ms, phases spread over the second).
 * - mode 'broker': an MqttSource on `url` (one wildcard subscription) feeds the
 *   pipeline; the parent publishes the frames. The child says 'ready' once
 *   subscribed and stops when the parent sends 'stop'.
 */
import { performance } from 'node:perf_hooks';
import { DiagnosisPipeline } from '../src/diagnose/pipeline.js';
import type { MachineSpec } from '../src/diagnose/pipeline-options.js';
import type { IngestedBlock } from '../src/ingest/source.js';

export interface StepRequest {
  mode: 'inproc' | 'broker';
  n: number;
  modelDir: string;
  /** Run time after start, s (inproc); the broker run lasts until 'stop'. */
  runS: number;
  /** Latency and throughput count from here on, s. */
  warmS: number;
  url?: string;
  workers: number;
  maxBatch: number;
  evidenceEvery: number;
  /**
   * In-process only: feed `burst.n` channels (more than `n`) for the first
   * `burst.seconds`, then `n` — an overload and what memory does after it.
   */
  burst?: { n: number; seconds: number };
}

export interface StepReport {
  n: number;
  ok: boolean;
  p50: number;
  p99: number;
  rssMb: number;
  outFraction: number;
  dropped: number;
  elu: number;
  meanBatch: number;
  perWindowMs: { frontEnd: number; cnn: number; evidence: number; features: number };
  /** Resident memory sampled once a second after the warm-up, MB. */
  rssSeries: number[];
  /** Per thread after the run: V8 heap of the main thread, MB. */
  mainHeapMb: number;
  /** Largest latency of the windows diagnosed in each second after the warm-up, ms (0: none). */
  maxLatencyPerS: number[];
  error?: string;
}

export const FS = 12000;
export const BLOCK = 1200;
export const TICK_MS = 100;
export const PER_MACHINE = 10;

export function machinesFor(n: number, modelDir: string): MachineSpec[] {
  const machines: MachineSpec[] = [];
  for (let m = 0; m * PER_MACHINE < n; m++) {
    machines.push({
      site: 'bench',
      machine: `m${m}`,
      modelDir,
      nominalRpm: 1797,
      sensors: Array.from({ length: Math.min(PER_MACHINE, n - m * PER_MACHINE) }, (_, i) => ({
        id: String(i),
        sampleRate: FS,
      })),
    });
  }
  return machines;
}

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? '{}') as StepRequest;
  const send = (m: unknown) => process.send?.(m);
  const { n } = req;
  // Channels that ever send: sensors beyond n are configured for the burst.
  const all = Math.max(n, req.burst?.n ?? 0);
  const p = new DiagnosisPipeline({
    machines: machinesFor(all, req.modelDir),
    workers: req.workers,
    maxBatch: req.maxBatch,
    maxLatencyMs: 50,
    evidenceEvery: req.evidenceEvery,
    maxQueue: 4096,
  });
  const abs = () => performance.timeOrigin + performance.now();
  // Latencies in a fixed histogram (0.1 ms buckets up to 60 s), not a list:
  // a list grows by ~5 MB per 10 minutes at 1000 windows/s, which the
  // gateway-soak suite would measure as the gateway's memory growth.
  const BUCKET_MS = 0.1;
  const hist = new Uint32Array(600_001);
  let counted = 0;
  let measureFrom = Number.POSITIVE_INFINITY;
  const maxLatencyPerS: number[] = [];
  p.on('diagnosis', (d) => {
    // Only windows that arrived after the warm-up: the start-up backlog and
    // JIT warm-up are not the steady state.
    const now = abs();
    if (now - d.latencyMs >= measureFrom) {
      hist[Math.min(hist.length - 1, Math.max(0, Math.round(d.latencyMs / BUCKET_MS)))]++;
      counted++;
      const sec = Math.floor((now - measureFrom) / 1000);
      maxLatencyPerS[sec] = Math.max(maxLatencyPerS[sec] ?? 0, d.latencyMs);
    }
  });
  p.on('error', () => {});
  await p.start();
  let rss = 0;
  const rssSeries: number[] = [];
  let elu0 = performance.eventLoopUtilization();
  let windowsAtWarm = 0;
  const warm = () => {
    measureFrom = abs();
    elu0 = performance.eventLoopUtilization();
    windowsAtWarm = p.stats().windowsIn;
  };
  const sample = setInterval(() => {
    const r = process.memoryUsage().rss / 2 ** 20;
    rss = Math.max(rss, r);
    if (measureFrom < Number.POSITIVE_INFINITY) rssSeries.push(r);
  }, 1000);
  if (req.mode === 'inproc') {
    const { generateBearingSignal } = await import('../src/sim/generator.js');
    const signals = (['inner', 'outer', 'none', 'ball'] as const).map((fault, i) =>
      generateBearingSignal({ fault, condition: 'source-1797rpm', seed: 100 + i }, FS * 12),
    );
    const pos = new Int32Array(all);
    const keys = Array.from({ length: all }, (_, c) => ({
      site: 'bench',
      machine: `m${Math.floor(c / PER_MACHINE)}`,
      sensor: String(c % PER_MACHINE),
    }));
    const seq = new Uint32Array(all);
    const push = (c: number, frames: number) => {
      const x = signals[c % signals.length];
      const block: IngestedBlock = {
        sensorId: c,
        seq: seq[c]++,
        t0Us: BigInt(Math.round(Date.now() * 1000)),
        sampleRate: FS,
        channels: 1,
        samples: x.subarray(pos[c], pos[c] + frames),
        gap: 0,
        origin: { link: 'serial', path: 'bench' },
      };
      pos[c] = (pos[c] + frames) % (x.length - BLOCK * 2);
      p.push(block, keys[c]);
    };
    for (let c = 0; c < all; c++) push(c, Math.round((FS * c) / all));
    const t0 = performance.now();
    for (let tick = 1; tick <= (req.runS * 1000) / TICK_MS; tick++) {
      const wait = t0 + tick * TICK_MS - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const sending = req.burst && tick * TICK_MS <= req.burst.seconds * 1000 ? all : n;
      for (let c = 0; c < sending; c++) push(c, BLOCK);
      if (tick === (req.warmS * 1000) / TICK_MS) warm();
    }
  } else {
    const { MqttSource } = await import('../src/ingest/mqtt-source.js');
    const source = new MqttSource({
      url: req.url as string,
      clientId: `bench-gateway-${process.pid}`,
      site: 'bench',
      clean: true,
    });
    source.on('data', (b) => {
      const o = b.origin as { site?: string; machine?: string; sensor?: string };
      if (o.site && o.machine)
        p.push(b, { site: o.site, machine: o.machine, sensor: String(b.sensorId) });
    });
    source.on('error', () => {});
    await source.start();
    const stopped = new Promise<void>((resolve) => {
      process.on('message', (m: unknown) => {
        if (m === 'warm') warm();
        if (m === 'stop') resolve();
      });
    });
    send('ready');
    await stopped;
    await source.close();
  }
  const elu = performance.eventLoopUtilization(elu0).utilization;
  // Give the last windows their latency budget, then look.
  await new Promise((r) => setTimeout(r, 300));
  clearInterval(sample);
  const st = p.stats();
  await p.close();
  // The bucket holding the f-quantile (same rank as sorting the list would pick).
  const q = (f: number) => {
    if (counted === 0) return Number.POSITIVE_INFINITY;
    const rank = Math.min(counted - 1, Math.floor(f * counted));
    let seen = 0;
    for (let b = 0; b < hist.length; b++) {
      seen += hist[b];
      if (seen > rank) return b * BUCKET_MS;
    }
    return Number.POSITIVE_INFINITY;
  };
  const expected = st.windowsIn - windowsAtWarm;
  const outFraction = expected > 0 ? counted / expected : 0;
  const dropped = Object.values(st.dropped.windows).reduce((a, b) => a + (b ?? 0), 0);
  const report: StepReport = {
    n,
    ok: outFraction >= 0.95 && dropped === 0 && q(0.99) <= 250,
    p50: q(0.5),
    p99: q(0.99),
    rssMb: rss,
    outFraction,
    dropped,
    elu,
    meanBatch: st.meanBatchSize,
    perWindowMs: st.perWindowMs,
    rssSeries,
    mainHeapMb: process.memoryUsage().heapUsed / 2 ** 20,
    maxLatencyPerS: Array.from(maxLatencyPerS, (v) => v ?? 0),
  };
  // Then let go of the IPC channel: its 'message' listener (broker mode)
  // would keep this process alive until the parent's time limit kills it.
  process.send?.(report, () => process.disconnect?.());
}

if (process.send) {
  main().catch((err: Error) => {
    process.send?.({ error: err.message });
    process.exitCode = 1;
  });
}
