/**
 * Promotion guards of an adapted model. An adaptation may make things worse
 * in two ways no target label can show at deployment: it may forget the
 * source task (catastrophic forgetting, measured on the source validation
 * split) or push target predictions into a worse state (negative transfer,
 * measured label-free by the IM score of ./selection.ts and class collapse).
 * A failed guard keeps the candidate on disk but marks it not promoted, and
 * `faultline adapt` exits with FL_ERR_ADAPT_GUARD saying why.
 */
import type { PredictionStats } from './selection.js';

export interface GuardOptions {
  /** Largest allowed drop of source validation accuracy (fraction); default 0.02. */
  maxSourceDrop?: number;
  /** Largest allowed drop of the target IM score; default 0.05. */
  maxImDrop?: number;
  /** Smallest allowed target marginal entropy (collapse onto few classes); default 0.5. */
  minMarginalEntropy?: number;
}

export interface GuardResult {
  name: string;
  passed: boolean;
  detail: string;
}

export interface GuardInput {
  sourceAccuracyBefore: number;
  sourceAccuracyAfter: number;
  targetBefore: PredictionStats;
  targetAfter: PredictionStats;
}

/** Evaluates every guard; the model may be promoted when all pass. */
export function evaluateGuards(input: GuardInput, options: GuardOptions = {}): GuardResult[] {
  const { maxSourceDrop = 0.02, maxImDrop = 0.05, minMarginalEntropy = 0.5 } = options;
  const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
  const drop = input.sourceAccuracyBefore - input.sourceAccuracyAfter;
  const imDrop = input.targetBefore.im - input.targetAfter.im;
  return [
    {
      name: 'source-forgetting',
      passed: drop <= maxSourceDrop,
      detail: `source validation accuracy ${pct(input.sourceAccuracyBefore)} → ${pct(input.sourceAccuracyAfter)} (allowed drop ${pct(maxSourceDrop)})`,
    },
    {
      name: 'negative-transfer',
      passed: imDrop <= maxImDrop,
      detail: `target IM score (label-free) ${input.targetBefore.im.toFixed(3)} → ${input.targetAfter.im.toFixed(3)} (allowed drop ${maxImDrop})`,
    },
    {
      name: 'class-collapse',
      passed: input.targetAfter.marginalEntropy >= minMarginalEntropy,
      detail: `target marginal prediction entropy ${input.targetAfter.marginalEntropy.toFixed(3)} of 1 (minimum ${minMarginalEntropy})`,
    },
  ];
}
