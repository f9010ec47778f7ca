/**
 * The diagnosis pipeline's counters and latency record, and the
 * PipelineStats view of them with the inference pool's (./pipeline.ts).
 */
import type { PoolStats } from './inference-pool.js';
import type { DropReason, PipelineStats } from './pipeline-status.js';

/** Diagnoses whose latency is kept for the percentiles. */
const LATENCY_SAMPLES = 4096;

/** Windows in and out, and what was dropped by reason, since the start. */
export interface PipelineCounts {
  windowsIn: number;
  windowsOut: number;
  blocks: Partial<Record<DropReason, number>>;
  windows: Partial<Record<DropReason, number>>;
}

export function newCounts(): PipelineCounts {
  return { windowsIn: 0, windowsOut: 0, blocks: {}, windows: {} };
}

/** Last-sample arrival → diagnosis latencies of the latest LATENCY_SAMPLES diagnoses, ms. */
export class LatencyRecord {
  private readonly values = new Float64Array(LATENCY_SAMPLES);
  private count = 0;

  add(ms: number): void {
    this.values[this.count++ % LATENCY_SAMPLES] = ms;
  }

  /** Median, 99th percentile and maximum of the kept latencies, ms (0 when none), and how many. */
  summary(): PipelineStats['latencyMs'] {
    const n = Math.min(this.count, LATENCY_SAMPLES);
    const lat = Array.from(this.values.subarray(0, n)).sort((a, b) => a - b);
    const q = (f: number) => (n > 0 ? lat[Math.min(n - 1, Math.floor(f * n))] : 0);
    return { p50: q(0.5), p99: q(0.99), max: n > 0 ? lat[n - 1] : 0, n };
  }
}

/**
 * The pipeline's statistics.
 * @param held windows finished but waiting for an earlier one of their sensor
 * @param ingest samples/s over the last tick, by `site/machine/sensor`
 */
export function pipelineStatsOf(
  backend: string,
  p: PoolStats,
  counts: PipelineCounts,
  latencyMs: PipelineStats['latencyMs'],
  held: number,
  ingest: Record<string, number>,
): PipelineStats {
  return {
    backend,
    workers: p.workers,
    windowsIn: counts.windowsIn,
    windowsOut: counts.windowsOut,
    dropped: { blocks: { ...counts.blocks }, windows: { ...counts.windows } },
    queueDepth: p.queued,
    inFlight: p.inFlight,
    reorderHeld: held,
    batches: p.batches,
    meanBatchSize: p.meanBatchSize,
    maxBatchSize: p.maxBatchSize,
    batchSizes: p.batchSizes,
    sealedFull: p.sealedFull,
    sealedTimer: p.sealedTimer,
    maxFormWaitMs: p.maxFormWaitMs,
    maxDispatchWaitMs: p.maxDispatchWaitMs,
    latencyMs,
    perWindowMs: p.perWindowMs,
    ingestSamplesPerS: ingest,
  };
}
