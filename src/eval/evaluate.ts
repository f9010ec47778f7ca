/**
 * Cross-domain evaluation: for each task (source domain → target domain),
 * strategy and seed, train on labelled source windows, adapt with UNLABELLED
 * target windows (train split of the target recordings), and score on the
 * target's held-out test split. Target labels are only used for that final
 * score and for the report's `oracle` (the checkpoint a target-labelled
 * selection would have kept), never for a choice. Splits are time-ordered
 * within each recording. Source and target may come from different folders
 * (./eval-data.ts).
 *
 * The unit of work is one (source domain, seed): the source model is trained
 * once, scored as `source-only` on every target of that source, then copied
 * and adapted once per target and strategy. Units run in worker threads (one
 * backend each) so both cores work when the backend is single-threaded.
 */
import os from 'node:os';
import { createFrontEnd, type FrontEndConfig } from '../dsp/frontend.js';
import { FaultlineError } from '../errors.js';
import { alignDomains } from '../model/adapt/align.js';
import type { Checkpoint } from '../model/adapt/selection.js';
import type { CnnVariant } from '../model/architectures.js';
import { initBackend } from '../model/backend.js';
import { type ClassPrior, EVAL_STRATEGIES, type EvalStrategy } from '../model/choices.js';
import {
  classesByDomain,
  type DomainSplits,
  prepareDomain,
  speedAugmentFor,
} from '../model/domains.js';
import type { HeadName } from '../model/heads.js';
import { medianLevel, readsLevels, shiftSplits } from '../model/level.js';
import {
  accuracyOf,
  buildSeededCnn,
  confusionMatrix,
  disposeAll,
  predictProbs,
  restoreWeights,
  snapshotWeights,
  trainClassifier,
} from '../model/train.js';
import {
  type DetectionJob,
  detectionProtocol,
  planDetection,
  runDetectionJob,
  runDetectionJobInWorker,
  SIM_DETECTION,
} from './detection.js';
import {
  type DetectionEntry,
  type DetectionReport,
  summariseDetection,
} from './detection-metrics.js';
import { type EvalData, type EvalDataSpec, evalDataSpec, loadSettingsData } from './eval-data.js';
import { unitHeads } from './eval-heads.js';
import {
  type FewShotPoint,
  type FewShotReport,
  type FewShotSettings,
  fewShotCurve,
  fewShotReport,
} from './few-shot.js';
import { chooseFrontEnd, type FrontEndChoice, SAME_RIG_SHIFT } from './front-end-choice.js';
import { oracleOf } from './oracle.js';
import { runWorkerJob } from './worker-thread.js';

export { EVAL_STRATEGIES, type EvalStrategy };

export interface EvalTask {
  source: string;
  target: string;
}

/** Settings of one evaluation (JSON-serialisable: sent to workers). */
export interface EvalSettings {
  /** The data folder, or a description of the folders when `data` has two. */
  dataset: string;
  labelColumn?: string;
  /**
   * Folders, domains and label map (./eval-data.ts). Absent: the one folder
   * `dataset` with `labelColumn`, every domain, labels as they are.
   */
  data?: EvalDataSpec;
  classes?: string[];
  tasks: EvalTask[];
  strategies: EvalStrategy[];
  seeds: number[];
  frontEnd: FrontEndConfig;
  /**
   * `--mode auto`: the time-mode front end of tasks whose target runs like
   * their source (same rig, same speed); the others take `frontEnd` (order
   * mode). Chosen per task without labels (./front-end-choice.ts).
   */
  timeFrontEnd?: FrontEndConfig;
  /**
   * `--mode auto --normalisation auto`: the order-mode front end for
   * order-mode tasks whose target rings like the source (the same rig at
   * another speed), normalised by SAME_RIG_NORMALISATION; tasks across rigs
   * keep `frontEnd`.
   */
  sameRigFrontEnd?: FrontEndConfig;
  variant: CnnVariant;
  epochs: number;
  adaptSteps: number;
  workers: number;
  /** Also score normal-versus-fault detection (./detection.ts); default false here, on in the CLI. */
  detection?: boolean;
  /** Order mode: speed factors of the extra source training windows (./domains.ts); default `auto`. */
  speedAugment?: readonly number[] | 'auto';
  /** dann-im: the class mix expected of the target (./adapt/align.ts); default `source`. */
  classPrior?: ClassPrior;
  /** `--few-shot`: the labelled-windows curve on each dann-im entry (./few-shot.ts); absent = none. */
  fewShot?: FewShotSettings;
  /** Auxiliary heads trained with the primary one (./eval-heads.ts); default none. */
  heads?: HeadName[];
}

/** One line of the report's `tasks`. */
export interface EvalTaskResult {
  source: string;
  target: string;
  strategy: EvalStrategy;
  seed: number;
  /** Target test accuracy, fraction. */
  accuracy: number;
  /** Source test accuracy of the same model (after adaptation for dann/mmd), fraction. */
  sourceAccuracy: number;
  /** Wall time of this entry: source training (source-only) or the adaptation (dann/mmd), s. */
  seconds: number;
  /** Target test windows scored. */
  windows: number;
  /** Confusion matrix [true][predicted] on the target test split, in `classes` order. */
  confusion: number[][];
  /** `--heads`: each auxiliary head's target test accuracy (./eval-heads.ts), fraction. */
  heads?: Record<string, number>;
  /** Step of the checkpoint kept by label-free selection (dann/mmd). */
  selectedStep?: number;
  /** Label-free signals of the unadapted (step 0) and the kept checkpoint (dann/mmd…). */
  labelFree?: { unadapted: Checkpoint; selected: Checkpoint };
  /**
   * For the report only (dann/mmd…): the checkpoint a selection WITH target
   * labels would have kept — the highest target test accuracy among the same
   * scored checkpoints (step 0 = unadapted included; the earliest on ties).
   * `oracle.accuracy − accuracy` is the price of choosing without labels.
   */
  oracle?: { step: number; accuracy: number };
  /** `--mode auto`: the mode this task's model used and what chose it (./front-end-choice.ts). */
  frontEnd?: FrontEndChoice;
  /** `--few-shot`, dann-im entries: target test accuracy per k labelled windows per class (./few-shot.ts). */
  fewShot?: FewShotPoint[];
}

export interface EvalSummary {
  mean: number;
  std: number;
  min: number;
  n: number;
}

export interface EvalReport {
  command: string;
  createdAt: string;
  dataset: string;
  backend: string;
  protocol: string;
  classes: string[];
  /** Classes each domain has (no class is filled from another domain). */
  domainClasses: Record<string, string[]>;
  /** What was loaded: folders, their domains (as named in `tasks`), label column and map. */
  data?: EvalDataSpec & { sourceDomains: string[]; targetDomains: string[] };
  frontEnd: FrontEndConfig;
  settings: Omit<EvalSettings, 'frontEnd' | 'dataset'>;
  tasks: EvalTaskResult[];
  summary: Record<string, EvalSummary>;
  /** Normal-versus-fault detection, apart from `tasks` (./detection-metrics.ts); absent when not run. */
  detection?: DetectionReport;
  /** `--few-shot`: accuracy against labelled target windows per class (./few-shot.ts); absent when not run. */
  fewShot?: FewShotReport;
  totalSeconds: number;
}

interface Unit {
  source: string;
  seed: number;
  targets: string[];
  /** `--mode auto`: the mode of this unit's source model (tasks that chose alike share one). */
  mode?: 'time' | 'order';
  /** `--normalisation auto`: an order-mode unit on the source's rig (sameRigFrontEnd). */
  sameRig?: boolean;
  /** `--mode auto`: the choice per target, for the report. */
  choices?: Record<string, FrontEndChoice>;
}

/**
 * Parses `--tasks`: `source:target` pairs, comma-separated. A source must be
 * one of `data.sourceDomains`, a target one of `data.targetDomains`; a name
 * may leave out its folder prefix (`load3` for `cwru/load3`) when that is
 * unambiguous, and a digit stands for a CWRU load (`3` → `load3`).
 * Without a spec: every (source domain, target domain) pair with different
 * domains — for one folder, every ordered pair of its domains (CWRU: the 12
 * cross-load tasks).
 * @throws FaultlineError FL_ERR_EVAL_TASKS for a malformed pair, an unknown
 *   domain, a task from a domain to itself, or no task at all
 */
export function parseTasks(
  spec: string | undefined,
  data: Pick<EvalData, 'sourceDomains' | 'targetDomains'>,
): EvalTask[] {
  const usage = (m: string) => new FaultlineError('FL_ERR_EVAL_TASKS', m);
  if (!spec) {
    const tasks = data.sourceDomains.flatMap((s) =>
      data.targetDomains.filter((t) => t !== s).map((t) => ({ source: s, target: t })),
    );
    if (tasks.length === 0)
      throw usage(
        `no task: the source domains (${data.sourceDomains.join(', ')}) and target domains (${data.targetDomains.join(', ')}) give no pair of different domains`,
      );
    return tasks;
  }
  const resolve = (name: string, side: readonly string[], which: string): string => {
    if (side.includes(name)) return name;
    const bare = (d: string) => d.slice(d.lastIndexOf('/') + 1);
    const hits = side.filter(
      (d) => bare(d) === name || (/^\d$/.test(name) && bare(d) === `load${name}`),
    );
    if (hits.length === 1) return hits[0];
    throw usage(
      hits.length > 1
        ? `${which} domain '${name}' is ambiguous (${hits.join(', ')}); give the full name`
        : `${which} domain '${name}' is not in the data (${which} domains: ${side.join(', ')})`,
    );
  };
  return spec.split(',').map((part) => {
    const m = /^([^:]+):([^:]+)$/.exec(part.trim());
    if (!m) throw usage(`task '${part}' is not <source>:<target>`);
    const task = {
      source: resolve(m[1].trim(), data.sourceDomains, 'source'),
      target: resolve(m[2].trim(), data.targetDomains, 'target'),
    };
    if (task.source === task.target) throw usage(`task '${part}' has the same source and target`);
    return task;
  });
}

/** Runs one (source, seed) unit in this thread. */
export async function runUnit(
  settings: EvalSettings,
  unit: Unit,
  log: (m: string) => void = () => {},
): Promise<EvalTaskResult[]> {
  await initBackend({ log: () => {} });
  const { recordings } = await loadSettingsData(settings);
  const fe = createFrontEnd(
    unit.mode === 'time' && settings.timeFrontEnd
      ? settings.timeFrontEnd
      : unit.sameRig && settings.sameRigFrontEnd
        ? settings.sameRigFrontEnd
        : settings.frontEnd,
  );
  const byDomain = classesByDomain(recordings);
  const classes = (settings.classes ?? byDomain[unit.source]).filter((c) =>
    byDomain[unit.source]?.includes(c),
  );
  const C = classes.length;
  const srcRaw = prepareDomain(recordings, [unit.source], classes, fe, undefined, {
    speedFactors: speedAugmentFor(fe.config, settings.speedAugment),
  });
  // Level-reading front ends: the source model reads levels relative to its
  // source's median window, an adapted one relative to its target's (../model/level.ts).
  const levels = readsLevels(fe.config);
  const sourceLevel = levels ? medianLevel(srcRaw.train, srcRaw.plainTrain) : 0;
  const src = shiftSplits(srcRaw, sourceLevel);
  const tgts = new Map<string, DomainSplits>();
  for (const t of unit.targets)
    tgts.set(
      t,
      prepareDomain(
        recordings,
        [t],
        classes.filter((c) => byDomain[t]?.includes(c)),
        fe,
      ),
    );
  // Target windows are labelled with indices of `classes` (a class the target lacks never appears).
  for (const [t, d] of tgts)
    remapLabels(
      d,
      classes.filter((c) => byDomain[t]?.includes(c)),
      classes,
    );

  const cnn = buildSeededCnn([...fe.inputShape], C, settings.variant, unit.seed);
  const conditions = [...new Set(recordings.map((r) => r.domain))];
  const heads = unitHeads(settings.heads ?? [], cnn, classes, conditions, unit.seed);
  if (heads.dropped.length > 0) log(`heads left out: ${heads.dropped.join(', ')}`);
  const aux = heads.training(src.train);
  const tr = await trainClassifier(cnn.model, src.train, src.val, {
    epochs: settings.epochs,
    seed: unit.seed,
    ...(aux ? { heads: aux } : {}),
  });
  log(
    `${unit.source} seed ${unit.seed}${unit.mode ? ` (${unit.mode} mode)` : ''}: source model ${tr.seconds.toFixed(0)} s, val acc ${(tr.valAccuracy * 100).toFixed(2)} %`,
  );
  const choice = (t: string) => (unit.choices?.[t] ? { frontEnd: unit.choices[t] } : {});
  const out: EvalTaskResult[] = [];
  const score = (target: DomainSplits) => {
    const p = predictProbs(cnn.model, target.test);
    return {
      accuracy: accuracyOf(p, target.test.y, C),
      sourceAccuracy: accuracyOf(predictProbs(cnn.model, src.test), src.test.y, C),
      windows: target.test.n,
      confusion: confusionMatrix(p, target.test.y, C),
      ...(heads.specs.length > 0 ? { heads: heads.scores(target.test) } : {}),
    };
  };
  if (settings.strategies.includes('source-only')) {
    for (const t of unit.targets) {
      out.push({
        source: unit.source,
        target: t,
        strategy: 'source-only',
        seed: unit.seed,
        seconds: tr.seconds,
        ...score(shiftSplits(tgts.get(t)!, sourceLevel)),
        ...choice(t),
      });
    }
  }
  const withHeads = [cnn.model, ...heads.models];
  const base = withHeads.flatMap(snapshotWeights);
  try {
    for (const strategy of settings.strategies) {
      if (strategy === 'source-only') continue;
      for (const t of unit.targets) {
        restoreWeights(withHeads, base);
        const raw = tgts.get(t)!;
        const target = shiftSplits(raw, levels ? medianLevel(raw.train) : 0);
        const unlabelled = { ...target.train, y: new Int32Array(target.train.n).fill(-1) };
        // Report only: each checkpoint's target test accuracy, read while its
        // weights are in the model. The label-free choice never sees it.
        const byStep: { step: number; accuracy: number }[] = [];
        const a = await alignDomains(cnn, src.train, src.val, unlabelled, {
          strategy,
          steps: settings.adaptSteps,
          seed: unit.seed,
          classPrior: settings.classPrior ?? 'source',
          heads: heads.align(src.train, unlabelled),
          onCheckpoint: (c) =>
            byStep.push({
              step: c.step,
              accuracy: accuracyOf(predictProbs(cnn.model, target.test), target.test.y, C),
            }),
        });
        const r: EvalTaskResult = {
          source: unit.source,
          target: t,
          strategy,
          seed: unit.seed,
          seconds: a.seconds,
          ...score(target),
          selectedStep: a.checkpoints[a.chosen].step,
          labelFree: { unadapted: a.checkpoints[0], selected: a.checkpoints[a.chosen] },
          oracle: oracleOf(byStep),
          ...choice(t),
        };
        if (strategy === 'dann-im' && settings.fewShot)
          r.fewShot = await fewShotCurve(
            cnn,
            base,
            target,
            C,
            settings.fewShot,
            unit.seed,
            r.accuracy,
          );
        log(
          `${unit.source}→${t} ${strategy} seed ${unit.seed}: ${(r.accuracy * 100).toFixed(2)} % in ${a.seconds.toFixed(0)} s`,
        );
        out.push(r);
      }
    }
  } finally {
    disposeAll(base);
    heads.dispose();
    cnn.model.dispose();
  }
  return out;
}

function remapLabels(d: DomainSplits, from: readonly string[], to: readonly string[]): void {
  for (const set of [d.train, d.val, d.test])
    for (let i = 0; i < set.n; i++) if (set.y[i] >= 0) set.y[i] = to.indexOf(from[set.y[i]]);
}

/** Mean, population std and min of each strategy's accuracies. */
export function summarise(results: readonly EvalTaskResult[]): Record<string, EvalSummary> {
  const by: Record<string, number[]> = {};
  for (const r of results) (by[r.strategy] ??= []).push(r.accuracy);
  return Object.fromEntries(
    Object.entries(by).map(([s, v]) => {
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
      return [s, { mean, std, min: Math.min(...v), n: v.length }];
    }),
  );
}

/**
 * Runs the whole evaluation, `settings.workers` units at a time in worker
 * threads (0 = in this thread).
 */
export async function runEvaluation(
  settings: EvalSettings,
  command: string,
  log: (m: string) => void = () => {},
): Promise<EvalReport> {
  const t0 = performance.now();
  if (settings.fewShot && !settings.strategies.includes('dann-im'))
    throw new FaultlineError(
      'FL_ERR_EVAL_FEW_SHOT',
      `--few-shot starts from the dann-im adaptation (its k = 0); add dann-im to --strategies (${settings.strategies.join(',')})`,
    );
  const spec = evalDataSpec(settings);
  const { kind, recordings, sourceDomains, targetDomains } = await loadSettingsData(settings);
  const domainClasses = classesByDomain(recordings);
  // `--mode auto`: per task, time or order mode, chosen without labels.
  const choices = new Map<string, FrontEndChoice>();
  if (settings.timeFrontEnd) {
    for (const task of settings.tasks) {
      const key = `${task.source}|${task.target}`;
      if (choices.has(key)) continue;
      const c = chooseFrontEnd(
        recordings.filter((r) => r.domain === task.source),
        recordings.filter((r) => r.domain === task.target),
        settings.frontEnd,
      );
      const sameRig = settings.sameRigFrontEnd?.lines?.normalisation;
      if (c.mode === 'order' && sameRig)
        c.normalisation = c.profileShift < SAME_RIG_SHIFT ? sameRig : 'band';
      log(
        `${task.source}→${task.target}: band-profile shift ${c.profileShift.toFixed(2)}, speed ratio ${c.speedRatio?.toFixed(3) ?? 'unknown'} → ${c.mode} mode${c.normalisation ? ` (${c.normalisation} normalisation)` : ''}`,
      );
      choices.set(key, {
        ...c,
        profileShift: Math.round(c.profileShift * 1000) / 1000,
        ...(c.speedRatio !== undefined ? { speedRatio: Math.round(c.speedRatio * 1e4) / 1e4 } : {}),
      });
    }
  }
  const units: Unit[] = [];
  for (const seed of settings.seeds) {
    for (const task of settings.tasks) {
      const c = choices.get(`${task.source}|${task.target}`);
      const sameRig =
        c?.normalisation !== undefined &&
        c.normalisation === settings.sameRigFrontEnd?.lines?.normalisation;
      let u = units.find(
        (x) =>
          x.source === task.source &&
          x.seed === seed &&
          x.mode === c?.mode &&
          (x.sameRig ?? false) === sameRig,
      );
      if (!u)
        units.push(
          (u = {
            source: task.source,
            seed,
            targets: [],
            ...(c ? { mode: c.mode } : {}),
            ...(sameRig ? { sameRig } : {}),
          }),
        );
      if (c) (u.choices ??= {})[task.target] = c;
      if (!u.targets.includes(task.target)) u.targets.push(task.target);
    }
  }
  const results: EvalTaskResult[] = [];
  const detected: DetectionEntry[] = [];
  const plan = settings.detection ? planDetection(settings, domainClasses) : undefined;
  // One pool for both kinds of job; the longer cross-domain units go first.
  const jobs: (Unit | DetectionJob)[] = [...units, ...(plan?.jobs ?? [])];
  const runJob = async (j: Unit | DetectionJob, inWorker: boolean): Promise<void> => {
    if ('kind' in j)
      detected.push(
        ...(await (inWorker ? runDetectionJobInWorker : runDetectionJob)(settings, j, log)),
      );
    else results.push(...(await (inWorker ? runInWorker : runUnit)(settings, j, log)));
  };
  const workers = Math.max(0, Math.min(settings.workers, jobs.length));
  if (workers === 0) {
    for (const j of jobs) await runJob(j, false);
  } else {
    let next = 0;
    const runOne = async (): Promise<void> => {
      while (next < jobs.length) await runJob(jobs[next++], true);
    };
    await Promise.all(Array.from({ length: workers }, runOne));
  }
  const order = (r: EvalTaskResult) =>
    `${r.source}|${r.target}|${EVAL_STRATEGIES.indexOf(r.strategy)}|${r.seed}`;
  results.sort((a, b) => (order(a) < order(b) ? -1 : 1));
  const firstSource = settings.tasks[0]?.source;
  return {
    command,
    createdAt: new Date().toISOString(),
    dataset: settings.dataset,
    backend: (await initBackend({ log: () => {} })).name,
    protocol:
      (spec.target
        ? `Source folder ${spec.source.dir} (domains ${sourceDomains.join(', ')}) → target folder ${spec.target.dir} (domains ${targetDomains.join(', ')}); each folder's domains carry its prefix. `
        : '') +
      (spec.labelMap
        ? `Labels mapped (${Object.entries(spec.labelMap)
            .map(([a, b]) => `${a}→${b}`)
            .join(', ')}); recordings of other labels left out. `
        : '') +
      (kind === 'cwru' && !spec.target && !spec.labelMap
        ? 'CWRU 12 kHz drive end, cross-load: source load i → target load j (i ≠ j), the 9 fault classes (normal exists at 0 HP only and is left out). ' +
          'Each recording split in time 70/15/15 % (train/val/test); source model on source train (val for early stopping); ' +
          'dann/mmd adapt with the UNLABELLED target train segment; accuracy on the target test segment; checkpoint chosen without target labels.'
        : 'Source domain → target domain on the classes the source has; time-ordered 70/15/15 % splits; unlabelled target train segment for adaptation; accuracy on the target test segment; checkpoint chosen without target labels (the oracle checkpoint, chosen with them, is reported beside it only).'),
    classes: settings.classes ?? domainClasses[firstSource] ?? [],
    domainClasses,
    data: { ...spec, sourceDomains, targetDomains },
    frontEnd: settings.frontEnd,
    settings: {
      labelColumn: settings.labelColumn,
      classes: settings.classes,
      tasks: settings.tasks,
      strategies: settings.strategies,
      seeds: settings.seeds,
      ...(settings.timeFrontEnd ? { mode: 'auto', timeFrontEnd: settings.timeFrontEnd } : {}),
      ...(settings.sameRigFrontEnd
        ? { normalisation: 'auto', sameRigFrontEnd: settings.sameRigFrontEnd }
        : {}),
      variant: settings.variant,
      epochs: settings.epochs,
      adaptSteps: settings.adaptSteps,
      workers: settings.workers,
      detection: settings.detection,
      ...(settings.fewShot ? { fewShot: settings.fewShot } : {}),
      ...(settings.heads?.length ? { heads: settings.heads } : {}),
    },
    tasks: results,
    summary: summarise(results),
    ...(settings.fewShot ? { fewShot: fewShotReport(settings.fewShot, results) } : {}),
    ...(plan ? { detection: detectionReport(kind, plan.coverage, settings, detected) } : {}),
    totalSeconds: (performance.now() - t0) / 1000,
  };
}

function detectionReport(
  kind: 'cwru' | 'byo',
  coverage: DetectionReport['coverage'],
  settings: EvalSettings,
  entries: DetectionEntry[],
): DetectionReport {
  const mode = settings.frontEnd.mode === 'order' ? 'order' : 'time';
  const rank = (e: DetectionEntry) =>
    `${e.dataset === 'sim' ? 1 : 0}|${e.source}|${e.target}|${['in-domain', 'source-only', 'dann'].indexOf(e.strategy)}|${String(e.seed).padStart(6, '0')}`;
  entries.sort((a, b) => (rank(a) < rank(b) ? -1 : 1));
  return {
    protocol: detectionProtocol(kind, coverage, mode),
    normalClass: 'normal',
    coverage,
    simulator: {
      source: SIM_DETECTION.source,
      targets: [...SIM_DETECTION.targets[mode]],
      secondsPerClass: SIM_DETECTION.secondsPerClass,
      classes: [...SIM_DETECTION.classes],
    },
    entries,
    summary: summariseDetection(entries),
  };
}

/** Runs one unit in a worker thread of its own (./eval-worker.ts, own tfjs backend). */
function runInWorker(
  settings: EvalSettings,
  unit: Unit,
  log: (m: string) => void,
): Promise<EvalTaskResult[]> {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(fromSource ? './eval-worker.ts' : './eval-worker.js', import.meta.url);
  return runWorkerJob(url, { settings, unit }, log, `${unit.source} seed ${unit.seed}`);
}

/** Default worker count: one per core, at most 2 (each worker holds its own data copy). */
export function defaultWorkers(): number {
  return Math.min(2, os.cpus().length);
}
