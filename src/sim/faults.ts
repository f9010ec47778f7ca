/**
 * What each localized bearing fault looks like in time: how often its impacts
 * come, what modulates their amplitude, and how regular they are. These are the
 * signatures envelope analysis and the CNN learn to tell apart (McFadden &
 * Smith 1984; Randall & Antoni 2011, "Rolling element bearing diagnostics — a
 * tutorial").
 */
import type { BearingFrequencies } from '../contract/bearing.js';

/** Fault classes the simulator produces. */
export type FaultType = 'none' | 'inner' | 'outer' | 'ball';
export const FAULT_TYPES: readonly FaultType[] = ['none', 'inner', 'outer', 'ball'];

/**
 * Class label written to data-set manifests for each fault type ('none' is
 * written as `normal`, the word CWRU uses for the healthy class).
 */
export const FAULT_LABELS: Readonly<Record<FaultType, string>> = Object.freeze({
  none: 'normal',
  inner: 'inner',
  outer: 'outer',
  ball: 'ball',
});

/** A fault and how strong it is. */
export interface FaultSpec {
  type: FaultType;
  /**
   * Peak acceleration of one impact's response, g, at the reference speed
   * (1797 rpm), zero load, in the centre of the load zone, through a mode of
   * gain 1. Default {@link DEFAULT_SEVERITY_G}. Ignored for `none`.
   */
  severity?: number;
}

/**
 * Default impact peak, g. With the source condition's 0.04 g noise this puts
 * the fault at roughly 0–10 dB broadband SNR: clear in the envelope spectrum,
 * not trivially visible in the raw waveform.
 */
export const DEFAULT_SEVERITY_G = 0.5;

/** How a fault's impacts are timed and modulated (ratios to the shaft rate). */
export interface FaultKinematics {
  /** Mean impacts per shaft revolution (0: no impacts). */
  eventOrder: number;
  /** Modulation cycles per shaft revolution (0: no amplitude modulation). */
  modulationOrder: number;
  /**
   * Amplitude of every second impact relative to the others. A ball defect
   * strikes the inner and the outer race alternately; the inner-race strike
   * reaches the sensor through more interfaces and arrives weaker.
   */
  alternateImpactRatio: number;
  /** Std of the random impact-to-impact amplitude variation (fraction). */
  amplitudeJitter: number;
}

/**
 * Timing and modulation of `type` for a bearing with frequencies `f` (only the
 * ratios to `f.shaftHz` are used, so any speed gives the same kinematics).
 *
 * - outer race: the defect sits still in the load zone (CWRU @6:00), so every
 *   ball passing it strikes equally hard: impacts at BPFO, no modulation.
 * - inner race: the defect turns with the shaft and passes through the load
 *   zone once per revolution: impacts at BPFI, amplitude modulated at the
 *   shaft rate (sidebands at BPFI ± k·fr in the envelope spectrum).
 * - ball: the defect strikes both races once per ball spin (impacts at 2·BSF)
 *   and the ball is carried through the load zone by the cage: modulation at
 *   FTF. Ball impacts are also the most irregular (the spin axis wanders).
 */
export function faultKinematics(type: FaultType, f: BearingFrequencies): FaultKinematics {
  switch (type) {
    case 'none':
      return { eventOrder: 0, modulationOrder: 0, alternateImpactRatio: 1, amplitudeJitter: 0 };
    case 'outer':
      return {
        eventOrder: f.BPFO / f.shaftHz,
        modulationOrder: 0,
        alternateImpactRatio: 1,
        amplitudeJitter: 0.1,
      };
    case 'inner':
      return {
        eventOrder: f.BPFI / f.shaftHz,
        modulationOrder: 1,
        alternateImpactRatio: 1,
        amplitudeJitter: 0.1,
      };
    case 'ball':
      return {
        eventOrder: (2 * f.BSF) / f.shaftHz,
        modulationOrder: f.FTF / f.shaftHz,
        alternateImpactRatio: 0.5,
        amplitudeJitter: 0.25,
      };
  }
}

/** Mean impact rate of `type` in Hz (BPFO, BPFI, 2·BSF; 0 for none). */
export function faultFrequencyHz(type: FaultType, f: BearingFrequencies): number {
  return faultKinematics(type, f).eventOrder * f.shaftHz;
}

/**
 * Fraction of the full impact force at angle `theta` (rad) from the centre of
 * the load zone, for radial load fraction `load` in [0, 1].
 *
 * Stribeck's load distribution for a ball bearing: q(θ) = (1 − (1 − cos θ)/(2ε))^1.5
 * inside the zone, 0 outside. ε (the load-zone factor) grows with load from 0.3
 * (zone ±66°) to 0.5 (±90°, zero clearance), so a light load modulates more.
 * A floor of 0.15 stands for the impacts that still happen outside the zone
 * (centrifugal force, preload), which keeps every impact faintly present.
 */
export function loadZoneFactor(theta: number, load: number): number {
  const eps = 0.3 + 0.2 * load;
  const x = 1 - (1 - Math.cos(theta)) / (2 * eps);
  const q = x > 0 ? x * Math.sqrt(x) : 0;
  return 0.15 + 0.85 * q;
}
