/**
 * Changing how a tfjs-layers layer runs without forking tfjs-layers: its
 * `call` is replaced by a wrapper around the stock one. Used for the fused
 * batch-norm training gradient (./batch-norm.ts), the first convolution's
 * skipped input gradient (./conv-grad.ts) and frozen layers running in
 * inference mode while fine-tuning (./adapt/finetune.ts).
 */
import type * as tf from './tf.js';

/** Layer.call's signature (protected in tfjs-layers' typings). */
export type LayerCall = (
  inputs: tf.Tensor | tf.Tensor[],
  kwargs: Record<string, unknown>,
) => tf.Tensor | tf.Tensor[];

/**
 * Replaces `layer`'s call with `wrap(stock)`, where `stock` is the call it
 * had (bound to the layer). Returns a function that puts that call back.
 */
export function wrapLayerCall(
  layer: tf.layers.Layer,
  wrap: (stock: LayerCall) => LayerCall,
): () => void {
  const l = layer as unknown as { call: LayerCall };
  const previous = l.call;
  l.call = wrap(previous.bind(layer));
  return () => {
    l.call = previous;
  };
}
