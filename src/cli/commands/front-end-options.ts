/**
 * The front-end flags `train` and `eval` share (physical units: Hz, seconds,
 * revolutions, rpm), parsed into a version-2 front end plus the two choices
 * that depend on the data (../../model/training-front-end.ts): which line
 * axes (shaft or fault orders) and which normalisation.
 */

import type { Command } from 'commander';
import { DEFAULT_ANALYSIS_RATE, type FrontEndInput, V2_DEFAULTS } from '../../dsp/frontend.js';
import type { LineNormalisation } from '../../dsp/order-lines.js';
import { FaultlineError } from '../../errors.js';
import { DEFAULT_SPEED_AUGMENT } from '../../model/domains.js';
import { type AxesChoice, LONG_WINDOW_REVOLUTIONS } from '../../model/training-front-end.js';

export interface FrontEndCliOptions {
  mode: string;
  analysisRate: string;
  window?: string;
  hop?: string;
  bands?: string;
  orders?: string;
  faultSpan?: string;
  axes: string;
  normalisation: string;
  speedRange: string;
  augmentSpeed: string;
}

/** Adds the flags to `cmd`; `auto` mode only where the target is known (eval). */
export function addFrontEndOptions(cmd: Command, withAuto: boolean): Command {
  return cmd
    .option(
      '--mode <mode>',
      withAuto
        ? 'front end: auto (per task: time where the target runs like the source — same rig, same speed ±5 % — else order) | order (envelope lines in shaft or fault orders: any speed, any rig) | time (spectrogram in Hz)'
        : 'front end: order (envelope lines in shaft or fault orders: any speed, any rig) | time (spectrogram in Hz: one operating point)',
      withAuto ? 'auto' : 'order',
    )
    .option(
      '--analysis-rate <Hz>',
      'rate every recording and stream is resampled to (one within ±1 % is taken as it is)',
      String(DEFAULT_ANALYSIS_RATE),
    )
    .option(
      '--window <len>',
      `window: revolutions in order mode (4rev), seconds in time mode (0.17s, 170ms); default ${V2_DEFAULTS.revolutions}rev / ${(V2_DEFAULTS.timeWindowS * 1000).toFixed(1)}ms (eval: ${LONG_WINDOW_REVOLUTIONS}rev where every recording's 15 % segment holds ${LONG_WINDOW_REVOLUTIONS * 1.25} revolutions); with --mode auto give revolutions (8rev)`,
    )
    .option(
      '--hop <len>',
      `step between windows of a recording, same units; default ${V2_DEFAULTS.hopRevolutions}rev / ${(V2_DEFAULTS.timeHopS * 1000).toFixed(1)}ms`,
    )
    .option(
      '--bands <list>',
      'order mode: envelope bands in Hz, e.g. 1000-5400,500-1500; default one wide band 1000-5400 (band normalisation), or it and 500-1500-3000-4500… up to 0.475 × the analysis rate (joint)',
    )
    .option('--orders <max>', 'order mode: top of the shaft-order axis, orders (default 16)')
    .option(
      '--fault-span <k>',
      'order mode: top of each fault axis, in multiples of that fault frequency (default 4)',
    )
    .option(
      '--axes <axes>',
      'order mode: shaft | faults (BPFO, BPFI, 2·BSF axes from the bearing geometry) | auto (faults when every recording has a bearing)',
      'auto',
    )
    .option(
      '--normalisation <n>',
      withAuto
        ? 'order mode: band (each band z-scored on its own: travels to other rigs) | joint (one z-score over the wide band and 4 narrower ones: band levels kept, defect sizes on one rig) | level (the same bands in dB less a speed law, relative to the median window of the training data, re-centred on a target data set by adaptation: defect sizes on one rig at any speed) | auto (with --mode auto: level where the target rings like the source, band across rigs; otherwise band)'
        : 'order mode: band (each band z-scored on its own: travels to other rigs) | joint (one z-score over the wide band and 4 narrower ones: band levels kept, defect sizes on one rig) | level (the same bands in dB less a speed law, relative to the median window of the training data, re-centred on a target data set by adaptation: defect sizes on one rig at any speed)',
      withAuto ? 'auto' : 'band',
    )
    .option(
      '--speed-range <rpm>',
      `order mode: speeds served, min-max rpm (windows of live streams are sized for the minimum); default ${V2_DEFAULTS.minRpm}-${V2_DEFAULTS.maxRpm}`,
      `${V2_DEFAULTS.minRpm}-${V2_DEFAULTS.maxRpm}`,
    )
    .option(
      '--augment-speed <list>',
      `order mode: extra training windows of each source recording mapped as if the shaft turned k times as fast, so its lines move by some per cent and the model learns to read another bearing, or a speed that is off: factors (e.g. 0.9,1.1) | none | auto (${DEFAULT_SPEED_AUGMENT.join(',')} on shaft-order axes, none on fault axes)`,
      'auto',
    );
}

/** `--augment-speed`: factors in 0.5…2 (1 is the recording itself), `none` or `auto`. */
export function parseSpeedAugment(v: string): number[] | 'auto' {
  if (v.trim() === 'auto') return 'auto';
  if (v.trim() === 'none') return [];
  return v.split(',').map((f) => {
    const k = Number(f.trim());
    if (!Number.isFinite(k) || k < 0.5 || k > 2)
      throw usage(`--augment-speed must be auto, none or factors in 0.5…2, got '${f}'`);
    return k;
  });
}

/** A length flag: `4rev`, `4`, `0.17s`, `170ms` in the mode's unit. */
function parseLength(flag: string, v: string, unit: 'rev' | 's'): number {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*(rev|revs|s|ms)?\s*$/.exec(v);
  if (!m) throw usage(`${flag} '${v}' is not a length (e.g. 4rev, 0.2s, 170ms)`);
  const n = Number(m[1]);
  const u = m[2] ?? unit;
  const given = u === 'revs' ? 'rev' : u === 'ms' ? 's' : u;
  if (given !== unit)
    throw usage(
      `${flag} '${v}': ${unit === 'rev' ? 'order mode counts revolutions (4rev)' : 'time mode counts seconds (0.2s)'}`,
    );
  const value = u === 'ms' ? n / 1000 : n;
  if (!(value > 0)) throw usage(`${flag} must be > 0, got '${v}'`);
  return value;
}

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw usage(`${flag} must be a positive number, got '${v}'`);
  return n;
}

function usage(message: string): FaultlineError {
  return new FaultlineError('FL_ERR_CLI_USAGE', message);
}

/** The front end the flags describe, with the data-dependent choices left to the caller. */
export function frontEndFromCli(
  o: FrontEndCliOptions,
  withAuto = false,
): {
  /** The order-mode input (`auto`, `order`) or the time-mode one. */
  input: FrontEndInput;
  /** `auto`: the time-mode input tasks that run like their source get. */
  time?: FrontEndInput;
  mode: 'time' | 'order' | 'auto';
  axes: AxesChoice;
  normalisation: LineNormalisation;
  /** `--mode auto --normalisation auto`: order-mode tasks on the source's rig take SAME_RIG_NORMALISATION. */
  sameRigAuto: boolean;
  /** Speed factors of the extra order-mode training windows (empty: none). */
  speedAugment: number[] | 'auto';
} {
  const modes = withAuto ? ['auto', 'order', 'time'] : ['order', 'time'];
  if (!modes.includes(o.mode)) throw usage(`--mode must be ${modes.join(', ')}; got '${o.mode}'`);
  // With --mode auto a length in revolutions applies to the tasks that run in
  // order mode (time-mode tasks keep their defaults); a bare number or seconds
  // would be ambiguous between the two.
  for (const [flag, v] of [
    ['--window', o.window],
    ['--hop', o.hop],
  ] as const) {
    if (o.mode === 'auto' && v !== undefined && !/rev/.test(v))
      throw usage(
        `${flag} '${v}': with --mode auto give revolutions (e.g. 8rev), which apply to the order-mode tasks; for seconds choose --mode time`,
      );
  }
  const mode = o.mode === 'auto' ? 'order' : (o.mode as 'time' | 'order');
  const unit = mode === 'order' ? 'rev' : 's';
  const sampleRate = positive('--analysis-rate', o.analysisRate);
  if (sampleRate < 1000 || sampleRate > 1_000_000)
    throw usage(`--analysis-rate must be in 1000…1000000 Hz, got '${o.analysisRate}'`);
  if (!['shaft', 'faults', 'auto'].includes(o.axes))
    throw usage(`--axes must be shaft, faults or auto, got '${o.axes}'`);
  const normalisations = withAuto ? ['band', 'joint', 'level', 'auto'] : ['band', 'joint', 'level'];
  if (!normalisations.includes(o.normalisation))
    throw usage(`--normalisation must be ${normalisations.join(', ')}; got '${o.normalisation}'`);
  const range = /^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$/.exec(o.speedRange);
  if (!range || Number(range[1]) <= 0 || Number(range[2]) <= Number(range[1]))
    throw usage(`--speed-range must be min-max rpm with 0 < min < max, got '${o.speedRange}'`);
  if (mode === 'time') {
    for (const [flag, v] of [
      ['--bands', o.bands],
      ['--orders', o.orders],
      ['--fault-span', o.faultSpan],
    ] as const) {
      if (v !== undefined) throw usage(`${flag} applies to order mode; time mode reads no bands`);
    }
  }
  const bands = o.bands?.split(',').map((b) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$/.exec(b);
    if (!m) throw usage(`--bands entry '${b}' is not low-high in Hz (e.g. 500-1500)`);
    return { lowHz: Number(m[1]), highHz: Number(m[2]) };
  });
  const window = {
    unit,
    ...(o.window !== undefined ? { length: parseLength('--window', o.window, unit) } : {}),
    ...(o.hop !== undefined ? { hop: parseLength('--hop', o.hop, unit) } : {}),
  } as const;
  const input: FrontEndInput = {
    version: 2,
    mode,
    sampleRate,
    window,
    ...(mode === 'order'
      ? {
          order: { minRpm: Number(range[1]), maxRpm: Number(range[2]) },
          lines: {
            ...(bands ? { bands } : {}),
            ...(o.orders !== undefined ? { maxOrder: positive('--orders', o.orders) } : {}),
            ...(o.faultSpan !== undefined
              ? { faultSpan: positive('--fault-span', o.faultSpan) }
              : {}),
          },
        }
      : {}),
  };
  return {
    input,
    ...(o.mode === 'auto' ? { time: { version: 2, mode: 'time', sampleRate } } : {}),
    mode: o.mode as 'time' | 'order' | 'auto',
    axes: o.axes as AxesChoice,
    // `auto` outside --mode auto has no task to look at: band, which travels.
    normalisation: (o.normalisation === 'auto' ? 'band' : o.normalisation) as LineNormalisation,
    sameRigAuto: o.normalisation === 'auto' && o.mode === 'auto',
    speedAugment: parseSpeedAugment(o.augmentSpeed),
  };
}
