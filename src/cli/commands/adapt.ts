/**
 * `faultline adapt --model <src> --data <dir> --target <domains> --out <dir>
 *  [--strategy dann|mmd|dann-im|finetune|features]` — adapts a source model to a new
 * operating condition with UNLABELLED target windows (dann, mmd; dann-im for a
 * target data set holding every class) or a few
 * labelled ones (finetune: same classes; features: a new label set). The
 * candidate is always written; when a promotion guard fails (forgetting,
 * negative transfer, class collapse) it is marked not promoted and the
 * command fails with FL_ERR_ADAPT_GUARD saying which guard and why.
 */
import type { Command } from 'commander';
import type { AdaptStrategy } from '../../contract/machine.js';
import { FaultlineError } from '../../errors.js';
import { HEAD_NAMES, parseHeads } from '../../model/choices.js';
import { loadLabelledData } from '../../model/domains.js';
import { progressBar } from './train.js';

const STRATEGIES: AdaptStrategy[] = ['dann', 'mmd', 'dann-im', 'finetune', 'features'];

interface AdaptCliOptions {
  model: string;
  data: string;
  target: string;
  out: string;
  strategy: string;
  steps: string;
  seed: string;
  labelled: string;
  labelColumn?: string;
  heads?: string;
}

export function registerAdaptCommand(program: Command): void {
  program
    .command('adapt')
    .description(
      'adapt a source model to a target operating condition with unlabelled target data; writes a new model folder',
    )
    .requiredOption('--model <dir>', 'source model folder')
    .requiredOption(
      '--data <dir>',
      'data folder holding the source domains (labelled) and the target domain(s)',
    )
    .requiredOption('--target <list>', 'target domain(s), comma-separated (CWRU: load1, …)')
    .requiredOption('--out <dir>', 'candidate model folder to write')
    .option('--strategy <name>', `one of ${STRATEGIES.join(', ')}`, 'dann')
    .option('--steps <n>', 'adaptation steps', '300')
    .option('--seed <n>', 'seed', '1')
    .option(
      '--label-column <column>',
      "bring-your-own: manifest column holding the class label (the front end is the model's own: its faultline.json sets rate, window, bands)",
    )
    .option(
      '--labelled <n>',
      'finetune/features: labelled target windows per class (first in time)',
      '10',
    )
    .option(
      '--heads <list>',
      `dann/mmd/dann-im: which of the model's auxiliary heads (${HEAD_NAMES.join(', ')}) train during the alignment (condition on source and target, fault heads on the source); default every head the model has, 'none' for none`,
    )
    .action(async (o: AdaptCliOptions) => {
      if (!STRATEGIES.includes(o.strategy as AdaptStrategy)) {
        throw new FaultlineError(
          'FL_ERR_CLI_USAGE',
          `unknown strategy '${o.strategy}'; use ${STRATEGIES.join(', ')}`,
        );
      }
      const steps = Number(o.steps);
      if (!Number.isInteger(steps) || steps < 1)
        throw new FaultlineError('FL_ERR_CLI_USAGE', `--steps must be ≥ 1, got '${o.steps}'`);
      // The model's front end decides: recordings go to its analysis rate.
      const { readModelMetadata } = await import('../../model/artifact.js');
      const meta = await readModelMetadata(o.model);
      const { recordings } = await loadLabelledData(o.data, {
        targetRate: meta.sampleRate,
        ...(o.labelColumn ? { labelColumn: o.labelColumn } : {}),
      });
      const heads = o.heads === undefined ? undefined : parseHeads(o.heads);
      const lacking = heads?.filter((h) => !meta.heads?.some((m) => m.name === h)) ?? [];
      if (lacking.length > 0)
        throw new FaultlineError(
          'FL_ERR_CLI_USAGE',
          `--heads ${lacking.join(', ')}: ${o.model} has ${meta.heads?.map((h) => h.name).join(', ') || 'no auxiliary head'}; train one with 'faultline train --heads'`,
        );
      const bar = progressBar(o.strategy);
      const t0 = performance.now();
      const { adaptModel } = await import('../../model/pipeline.js'); // tfjs only when adapting
      const r = await adaptModel({
        sourceDir: o.model,
        outDir: o.out,
        strategy: o.strategy as AdaptStrategy,
        recordings,
        targetDomains: o.target.split(',').map((d) => d.trim()),
        steps,
        seed: Number(o.seed),
        labelledPerClass: Number(o.labelled),
        ...(heads ? { heads } : {}),
        command: `faultline adapt ${process.argv.slice(3).join(' ')}`,
        datasetLabel: o.data,
        onStep: (s, n) => bar.update(s, n),
      });
      bar.end();
      for (const g of r.guards)
        process.stderr.write(
          `faultline: adapt: guard ${g.name}: ${g.passed ? 'ok' : 'FAILED'}: ${g.detail}\n`,
        );
      process.stdout.write(
        `candidate ${o.out} (${((performance.now() - t0) / 1000).toFixed(0)} s): ${r.promoted ? 'promoted' : 'NOT promoted'}\n`,
      );
      if (!r.promoted) {
        const failed = r.guards.filter((g) => !g.passed);
        throw new FaultlineError(
          'FL_ERR_ADAPT_GUARD',
          `${o.out} was written but not promoted: ${failed.map((g) => `${g.name} (${g.detail})`).join('; ')}`,
        );
      }
    });
}
