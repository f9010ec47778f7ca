import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFaultlineError } from '../../src/errors.js';
import {
  auroc,
  binaryDetection,
  type DetectionEntry,
  type DetectionReport,
  summariseDetection,
} from '../../src/eval/detection-metrics.js';
import type { EvalReport, EvalTaskResult } from '../../src/eval/evaluate.js';
import { reportMarkdown } from '../../src/eval/markdown.js';
import { mulberry32 } from '../../src/model/inputs.js';

/** Independent reference: the fraction of (positive, negative) pairs ranked right, ties ½. O(n²). */
function pairwiseAuroc(scores: number[], pos: boolean[]): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!pos[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (pos[j]) continue;
      n++;
      s += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return s / n;
}

test('auroc: hand-computed cases, ties count half', () => {
  // Positives 0.9, 0.5, 0.5; negatives 0.5, 0.2. Pairs: 1, 1, ½, 1, ½, 1 → 5/6.
  assert.ok(
    Math.abs(auroc([0.9, 0.5, 0.5, 0.5, 0.2], [true, true, true, false, false]) - 5 / 6) < 1e-12,
  );
  assert.equal(auroc([3, 4, 1, 2], [true, true, false, false]), 1);
  assert.equal(auroc([3, 4, 1, 2], [false, false, true, true]), 0);
  assert.equal(auroc([7, 7, 7, 7], [true, false, true, false]), 0.5);
  // One group empty: undefined, not 0 or 1.
  assert.ok(Number.isNaN(auroc([1, 2], [true, true])));
  assert.ok(Number.isNaN(auroc([], [])));
});

test('auroc equals the pairwise count on random data with many ties', () => {
  const rand = mulberry32(7);
  for (let trial = 0; trial < 20; trial++) {
    const n = 5 + Math.floor(rand() * 200);
    const scores = Array.from({ length: n }, () => Math.round(rand() * 10) / 10); // 11 levels
    const pos = Array.from({ length: n }, () => rand() < 0.4);
    if (!pos.includes(true) || !pos.includes(false)) continue;
    const a = auroc(scores, pos);
    const b = pairwiseAuroc(scores, pos);
    assert.ok(Math.abs(a - b) < 1e-12, `trial ${trial}: ${a} vs ${b}`);
  }
});

test('auroc rejects corrupt input with FL_ERR_EVAL_INPUT', () => {
  const bad = (f: () => unknown) =>
    assert.throws(f, (e) => isFaultlineError(e, 'FL_ERR_EVAL_INPUT'));
  bad(() => auroc([0.1, Number.NaN], [true, false]));
  bad(() => auroc([0.1, Number.POSITIVE_INFINITY], [true, false]));
  bad(() => auroc([0.1, 0.2], [true]));
});

test('binaryDetection: detection rate, false alarms, balanced accuracy and AUROC of a hand-made case', () => {
  // C = 3, normal = class 2.
  const probs = [
    [0.1, 0.1, 0.8], // normal, kept normal          fault score 0.2
    [0.5, 0.1, 0.4], // normal, flagged: false alarm  0.6
    [0.7, 0.1, 0.2], // fault 0, flagged              0.8
    [0.2, 0.3, 0.5], // fault 1, missed               0.5
    [0.1, 0.6, 0.3], // fault 1, flagged              0.7
    [0, 0, 1], //       unlabelled: skipped
    [0.4, 0.2, 0.4], // fault 0, a tie with normal: kept normal (missed), 0.6
  ].flat();
  const y = [2, 2, 0, 1, 1, -1, 0];
  const m = binaryDetection(probs, y, 3, 2);
  assert.equal(m.windows, 6);
  assert.equal(m.normalWindows, 2);
  assert.equal(m.faultWindows, 4);
  assert.equal(m.detectionRate, 0.5);
  assert.equal(m.falseAlarmRate, 0.5);
  assert.equal(m.balancedAccuracy, 0.5);
  // Fault scores 0.8, 0.5, 0.7, 0.6 against normal 0.2, 0.6: 2 + 1 + 2 + 1.5 of 8 pairs.
  assert.ok(Math.abs(m.auroc - 6.5 / 8) < 1e-12, `auroc ${m.auroc}`);
  // Float32 softmax rows give the same answer.
  const m32 = binaryDetection(Float32Array.from(probs), Int32Array.from(y), 3, 2);
  assert.equal(m32.detectionRate, 0.5);
  assert.ok(Math.abs(m32.auroc - 6.5 / 8) < 1e-12);
});

test('binaryDetection: a perfect detector, empty groups and bad shapes', () => {
  const perfect = binaryDetection([0.9, 0.1, 0.2, 0.8, 0.3, 0.7], [0, 1, 1], 2, 0);
  assert.deepEqual(
    [perfect.detectionRate, perfect.falseAlarmRate, perfect.balancedAccuracy, perfect.auroc],
    [1, 0, 1, 1],
  );
  // No normal windows (CWRU loads 1–3): rates that need them are NaN, never 0.
  const noNormal = binaryDetection([0.1, 0.9, 0.2, 0.8], [1, 1], 2, 0);
  assert.equal(noNormal.detectionRate, 1);
  assert.ok(Number.isNaN(noNormal.falseAlarmRate));
  assert.ok(Number.isNaN(noNormal.balancedAccuracy));
  assert.ok(Number.isNaN(noNormal.auroc));
  const empty = binaryDetection([], [], 3, 0);
  assert.equal(empty.windows, 0);
  assert.ok(Number.isNaN(empty.detectionRate));
  const bad = (f: () => unknown) =>
    assert.throws(f, (e) => isFaultlineError(e, 'FL_ERR_EVAL_INPUT'));
  bad(() => binaryDetection([0.5, 0.5, 0.5], [0, 1], 2, 0)); // 3 values for 2 rows × 2
  bad(() => binaryDetection([0.5, 0.5], [0], 2, 2)); // normal index out of range
  bad(() => binaryDetection([0.5, 0.5], [0], 1, 0)); // C < 2
  bad(() => binaryDetection([0.5, 0.5], [5], 2, 0)); // label out of range
  bad(() => binaryDetection([Number.NaN, 0.5], [0], 2, 0));
});

const entry = (o: Partial<DetectionEntry>): DetectionEntry => ({
  dataset: 'sim',
  source: 'source-1797rpm',
  target: 'target-1200rpm',
  strategy: 'source-only',
  seed: 1,
  classes: ['ball', 'inner', 'normal', 'outer'],
  windows: 100,
  normalWindows: 25,
  faultWindows: 75,
  detectionRate: 0.9,
  falseAlarmRate: 0.2,
  balancedAccuracy: 0.85,
  auroc: 0.9,
  accuracy: 0.7,
  sourceBalancedAccuracy: 1,
  seconds: 3,
  ...o,
});

test('summariseDetection averages each (data, task, strategy) over seeds', () => {
  const s = summariseDetection([
    entry({ seed: 1 }),
    entry({ seed: 2, detectionRate: 0.7, balancedAccuracy: 0.65, auroc: 0.8 }),
    entry({ strategy: 'dann', balancedAccuracy: 0.95 }),
  ]);
  assert.equal(s.length, 2);
  assert.equal(s[0].strategy, 'source-only');
  assert.equal(s[0].n, 2);
  assert.ok(Math.abs(s[0].detectionRate - 0.8) < 1e-12);
  assert.ok(Math.abs(s[0].balancedAccuracy - 0.75) < 1e-12);
  assert.equal(s[0].minBalancedAccuracy, 0.65);
  assert.ok(Math.abs(s[0].auroc - 0.85) < 1e-12);
  assert.equal(s[1].strategy, 'dann');
  assert.equal(s[1].n, 1);
});

const task = (o: Partial<EvalTaskResult>): EvalTaskResult => ({
  source: 'load1',
  target: 'load0',
  strategy: 'source-only',
  seed: 1,
  accuracy: 0.5,
  sourceAccuracy: 1,
  seconds: 10,
  windows: 288,
  confusion: [],
  ...o,
});

function report(detection?: DetectionReport): EvalReport {
  const tasks = [
    task({ seed: 1, accuracy: 0.9 }),
    task({ seed: 2, accuracy: 0.8 }),
    task({ strategy: 'dann', seed: 1, accuracy: 0.95, sourceAccuracy: 0.99, selectedStep: 150 }),
    task({ strategy: 'dann', seed: 2, accuracy: 0.9775, selectedStep: 300 }),
  ];
  return {
    command: 'faultline eval cwru',
    createdAt: '2026-01-01T00:00:00.000Z',
    dataset: 'cwru',
    backend: 'cpu',
    protocol: 'p',
    classes: ['IR007'],
    domainClasses: { load0: ['IR007', 'normal'], load1: ['IR007'] },
    frontEnd: {} as EvalReport['frontEnd'],
    settings: {} as EvalReport['settings'],
    tasks,
    summary: {},
    totalSeconds: 1,
    ...(detection ? { detection } : {}),
  };
}

test('the Markdown report lists every seed, and the detection section only when run', () => {
  const md = reportMarkdown(report());
  assert.match(md, /## Every seed/);
  const rows = md.split('\n').filter((l) => l.startsWith('| load1→load0 |'));
  // 1 mean row + 4 per-seed rows.
  assert.equal(rows.length, 5);
  assert.ok(rows.includes('| load1→load0 | source-only | 1 | 90.00 % | 100.00 % | 10 | 288 | – |'));
  assert.ok(rows.includes('| load1→load0 | source-only | 2 | 80.00 % | 100.00 % | 10 | 288 | – |'));
  assert.ok(rows.includes('| load1→load0 | dann | 1 | 95.00 % | 99.00 % | 10 | 288 | 150 |'));
  assert.ok(rows.includes('| load1→load0 | dann | 2 | 97.75 % | 100.00 % | 10 | 288 | 300 |'));
  // The mean row is still the first: (90 + 80) / 2 and (95 + 97.75) / 2.
  assert.match(rows[0], /^\| load1→load0 \| 85\.00 % \(100\.00 %\) \| 96\.38 % \(99\.50 %\) \|/);
  assert.doesNotMatch(md, /Normal-versus-fault/);

  const entries = [
    entry({ dataset: 'cwru', source: 'load0', target: 'load0', strategy: 'in-domain' }),
    entry({ seed: 1 }),
    entry({ seed: 2, falseAlarmRate: Number.NaN, auroc: Number.NaN }),
  ];
  const withDet = reportMarkdown(
    report({
      protocol: 'Detection protocol text.',
      normalClass: 'normal',
      coverage: { withNormal: ['load0'], withoutNormal: ['load1', 'load2', 'load3'] },
      simulator: {
        source: 'source-1797rpm',
        targets: ['target-1200rpm'],
        secondsPerClass: 10,
        classes: ['ball', 'inner', 'normal', 'outer'],
      },
      entries,
      summary: summariseDetection(entries),
    }),
  );
  assert.match(withDet, /## Normal-versus-fault detection\n\nDetection protocol text\./);
  assert.match(withDet, /Without \(not scored\): load1, load2, load3\./);
  assert.ok(
    withDet.includes(
      '| cwru | load0→load0 | in-domain | 1 | 90.00 % | 20.00 % | 85.00 % | 0.9000 | 70.00 % | 100.00 % | 25 / 75 | 3 |',
    ),
  );
  // A NaN (no normal windows) prints as a dash, not "NaN %".
  assert.ok(
    withDet.includes(
      '| sim | source-1797rpm→target-1200rpm | source-only | 2 | 90.00 % | – | 85.00 % | – |',
    ),
  );
  assert.doesNotMatch(withDet, /NaN/);
});
