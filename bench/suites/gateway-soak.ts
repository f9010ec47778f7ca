/**
 * The gateway's memory over a long run: the in-process step of the gateway
 * suite (built gateway, shipped model, 1 s hop, evidence every 10th window)
 * held at $FAULTLINE_GATEWAY_SOAK_CHANNELS channels (default 1000) for
 * $FAULTLINE_GATEWAY_SOAK_S seconds (default 600, the 10 minutes).
 *
 * - gateway_soak_rss_growth_mb_per_min: least-squares slope of resident
 *   memory, sampled once a second after the warm-up (≈ 0: no growth)
 * - gateway_soak_rss_first_min_mb / _last_min_mb: mean resident memory over
 *   the first and the last minute after the warm-up
 * - gateway_soak_stall_seconds: seconds in which some window took over 1 s
 * - gateway_soak_sustained (1/0), _p50_ms, _p99_ms, _out_pct: whether the run
 *   kept up, by the gateway suite's rule; a slope measured on a run that fell
 *   behind measures the backlog, not a leak
 *
 * $FAULTLINE_GATEWAY_SOAK_LINK=broker feeds the gateway through a real
 * mosquitto on loopback instead (the gateway suite's broker mode: this
 * process publishes every block as a QoS 1 frame, an MqttSource reads them).
 *
 * Long, so it runs only when asked: `npx tsx bench/run.ts --only gateway-soak`.
 */
import type { Metrics } from '../run.js';
import { benchModel, brokerSteps, runStep, SETTINGS, slopePerMin } from './gateway.js';

export const name = 'gateway-soak';

const WARMUP_S = 5;

export async function run(): Promise<Metrics> {
  if (!process.argv.includes(name) && process.env.FAULTLINE_GATEWAY_SOAK !== '1') {
    throw new Error(`runs only on request: npx tsx bench/run.ts --only ${name}`);
  }
  const n = Number(process.env.FAULTLINE_GATEWAY_SOAK_CHANNELS ?? 1000);
  const seconds = Number(process.env.FAULTLINE_GATEWAY_SOAK_S ?? 600);
  if (!(Number.isInteger(n) && n > 0 && seconds >= 120)) {
    throw new Error(
      'FAULTLINE_GATEWAY_SOAK_CHANNELS must be > 0 and FAULTLINE_GATEWAY_SOAK_S ≥ 120',
    );
  }
  const link = process.env.FAULTLINE_GATEWAY_SOAK_LINK ?? 'inproc';
  if (link !== 'inproc' && link !== 'broker') {
    throw new Error(`FAULTLINE_GATEWAY_SOAK_LINK must be inproc or broker, got ${link}`);
  }
  const modelDir = await benchModel();
  let r: Awaited<ReturnType<typeof runStep>>;
  if (link === 'broker') {
    const broker = await brokerSteps(modelDir);
    try {
      r = await broker.step(n, seconds + WARMUP_S, WARMUP_S);
    } finally {
      await broker.stop();
    }
  } else {
    r = await runStep({
      mode: 'inproc',
      n,
      modelDir,
      runS: seconds + WARMUP_S,
      warmS: WARMUP_S,
      ...SETTINGS,
    });
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
  // Seconds in which some window took over 1 s: stalls, and when they happened.
  const stalls = r.maxLatencyPerS.flatMap((v, sec) =>
    v > 1000 ? [`${sec} s: ${v.toFixed(0)} ms`] : [],
  );
  if (stalls.length > 0) {
    process.stderr.write(
      `bench gateway-soak: ${stalls.length} second(s) with a window over 1 s: ${stalls.slice(0, 12).join(', ')}${stalls.length > 12 ? ', …' : ''}\n`,
    );
  }
  const s = r.rssSeries;
  process.stderr.write(
    `bench gateway-soak (${link}): ${n} channels × ${seconds} s: ${r.ok ? 'sustained' : 'NOT sustained'}, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, out ${(r.outFraction * 100).toFixed(1)} %, ` +
      `rss per minute: ${Array.from({ length: Math.ceil(s.length / 60) }, (_, i) => mean(s.slice(i * 60, i * 60 + 60)).toFixed(0)).join(' ')} MB\n`,
  );
  return {
    gateway_soak_channels: n,
    gateway_soak_broker: link === 'broker' ? 1 : 0,
    gateway_soak_seconds: seconds,
    gateway_soak_sustained: r.ok ? 1 : 0,
    gateway_soak_p50_ms: r.p50,
    gateway_soak_p99_ms: r.p99,
    gateway_soak_out_pct: r.outFraction * 100,
    gateway_soak_rss_max_mb: r.rssMb,
    gateway_soak_rss_first_min_mb: mean(s.slice(0, 60)),
    gateway_soak_rss_last_min_mb: mean(s.slice(-60)),
    gateway_soak_rss_growth_mb_per_min: slopePerMin(s),
    gateway_soak_stall_seconds: stalls.length,
  };
}
