/**
 * `faultline eval <cwru|folder> --strategies source-only,dann,mmd --seeds 3
 *  [--tasks 3:0,2:0] [--label-column col] --json report.json` — cross-domain
 * evaluation (src/model/evaluate.ts). Writes the JSON report, and beside it
 * the same name with .md (table) and .png (bars + confusion matrices).
 * `cwru` means the CWRU folder at $FAULTLINE_CWRU_DIR or ../shared/data/cwru;
 * `--data` overrides it. Normal-versus-fault detection (the report's
 * `detection`, src/model/detection.ts) runs too unless `--no-detection`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { resolveFrontEndConfig } from '../../dsp/frontend.js';
import { FaultlineError } from '../../errors.js';
import { reportChart } from '../../eval/chart.js';
import { reportMarkdown } from '../../eval/markdown.js';
import {
  CNN_VARIANTS,
  type CnnVariant,
  EVAL_STRATEGIES,
  type EvalStrategy,
} from '../../model/choices.js';
import {
  CWRU_FAULT_CLASSES,
  classesByDomain,
  defaultFrontEnd,
  loadLabelledData,
} from '../../model/domains.js';

interface EvalOptions {
  data?: string;
  tasks?: string;
  strategies: string;
  seeds: string;
  json: string;
  labelColumn?: string;
  classes?: string;
  variant: string;
  epochs: string;
  adaptSteps: string;
  workers?: string;
  mode: string;
  detection: boolean;
}

function int(name: string, v: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new FaultlineError('FL_ERR_CLI_USAGE', `${name} must be an integer ≥ ${min}, got '${v}'`);
  return n;
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description(
      'cross-domain evaluation: source-only vs adaptation over source→target tasks; writes JSON, Markdown and PNG reports',
    )
    .argument('<dataset>', "'cwru' (the CWRU folder) or a bring-your-own data folder")
    .option(
      '--data <dir>',
      'data folder for cwru (default $FAULTLINE_CWRU_DIR or ../shared/data/cwru)',
    )
    .option(
      '--tasks <list>',
      'source:target pairs, e.g. 3:0,2:0 (CWRU loads) or pumpA:pumpB; default all 12 CWRU pairs',
    )
    .option(
      '--strategies <list>',
      `comma-separated of ${EVAL_STRATEGIES.join(', ')}`,
      'source-only,dann',
    )
    .option('--seeds <n>', 'number of seeds (1…n)', '1')
    .option('--json <file>', 'report file (.md and .png written beside it)', 'eval-report.json')
    .option(
      '--label-column <column>',
      'bring-your-own: manifest column holding the class label',
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
    .option('--workers <n>', 'worker threads (0 = run in this thread); default one per core, ≤ 2')
    .option('--mode <mode>', 'front-end mode: time | order', 'time')
    .option(
      '--no-detection',
      'skip normal-versus-fault detection (in-domain where a domain has normal windows, CWRU load 0; cross-domain on simulated machines)',
    )
    .action(async (dataset: string, o: EvalOptions) => {
      const dir =
        dataset === 'cwru'
          ? (o.data ??
            process.env.FAULTLINE_CWRU_DIR ??
            path.resolve(process.cwd(), '..', 'shared', 'data', 'cwru'))
          : dataset;
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
      if (o.mode !== 'time' && o.mode !== 'order')
        throw new FaultlineError(
          'FL_ERR_CLI_USAGE',
          `--mode must be time or order, got '${o.mode}'`,
        );
      // Loaded here, not at start: it brings tfjs, which other commands (the gateway) keep out of the main thread.
      const { defaultWorkers, parseTasks, runEvaluation } = await import('../../model/evaluate.js');
      const { kind, recordings } = await loadLabelledData(dir, { labelColumn: o.labelColumn });
      const domains = Object.keys(classesByDomain(recordings)).sort();
      const tasks = parseTasks(o.tasks, kind, domains);
      const sampleRate = recordings[0].sampleRate;
      const frontEnd = resolveFrontEndConfig(
        defaultFrontEnd(o.mode as 'time' | 'order', sampleRate),
      );
      const seedsN = int('--seeds', o.seeds, 1);
      const command = `faultline eval ${process.argv.slice(3).join(' ')}`;
      const report = await runEvaluation(
        {
          dataset: dir,
          labelColumn: o.labelColumn === 'label' ? undefined : o.labelColumn,
          classes: o.classes
            ? o.classes.split(',')
            : kind === 'cwru'
              ? CWRU_FAULT_CLASSES
              : undefined,
          tasks,
          strategies,
          seeds: Array.from({ length: seedsN }, (_, i) => i + 1),
          frontEnd,
          variant: o.variant as CnnVariant,
          epochs: int('--epochs', o.epochs, 1),
          adaptSteps: int('--adapt-steps', o.adaptSteps, 1),
          workers: o.workers === undefined ? defaultWorkers() : int('--workers', o.workers, 0),
          detection: o.detection,
        },
        command,
        (m) => process.stderr.write(`faultline: eval: ${m}\n`),
      );
      await mkdir(path.dirname(path.resolve(o.json)), { recursive: true });
      const base = o.json.replace(/\.json$/i, '');
      await writeFile(o.json, `${JSON.stringify(report, null, 2)}\n`);
      await writeFile(`${base}.md`, reportMarkdown(report));
      await writeFile(`${base}.png`, reportChart(report));
      for (const [s, v] of Object.entries(report.summary)) {
        process.stdout.write(
          `${s.padEnd(12)} mean ${(v.mean * 100).toFixed(2)} %  std ${(v.std * 100).toFixed(2)}  min ${(v.min * 100).toFixed(2)} %  (${v.n})\n`,
        );
      }
      for (const d of report.detection?.summary ?? []) {
        process.stdout.write(
          `detection ${d.dataset} ${d.source}→${d.target} ${d.strategy}: detection ${(d.detectionRate * 100).toFixed(2)} %  false alarms ${(d.falseAlarmRate * 100).toFixed(2)} %  balanced ${(d.balancedAccuracy * 100).toFixed(2)} %  AUROC ${d.auroc.toFixed(4)}  (${d.n})\n`,
        );
      }
      process.stdout.write(
        `report: ${o.json}, ${base}.md, ${base}.png (${report.totalSeconds.toFixed(0)} s)\n`,
      );
    });
}
