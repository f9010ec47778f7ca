/**
 * The front end a training run uses, completed from the data: the line axes.
 * Fault-order axes (BPFO, BPFI, 2·BSF) put a defect's lines on the same rows
 * for any bearing, which is what lets a model trained on one bearing diagnose
 * another; they need every recording's geometry. `auto` takes them when every
 * training recording has a bearing, else the shaft axis (which needs only
 * the speed). Shared by `faultline train` and `faultline eval`.
 */

import type { BearingGeometry } from '../contract/machine.js';
import { type FrontEndConfig, type FrontEndInput, resolveFrontEndConfig } from '../dsp/frontend.js';
import { FAULT_AXES, type LineNormalisation } from '../dsp/order-lines.js';
import { FaultlineError } from '../errors.js';
import type { Recording } from '../types.js';

export type AxesChoice = 'shaft' | 'faults' | 'auto';

/**
 * Revolutions of an order-mode window where every recording allows it.
 * Longer windows resolve the lines better: on development data (CWRU
 * in-domain, seeds 1–2) 99.71 % → 100 % against the default 4, and on
 * simulated rigs with 8 s recordings (seed 8700) location after adaptation
 * 98.03 → 98.18 % across speed and rig. A 3 s recording at 600 rpm holds
 * 4.5 revolutions in its 15 % test segment: there the default 4 stays.
 */
export const LONG_WINDOW_REVOLUTIONS = 8;

/**
 * The order-mode window (revolutions) an evaluation over `recordings` can
 * afford: LONG_WINDOW_REVOLUTIONS when the smallest split segment
 * (`smallestFraction` of each recording) holds it with a quarter to spare
 * for speed drift and the hop, in every recording; undefined (the front
 * end's default) otherwise, or when a recording's speed is unknown.
 */
export function affordableWindowRevolutions(
  recordings: readonly Recording[],
  smallestFraction = 0.15,
): number | undefined {
  if (recordings.length === 0) return undefined;
  for (const r of recordings) {
    if (!(r.rpm && r.rpm > 0)) return undefined;
    const revs = (smallestFraction * r.samples.length * r.rpm) / (60 * r.sampleRate);
    if (revs < LONG_WINDOW_REVOLUTIONS * 1.25) return undefined;
  }
  return LONG_WINDOW_REVOLUTIONS;
}

/**
 * The front end to train on `recordings` with: `input` completed and, in
 * order mode, the axes chosen and (fault axes) the training bearing recorded
 * as the default for signals that come without one, when every recording
 * has the same.
 * @throws FaultlineError FL_ERR_TRAIN for fault axes without every recording's bearing
 */
export function frontEndForTraining(
  input: FrontEndInput,
  axes: AxesChoice,
  normalisation: LineNormalisation,
  recordings: readonly Recording[],
): FrontEndConfig {
  if ((input.mode ?? 'order') !== 'order' || input.version !== 2)
    return resolveFrontEndConfig(input);
  const missing = recordings.filter((r) => !r.bearing);
  const faults =
    axes === 'faults' || (axes === 'auto' && missing.length === 0 && recordings.length > 0);
  if (faults && missing.length > 0) {
    throw new FaultlineError(
      'FL_ERR_TRAIN',
      `fault axes need every recording's bearing; ${missing.length} have none (e.g. ${missing[0].id}); add a 'bearing' column or n_balls/ball_d/pitch_d/contact_angle_deg to the manifest, or use --axes shaft`,
    );
  }
  const common = faults ? commonBearing(recordings) : undefined;
  return resolveFrontEndConfig({
    ...input,
    lines: {
      ...input.lines,
      axes: faults ? [...FAULT_AXES] : ['shaft'],
      normalisation,
      ...(common ? { bearing: common } : {}),
    },
  });
}

/** The one geometry every recording shares, or undefined. */
function commonBearing(recs: readonly Recording[]): BearingGeometry | undefined {
  const first = recs[0]?.bearing;
  if (!first) return undefined;
  const same = (b: BearingGeometry) =>
    b.balls === first.balls &&
    b.ballDiameter === first.ballDiameter &&
    b.pitchDiameter === first.pitchDiameter &&
    b.contactAngleDeg === first.contactAngleDeg;
  return recs.every((r) => r.bearing && same(r.bearing)) ? { ...first } : undefined;
}
