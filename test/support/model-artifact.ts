/**
 * Metadata for a model a test builds in memory and saves with
 * saveModelArtifact: the fields the test states (classes, front end, seed…)
 * plus fixed placeholders for the provenance and training record it does not
 * care about, so each test says only what matters to it.
 */
import { createFrontEnd, type FrontEndConfig } from '../../src/dsp/frontend.js';
import type { ModelMetadata, saveModelArtifact } from '../../src/model/artifact.js';
import type * as tf from '../../src/model/tf.js';

export type ArtifactMeta = Parameters<typeof saveModelArtifact>[2];

export interface TestArtifactOptions {
  classes: string[];
  frontEnd: FrontEndConfig;
  /** Default 'strided'. */
  variant?: string;
  /** Overrides of the placeholder training record (seed, epochs…). */
  training?: Partial<ModelMetadata['training']>;
  provenance?: Partial<ModelMetadata['provenance']>;
  metrics?: Record<string, number>;
}

/** Metadata for `cnn` (as built by buildCnn) saved as a test artifact. */
export function testArtifactMeta(
  cnn: { model: tf.LayersModel; classifier: { name: string } },
  o: TestArtifactOptions,
): ArtifactMeta {
  const { frontEnd } = o;
  return {
    classes: o.classes,
    sampleRate: frontEnd.sampleRate,
    windowLength: frontEnd.windowLength,
    hop: frontEnd.hop,
    inputShape: [...createFrontEnd(frontEnd).inputShape],
    frontEnd,
    architecture: {
      variant: o.variant ?? 'strided',
      params: cnn.model.countParams(),
      featureLayer: 'flatten',
      classifierLayer: cnn.classifier.name,
    },
    training: {
      command: 'test',
      seed: 1,
      epochs: 0,
      bestEpoch: 0,
      batchSize: 1,
      learningRate: 0,
      backend: 'x',
      seconds: 0,
      ...o.training,
    },
    provenance: {
      dataset: 'memory',
      kind: 'memory',
      domains: ['d'],
      recordings: [],
      split: { train: 1, val: 0, test: 0 },
      windows: {},
      ...o.provenance,
    },
    metrics: o.metrics ?? {},
  };
}
