/**
 * The types of tfjs-core's chained ops (`x.add(y)`, `x.square()`): the module
 * augmentation of `Tensor` that the `@tensorflow/tfjs` umbrella's typings pull
 * in. ./tf-registrations.ts registers the ops themselves at run time; this
 * declaration file only makes TypeScript see them.
 */
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops.js';
