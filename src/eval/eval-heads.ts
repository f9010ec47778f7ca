/**
 * `faultline eval --heads`: the auxiliary heads of one evaluation unit's
 * model (../model/heads.ts), kept out of evaluate.ts so its unit loop reads
 * the same with or without them. The primary head is what every accuracy of
 * the report scores; the heads only change how the shared features are trained.
 */

import type { AlignHead } from '../model/adapt/align.js';
import type { Cnn } from '../model/architectures.js';
import {
  buildHead,
  type HeadName,
  type HeadSpec,
  headLabels,
  headProbs,
  headSeed,
  headSpecs,
} from '../model/heads.js';
import type { InputSet } from '../model/inputs.js';
import type * as tf from '../model/tf.js';
import { type AuxTraining, accuracyOf } from '../model/train.js';

/** A unit's heads, built on its CNN's features. */
export interface UnitHeads {
  specs: HeadSpec[];
  /** Heads the data could not train, with why (for the log). */
  dropped: string[];
  /** For trainClassifier's `heads` option (undefined without heads). */
  training(source: InputSet): AuxTraining | undefined;
  /** For alignDomains' `heads` option: fault heads on the source, the condition head on both. */
  align(source: InputSet, target: InputSet): AlignHead[];
  /**
   * Each head's accuracy on `set` (its rows with a label for that head: fault
   * heads from the windows' classes, the condition head from their domain),
   * by head name (a head with no labelled row is left out); for the report,
   * never for a choice.
   */
  scores(set: InputSet): Record<string, number>;
  /** Weights of every head, to reset them with the trunk between targets. */
  models: tf.LayersModel[];
  dispose(): void;
}

/**
 * Builds the heads `names` for a unit whose primary classes are `classes` and
 * whose data holds the domains `conditions` (the condition head's classes).
 */
export function unitHeads(
  names: readonly HeadName[],
  cnn: Cnn,
  classes: readonly string[],
  conditions: readonly string[],
  seed: number,
): UnitHeads {
  const { heads: specs, dropped } = headSpecs(names, classes, conditions);
  const models = specs.map((s, i) => buildHead(cnn.featureDim, s, headSeed(seed, i)));
  return {
    specs,
    dropped,
    models,
    training: (source) =>
      specs.length === 0
        ? undefined
        : {
            features: cnn.features,
            classifier: cnn.classifier,
            heads: specs.map((s, i) => ({
              classifier: models[i],
              labels: headLabels(s, source, classes),
            })),
          },
    align: (source, target) =>
      specs.map((s, i) => ({
        classifier: models[i],
        source: headLabels(s, source, classes),
        // The target's fault labels are never used: only its condition.
        ...(s.name === 'condition' ? { target: headLabels(s, target, classes) } : {}),
      })),
    scores: (set) => {
      const out: Record<string, number> = {};
      specs.forEach((s, i) => {
        const acc = accuracyOf(
          headProbs(cnn.features, models[i], set),
          headLabels(s, set, classes),
          s.classes.length,
        );
        if (Number.isFinite(acc)) out[s.name] = acc;
      });
      return out;
    },
    dispose: () => {
      for (const m of models) m.dispose();
    },
  };
}
