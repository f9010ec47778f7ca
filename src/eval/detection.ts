/**
 * Normal-versus-fault detection, scored apart from the cross-domain protocol
 * (which leaves `normal` out because CWRU has it at 0 HP only):
 *
 * - in-domain, on every domain of the data set that has normal windows (CWRU:
 *   load 0 only): a model of all that domain's classes, normal included,
 *   trained on the domain's time-ordered train split and scored on its test
 *   split as a binary detector (./detection-metrics.ts);
 * - cross-domain, on simulated machines (src/sim), where every condition has
 *   a normal class: a source-condition model scored on other conditions'
 *   test splits, source-only and after DANN with the UNLABELLED target train
 *   split (normal windows included, unlabelled like the rest).
 *
 * A job is one (domain, seed) or one (simulator, seed); jobs run in the
 * evaluation's worker pool (./evaluate.ts) beside the cross-domain units.
 */
import { createFrontEnd, type FrontEndConfig, resolveFrontEndConfig } from '../dsp/frontend.js';
import { FaultlineError } from '../errors.js';
import { alignDomains } from '../model/adapt/align.js';
import type { CnnVariant } from '../model/architectures.js';
import { initBackend } from '../model/backend.js';
import type { EvalStrategy } from '../model/choices.js';
import {
  classesByDomain,
  type DomainSplits,
  defaultFrontEnd,
  prepareDomain,
} from '../model/domains.js';
import type { InputSet } from '../model/inputs.js';
import * as tf from '../model/tf.js';
import {
  accuracyOf,
  buildSeededCnn,
  predictProbs,
  snapshotWeights,
  trainClassifier,
} from '../model/train.js';
import { simulateRecording } from '../sim/generator.js';
import type { Recording } from '../types.js';
import {
  binaryDetection,
  type DetectionEntry,
  type DetectionReport,
  NORMAL_CLASS,
} from './detection-metrics.js';
import { type EvalDataSettings, loadSettingsData } from './eval-data.js';
import { runWorkerJob } from './worker-thread.js';

/**
 * The part of EvalSettings (./evaluate.ts) a detection job reads; declared
 * here so that ./evaluate.ts imports this module and not the other way round.
 */
export interface DetectionSettings extends EvalDataSettings {
  /** Classes scored (normal added); absent: every class of the domain. */
  classes?: string[];
  seeds: number[];
  frontEnd: FrontEndConfig;
  variant: CnnVariant;
  epochs: number;
  adaptSteps: number;
  /** Cross-domain detection on the simulator runs DANN when this has `dann`. */
  strategies: readonly EvalStrategy[];
}

/** One unit of detection work. */
export type DetectionJob =
  | { kind: 'domain'; domain: string; seed: number }
  | { kind: 'sim'; seed: number };

/** Simulated machines of the cross-domain detection. */
export const SIM_DETECTION = {
  source: 'source-1797rpm',
  /**
   * Targets per front-end mode: a speed shift and a sensor shift (noisier,
   * 0.6× gain). Order mode needs ≥ 8 shaft turns per window (≥ 1 460 rpm
   * with its 4 096-sample windows), so its speed shift is the 1 730 rpm
   * loaded machine instead of 1 200 rpm.
   */
  targets: {
    time: ['target-1200rpm', 'target-noisy-gain'],
    order: ['target-1730rpm-load3', 'target-noisy-gain'],
  },
  faults: ['none', 'inner', 'outer', 'ball'] as const,
  classes: ['ball', 'inner', 'normal', 'outer'],
  /** Length of each (condition, class) recording, s: about one CWRU file. */
  secondsPerClass: 10,
  sampleRate: 12000,
  /** Data seeds are fixed (the model seed varies), so seeds differ only in training. */
  dataSeed: 500,
} as const;

/**
 * The jobs of one evaluation: an in-domain job per (domain with normal and at
 * least one scored fault class, seed), then a simulator job per seed.
 */
export function planDetection(
  settings: Pick<DetectionSettings, 'classes' | 'seeds'>,
  domainClasses: Record<string, string[]>,
): { jobs: DetectionJob[]; coverage: DetectionReport['coverage'] } {
  const withNormal: string[] = [];
  const withoutNormal: string[] = [];
  for (const [d, cls] of Object.entries(domainClasses).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const faults = faultClassesOf(settings.classes, cls);
    if (cls.includes(NORMAL_CLASS) && faults.length > 0) withNormal.push(d);
    else withoutNormal.push(d);
  }
  const jobs: DetectionJob[] = [];
  for (const seed of settings.seeds) {
    for (const domain of withNormal) jobs.push({ kind: 'domain', domain, seed });
    jobs.push({ kind: 'sim', seed });
  }
  return { jobs, coverage: { withNormal, withoutNormal } };
}

function faultClassesOf(scored: readonly string[] | undefined, have: readonly string[]): string[] {
  return (scored ?? have).filter((c) => c !== NORMAL_CLASS && have.includes(c));
}

/** What the detection part covers and what it cannot, for the report. */
export function detectionProtocol(
  kind: 'cwru' | 'byo',
  coverage: DetectionReport['coverage'],
  mode: 'time' | 'order',
): string {
  const sim = SIM_DETECTION;
  const dataPart =
    coverage.withNormal.length === 0
      ? `No domain of the data set has both '${NORMAL_CLASS}' and fault windows, so no detection on it.`
      : `In-domain on ${coverage.withNormal.join(', ')}: one model of all the domain's scored classes plus '${NORMAL_CLASS}', trained on its time-ordered train split (val for early stopping), scored on its test split.` +
        (coverage.withoutNormal.length > 0
          ? ` ${coverage.withoutNormal.join(', ')} ${coverage.withoutNormal.length === 1 ? 'has' : 'have'} no '${NORMAL_CLASS}' windows, so no detection there and no cross-domain detection on this data set` +
            (kind === 'cwru'
              ? ' (CWRU normal exists at 0 HP only: 98–100.mat are missing, see the data MANIFEST).'
              : '.')
          : '');
  return (
    "Normal-versus-fault detection, scored apart from the cross-domain protocol. A window is flagged as faulty when a fault class is more probable than 'normal'; " +
    'detection rate = fault windows flagged, false-alarm rate = normal windows flagged, balanced accuracy = their mean (1 − false alarms), AUROC of the score 1 − P(normal). ' +
    `${dataPart} ` +
    `Cross-domain on simulated machines (src/sim, ${sim.sampleRate} Hz, ${mode}-mode default front end, ${sim.secondsPerClass} s per class and condition, fixed data seeds, classes ${sim.classes.join(', ')}): ` +
    `a model trained on ${sim.source} scored on ${sim.targets[mode].join(' and ')}, source-only and after DANN with the unlabelled target train split. ` +
    'Few normal windows per test split (see normalWindows): a false-alarm rate moves in steps of 1/normalWindows.'
  );
}

/** Runs one job in this thread. */
export async function runDetectionJob(
  settings: DetectionSettings,
  job: DetectionJob,
  log: (m: string) => void = () => {},
): Promise<DetectionEntry[]> {
  await initBackend({ log: () => {} });
  return job.kind === 'domain' ? inDomain(settings, job, log) : simulated(settings, job.seed, log);
}

/** Runs one job in a worker thread (its own backend). */
export function runDetectionJobInWorker(
  settings: DetectionSettings,
  job: DetectionJob,
  log: (m: string) => void,
): Promise<DetectionEntry[]> {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(
    fromSource ? './detection-worker.ts' : './detection-worker.js',
    import.meta.url,
  );
  const what = job.kind === 'domain' ? `${job.domain} detection` : 'simulator detection';
  return runWorkerJob(url, { settings, job }, log, `${what} seed ${job.seed}`);
}

async function inDomain(
  settings: DetectionSettings,
  job: { domain: string; seed: number },
  log: (m: string) => void,
): Promise<DetectionEntry[]> {
  const { kind, recordings } = await loadSettingsData(settings);
  const have = classesByDomain(recordings)[job.domain] ?? [];
  const classes = [...faultClassesOf(settings.classes, have), NORMAL_CLASS];
  if (classes.length < 2 || !have.includes(NORMAL_CLASS)) {
    throw new FaultlineError(
      'FL_ERR_DATASET_EMPTY',
      `domain ${job.domain} has classes ${have.join(', ')}: detection needs '${NORMAL_CLASS}' and a fault class`,
    );
  }
  const fe = createFrontEnd(settings.frontEnd);
  const data = prepareDomain(recordings, [job.domain], classes, fe);
  const C = classes.length;
  const cnn = buildSeededCnn([...fe.inputShape], C, settings.variant, job.seed);
  try {
    const tr = await trainClassifier(cnn.model, data.train, data.val, {
      epochs: settings.epochs,
      seed: job.seed,
    });
    const e = scoreEntry(cnn.model, data.test, data.test, C, classes.indexOf(NORMAL_CLASS));
    log(
      `${job.domain} detection seed ${job.seed}: balanced accuracy ${(e.balancedAccuracy * 100).toFixed(2)} %, AUROC ${e.auroc.toFixed(4)} (${tr.seconds.toFixed(0)} s)`,
    );
    return [
      {
        dataset: kind,
        source: job.domain,
        target: job.domain,
        strategy: 'in-domain',
        seed: job.seed,
        classes,
        ...e,
        seconds: tr.seconds,
      },
    ];
  } finally {
    cnn.model.dispose();
  }
}

/** Recordings of the simulated machines: each condition × class, fixed seeds. */
export function simDetectionRecordings(targets: readonly string[]): Recording[] {
  const sim = SIM_DETECTION;
  const recs: Recording[] = [];
  [sim.source, ...targets].forEach((condition, ci) => {
    sim.faults.forEach((fault, fi) => {
      recs.push(
        simulateRecording(
          {
            fault,
            condition: condition as typeof sim.source,
            seed: sim.dataSeed + 10 * ci + fi,
            sampleRate: sim.sampleRate,
          },
          sim.secondsPerClass,
        ),
      );
    });
  });
  return recs;
}

async function simulated(
  settings: DetectionSettings,
  seed: number,
  log: (m: string) => void,
): Promise<DetectionEntry[]> {
  const sim = SIM_DETECTION;
  const mode = settings.frontEnd.mode === 'order' ? 'order' : 'time';
  const targets = sim.targets[mode];
  const fe = createFrontEnd(resolveFrontEndConfig(defaultFrontEnd(mode, sim.sampleRate)));
  const recs = simDetectionRecordings(targets);
  const classes = [...sim.classes];
  const C = classes.length;
  const normal = classes.indexOf(NORMAL_CLASS);
  const src = prepareDomain(recs, [sim.source], classes, fe);
  const tgts = new Map<string, DomainSplits>(
    targets.map((t) => [t, prepareDomain(recs, [t], classes, fe)]),
  );
  const cnn = buildSeededCnn([...fe.inputShape], C, settings.variant, seed);
  const out: DetectionEntry[] = [];
  const entry = (
    target: string,
    strategy: DetectionEntry['strategy'],
    seconds: number,
    selectedStep?: number,
  ): DetectionEntry => ({
    dataset: 'sim',
    source: sim.source,
    target,
    strategy,
    seed,
    classes,
    ...scoreEntry(cnn.model, tgts.get(target)!.test, src.test, C, normal),
    seconds,
    ...(selectedStep === undefined ? {} : { selectedStep }),
  });
  let base: tf.Tensor[] | undefined;
  try {
    const tr = await trainClassifier(cnn.model, src.train, src.val, {
      epochs: settings.epochs,
      seed,
    });
    for (const t of targets) out.push(entry(t, 'source-only', tr.seconds));
    // DANN only (not mmd): it keeps the added time to a few minutes.
    if (settings.strategies.includes('dann')) {
      base = snapshotWeights(cnn.model);
      for (const t of targets) {
        cnn.model.setWeights(base);
        const train = tgts.get(t)!.train;
        const a = await alignDomains(
          cnn,
          src.train,
          src.val,
          { ...train, y: new Int32Array(train.n).fill(-1) },
          { strategy: 'dann', steps: settings.adaptSteps, seed },
        );
        out.push(entry(t, 'dann', a.seconds, a.checkpoints[a.chosen].step));
      }
    }
  } finally {
    if (base) tf.dispose(base);
    cnn.model.dispose();
  }
  log(
    `simulator detection seed ${seed}: ${out.map((e) => `${e.target} ${e.strategy} ${(e.balancedAccuracy * 100).toFixed(1)} %`).join(', ')}`,
  );
  return out;
}

/** Binary scores on `target`, multi-class accuracy, and balanced detection accuracy on `source`. */
function scoreEntry(
  model: tf.LayersModel,
  target: InputSet,
  source: InputSet,
  C: number,
  normal: number,
) {
  const p = predictProbs(model, target);
  const ps = source === target ? p : predictProbs(model, source);
  return {
    ...binaryDetection(p, target.y, C, normal),
    accuracy: accuracyOf(p, target.y, C),
    sourceBalancedAccuracy: binaryDetection(ps, source.y, C, normal).balancedAccuracy,
  };
}
