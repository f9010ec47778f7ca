/**
 * The few-shot curve of `faultline eval --few-shot 0,1,5,10,20`: target test
 * accuracy against the number k of LABELLED target windows per class.
 *
 * k = 0 is the label-free adaptation (the dann-im entry of the same task and
 * seed). For k > 0 the model starts from that adapted checkpoint (or, with
 * `start: 'source'`, from the source model) and is fine-tuned
 * (../model/adapt/finetune.ts: lower blocks frozen, low learning rate) on
 * k windows of each class the target has, drawn with the entry's seed from the
 * target's TRAINING split only. The test split — the last 15 % of every target
 * recording — is never drawn from, so the score stays on windows no step saw.
 * The draws are nested (the 5 windows of a class include its 1), so a curve
 * moves with k and not with the luck of each draw.
 */
import { FaultlineError } from '../errors.js';
import { finetune } from '../model/adapt/finetune.js';
import type { Cnn } from '../model/architectures.js';
import { type InputSet, mulberry32, permutation, takeRows } from '../model/inputs.js';
import type * as tf from '../model/tf.js';
import { accuracyOf, disposeAll, predictProbs, snapshotWeights } from '../model/train.js';

/** Where the fine-tuning of k > 0 starts. */
export type FewShotStart = 'adapted' | 'source';
export const FEW_SHOT_STARTS: readonly FewShotStart[] = ['adapted', 'source'];

/** `--few-shot` settings (JSON-serialisable: sent to workers). */
export interface FewShotSettings {
  /** Labelled target windows per class, ascending, e.g. [0, 1, 5, 10, 20]. */
  ks: number[];
  /** Fine-tune from the adapted checkpoint (default) or the source model. */
  start: FewShotStart;
  /** Fine-tuning epochs over the k·classes windows (fixed: a few windows give no trustworthy early stop). */
  epochs: number;
}

/** The default: chosen on development data (models/README.md, "Few-shot"). */
export const DEFAULT_FEW_SHOT: Omit<FewShotSettings, 'ks'> = { start: 'adapted', epochs: 20 };

/** One point of one (task, seed) curve. */
export interface FewShotPoint {
  /** Labelled windows per class asked for. */
  k: number;
  /** Labelled windows used: k per class, fewer for a class whose training split holds fewer. */
  windows: number;
  /** Target test accuracy, fraction. */
  accuracy: number;
}

/** The report's `fewShot` section. */
export interface FewShotReport {
  protocol: string;
  settings: FewShotSettings & { strategy: 'dann-im' };
  /** Per task: for each k, the accuracy of every seed and their mean. */
  tasks: {
    source: string;
    target: string;
    points: { k: number; windows: number; seeds: number[]; accuracies: number[]; mean: number }[];
  }[];
  /** Per k: the mean over tasks and seeds, and the worst entry. */
  summary: { k: number; mean: number; min: number; n: number }[];
}

/**
 * Parses `--few-shot`: non-negative integers, comma-separated; returned sorted
 * without repeats.
 * @throws FaultlineError FL_ERR_EVAL_FEW_SHOT for anything else
 */
export function parseFewShot(spec: string): number[] {
  const parts = spec.split(',').map((s) => s.trim());
  const ks = parts.map(Number);
  if (parts.some((p) => !/^\d+$/.test(p)) || ks.length === 0)
    throw new FaultlineError(
      'FL_ERR_EVAL_FEW_SHOT',
      `--few-shot must list labelled windows per class as integers ≥ 0, e.g. 0,1,5,10,20; got '${spec}'`,
    );
  return [...new Set(ks)].sort((a, b) => a - b);
}

/**
 * The rows of `train` to label for k windows per class: for each class
 * 0…C-1, the first k of a seeded permutation of its rows (all of them when it
 * has fewer). The same seed gives nested draws across k.
 * @returns row indices into `train`, class by class
 */
export function drawShotRows(train: InputSet, k: number, C: number, seed: number): number[] {
  const rand = mulberry32((seed * 0x9e3779b1) ^ 0x5f3759df);
  const rows: number[] = [];
  for (let c = 0; c < C; c++) {
    const of: number[] = [];
    for (let i = 0; i < train.n; i++) if (train.y[i] === c) of.push(i);
    // One permutation per class whatever k is: the draw for k is a prefix of the draw for k' > k.
    const p = permutation(of.length, rand);
    for (let j = 0; j < Math.min(k, of.length); j++) rows.push(of[p[j]]);
  }
  return rows;
}

/**
 * The labelled windows of k per class: rows of the target's TRAINING split
 * (with their labels), never of its validation or test split.
 */
export function shotSet(target: { train: InputSet }, k: number, C: number, seed: number): InputSet {
  return takeRows(target.train, drawShotRows(target.train, k, C, seed));
}

/**
 * The few-shot points of one adapted (task, seed) entry. `cnn` holds the
 * adapted checkpoint on entry and on return; `source` are the source model's
 * weights. `target.train` is the target's training split WITH its labels
 * (only the drawn rows' labels are read), `target.test` the split scored.
 */
export async function fewShotCurve(
  cnn: Cnn,
  source: readonly tf.Tensor[],
  target: { train: InputSet; test: InputSet },
  C: number,
  settings: FewShotSettings,
  seed: number,
  adaptedAccuracy: number,
): Promise<FewShotPoint[]> {
  const adapted = snapshotWeights(cnn.model);
  const points: FewShotPoint[] = [];
  try {
    for (const k of settings.ks) {
      if (k === 0) {
        points.push({ k, windows: 0, accuracy: adaptedAccuracy });
        continue;
      }
      const shots = shotSet(target, k, C, seed);
      cnn.model.setWeights(settings.start === 'source' ? [...source] : adapted);
      // Validation on the shots themselves: the only target labels there are.
      // finetune keeps the epoch of the lowest loss on them (its last, nearly always).
      await finetune(cnn, shots, shots, { epochs: settings.epochs, seed });
      points.push({
        k,
        windows: shots.n,
        accuracy: accuracyOf(predictProbs(cnn.model, target.test), target.test.y, C),
      });
    }
  } finally {
    cnn.model.setWeights(adapted);
    disposeAll(adapted);
  }
  return points;
}

/** The `fewShot` section from the dann-im entries that carry a curve. */
export function fewShotReport(
  settings: FewShotSettings,
  entries: readonly {
    source: string;
    target: string;
    seed: number;
    fewShot?: FewShotPoint[];
  }[],
): FewShotReport {
  const tasks: FewShotReport['tasks'] = [];
  for (const e of entries) {
    if (!e.fewShot) continue;
    let t = tasks.find((x) => x.source === e.source && x.target === e.target);
    if (!t) tasks.push((t = { source: e.source, target: e.target, points: [] }));
    for (const p of e.fewShot) {
      let q = t.points.find((x) => x.k === p.k);
      if (!q)
        t.points.push((q = { k: p.k, windows: p.windows, seeds: [], accuracies: [], mean: 0 }));
      q.seeds.push(e.seed);
      q.accuracies.push(p.accuracy);
      q.mean = q.accuracies.reduce((a, b) => a + b, 0) / q.accuracies.length;
    }
  }
  const summary = settings.ks.map((k) => {
    const all = tasks.flatMap((t) =>
      t.points.filter((p) => p.k === k).flatMap((p) => p.accuracies),
    );
    return {
      k,
      mean: all.reduce((a, b) => a + b, 0) / (all.length || 1),
      min: all.length ? Math.min(...all) : Number.NaN,
      n: all.length,
    };
  });
  return {
    protocol:
      `Target test accuracy against k labelled target windows per class. k = 0: the label-free dann-im adaptation. ` +
      `k > 0: k windows of each class drawn (seeded, nested across k) from the target's training split only, then ` +
      `finetune (lower conv blocks frozen, learning rate 3e-4, ${settings.epochs} epochs) from the ` +
      `${settings.start === 'source' ? 'source model' : 'adapted checkpoint'}. Scored on the target's test split, ` +
      `which no labelled window comes from.`,
    settings: { ...settings, strategy: 'dann-im' },
    tasks,
    summary,
  };
}

const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(2)} %` : '–');

/** The Markdown of the `fewShot` section: a task × k table of means, the summary row, then every seed. */
export function fewShotSection(r: FewShotReport): string[] {
  const ks = r.settings.ks;
  const lines = [
    '## Few-shot: accuracy against labelled target windows per class',
    '',
    r.protocol,
    '',
  ];
  lines.push(`| task | ${ks.map((k) => `k = ${k}`).join(' | ')} |`);
  lines.push(`|---|${ks.map(() => '---').join('|')}|`);
  for (const t of r.tasks)
    lines.push(
      `| ${t.source}→${t.target} | ${ks.map((k) => pct(t.points.find((p) => p.k === k)?.mean ?? Number.NaN)).join(' | ')} |`,
    );
  lines.push(
    `| **mean (min)** | ${r.summary.map((s) => `**${pct(s.mean)}** (${pct(s.min)})`).join(' | ')} |`,
    '',
    '| task | k | labelled windows | seed | accuracy |',
    '|---|---|---|---|---|',
  );
  for (const t of r.tasks)
    for (const p of t.points)
      p.seeds.forEach((s, i) => {
        lines.push(
          `| ${t.source}→${t.target} | ${p.k} | ${p.windows} | ${s} | ${pct(p.accuracies[i])} |`,
        );
      });
  lines.push('');
  return lines;
}
