/**
 * The oracle checkpoint: the one target labels would have kept. Reports give
 * it beside the label-free choice; the gap is the price of having no labels.
 */

/** The highest accuracy of `byStep` (the earliest on ties). */
export function oracleOf(byStep: readonly { step: number; accuracy: number }[]): {
  step: number;
  accuracy: number;
} {
  let best = byStep[0];
  for (const c of byStep) if (c.accuracy > best.accuracy) best = c;
  return { step: best.step, accuracy: best.accuracy };
}
