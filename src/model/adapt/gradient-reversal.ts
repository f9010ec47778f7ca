/**
 * The gradient reversal layer of DANN (Ganin & Lempitsky 2015): identity in
 * the forward pass, gradient multiplied by −λ in the backward pass. Put
 * between the feature extractor and the domain discriminator, it makes one
 * minimisation train the discriminator to tell the domains apart while it
 * trains the features to make them indistinguishable.
 */
import * as tf from '../tf.js';

/** `x` unchanged; ∂/∂x of anything downstream is multiplied by `−lambda`. */
export function reverseGradient<T extends tf.Tensor>(x: T, lambda: number): T {
  const op = tf.customGrad(((input: tf.Tensor) => {
    return {
      value: tf.clone(input),
      gradFunc: (dy: tf.Tensor) => [tf.mul(dy, tf.scalar(-lambda))],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as T;
}

/**
 * `x` unchanged, with no gradient flowing back through it (PyTorch's
 * `detach`): CDAN conditions its discriminator on predictions it must not train.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const op = tf.customGrad(((input: tf.Tensor) => {
    return {
      value: tf.clone(input),
      gradFunc: (dy: tf.Tensor) => [tf.zerosLike(dy)],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(x) as T;
}

/**
 * DANN's adaptation coefficient for training progress `p` ∈ [0, 1]:
 * `2 / (1 + exp(−10 p)) − 1`, rising from 0 to ≈1 so the noisy early
 * discriminator cannot wreck the features before the classifier has formed.
 */
export function dannCoefficient(p: number): number {
  const q = Math.min(1, Math.max(0, p));
  return 2 / (1 + Math.exp(-10 * q)) - 1;
}
