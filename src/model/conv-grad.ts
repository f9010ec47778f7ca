/**
 * Conv layers whose input gradient is computed only when something needs it.
 *
 * tfjs-layers' Conv2D runs `tf.fused.conv2d`, and while a gradient is being
 * taken that op is a `customGrad` whose gradient function computes the input
 * gradient and the filter gradient together, eagerly. For the first layer of
 * the CNN the input is the spectrogram batch, which nobody differentiates, so
 * its `Conv2DBackpropInput` (~3 % of a training step of the shipped CNN on
 * wasm) is thrown away. The plain `tf.conv2d` op has one gradient closure per
 * input, and the engine calls only those on the path to a trained variable.
 *
 * {@link withLazyInputGradient} makes a layer train through `tf.conv2d` when
 * that is the same computation (no bias, linear activation, 2-D, channels last,
 * dilation 1); everything else, and inference, stays the stock code. The layer
 * keeps its class, weights and saved form.
 */
import { wrapLayerCall } from './layer-call.js';
import * as tf from './tf.js';

/** The internals of tfjs-layers' Conv2D this module reads. */
interface ConvInternals {
  rank: number;
  bias: tf.LayerVariable | null;
  kernel: tf.LayerVariable;
  strides: number[];
  padding: 'valid' | 'same' | 'causal';
  dataFormat: 'channelsFirst' | 'channelsLast';
  dilationRate: number | number[];
  activation: { getClassName(): string } | null;
}

/** Layers already switched over (switching twice would only stack wrappers). */
const switched = new WeakSet<object>();

/** Makes a tfjs-layers Conv2D `layer` train through `tf.conv2d` (see above); returns it. */
export function withLazyInputGradient<L extends tf.layers.Layer>(layer: L): L {
  if (switched.has(layer)) return layer;
  switched.add(layer);
  const conv = layer as unknown as ConvInternals;
  wrapLayerCall(layer, (stockCall) => (inputs, kwargs) => {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const dilations = Array.isArray(conv.dilationRate) ? conv.dilationRate : [conv.dilationRate];
    const plain =
      kwargs?.training === true &&
      conv.rank === 2 &&
      x.rank === 4 &&
      conv.bias == null &&
      (conv.activation == null || conv.activation.getClassName().toLowerCase() === 'linear') &&
      conv.dataFormat === 'channelsLast' &&
      conv.padding !== 'causal' &&
      dilations.every((d) => d === 1);
    if (!plain) return stockCall(inputs, kwargs);
    return tf.tidy(() =>
      tf.conv2d(
        x as tf.Tensor4D,
        conv.kernel.read() as tf.Tensor4D,
        [conv.strides[0], conv.strides[1]],
        conv.padding as 'valid' | 'same',
      ),
    );
  });
  return layer;
}
