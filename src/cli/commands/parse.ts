/**
 * Parsers for numeric command-line options, for commander's `.option(flags,
 * description, parser)`: each returns the number or throws FL_ERR_CLI_USAGE
 * naming the flag, the text given and what was expected. Blank text is
 * refused (`Number('')` would be 0).
 */
import { FaultlineError } from '../../errors.js';

/**
 * A parser accepting the numbers for which `check` holds (and whose text
 * matches `pattern`, when given); `what` completes "must be …".
 */
export function numberArg(
  flag: string,
  check: (n: number) => boolean,
  what: string,
  pattern?: RegExp,
): (value: string) => number {
  return (value) => {
    const n = Number(value);
    const text = value.trim();
    if (text === '' || (pattern && !pattern.test(text)) || !check(n)) {
      throw new FaultlineError(
        'FL_ERR_CLI_USAGE',
        `${flag} ${JSON.stringify(value)} must be ${what}`,
      );
    }
    return n;
  };
}

/** A finite number > 0. */
export const positiveNumber = (flag: string) =>
  numberArg(flag, (n) => Number.isFinite(n) && n > 0, 'a positive number');

/** A finite number ≥ 0. */
export const nonNegativeNumber = (flag: string) =>
  numberArg(flag, (n) => Number.isFinite(n) && n >= 0, 'a number ≥ 0');

/** An integer > 0. */
export const positiveInt = (flag: string) =>
  numberArg(flag, (n) => Number.isInteger(n) && n > 0, 'a positive integer');

/** An integer written in decimal digits, in `min`…`max`. */
export function intArg(
  flag: string,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): (value: string) => number {
  return numberArg(flag, (n) => n >= min && n <= max, `an integer in ${min}…${max}`, /^-?\d+$/);
}
