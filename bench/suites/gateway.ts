/**
 * The gateway's live pipeline at scale: N simulated 12 kHz channels pushed
 * in-process in real time (a 0.1 s block per channel every 100 ms, channel
 * phases spread over the second as unsynchronised sensors would be), one
 * diagnosis per channel per second (hop = 12 000 samples, 2048-sample model
 * windows, the model stage's strided CNN trained on simulator data),
 * envelope evidence on 1 s of signal every 10th window.
 *
 * N ramps up until the pipeline stops keeping up: windows back up (fewer
 * than 95 % out, or any dropped) or p99 latency (last sample of a window →
 * its diagnosis, measured after a warm-up) exceeds 250 ms.
 * - gateway_realtime_channels: the largest N sustained
 * - gateway_p50_ms / gateway_p99_ms: latency at that N
 * - gateway_rss_mb: peak resident memory of the process (workers included)
 * - gateway_{frontend,cnn,evidence,features}_ms_per_window: worker time per window by stage
 * - gateway_main_elu_pct: event-loop utilisation of the main thread at that N
 * Targets (2 cores): ≥ 1,000 channels, p99 ≤ 250 ms, RSS ≤ 400 MB.
 */
import { performance } from 'node:perf_hooks';
import { DiagnosisPipeline, type MachineSpec } from '../../src/diagnose/pipeline.js';
import type { IngestedBlock } from '../../src/ingest/source.js';
import { generateBearingSignal } from '../../src/sim/generator.js';
import { modelVariant, simModelDir } from '../../test/diagnose/fixture.js';
import type { Metrics } from '../run.js';

export const name = 'gateway';

const FS = 12000;
const BLOCK = 1200;
const TICK_MS = 100;
const RUN_S = 9;
const WARMUP_S = 3;
const STEPS = [250, 500, 750, 1000, 1250, 1500, 2000];

interface StepResult {
  n: number;
  ok: boolean;
  p50: number;
  p99: number;
  rssMb: number;
  outFraction: number;
  dropped: number;
  elu: number;
  perWindowMs: { frontEnd: number; cnn: number; evidence: number; features: number };
}

async function step(modelDir: string, n: number, signals: Float32Array[]): Promise<StepResult> {
  const perMachine = 10;
  const machines: MachineSpec[] = [];
  for (let m = 0; m * perMachine < n; m++) {
    machines.push({
      site: 'bench',
      machine: `m${m}`,
      modelDir,
      nominalRpm: 1797,
      sensors: Array.from({ length: Math.min(perMachine, n - m * perMachine) }, (_, i) => ({
        id: String(i),
        sampleRate: FS,
      })),
    });
  }
  const p = new DiagnosisPipeline({
    machines,
    workers: 2,
    maxBatch: 64,
    maxLatencyMs: 50,
    evidenceEvery: 10,
    maxQueue: 4096,
  });
  const lat: number[] = [];
  let measuring = false;
  p.on('diagnosis', (d) => {
    if (measuring) lat.push(d.latencyMs);
  });
  p.on('error', () => {});
  await p.start();
  // Channel c: signal c % k, phase offset c/n of a second.
  const pos = new Int32Array(n);
  const keys = Array.from({ length: n }, (_, c) => ({
    site: 'bench',
    machine: `m${Math.floor(c / perMachine)}`,
    sensor: String(c % perMachine),
  }));
  const seq = new Uint32Array(n);
  let rss = 0;
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
  for (let c = 0; c < n; c++) push(c, Math.round((FS * c) / n));
  const t0 = performance.now();
  let elu0 = performance.eventLoopUtilization();
  let windowsAtWarm = 0;
  for (let tick = 1; tick <= (RUN_S * 1000) / TICK_MS; tick++) {
    const due = t0 + tick * TICK_MS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    for (let c = 0; c < n; c++) push(c, BLOCK);
    if (tick === (WARMUP_S * 1000) / TICK_MS) {
      measuring = true;
      elu0 = performance.eventLoopUtilization();
      windowsAtWarm = p.stats().windowsIn;
    }
    rss = Math.max(rss, process.memoryUsage().rss);
  }
  const elu = performance.eventLoopUtilization(elu0).utilization;
  // Give the last windows their latency budget, then look.
  await new Promise((r) => setTimeout(r, 300));
  const st = p.stats();
  measuring = false;
  await p.close();
  lat.sort((a, b) => a - b);
  const q = (f: number) =>
    lat.length ? lat[Math.min(lat.length - 1, Math.floor(f * lat.length))] : Infinity;
  const expected = st.windowsIn - windowsAtWarm;
  const outFraction = expected > 0 ? lat.length / expected : 0;
  const dropped = Object.values(st.dropped.windows).reduce((a, b) => a + (b ?? 0), 0);
  const r: StepResult = {
    n,
    ok: outFraction >= 0.95 && dropped === 0 && q(0.99) <= 250,
    p50: q(0.5),
    p99: q(0.99),
    rssMb: rss / 2 ** 20,
    outFraction,
    dropped,
    elu,
    perWindowMs: st.perWindowMs,
  };
  process.stderr.write(
    `bench gateway: ${n} channels: ${r.ok ? 'ok' : 'NOT sustained'} p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ` +
      `out ${(outFraction * 100).toFixed(1)} %, dropped ${dropped}, rss ${r.rssMb.toFixed(0)} MB, main ELU ${(elu * 100).toFixed(0)} %, ` +
      `per window fe ${st.perWindowMs.frontEnd.toFixed(2)} cnn ${st.perWindowMs.cnn.toFixed(2)} ev ${st.perWindowMs.evidence.toFixed(2)} feat ${st.perWindowMs.features.toFixed(2)} ms, mean batch ${st.meanBatchSize.toFixed(1)}\n`,
  );
  return r;
}

export async function run(): Promise<Metrics> {
  const base = await simModelDir();
  // Deployment hop of 1 s: one diagnosis per channel per second.
  const modelDir = await modelVariant(base, (m) => {
    m.hop = FS;
    (m.frontEnd as { hop: number }).hop = FS;
  });
  const signals = (['inner', 'outer', 'none', 'ball'] as const).map((fault, i) =>
    generateBearingSignal({ fault, condition: 'source-1797rpm', seed: 100 + i }, FS * 12),
  );
  let best: StepResult | undefined;
  let peakRss = 0;
  for (const n of STEPS) {
    const r = await step(modelDir, n, signals);
    peakRss = Math.max(peakRss, r.rssMb);
    if (!r.ok) {
      best ??= r;
      break;
    }
    best = r;
  }
  if (!best) throw new Error('no step ran');
  return {
    gateway_realtime_channels: best.ok ? best.n : 0,
    gateway_p50_ms: best.p50,
    gateway_p99_ms: best.p99,
    gateway_rss_mb: peakRss,
    gateway_frontend_ms_per_window: best.perWindowMs.frontEnd,
    gateway_cnn_ms_per_window: best.perWindowMs.cnn,
    gateway_evidence_ms_per_window: best.perWindowMs.evidence,
    gateway_features_ms_per_window: best.perWindowMs.features,
    gateway_main_elu_pct: best.elu * 100,
  };
}
