import { FaultlineError } from '../errors.js';

/**
 * Names the command line offers (CNN variants, evaluation strategies), kept
 * apart from the modules that implement them so that listing them in `--help`
 * does not load tfjs: the gateway's main thread never needs it.
 */

/** CNN variants of ./architectures.ts. */
export type CnnVariant = 'reference' | 'strided' | 'slim' | 'strided_wide';
export const CNN_VARIANTS: readonly CnnVariant[] = ['reference', 'strided', 'slim', 'strided_wide'];

/**
 * Strategies `faultline eval` compares (../eval/evaluate.ts); past source-only,
 * the label-free alignments of ./adapt/align.ts (cdan = CDAN+E, dann-ent /
 * dann-im = DANN plus target entropy / information maximisation).
 */
export type EvalStrategy = 'source-only' | 'dann' | 'mmd' | 'cdan' | 'dann-ent' | 'dann-im';
export const EVAL_STRATEGIES: readonly EvalStrategy[] = [
  'source-only',
  'dann',
  'mmd',
  'cdan',
  'dann-ent',
  'dann-im',
];

/** The class mix dann-im's diversity term expects of the target (./adapt/align.ts). */
export type ClassPrior = 'source' | 'uniform';
export const CLASS_PRIORS: readonly ClassPrior[] = ['source', 'uniform'];

/** Auxiliary heads of a multi-task model (./heads.ts). */
export const HEAD_NAMES = ['location', 'size', 'condition'] as const;
export type HeadName = (typeof HEAD_NAMES)[number];

/** One auxiliary head as faultline.json records it. */
export interface HeadSpec {
  name: HeadName;
  /** Output classes, in the order of the head's softmax. */
  classes: string[];
  /** Name of the nested classifier model in the saved topology. */
  classifierLayer: string;
}

/**
 * Parses `--heads`: comma-separated names of HEAD_NAMES, no repeats. An empty
 * list is no auxiliary head (the single-head model of today).
 * @throws FaultlineError FL_ERR_CLI_USAGE naming the bad entry
 */
export function parseHeads(spec: string | undefined): HeadName[] {
  if (spec === undefined || spec.trim() === '' || spec.trim() === 'none') return [];
  const out: HeadName[] = [];
  for (const raw of spec.split(',')) {
    const name = raw.trim() as HeadName;
    if (!HEAD_NAMES.includes(name))
      throw new FaultlineError(
        'FL_ERR_CLI_USAGE',
        `--heads: unknown head '${raw.trim()}'; use a comma-separated list of ${HEAD_NAMES.join(', ')}`,
      );
    if (out.includes(name))
      throw new FaultlineError('FL_ERR_CLI_USAGE', `--heads: '${name}' twice`);
    out.push(name);
  }
  return out;
}
