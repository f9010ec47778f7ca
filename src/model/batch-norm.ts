/**
 * Batch normalisation whose training step has one fused gradient.
 *
 * tfjs-layers' BatchNormalization trains through `tf.moments` and then
 * `tf.batchNorm`, so the tape holds both and backprop runs the gradient of
 * each: ~20 passes over the activation (sums, broadcast multiplies, a full-size
 * `ones` for every Mean, Tile…) — about a quarter of a training step of the
 * shipped CNN on wasm. The closed form needs 7:
 *
 *   x̂ = (x − μ)·r,  r = 1/√(σ² + ε),  y = γ·x̂ + β   (μ, σ² over N·H·W, per channel)
 *   dβ = Σ dy,  dγ = Σ dy·x̂ = r·Σ dy·(x − μ)
 *   dx = γ·r·dy − (γ·r/N)·(dβ + x̂·dγ)
 *
 * The second term is itself a batch norm of x (scale −γ·r·dγ/N, offset
 * −γ·r·dβ/N), so it runs as one `FusedBatchNorm` without materialising x̂.
 *
 * {@link withFusedTrainingGradient} swaps this path into an existing layer (its
 * `call`), so the layer keeps its class name, weights and saved form: a model
 * saved from it loads as a stock BatchNormalization, and inference (`training`
 * false) is the stock code. Cases other than the one the CNN uses (rank 4,
 * channels last, centre and scale on) also fall through to the stock code.
 */
import { wrapLayerCall } from './layer-call.js';
import * as tf from './tf.js';

/** The internals of tfjs-layers' BatchNormalization this module reads. */
interface BatchNormInternals {
  axis: number;
  epsilon: number;
  momentum: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

/** Layers already switched over (switching twice would only stack wrappers). */
const switched = new WeakSet<object>();

/**
 * Training-mode batch norm of `x` `[N, H, W, C]` over axes 0–2 with scale
 * `gamma` `[C]` and offset `beta` `[C]` (and `epsilon` added to the variance),
 * with the fused gradient above. `onMoments(mean, variance)` receives the batch
 * statistics (biased variance, as tfjs-layers uses) to update moving averages;
 * they are disposed after it returns.
 */
export function batchNormTraining(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  onMoments?: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void,
): tf.Tensor4D {
  const axes = [0, 1, 2];
  const fused = tf.customGrad((...args: unknown[]) => {
    const [xs, g, b, save] = args as [
      tf.Tensor4D,
      tf.Tensor1D,
      tf.Tensor1D,
      (ts: tf.Tensor[]) => void,
    ];
    // Runs as one kernel of the tape: none of these ops is recorded.
    const { mean, variance } = tf.moments(xs, axes) as { mean: tf.Tensor1D; variance: tf.Tensor1D };
    onMoments?.(mean, variance);
    const value = tf.batchNorm4d(xs, mean, variance, b, g, epsilon);
    save([xs, g, mean, variance]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sg, mu, v] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const n = sx.size / sx.shape[3];
        const r = tf.rsqrt(tf.add(v, epsilon));
        const dBeta = tf.sum(dy, axes) as tf.Tensor1D;
        const dGamma = tf.mul(r, tf.sum(tf.mul(dy, tf.sub(sx, mu)), axes)) as tf.Tensor1D;
        const gr = tf.mul(sg, r) as tf.Tensor1D;
        const k = tf.div(tf.neg(gr), n) as tf.Tensor1D;
        // −(γr/N)·(dβ + x̂·dγ) as a batch norm of x: scale k·dγ, offset k·dβ.
        const rest = tf.batchNorm4d(
          sx,
          mu,
          v,
          tf.mul(k, dBeta) as tf.Tensor1D,
          tf.mul(k, dGamma) as tf.Tensor1D,
          epsilon,
        );
        const dx = tf.add(tf.mul(dy, gr), rest);
        return [dx, dGamma, dBeta];
      },
    };
  });
  return fused(x, gamma, beta) as tf.Tensor4D;
}

/**
 * Makes `layer` (a tfjs-layers BatchNormalization) train through
 * {@link batchNormTraining}; returns the same layer. Moving mean and variance
 * are updated exactly as tfjs-layers does (`moving ← moving − (moving − batch)·(1 − momentum)`).
 */
export function withFusedTrainingGradient<L extends tf.layers.Layer>(layer: L): L {
  if (switched.has(layer)) return layer;
  switched.add(layer);
  const bn = layer as unknown as BatchNormInternals;
  wrapLayerCall(layer, (stockCall) => (inputs, kwargs) => {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const axis = bn.axis < 0 ? bn.axis + x.rank : bn.axis;
    if (kwargs?.training !== true || x.rank !== 4 || axis !== 3 || !bn.center || !bn.scale) {
      return stockCall(inputs, kwargs);
    }
    return tf.tidy(() =>
      batchNormTraining(
        x as tf.Tensor4D,
        bn.gamma.read() as tf.Tensor1D,
        bn.beta.read() as tf.Tensor1D,
        bn.epsilon,
        (mean, variance) => {
          const decay = 1 - bn.momentum;
          for (const [moving, batch] of [
            [bn.movingMean, mean],
            [bn.movingVariance, variance],
          ] as const) {
            tf.tidy(() => {
              const old = moving.read();
              moving.write(tf.sub(old, tf.mul(tf.sub(old, batch), decay)));
            });
          }
        },
      ),
    );
  });
  return layer;
}
