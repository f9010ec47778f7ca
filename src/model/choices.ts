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
