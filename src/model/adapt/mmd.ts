/**
 * Multi-kernel maximum mean discrepancy (MK-MMD, Long et al. 2015) between
 * two batches of features: the squared distance between their mean
 * embeddings in a sum of Gaussian RKHSs. 0 for identical distributions, grows
 * as they move apart; differentiable, so it can be minimised as a loss.
 *
 * Bandwidths: several multiples of the median pairwise squared distance of
 * the pooled batch (the "median heuristic"), so the loss has useful gradients
 * whatever the feature scale. The median is taken without gradient.
 */
import * as tf from '../tf.js';

/** Multipliers of the median squared distance used as Gaussian bandwidths. */
export const DEFAULT_MMD_SCALES: readonly number[] = [0.25, 0.5, 1, 2, 4];

/**
 * Biased MMD² estimate between `a` `[n, d]` and `b` `[m, d]` with a sum of
 * Gaussian kernels `exp(−‖x−y‖² / (s·median))`, s in `scales`, averaged over kernels.
 */
export function mmd2(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  scales: readonly number[] = DEFAULT_MMD_SCALES,
): tf.Scalar {
  return tf.tidy(() => {
    const n = a.shape[0];
    const m = b.shape[0];
    const z = tf.concat([a, b], 0);
    const sq = tf.sum(tf.square(z), 1, true); // [n+m, 1]
    // ‖zi − zj‖² = |zi|² + |zj|² − 2 zi·zj, clipped at 0 against round-off.
    const d2 = tf.relu(
      tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(2, tf.matMul(z, z, false, true))),
    );
    const median = tf.scalar(medianOffDiagonal(d2 as tf.Tensor2D) || 1);
    let k = tf.zerosLike(d2);
    for (const s of scales) k = tf.add(k, tf.exp(tf.neg(tf.div(d2, tf.mul(median, s)))));
    k = tf.div(k, scales.length);
    const kaa = tf.mean(tf.slice(k, [0, 0], [n, n]));
    const kbb = tf.mean(tf.slice(k, [n, n], [m, m]));
    const kab = tf.mean(tf.slice(k, [0, n], [n, m]));
    return tf.add(kaa, tf.sub(kbb, tf.mul(2, kab))) as tf.Scalar;
  });
}

/** Median of the off-diagonal entries of a square distance matrix (a plain number: no gradient). */
function medianOffDiagonal(d2: tf.Tensor2D): number {
  const N = d2.shape[0];
  const v = d2.dataSync();
  const vals: number[] = [];
  for (let i = 0; i < N; i++) for (let j = i + 1; j < N; j++) vals.push(v[i * N + j]);
  if (vals.length === 0) return 1;
  vals.sort((x, y) => x - y);
  return vals[vals.length >> 1];
}
