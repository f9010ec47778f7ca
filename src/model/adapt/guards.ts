/**
 * Promotion guards of an adapted model. An adaptation may make things worse
 * in ways no target label can show at deployment: it may forget the source
 * task (catastrophic forgetting, measured on the source validation split) or
 * push target predictions into a worse state (negative transfer, measured
 * label-free). A failed guard keeps the candidate on disk but marks it not
 * promoted, and `faultline adapt` exits with FL_ERR_ADAPT_GUARD saying why.
 *
 * Two kinds of target, two guard sets (`targetKind`):
 *
 * `dataset` — several machines or recordings, so every class is expected in
 * the target. Forgetting, IM score not down (negative transfer), and class
 * collapse: the mean target prediction must spread over the classes
 * (marginal entropy ≥ 0.5), since a model that calls a whole fleet "outer
 * race" has collapsed.
 *
 * `single-machine` — the gateway's on-the-spot adaptation: N seconds of ONE
 * machine, which is in one state (healthy, or one fault) for that time. Its
 * windows SHOULD all get one class, so class collapse and the IM score (whose
 * marginal-entropy term rewards spreading predictions over classes) would
 * refuse exactly the adaptations that work. What a reliability engineer can
 * accept without labels instead:
 * - source-forgetting: as above — the model still knows the labelled faults.
 * - negative-transfer: the adapted model is not less sure about this machine
 *   than the model it replaces (mean normalised prediction entropy on the
 *   collected windows not up by more than `maxEntropyRise`). Adapting to a
 *   machine's conditions should make its windows look more like known data,
 *   not less.
 * - verdict-stability: one verdict across the collected windows — at least
 *   `minMajorityShare` of them get the majority class. A model that flips
 *   between classes from one second to the next on a machine in one state
 *   would raise and clear alarms at random.
 * - verdict-agreement: the adapted model's majority class is the source
 *   model's, unless the source model was unsure (its majority share below
 *   `minMajorityShare` or its mean entropy above `maxSureEntropy`). Without
 *   labels, "adaptation corrected a confident source model" cannot be told
 *   from "adaptation broke it", and a silent change of diagnosis (healthy →
 *   outer race, or a fault → healthy) is the costly error either way; so
 *   such a candidate is kept but not switched to, and a person decides (the
 *   console's promote with audit). When the source model was unsure, a
 *   confident, stable new verdict is what adaptation is for.
 */
import type { PredictionStats } from './selection.js';

/** What the target data is: several machines/recordings, or one live machine. */
export type TargetKind = 'dataset' | 'single-machine';

export interface GuardOptions {
  /** Largest allowed drop of source validation accuracy (fraction); default 0.02. */
  maxSourceDrop?: number;
  /** dataset: largest allowed drop of the target IM score; default 0.05. */
  maxImDrop?: number;
  /** dataset: smallest allowed target marginal entropy (collapse onto few classes); default 0.5. */
  minMarginalEntropy?: number;
  /** single-machine: largest allowed rise of mean normalised target entropy (0–1); default 0.05. */
  maxEntropyRise?: number;
  /** single-machine: smallest share of windows with the majority class (after; and for the source to count as sure); default 0.8. */
  minMajorityShare?: number;
  /** single-machine: largest mean normalised entropy for the source model to count as sure; default 0.5. */
  maxSureEntropy?: number;
}

export interface GuardResult {
  name: string;
  passed: boolean;
  detail: string;
}

/** The class most windows get and how unanimous that is. */
export interface Verdict {
  /** Class index most windows are assigned to (-1 without windows). */
  majority: number;
  /** Share of windows assigned to `majority`, 0–1. */
  share: number;
}

export interface GuardInput {
  sourceAccuracyBefore: number;
  sourceAccuracyAfter: number;
  targetBefore: PredictionStats;
  targetAfter: PredictionStats;
  /** single-machine: per-window verdicts of the source and adapted model on the target. */
  verdictBefore?: Verdict;
  verdictAfter?: Verdict;
  /** Class names for the details; default class indices. */
  classes?: readonly string[];
}

/** Majority class of softmax outputs `[n × C]` and its share of the windows. */
export function verdictOf(probs: Float32Array, C: number): Verdict {
  const n = Math.floor(probs.length / C);
  if (n === 0) return { majority: -1, share: 0 };
  const counts = new Int32Array(C);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (probs[i * C + c] > probs[i * C + best]) best = c;
    counts[best]++;
  }
  let majority = 0;
  for (let c = 1; c < C; c++) if (counts[c] > counts[majority]) majority = c;
  return { majority, share: counts[majority] / n };
}

/**
 * Evaluates every guard of `kind`; the model may be promoted when all pass.
 * single-machine needs `verdictBefore`/`verdictAfter` (a missing one fails its guards).
 */
export function evaluateGuards(
  input: GuardInput,
  options: GuardOptions = {},
  kind: TargetKind = 'dataset',
): GuardResult[] {
  const { maxSourceDrop = 0.02 } = options;
  const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
  const drop = input.sourceAccuracyBefore - input.sourceAccuracyAfter;
  const forgetting: GuardResult = {
    name: 'source-forgetting',
    // NaN (no source accuracy) fails: nothing shows the task was kept.
    passed: drop <= maxSourceDrop,
    detail: `source validation accuracy ${pct(input.sourceAccuracyBefore)} → ${pct(input.sourceAccuracyAfter)} (allowed drop ${pct(maxSourceDrop)})`,
  };
  if (kind === 'single-machine') return [forgetting, ...singleMachineGuards(input, options)];
  const { maxImDrop = 0.05, minMarginalEntropy = 0.5 } = options;
  const imDrop = input.targetBefore.im - input.targetAfter.im;
  return [
    forgetting,
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

function singleMachineGuards(input: GuardInput, options: GuardOptions): GuardResult[] {
  const { maxEntropyRise = 0.05, minMajorityShare = 0.8, maxSureEntropy = 0.5 } = options;
  const name = (c: number | undefined) =>
    c === undefined || c < 0 ? 'none' : (input.classes?.[c] ?? `class ${c}`);
  const pct = (v: number) => `${(v * 100).toFixed(0)} %`;
  const hBefore = input.targetBefore.meanEntropy;
  const hAfter = input.targetAfter.meanEntropy;
  const before = input.verdictBefore;
  const after = input.verdictAfter;
  const sourceSure =
    before !== undefined && before.share >= minMajorityShare && hBefore <= maxSureEntropy;
  const agree = before !== undefined && after !== undefined && after.majority === before.majority;
  return [
    {
      name: 'negative-transfer',
      passed: hAfter - hBefore <= maxEntropyRise,
      // Details keep the console's `measure a → b (limit)` / `measure v (limit)` forms.
      detail: `mean normalised prediction entropy on the machine's windows ${hBefore.toFixed(3)} → ${hAfter.toFixed(3)} (allowed rise ${maxEntropyRise})`,
    },
    {
      name: 'verdict-stability',
      passed: after !== undefined && after.share >= minMajorityShare,
      detail: `share of the machine's windows given its majority class (${name(after?.majority)}) ${pct(after?.share ?? 0)} (minimum ${pct(minMajorityShare)})`,
    },
    {
      name: 'verdict-agreement',
      passed: after !== undefined && (agree || (before !== undefined && !sourceSure)),
      detail:
        `majority class ${name(before?.majority)} (${pct(before?.share ?? 0)}, entropy ${hBefore.toFixed(3)}) → ${name(after?.majority)}` +
        (agree
          ? ''
          : sourceSure
            ? `: the source model was sure (≥ ${pct(minMajorityShare)}, entropy ≤ ${maxSureEntropy}); a changed diagnosis needs a person to promote it`
            : ': the source model was unsure, a new verdict is allowed'),
    },
  ];
}
