/**
 * `faultline eval <cwru|folder> --strategies source-only,dann,mmd --seeds 3
 *  [--tasks 3:0,2:0] [--label-column col] [--label-map IR007=inner,…] --json report.json`
 * or `faultline eval --source <dir>[:domain,…] --target <dir>[:domain,…] …`
 * — cross-domain evaluation (src/eval/evaluate.ts), source and target from
 * one folder or two (src/eval/eval-data.ts: with two, every domain is
 * prefixed with its folder's name, `cwru/load0`). Writes the JSON report, and
 * beside it the same name with .md (table) and .png (bars + confusion
 * matrices). `cwru` means the CWRU folder at $FAULTLINE_CWRU_DIR or
 * ../shared/data/cwru; `--data` overrides it. Normal-versus-fault detection
 * (the report's `detection`, src/eval/detection.ts) runs too unless
 * `--no-detection`. `--few-shot 0,1,5,10,20` adds the labelled-windows
 * curve (src/eval/few-shot.ts) and `<name>-few-shot.png`.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { resolveFrontEndConfig } from '../../dsp/frontend.js';
import { FaultlineError } from '../../errors.js';
import { reportChart } from '../../eval/chart.js';
import {
  type EvalDataSpec,
  folderPrefixes,
  loadEvalData,
  parseFolderArg,
  parseLabelMap,
} from '../../eval/eval-data.js';
import {
  DEFAULT_FEW_SHOT,
  FEW_SHOT_STARTS,
  type FewShotSettings,
  type FewShotStart,
  parseFewShot,
} from '../../eval/few-shot.js';
import { fewShotChart, fewShotSeries } from '../../eval/few-shot-chart.js';
import { SAME_RIG_NORMALISATION } from '../../eval/front-end-choice.js';
import { oracleSummary, reportMarkdown } from '../../eval/markdown.js';
import {
  CLASS_PRIORS,
  type ClassPrior,
  CNN_VARIANTS,
  type CnnVariant,
  EVAL_STRATEGIES,
  type EvalStrategy,
  HEAD_NAMES,
  parseHeads,
} from '../../model/choices.js';
import { CWRU_FAULT_CLASSES } from '../../model/domains.js';
import {
  affordableWindowRevolutions,
  frontEndForTraining,
} from '../../model/training-front-end.js';
import {
  addFrontEndOptions,
  type FrontEndCliOptions,
  frontEndFromCli,
} from './front-end-options.js';

interface EvalOptions extends FrontEndCliOptions {
  data?: string;
  source?: string;
  target?: string;
  labelMap?: string;
  tasks?: string;
  strategies: string;
  seeds: string;
  json: string;
  labelColumn?: string;
  classes?: string;
  variant: string;
  epochs: string;
  adaptSteps: string;
  classPrior: string;
  heads?: string;
  workers?: string;
  detection: boolean;
  fewShot?: string;
  fewShotStart: string;
  fewShotEpochs: string;
}

function int(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new FaultlineError('FL_ERR_CLI_USAGE', `${name} must be an integer ≥ ${min}, got '${v}'`);
  return n;
}

/**
 * `--seeds`: `n` (1…n, as before), `a-b` (a…b) or `a,b,c`.
 * @throws FaultlineError FL_ERR_CLI_USAGE for anything else, or a seed twice
 */
export function parseSeeds(v: string): number[] {
  const t = v.trim();
  let seeds: number[];
  if (/^\d+$/.test(t)) seeds = Array.from({ length: int('--seeds', t, 1) }, (_, i) => i + 1);
  else if (/^\d+\s*-\s*\d+$/.test(t)) {
    const [a, b] = t.split('-').map((x) => int('--seeds', x.trim(), 0));
    if (b < a) throw new FaultlineError('FL_ERR_CLI_USAGE', `--seeds range '${v}' runs backwards`);
    seeds = Array.from({ length: b - a + 1 }, (_, i) => a + i);
  } else if (t.includes(',')) seeds = t.split(',').map((x) => int('--seeds', x.trim(), 0));
  else
    throw new FaultlineError(
      'FL_ERR_CLI_USAGE',
      `--seeds must be a count (3), a range (4-6) or a list (4,5,6), got '${v}'`,
    );
  if (new Set(seeds).size !== seeds.length)
    throw new FaultlineError('FL_ERR_CLI_USAGE', `--seeds '${v}' repeats a seed`);
  return seeds;
}

/** Where the command writes: the summary lines (stdout) and its progress log (stderr). */
export interface EvalCommandIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

export function registerEvalCommand(
  program: Command,
  io: EvalCommandIo = { stdout: process.stdout, stderr: process.stderr },
): void {
  addFrontEndOptions(program.command('eval'), true)
    .description(
      'cross-domain evaluation: source-only vs adaptation over source→target tasks; writes JSON, Markdown and PNG reports',
    )
    .argument(
      '[dataset]',
      "'cwru' (the CWRU folder) or a bring-your-own data folder; or give --source and --target",
    )
    .option(
      '--data <dir>',
      'data folder for cwru (default $FAULTLINE_CWRU_DIR or ../shared/data/cwru)',
    )
    .option(
      '--source <dir[:domains]>',
      "folder of the source domains, optionally only some (cwru:0,1 or ../pumps:pumpA); with --target, each folder's domains are prefixed with its name (cwru/load0)",
    )
    .option(
      '--target <dir[:domains]>',
      'folder of the target domains, optionally only some (another folder, or the same with other domains)',
    )
    .option(
      '--label-map <map>',
      'label=class pairs applied to both folders, e.g. IR007=inner,OR007=outer; labels not in the map are left out (default: labels as they are)',
    )
    .option(
      '--tasks <list>',
      'source:target pairs, e.g. 3:0,2:0 (CWRU loads) or pumpA:pumpB; default every ordered pair of different domains (CWRU: the 12 cross-load pairs; with --source/--target every source domain → every target domain)',
    )
    .option(
      '--strategies <list>',
      `comma-separated of ${EVAL_STRATEGIES.join(', ')}`,
      'source-only,dann-im',
    )
    .option(
      '--seeds <seeds>',
      'seeds: a count n (1…n), a range a-b or a list a,b,c (report on seeds not used to choose settings, e.g. 4-6)',
      '1',
    )
    .option('--json <file>', 'report file (.md and .png written beside it)', 'eval-report.json')
    .option(
      '--label-column <column>',
      'bring-your-own: manifest column holding the class label (every bring-your-own folder, with --source/--target too)',
      'label',
    )
    .option(
      '--classes <list>',
      'classes to score (default: CWRU the 9 fault classes; otherwise those of the source domain)',
    )
    .option('--variant <name>', `CNN variant (${CNN_VARIANTS.join(', ')})`, 'strided')
    .option(
      '--epochs <n>',
      'maximum source-training epochs (early stopping on source validation)',
      '8',
    )
    .option('--adapt-steps <n>', 'adaptation steps for dann/mmd', '300')
    .option(
      '--class-prior <mix>',
      `dann-im: the class mix its diversity term expects of the target: source (the source's class proportions) | uniform (every class alike)`,
      'source',
    )
    .option(
      '--heads <list>',
      `auxiliary heads trained with the primary one on the shared features: ${HEAD_NAMES.join(', ')} (default none)`,
    )
    .option('--workers <n>', 'worker threads (0 = run in this thread); default one per core, ≤ 2')
    .option(
      '--no-detection',
      'skip normal-versus-fault detection (in-domain where a domain has normal windows, CWRU load 0; cross-domain on simulated machines)',
    )
    .option(
      '--few-shot <ks>',
      'also score k labelled target windows per class, e.g. 0,1,5,10,20: k = 0 is the dann-im adaptation, k > 0 fine-tunes on k windows of each class drawn from the target training split (never its test split); adds fewShot to the JSON, a table to the .md and <name>-few-shot.png',
    )
    .option(
      '--few-shot-start <model>',
      `--few-shot: fine-tune from the ${FEW_SHOT_STARTS.join(' or the ')} model`,
      DEFAULT_FEW_SHOT.start,
    )
    .option(
      '--few-shot-epochs <n>',
      '--few-shot: fine-tuning epochs over the labelled windows',
      String(DEFAULT_FEW_SHOT.epochs),
    )
    .action(async (dataset: string | undefined, o: EvalOptions) => {
      const cwruDir =
        o.data ??
        process.env.FAULTLINE_CWRU_DIR ??
        path.resolve(process.cwd(), '..', 'shared', 'data', 'cwru');
      const spec = dataSpec(dataset, o, cwruDir);
      const strategies = o.strategies.split(',').map((s) => s.trim()) as EvalStrategy[];
      for (const s of strategies) {
        if (!EVAL_STRATEGIES.includes(s))
          throw new FaultlineError(
            'FL_ERR_CLI_USAGE',
            `unknown strategy '${s}'; use ${EVAL_STRATEGIES.join(', ')}`,
          );
      }
      if (!CNN_VARIANTS.includes(o.variant as CnnVariant))
        throw new FaultlineError('FL_ERR_CLI_USAGE', `unknown variant '${o.variant}'`);
      if (!CLASS_PRIORS.includes(o.classPrior as ClassPrior))
        throw new FaultlineError(
          'FL_ERR_CLI_USAGE',
          `--class-prior must be ${CLASS_PRIORS.join(' or ')}, got '${o.classPrior}'`,
        );
      const fewShot = fewShotFromCli(o);
      if (fewShot && !strategies.includes('dann-im'))
        throw new FaultlineError(
          'FL_ERR_CLI_USAGE',
          `--few-shot starts from dann-im (its k = 0): add it to --strategies (${o.strategies})`,
        );
      const fe = frontEndFromCli(o, true);
      // Loaded here, not at start: it brings tfjs, which other commands (the gateway) keep out of the main thread.
      const { defaultWorkers, parseTasks, runEvaluation } = await import('../../eval/evaluate.js');
      const data = await loadEvalData(spec, fe.input.sampleRate);
      const tasks = parseTasks(o.tasks, data);
      // Fault axes when every recording of the tasks' domains has a bearing (auto).
      const inTasks = new Set(tasks.flatMap((t) => [t.source, t.target]));
      // Order-mode windows: as long as every recording of the tasks affords
      // (eval sees every recording it will cut; `train` does not know its
      // targets and keeps the default).
      if (fe.input.mode === 'order' && o.window === undefined) {
        const revs = affordableWindowRevolutions(
          data.recordings.filter((r) => inTasks.has(r.domain)),
        );
        if (revs !== undefined)
          fe.input = { ...fe.input, window: { ...fe.input.window, length: revs } };
      }
      const frontEnd = frontEndForTraining(
        fe.input,
        fe.axes,
        fe.normalisation,
        data.recordings.filter((r) => inTasks.has(r.domain)),
      );
      const seeds = parseSeeds(o.seeds);
      const command = `faultline eval ${process.argv.slice(3).join(' ')}`;
      const report = await runEvaluation(
        {
          dataset: spec.target ? `${spec.source.dir} → ${spec.target.dir}` : spec.source.dir,
          labelColumn: spec.labelColumn,
          data: spec,
          classes: o.classes
            ? o.classes.split(',')
            : data.sourceKind === 'cwru' && !spec.labelMap
              ? CWRU_FAULT_CLASSES
              : undefined,
          tasks,
          strategies,
          seeds,
          frontEnd,
          ...(fe.time ? { timeFrontEnd: resolveFrontEndConfig(fe.time) } : {}),
          ...(fe.sameRigAuto
            ? {
                sameRigFrontEnd: frontEndForTraining(
                  fe.input,
                  fe.axes,
                  SAME_RIG_NORMALISATION,
                  data.recordings.filter((r) => inTasks.has(r.domain)),
                ),
              }
            : {}),
          variant: o.variant as CnnVariant,
          epochs: int('--epochs', o.epochs, 1),
          adaptSteps: int('--adapt-steps', o.adaptSteps, 1),
          workers: o.workers === undefined ? defaultWorkers() : int('--workers', o.workers, 0),
          detection: o.detection,
          speedAugment: fe.speedAugment,
          classPrior: o.classPrior as ClassPrior,
          ...(fewShot ? { fewShot } : {}),
          heads: parseHeads(o.heads),
        },
        command,
        (m) => io.stderr.write(`faultline: eval: ${m}\n`),
      );
      await mkdir(path.dirname(path.resolve(o.json)), { recursive: true });
      const base = o.json.replace(/\.json$/i, '');
      await writeFile(o.json, `${JSON.stringify(report, null, 2)}\n`);
      await writeFile(`${base}.md`, reportMarkdown(report));
      await writeFile(`${base}.png`, reportChart(report));
      if (report.fewShot)
        await writeFile(
          `${base}-few-shot.png`,
          fewShotChart(fewShotSeries(report.fewShot), path.basename(base)),
        );
      for (const [s, v] of Object.entries(report.summary)) {
        io.stdout.write(
          `${s.padEnd(12)} mean ${(v.mean * 100).toFixed(2)} %  std ${(v.std * 100).toFixed(2)}  min ${(v.min * 100).toFixed(2)} %  (${v.n})\n`,
        );
      }
      for (const [s, o] of Object.entries(oracleSummary(report.tasks))) {
        io.stdout.write(
          `${s.padEnd(12)} label-free ${(o.labelFree * 100).toFixed(2)} %  oracle checkpoint ${(o.oracle * 100).toFixed(2)} %  gap ${(o.gap * 100).toFixed(2)} pp  (${o.n})\n`,
        );
      }
      for (const d of report.detection?.summary ?? []) {
        io.stdout.write(
          `detection ${d.dataset} ${d.source}→${d.target} ${d.strategy}: detection ${(d.detectionRate * 100).toFixed(2)} %  false alarms ${(d.falseAlarmRate * 100).toFixed(2)} %  balanced ${(d.balancedAccuracy * 100).toFixed(2)} %  AUROC ${d.auroc.toFixed(4)}  (${d.n})\n`,
        );
      }
      for (const f of report.fewShot?.summary ?? [])
        io.stdout.write(
          `few-shot k=${String(f.k).padEnd(3)} mean ${(f.mean * 100).toFixed(2)} %  min ${(f.min * 100).toFixed(2)} %  (${f.n})\n`,
        );
      io.stdout.write(
        `report: ${o.json}, ${base}.md, ${base}.png${report.fewShot ? `, ${base}-few-shot.png` : ''} (${report.totalSeconds.toFixed(0)} s)\n`,
      );
    });
}

/** `--few-shot*` as settings; undefined without `--few-shot`. */
function fewShotFromCli(o: EvalOptions): FewShotSettings | undefined {
  if (o.fewShot === undefined) return undefined;
  if (!FEW_SHOT_STARTS.includes(o.fewShotStart as FewShotStart))
    throw new FaultlineError(
      'FL_ERR_CLI_USAGE',
      `--few-shot-start must be ${FEW_SHOT_STARTS.join(' or ')}, got '${o.fewShotStart}'`,
    );
  return {
    ks: parseFewShot(o.fewShot),
    start: o.fewShotStart as FewShotStart,
    epochs: int('--few-shot-epochs', o.fewShotEpochs, 1),
  };
}

/**
 * The data spec of the command line: the positional folder, or --source and
 * --target (not both ways at once).
 */
function dataSpec(dataset: string | undefined, o: EvalOptions, cwruDir: string): EvalDataSpec {
  const labelColumn =
    o.labelColumn === undefined || o.labelColumn === 'label' ? {} : { labelColumn: o.labelColumn };
  const labelMap = o.labelMap === undefined ? {} : { labelMap: parseLabelMap(o.labelMap) };
  if (dataset !== undefined) {
    if (o.source !== undefined || o.target !== undefined)
      throw new FaultlineError(
        'FL_ERR_CLI_USAGE',
        `give a data folder ('${dataset}') or --source and --target, not both`,
      );
    return {
      source: { dir: dataset === 'cwru' ? cwruDir : dataset, prefix: '' },
      ...labelColumn,
      ...labelMap,
    };
  }
  if (o.source === undefined || o.target === undefined)
    throw new FaultlineError(
      'FL_ERR_CLI_USAGE',
      'give a data folder (faultline eval <folder>) or both --source <dir>[:domains] and --target <dir>[:domains]',
    );
  const source = parseFolderArg(o.source, cwruDir, '--source');
  const target = parseFolderArg(o.target, cwruDir, '--target');
  const [ps, pt] = folderPrefixes(source.dir, target.dir);
  return {
    source: { ...source, prefix: ps },
    target: { ...target, prefix: pt },
    ...labelColumn,
    ...labelMap,
  };
}
