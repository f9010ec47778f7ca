/**
 * How a sensor's blocks reach its windower at the model's rate.
 *
 * Any sensor rate: a stream within ±1 % of the model's rate is taken as it
 * is (no copy, no filter: a 12 kHz sensor into a 12 kHz model costs what it
 * always did); any other rate from 1 kHz to 1 MHz goes through the sensor's
 * own StreamResampler (src/data/resample-stream.ts: the Kaiser-windowed sinc
 * of src/data/resample.ts, block by block, only the sensor's channel) and
 * windows are cut at the model's rate. A diagnosis' `t` stays the time of
 * the window's last sample on the sensor's clock: the filter is zero-phase
 * about each output's input position, so `t` is that position converted
 * with the block's t0 and rate; the filter's latency (half its length,
 * ≈ 4 ms at 26 667 Hz → 12 kHz) only delays when the window is complete.
 * A sequence gap restarts the resampler with the windower (./pipeline.ts).
 */
import type { SampleBlock } from '../contract/sample-block.js';
import { ratesMatch } from '../data/resample.js';
import { StreamResampler } from '../data/resample-stream.js';
import { FaultlineError } from '../errors.js';
import type { CutWindow, Windower } from './windower.js';

/** How a sensor's blocks reach its windower at the model's rate. */
export interface StreamRoute {
  /** Block rate the route was set up for, Hz. */
  rate: number;
  /** null: within ±1 % of the model's rate, taken as it is. */
  resampler: StreamResampler | null;
}

/** Block rates within this fraction of a resampled route's are the same stream (a measured rate jitters). */
const SAME_RATE_TOLERANCE = 1e-3;

/**
 * The route from a stream at `rate` to a model at `modelRate` (Hz).
 * @throws FaultlineError FL_ERR_DSP_PARAMS for a rate that cannot be resampled
 */
export function makeRoute(rate: number, modelRate: number): StreamRoute {
  if (!(Number.isFinite(rate) && rate > 0)) {
    throw new FaultlineError('FL_ERR_DSP_PARAMS', `${rate} is not a sample rate`);
  }
  if (ratesMatch(rate, modelRate)) return { rate, resampler: null };
  return { rate, resampler: new StreamResampler(rate, modelRate) };
}

/** Whether a block at `rate` continues `route`. */
export function routeFits(route: StreamRoute, rate: number, modelRate: number): boolean {
  return route.resampler === null
    ? ratesMatch(rate, modelRate)
    : Math.abs(rate / route.rate - 1) <= SAME_RATE_TOLERANCE;
}

/**
 * Feeds `frames` frames of `block`'s `channel` through `route` into
 * `windower`, and calls `onWindow` with each window completed, in order, and
 * its time `t`: that of the window's last sample on the sensor's clock, ms
 * (the block's t0 plus its position at the block's rate). `wantHistory(k)`
 * says which windows get history (Windower.push).
 */
export function routeBlock(
  route: StreamRoute,
  windower: Windower,
  block: Pick<SampleBlock, 'samples' | 'channels' | 't0Us' | 'sampleRate'>,
  channel: number,
  frames: number,
  wantHistory: (k: number) => boolean,
  onWindow: (w: CutWindow, t: number) => void,
): void {
  const rate = block.sampleRate;
  const t0Ms = Number(block.t0Us) / 1000;
  const r = route.resampler;
  if (!r) {
    // Taken as it is (within ±1 % of the model's rate): no copy, no extra work.
    for (const w of windower.push(block.samples, block.channels, channel, frames, wantHistory)) {
      onWindow(w, t0Ms + (w.lastInBlock * 1000) / rate);
    }
    return;
  }
  // Resampled to the model's rate: a window's last sample is output `first + lastInBlock`
  // of the resampler, at input position inputPosition(·) since its restart; this block's
  // first sample is input `blockStart`. Positions before it fall in earlier blocks of the
  // same unbroken stream (a gap restarts both), so one clock serves.
  const blockStart = r.consumed;
  r.push(block.samples, block.channels, channel, frames, (out, first) => {
    for (const w of windower.push(out, 1, 0, out.length, wantHistory)) {
      onWindow(w, t0Ms + ((r.inputPosition(first + w.lastInBlock) - blockStart) * 1000) / rate);
    }
  });
}
