/**
 * Model class names → the words an operator reads. A model's classes are
 * whatever its data set called them (CWRU `IR007`, `OR014@6`, `B021`; the
 * simulator's `inner`, `outer`, `ball`, `normal`); the console, alerts and the
 * health state machine speak of the fault's location ("inner race") and, when
 * the name carries one, its size ("0.007 in"). Unknown names pass through
 * unchanged, so a bring-your-own model still shows its own labels.
 */

/** The operator-facing reading of one model class. */
export interface OperatorClass {
  /** 'normal' | 'inner race' | 'outer race' | 'ball' | the model's own name when unknown. */
  faultClass: string;
  /** Defect size when the class name carries one, e.g. '0.007 in'. */
  severity?: string;
}

/** The operator term of the healthy class (also health's `normalClass`). */
export const NORMAL = 'normal';

const LOCATIONS: Record<string, string> = {
  ir: 'inner race',
  inner: 'inner race',
  'inner race': 'inner race',
  or: 'outer race',
  outer: 'outer race',
  'outer race': 'outer race',
  b: 'ball',
  ball: 'ball',
  normal: NORMAL,
  none: NORMAL,
  n: NORMAL,
  healthy: NORMAL,
};

// CWRU codes: location, defect diameter in mils (007 = 0.007 in), and for the
// outer race an optional load-zone position (`@3`, `@6`, `@12` o'clock).
const CWRU_CODE = /^(IR|OR|B)(\d{3})(?:@(\d{1,2}))?$/i;

/** Operator reading of a model class name (see the module comment). */
export function operatorClass(modelClass: string): OperatorClass {
  const m = CWRU_CODE.exec(modelClass.trim());
  if (m) {
    return {
      faultClass: LOCATIONS[m[1].toLowerCase()],
      severity: `0.${m[2]} in`,
    };
  }
  const known = LOCATIONS[modelClass.trim().toLowerCase()];
  return known ? { faultClass: known } : { faultClass: modelClass };
}

/** True when one of `classes` means "no fault". */
export function hasNormalClass(classes: readonly string[]): boolean {
  return classes.some((c) => operatorClass(c).faultClass === NORMAL);
}

/**
 * Sums model-class probabilities into operator classes, e.g. IR007 + IR014 +
 * IR021 → 'inner race'. `probs[i]` belongs to `classes[i]`.
 */
export function operatorProbs(
  classes: readonly string[],
  probs: ArrayLike<number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < classes.length; i++) {
    const k = operatorClass(classes[i]).faultClass;
    out[k] = (out[k] ?? 0) + probs[i];
  }
  return out;
}

/** The defect line that corresponds to an operator fault class, or undefined. */
export function defectOf(faultClass: string): 'BPFI' | 'BPFO' | 'BSF' | undefined {
  if (faultClass === 'inner race') return 'BPFI';
  if (faultClass === 'outer race') return 'BPFO';
  if (faultClass === 'ball') return 'BSF';
  return undefined;
}
