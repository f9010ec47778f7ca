/**
 * Where a window's shaft speed comes from. Order-mode models need it to
 * resample to angle, and every model needs it for the bearing defect
 * frequencies behind the envelope evidence. Precedence, most trusted first:
 *
 *   frame     the node's own tachometer / drive reading in the frame header
 *   config    the machine's nominal rpm from the gateway configuration
 *   estimate  the spectrum of the window itself (estimateShaftSpeed)
 *   none      no speed: order-mode windows fail, evidence is skipped
 */

import type { RpmSource } from '../contract/machine.js';
import { estimateShaftSpeed } from '../dsp/speed.js';
import { isFaultlineError } from '../errors.js';

export interface SpeedReading {
  /** Shaft speed, rpm, or null when unknown. */
  rpm: number | null;
  source: RpmSource;
}

const usable = (rpm: number | null | undefined): rpm is number =>
  typeof rpm === 'number' && Number.isFinite(rpm) && rpm > 0;

/**
 * The speed known without looking at the signal: the frame's rpm, else the
 * configured nominal rpm, else `{rpm: null, source: 'none'}` (the caller may
 * then estimate). A zero, negative or non-finite reading counts as absent.
 */
export function knownSpeed(
  frameRpm: number | null | undefined,
  nominalRpm: number | null | undefined,
): SpeedReading {
  if (usable(frameRpm)) return { rpm: frameRpm, source: 'frame' };
  if (usable(nominalRpm)) return { rpm: nominalRpm, source: 'config' };
  return { rpm: null, source: 'none' };
}

/**
 * Shaft speed from the window's spectrum within [minRpm, maxRpm], or
 * `{rpm: null, source: 'none'}` when no harmonic series stands out.
 * @param window samples, g; @param fs Hz
 */
export function estimatedSpeed(
  window: Float32Array,
  fs: number,
  range: { minRpm: number; maxRpm: number },
): SpeedReading {
  try {
    return { rpm: estimateShaftSpeed(window, fs, range).rpm, source: 'estimate' };
  } catch (err) {
    if (isFaultlineError(err, 'FL_ERR_SPEED_UNKNOWN')) return { rpm: null, source: 'none' };
    throw err;
  }
}

/** The full precedence: frame, config, then (when `estimate` is allowed) the spectrum. */
export function resolveSpeed(
  frameRpm: number | null | undefined,
  nominalRpm: number | null | undefined,
  window: Float32Array,
  fs: number,
  range: { minRpm: number; maxRpm: number },
  estimate = true,
): SpeedReading {
  const known = knownSpeed(frameRpm, nominalRpm);
  if (known.source !== 'none' || !estimate) return known;
  return estimatedSpeed(window, fs, range);
}
