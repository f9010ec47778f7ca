/**
 * Parameter checks for the simulator: every public entry point validates once,
 * so a NaN rpm or a zero sample rate becomes FL_ERR_SIM_PARAMS naming the
 * field, instead of a signal full of NaN or an endless event loop.
 */
import { FaultlineError } from '../errors.js';

/** Throws FL_ERR_SIM_PARAMS with `message` unless `cond`. */
export function requireSim(cond: boolean, message: string): asserts cond {
  if (!cond) throw new FaultlineError('FL_ERR_SIM_PARAMS', message);
}

/**
 * Checks that `value` is a finite number in [min, max] (or (min, max] when
 * `minExclusive`), optionally an integer. `name` is the field path used in the
 * message, e.g. `condition.rpm`.
 */
export function checkNumber(
  name: string,
  value: unknown,
  min: number,
  max: number,
  opts: { minExclusive?: boolean; integer?: boolean } = {},
): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (opts.minExclusive ? value > min : value >= min) &&
    value <= max &&
    (!opts.integer || Number.isInteger(value));
  if (!ok) {
    const range = `${opts.minExclusive ? '(' : '['}${min}, ${max}]`;
    const kind = opts.integer ? 'an integer' : 'a finite number';
    throw new FaultlineError(
      'FL_ERR_SIM_PARAMS',
      `${name} must be ${kind} in ${range}, got ${String(value)}`,
    );
  }
  return value as number;
}
