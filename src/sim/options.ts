/**
 * The simulator's options and their resolution into one validated, frozen
 * configuration: a machine is (operating condition, fault), plus the bearing,
 * the sample rate and the seed.
 */

import { CWRU_DE_BEARING } from '../contract/bearing.js';
import type { BearingGeometry } from '../contract/machine.js';
import { checkNumber, requireSim } from './check.js';
import {
  type ConditionPresetName,
  defineCondition,
  type OperatingCondition,
  resolveCondition,
} from './conditions.js';
import { DEFAULT_SEVERITY_G, FAULT_TYPES, type FaultSpec, type FaultType } from './faults.js';

/** Default sample rate, Hz (CWRU's 12 kHz drive-end set). */
export const DEFAULT_SAMPLE_RATE = 12_000;

/** What to simulate. Every field is optional. */
export interface SimOptions {
  /** Fault type or {type, severity}. Default `none`. */
  fault?: FaultType | FaultSpec;
  /** Operating condition: a preset name or a full condition. Default `source-1797rpm`. */
  condition?: ConditionPresetName | OperatingCondition;
  /** Overrides the condition's nominal speed, rpm (the condition is renamed `<name>@<rpm>rpm`). */
  rpm?: number;
  /** Samples per second, Hz: an integer in [1000, 1 000 000]. Default 12 000. */
  sampleRate?: number;
  /** Seed of every random process; same seed → identical signal. Any integer (taken mod 2^32). Default 1. */
  seed?: number;
  /** Bearing geometry. Default the CWRU drive-end 6205-2RS JEM SKF. */
  bearing?: BearingGeometry;
}

/** Fully resolved, validated options (frozen). */
export interface SimConfig {
  readonly fault: Readonly<Required<FaultSpec>>;
  readonly condition: Readonly<OperatingCondition>;
  readonly sampleRate: number;
  readonly seed: number;
  readonly bearing: Readonly<BearingGeometry>;
}

/**
 * The sample rate (an integer in [1000, 1 000 000] Hz, default
 * {@link DEFAULT_SAMPLE_RATE}) and seed (any integer, default 1) shared by the
 * simulator and the data-set writer; FL_ERR_SIM_PARAMS naming the bad field.
 */
export function checkRateAndSeed(o: { sampleRate?: number; seed?: number }): {
  sampleRate: number;
  seed: number;
} {
  return {
    sampleRate: checkNumber('sampleRate', o.sampleRate ?? DEFAULT_SAMPLE_RATE, 1000, 1_000_000, {
      integer: true,
    }),
    seed: checkNumber('seed', o.seed ?? 1, -(2 ** 53), 2 ** 53, { integer: true }),
  };
}

/** Checks a bearing geometry; FL_ERR_SIM_PARAMS naming the bad field. */
export function validateBearing(b: BearingGeometry): void {
  requireSim(typeof b === 'object' && b !== null, `bearing must be an object, got ${String(b)}`);
  checkNumber('bearing.balls', b.balls, 3, 100, { integer: true });
  checkNumber('bearing.ballDiameter', b.ballDiameter, 0, 1e6, { minExclusive: true });
  checkNumber('bearing.pitchDiameter', b.pitchDiameter, b.ballDiameter, 1e6, {
    minExclusive: true,
  });
  checkNumber('bearing.contactAngleDeg', b.contactAngleDeg, 0, 60);
}

/** Resolves and validates `options`; throws FL_ERR_SIM_PARAMS naming the bad field. */
export function resolveSimOptions(options: SimOptions = {}): SimConfig {
  requireSim(
    typeof options === 'object' && options !== null,
    'simulator options must be an object',
  );
  const f = options.fault ?? 'none';
  const spec: FaultSpec = typeof f === 'string' ? { type: f } : f;
  requireSim(
    typeof spec === 'object' && spec !== null && FAULT_TYPES.includes(spec.type),
    `unknown fault type "${String(typeof f === 'string' ? f : spec?.type)}"; use one of ${FAULT_TYPES.join(', ')}`,
  );
  const severity = checkNumber('fault.severity', spec.severity ?? DEFAULT_SEVERITY_G, 0, 1000);

  let condition = resolveCondition(options.condition ?? 'source-1797rpm');
  if (options.rpm !== undefined) {
    const rpm = checkNumber('rpm', options.rpm, 0, 100_000, { minExclusive: true });
    condition = defineCondition(condition, { name: `${condition.name}@${rpm}rpm`, rpm });
  }
  const { sampleRate, seed } = checkRateAndSeed(options);
  const bearing = options.bearing ?? CWRU_DE_BEARING;
  validateBearing(bearing);
  return Object.freeze({
    fault: Object.freeze({ type: spec.type, severity }),
    condition,
    sampleRate,
    seed,
    bearing: Object.freeze({ ...bearing }),
  });
}
