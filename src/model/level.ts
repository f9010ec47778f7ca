/**
 * The reference level of `level`-normalised order maps (../dsp/order-lines.ts).
 *
 * A `level` input keeps the dB of the impacts, which is what tells a small
 * spall from a large one. What "loud" means still depends on the sensor, its
 * mounting and the speed law of the machine, so every model reads levels
 * relative to a reference: training sets it to the median window of the
 * source data, and adaptation to a data set sets it to the median window of
 * the target, as AdaBN does for a layer's statistics. The median of a
 * domain's windows moves with the sensor and the speed, not with one window's
 * defect, as long as the target holds a mix of states like the source did.
 * A single machine is in one state, so single-machine adaptation keeps the
 * source's reference: re-centring a healthy machine on itself would make it
 * read as loud as the source's median window, a fault.
 */

import type { FrontEndConfig } from '../dsp/frontend.js';
import { LEVEL_SCALE_DB } from '../dsp/order-lines.js';
import { type InputSet, inputSize } from './inputs.js';

/** Whether `config` reads levels (order mode, `level` normalisation). */
export function readsLevels(config: FrontEndConfig): boolean {
  return config.mode === 'order' && config.lines?.normalisation === 'level';
}

/**
 * The median over the first `n` windows of `set` (default all) of each
 * window's mean input (input units). Training passes its plain windows only:
 * speed-shifted copies are not what a target's windows are compared with.
 */
export function medianLevel(set: InputSet, n = set.n): number {
  const size = inputSize(set.shape);
  if (n <= 0) return 0;
  const means = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * size;
    for (let j = 0; j < size; j++) s += set.x[o + j];
    means[i] = s / size;
  }
  means.sort();
  const h = n >> 1;
  return n % 2 ? means[h] : 0.5 * (means[h - 1] + means[h]);
}

/** `set` with `by` (input units) taken off every value; a new array. */
export function shiftLevels<T extends InputSet>(set: T, by: number): T {
  if (by === 0) return set;
  const x = new Float32Array(set.x.length);
  for (let i = 0; i < x.length; i++) x[i] = set.x[i] - by;
  return { ...set, x };
}

/** Every split of `d` with `by` taken off (shiftLevels); `by` 0 returns `d`. */
export function shiftSplits<T extends { train: InputSet; val: InputSet; test: InputSet }>(
  d: T,
  by: number,
): T {
  if (by === 0) return d;
  return {
    ...d,
    train: shiftLevels(d.train, by),
    val: shiftLevels(d.val, by),
    test: shiftLevels(d.test, by),
  };
}

/** `config` with its reference raised by `by` input units (what shiftLevels took off). */
export function withLevelRef(config: FrontEndConfig, by: number): FrontEndConfig {
  if (!config.lines) return config;
  const ref = (config.lines.levelRef ?? 0) + by * LEVEL_SCALE_DB;
  return { ...config, lines: { ...config.lines, levelRef: ref } };
}
