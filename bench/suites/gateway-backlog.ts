/**
 * The gateway's memory after an overload: the in-process step of the gateway
 * suite fed 2500 channels for 10 s (far beyond capacity: windows pile up in
 * the pool's queue, bounded at 4096), then 250 channels for 30 s, in which
 * the backlog clears. Run twice: with glibc's default malloc settings and
 * with MALLOC_MMAP_THRESHOLD_=32768, as the systemd unit
 * (docs/deploy/faultline-gateway.service) starts the gateway.
 *
 * - gateway_backlog_rss_peak_mb[_mmap32k]: largest RSS during the run
 * - gateway_backlog_rss_after_mb[_mmap32k]: mean RSS over the last 10 s
 *   (backlog gone; sensors 250…2499 stay configured, with their ring buffers)
 * - gateway_backlog_returned_mb[_mmap32k]: peak − after, what went back to the
 *   system. By default glibc's mmap threshold rises as large blocks are freed,
 *   so the backlog's 48 KB window buffers come from its heaps, which keep the
 *   memory; with a fixed 32 KiB threshold each has its own mapping.
 */
import type { Metrics } from '../run.js';
import { benchModel, runStep, SETTINGS } from './gateway.js';

export const name = 'gateway-backlog';

const BURST = { n: 2500, seconds: 10 };
const AFTER_N = 250;
const RUN_S = 40;

export async function run(): Promise<Metrics> {
  const modelDir = await benchModel();
  const metrics: Metrics = {};
  for (const [suffix, label, extra] of [
    ['', 'glibc defaults', {}],
    ['_mmap32k', 'MALLOC_MMAP_THRESHOLD_=32768', { MALLOC_MMAP_THRESHOLD_: '32768' }],
  ] as const) {
    const r = await runStep(
      { mode: 'inproc', n: AFTER_N, burst: BURST, modelDir, runS: RUN_S, warmS: 1, ...SETTINGS },
      undefined,
      { ...process.env, ...extra },
    );
    const s = r.rssSeries;
    const last = s.slice(-10);
    const after = last.reduce((a, b) => a + b, 0) / Math.max(1, last.length);
    const peak = Math.max(...s);
    process.stderr.write(
      `bench gateway-backlog (${label}): rss peak ${peak.toFixed(0)} MB, after ${after.toFixed(0)} MB; ` +
        `rss per 5 s: ${Array.from({ length: Math.ceil(s.length / 5) }, (_, i) => s[i * 5].toFixed(0)).join(' ')}\n`,
    );
    metrics[`gateway_backlog_rss_peak_mb${suffix}`] = peak;
    metrics[`gateway_backlog_rss_after_mb${suffix}`] = after;
    metrics[`gateway_backlog_returned_mb${suffix}`] = peak - after;
  }
  return metrics;
}
