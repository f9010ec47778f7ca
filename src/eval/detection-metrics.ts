/**
 * Normal-versus-fault detection scores of a multi-class model, and the
 * `detection` part of the evaluation report.
 *
 * A model with a `normal` class is read as a binary detector: a window is
 * flagged as faulty when some fault class is more probable than `normal`
 * (the class the model would name is a fault), and its fault score for the
 * ROC curve is 1 − P(normal). Pure functions over the softmax rows; no
 * tensors, so they are tested against hand-computed cases.
 */
import { FaultlineError } from '../errors.js';

/** Label of the healthy class in CWRU and in the simulator. */
export const NORMAL_CLASS = 'normal';

/** Binary detection scores over one test split. Rates are fractions; NaN when their group is empty. */
export interface DetectionMetrics {
  /** Labelled windows scored. */
  windows: number;
  normalWindows: number;
  faultWindows: number;
  /** Fault windows flagged as faulty (recall of "fault"). */
  detectionRate: number;
  /** Normal windows flagged as faulty. */
  falseAlarmRate: number;
  /** (detectionRate + 1 − falseAlarmRate) / 2: accuracy with both groups weighted equally. */
  balancedAccuracy: number;
  /**
   * Area under the ROC curve of the fault score 1 − P(normal) (fault windows
   * positive), ties counted half: the chance a random fault window scores
   * above a random normal one, whatever threshold is later chosen.
   */
  auroc: number;
}

/**
 * Area under the ROC curve: the Mann–Whitney U statistic over average ranks,
 * so tied scores count 1/2. O(n log n).
 * @param scores higher = more likely positive
 * @param positive one flag per score
 * @returns a fraction in [0, 1]; NaN when either group is empty
 * @throws FaultlineError FL_ERR_EVAL_INPUT on a length mismatch or a non-finite score
 */
export function auroc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number {
  const n = scores.length;
  if (positive.length !== n) {
    throw new FaultlineError(
      'FL_ERR_EVAL_INPUT',
      `auroc: ${n} scores but ${positive.length} labels; pass one label per score`,
    );
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(scores[i]))
      throw new FaultlineError(
        'FL_ERR_EVAL_INPUT',
        `auroc: score ${i} is ${scores[i]}; every score must be finite`,
      );
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let nPos = 0;
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    const rank = (i + j) / 2 + 1; // average 1-based rank of the tie group i…j
    for (let k = i; k <= j; k++) {
      if (positive[order[k]]) {
        nPos++;
        rankSum += rank;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * Scores softmax rows `probs` `[n × C]` (row-major) as a normal-versus-fault
 * detector. A window is flagged when a fault class has a strictly higher
 * probability than `normalIndex` (a tie keeps it normal). Rows with a
 * negative label are skipped.
 * @param y class index per row, `normalIndex` = healthy
 * @throws FaultlineError FL_ERR_EVAL_INPUT on mismatched shapes, a bad
 *   `normalIndex` or a non-finite probability
 */
export function binaryDetection(
  probs: ArrayLike<number>,
  y: ArrayLike<number>,
  C: number,
  normalIndex: number,
): DetectionMetrics {
  if (!Number.isInteger(C) || C < 2 || probs.length !== y.length * C) {
    throw new FaultlineError(
      'FL_ERR_EVAL_INPUT',
      `binaryDetection: ${probs.length} probabilities for ${y.length} labels and C = ${C}; expected labels × C`,
    );
  }
  if (!Number.isInteger(normalIndex) || normalIndex < 0 || normalIndex >= C) {
    throw new FaultlineError(
      'FL_ERR_EVAL_INPUT',
      `binaryDetection: normal class index ${normalIndex} is not in 0…${C - 1}`,
    );
  }
  const score: number[] = [];
  const isFault: boolean[] = [];
  let normal = 0;
  let fault = 0;
  let hits = 0;
  let falseAlarms = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] < 0) continue;
    if (y[i] >= C)
      throw new FaultlineError(
        'FL_ERR_EVAL_INPUT',
        `binaryDetection: label ${y[i]} of row ${i} is not in 0…${C - 1}`,
      );
    const pn = probs[i * C + normalIndex];
    let flagged = false;
    for (let c = 0; c < C; c++) {
      const p = probs[i * C + c];
      if (!Number.isFinite(p))
        throw new FaultlineError(
          'FL_ERR_EVAL_INPUT',
          `binaryDetection: probability [${i}][${c}] is ${p}`,
        );
      if (c !== normalIndex && p > pn) flagged = true;
    }
    const f = y[i] !== normalIndex;
    if (f) {
      fault++;
      if (flagged) hits++;
    } else {
      normal++;
      if (flagged) falseAlarms++;
    }
    score.push(1 - pn);
    isFault.push(f);
  }
  const detectionRate = fault === 0 ? Number.NaN : hits / fault;
  const falseAlarmRate = normal === 0 ? Number.NaN : falseAlarms / normal;
  return {
    windows: normal + fault,
    normalWindows: normal,
    faultWindows: fault,
    detectionRate,
    falseAlarmRate,
    balancedAccuracy: (detectionRate + 1 - falseAlarmRate) / 2,
    auroc: auroc(score, isFault),
  };
}

/** One line of the report's `detection.entries`: one model, one target, one seed. */
export interface DetectionEntry extends DetectionMetrics {
  /** Where the windows came from: `cwru`, `byo` (a bring-your-own folder) or `sim` (the simulator). */
  dataset: 'cwru' | 'byo' | 'sim';
  /** Domain the model was trained on (labelled). */
  source: string;
  /** Domain whose test split is scored (= source for in-domain detection). */
  target: string;
  /** `in-domain` (trained and tested on one domain), `source-only` or `dann` (cross-domain). */
  strategy: 'in-domain' | 'source-only' | 'dann';
  seed: number;
  /** Classes of the model, `normal` among them. */
  classes: string[];
  /** Multi-class accuracy on the same target test windows (normal included), fraction. */
  accuracy: number;
  /** Balanced detection accuracy of the same model on the source test split, fraction. */
  sourceBalancedAccuracy: number;
  /** Wall time: source training (in-domain, source-only) or the adaptation (dann), s. */
  seconds: number;
  /** dann: step of the checkpoint kept by label-free selection. */
  selectedStep?: number;
}

/** Means over seeds of one (dataset, source, target, strategy). */
export interface DetectionSummary {
  dataset: DetectionEntry['dataset'];
  source: string;
  target: string;
  strategy: DetectionEntry['strategy'];
  /** Seeds averaged. */
  n: number;
  detectionRate: number;
  falseAlarmRate: number;
  balancedAccuracy: number;
  /** Lowest balanced accuracy over the seeds. */
  minBalancedAccuracy: number;
  auroc: number;
}

/** The report's `detection` field (absent when the evaluation ran with `--no-detection`). */
export interface DetectionReport {
  /** What is scored, on which data, and what cannot be scored. */
  protocol: string;
  /** The healthy class. */
  normalClass: string;
  /** Domains of the evaluated data set with normal windows (scored in-domain) and without (not scored). */
  coverage: { withNormal: string[]; withoutNormal: string[] };
  /** Simulated machines: source condition, target conditions, recording length per class and condition, s. */
  simulator: { source: string; targets: string[]; secondsPerClass: number; classes: string[] };
  entries: DetectionEntry[];
  summary: DetectionSummary[];
}

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** Groups entries by (dataset, source, target, strategy), in first-seen order, and averages over seeds. */
export function summariseDetection(entries: readonly DetectionEntry[]): DetectionSummary[] {
  const groups = new Map<string, DetectionEntry[]>();
  for (const e of entries) {
    const k = `${e.dataset}|${e.source}|${e.target}|${e.strategy}`;
    const g = groups.get(k);
    if (g) g.push(e);
    else groups.set(k, [e]);
  }
  return [...groups.values()].map((g) => ({
    dataset: g[0].dataset,
    source: g[0].source,
    target: g[0].target,
    strategy: g[0].strategy,
    n: g.length,
    detectionRate: mean(g.map((e) => e.detectionRate)),
    falseAlarmRate: mean(g.map((e) => e.falseAlarmRate)),
    balancedAccuracy: mean(g.map((e) => e.balancedAccuracy)),
    minBalancedAccuracy: Math.min(...g.map((e) => e.balancedAccuracy)),
    auroc: mean(g.map((e) => e.auroc)),
  }));
}
