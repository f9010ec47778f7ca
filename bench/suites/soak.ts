/**
 * Soak: the load run of test/load for longer and with more sensors —
 * $FAULTLINE_SOAK_SENSORS (default 8) simulated sensors through mosquitto
 * into a gateway child process for $FAULTLINE_SOAK_S seconds (default 300).
 * Reports sustained channels, dropped windows, latency percentiles and the
 * gateway's memory over time (growth first → last third).
 *
 * Long, so it runs only when asked: `npx tsx bench/run.ts --only soak`.
 */
import { runLoad } from '../../test/support/load-run.js';

export const name = 'soak';

export async function run(): Promise<Record<string, number>> {
  if (!process.argv.includes('soak') && process.env.FAULTLINE_SOAK !== '1') {
    throw new Error('soak runs only on request: npx tsx bench/run.ts --only soak');
  }
  const r = await runLoad({
    sensors: Number(process.env.FAULTLINE_SOAK_SENSORS ?? 8),
    seconds: Number(process.env.FAULTLINE_SOAK_S ?? 300),
  });
  return {
    soak_sensors: r.sensors,
    soak_duration_s: r.seconds,
    soak_sustained_channels: r.sustainedChannels,
    soak_ingested_frames_per_s: r.ingestedFramesPerS,
    soak_windows_diagnosed: r.windowsOut,
    soak_dropped_windows: r.droppedWindows,
    soak_dropped_blocks: r.droppedBlocks,
    soak_latency_p50_ms: r.latencyP50Ms,
    soak_latency_p99_ms: r.latencyP99Ms,
    soak_rss_first_mib: r.rssMiB[0] ?? Number.NaN,
    soak_rss_last_mib: r.rssMiB[r.rssMiB.length - 1] ?? Number.NaN,
    soak_rss_max_mib: Math.max(...r.rssMiB),
    soak_rss_growth_mib: r.rssGrowthMiB,
  };
}
