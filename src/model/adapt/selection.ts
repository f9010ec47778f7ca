/**
 * Label-free model selection and the signals the promotion guards use.
 *
 * Target labels are never looked at while adapting: a checkpoint is scored by
 * (1) its accuracy on the SOURCE validation split and (2) the information
 * maximisation score of its predictions on UNLABELLED target windows,
 * `IM = H(mean p) − mean H(p)` divided by log C: high when each prediction is
 * confident (low conditional entropy) and the classes are all used (high
 * marginal entropy) — a collapsed or confused model scores low. Given the
 * class mix π the target should have (the source's), the marginal term is
 * 1 − KL(mean p ‖ π)/log C instead, the marginal entropy when π is uniform.
 */

/** Label-free statistics of softmax outputs `[n × C]`. */
export interface PredictionStats {
  /** Mean per-window entropy / log C, 0 (certain) … 1 (uniform). */
  meanEntropy: number;
  /** Entropy of the mean prediction / log C: 1 = all classes used evenly. */
  marginalEntropy: number;
  /** marginalEntropy (or 1 − KL(mean p ‖ prior)/log C) − meanEntropy, ≤ 1. */
  im: number;
}

export function predictionStats(
  probs: Float32Array,
  C: number,
  prior?: ArrayLike<number>,
): PredictionStats {
  const n = probs.length / C;
  if (n === 0) return { meanEntropy: Number.NaN, marginalEntropy: Number.NaN, im: Number.NaN };
  const mean = new Float64Array(C);
  let hSum = 0;
  for (let i = 0; i < n; i++) {
    let h = 0;
    for (let c = 0; c < C; c++) {
      const p = probs[i * C + c];
      mean[c] += p / n;
      if (p > 1e-12) h -= p * Math.log(p);
    }
    hSum += h;
  }
  let hm = 0;
  for (let c = 0; c < C; c++) if (mean[c] > 1e-12) hm -= mean[c] * Math.log(mean[c]);
  const logC = Math.log(C);
  const meanEntropy = hSum / n / logC;
  const marginalEntropy = hm / logC;
  // With a prior π the marginal term is 1 − KL(mean p ‖ π)/log C, which is
  // the marginal entropy when π is uniform.
  let marginalFit = marginalEntropy;
  if (prior) {
    let kl = 0;
    for (let c = 0; c < C; c++)
      if (mean[c] > 1e-12) kl += mean[c] * Math.log(mean[c] / Math.max(prior[c], 1e-6));
    marginalFit = 1 - kl / logC;
  }
  return { meanEntropy, marginalEntropy, im: marginalFit - meanEntropy };
}

/** One scored checkpoint of an adaptation run. */
export interface Checkpoint {
  step: number;
  sourceValAccuracy: number;
  target: PredictionStats;
  /** Discriminator accuracy on held-out source+target features (DANN only), 0.5 = domains confused. */
  discriminatorAccuracy?: number;
}

/**
 * What a checkpoint is ranked by on the unlabelled target:
 * - `im`: the IM score, for a target data set where every class occurs;
 * - `confidence`: the lowest mean prediction entropy, for ONE machine's
 *   signal (one class by nature), where IM's marginal-entropy term would
 *   favour the checkpoint that spreads that machine over the most classes.
 */
export type SelectionCriterion = 'im' | 'confidence';

/**
 * Picks the checkpoint to keep: among those whose source validation accuracy
 * is within `sourceTolerance` of the best one seen, the best by `criterion`
 * (ties: the earliest). Returns its index in `checkpoints`.
 */
export function selectCheckpoint(
  checkpoints: readonly Checkpoint[],
  sourceTolerance = 0.01,
  criterion: SelectionCriterion = 'im',
): number {
  if (checkpoints.length === 0) return -1;
  const bestSrc = Math.max(...checkpoints.map((c) => c.sourceValAccuracy));
  const score = (c: Checkpoint) => (criterion === 'im' ? c.target.im : -c.target.meanEntropy);
  let pick = -1;
  checkpoints.forEach((c, i) => {
    if (c.sourceValAccuracy < bestSrc - sourceTolerance) return;
    if (pick < 0 || score(c) > score(checkpoints[pick])) pick = i;
  });
  return pick;
}
