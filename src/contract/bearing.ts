/**
 * Rolling-element bearing defect frequencies from geometry and speed: what
 * the evidence's `defect` lines (BPFO, BPFI, BSF, FTF) mean, shared by the
 * gateway (src/dsp/bearing.ts looks for them) and the console (which draws
 * them as markers). Plain code, no zod, so the console's bundle stays small.
 *
 * Kinematic formulas (stationary outer race, rotating inner race, no slip):
 *   FTF  = fr/2 · (1 − d/D·cos φ)                 cage
 *   BPFO = n/2 · fr · (1 − d/D·cos φ)             outer-race defect
 *   BPFI = n/2 · fr · (1 + d/D·cos φ)             inner-race defect
 *   BSF  = D/(2d) · fr · (1 − (d/D·cos φ)²)       ball spin (a ball defect strikes both races: 2·BSF)
 */
import { FaultlineError } from '../errors.js';
import type { BearingGeometry } from './machine.js';

function requireParam(cond: boolean, message: string): asserts cond {
  if (!cond) throw new FaultlineError('FL_ERR_DSP_PARAMS', message);
}

/** CWRU drive-end bearing: SKF 6205-2RS JEM deep-groove ball bearing (dimensions in inches, from CWRU). */
export const CWRU_DE_BEARING: Readonly<BearingGeometry> = Object.freeze({
  balls: 9,
  ballDiameter: 0.3126,
  pitchDiameter: 1.537,
  contactAngleDeg: 0,
});

/** Defect frequencies, Hz. */
export interface BearingFrequencies {
  shaftHz: number;
  FTF: number;
  BPFO: number;
  BPFI: number;
  BSF: number;
}

/** Defect frequencies (Hz) of `geometry` at shaft speed `shaftHz` (Hz = rpm/60). */
export function bearingFrequencies(geometry: BearingGeometry, shaftHz: number): BearingFrequencies {
  const { balls, ballDiameter: d, pitchDiameter: D, contactAngleDeg } = geometry;
  requireParam(
    Number.isInteger(balls) && balls > 0,
    `bearing balls must be a positive integer, got ${balls}`,
  );
  requireParam(d > 0 && D > d, `bearing diameters need 0 < ball (${d}) < pitch (${D})`);
  requireParam(
    Number.isFinite(shaftHz) && shaftHz >= 0,
    `shaft speed must be ≥ 0 Hz, got ${shaftHz}`,
  );
  const r = (d / D) * Math.cos((contactAngleDeg * Math.PI) / 180);
  return {
    shaftHz,
    FTF: (shaftHz / 2) * (1 - r),
    BPFO: (balls / 2) * shaftHz * (1 - r),
    BPFI: (balls / 2) * shaftHz * (1 + r),
    BSF: (D / (2 * d)) * shaftHz * (1 - r * r),
  };
}
