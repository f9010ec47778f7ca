/**
 * Synthetic bearing signal generation speed (src/sim/generator.ts).
 *
 * - `sim_<fault>_samples_per_s`: samples/s of BearingSignalGenerator.fill()
 *   into a reused 1 s buffer at 12 kHz, source condition (3 modes, 3 shaft
 *   harmonics, noise, speed wander).
 * - `sim_inner_us_per_s_signal`: µs to generate one second of 12 kHz signal
 *   (the live sensor simulator needs this ≪ 1000 µs per sensor).
 * Median of 15 timed rounds of 10 s of signal after a warm-up, timed in
 * process CPU time (user + system), not wall time: on a shared machine the
 * wall clock mostly measures the other processes.
 */
import { BearingSignalGenerator } from '../../src/sim/generator.js';
import type { Metrics } from '../run.js';

export const name = 'sim';

const FS = 12_000;

function samplesPerS(fault: 'none' | 'inner' | 'outer' | 'ball'): number {
  const gen = new BearingSignalGenerator({ fault, sampleRate: FS });
  const buf = new Float32Array(FS);
  for (let i = 0; i < 30; i++) gen.fill(buf);
  const rates: number[] = [];
  for (let round = 0; round < 15; round++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < 10; i++) gen.fill(buf);
    const dt = process.cpuUsage(t0);
    rates.push((10 * FS) / ((dt.user + dt.system) / 1e6));
  }
  rates.sort((a, b) => a - b);
  return rates[7];
}

export async function run(): Promise<Metrics> {
  const m: Metrics = {};
  for (const fault of ['none', 'inner', 'outer', 'ball'] as const)
    m[`sim_${fault}_samples_per_s`] = samplesPerS(fault);
  m.sim_inner_us_per_s_signal = (FS / m.sim_inner_samples_per_s) * 1e6;
  return m;
}
