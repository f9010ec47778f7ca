/**
 * `faultline train <data> --out <dir>` — trains a source CNN on labelled
 * windows of a CWRU or bring-your-own folder (`--domains` / `--loads` pick
 * the source domains) with early stopping on the source validation split and
 * a fixed seed, and writes the model folder (src/model/artifact.ts).
 */

import type { Command } from 'commander';
import { FaultlineError } from '../../errors.js';
import { CNN_VARIANTS, type CnnVariant, HEAD_NAMES, parseHeads } from '../../model/choices.js';
import { loadLabelledData } from '../../model/domains.js';
import { frontEndForTraining } from '../../model/training-front-end.js';
import {
  addFrontEndOptions,
  type FrontEndCliOptions,
  frontEndFromCli,
} from './front-end-options.js';

interface TrainCliOptions extends FrontEndCliOptions {
  out: string;
  domains?: string;
  loads?: string;
  classes?: string;
  seed: string;
  epochs: string;
  variant: string;
  labelColumn: string;
  heads?: string;
}

/** A one-line progress bar on stderr when it is a terminal; silent otherwise. */
export function progressBar(label: string): {
  update(done: number, total: number, note?: string): void;
  end(): void;
} {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  return {
    update(done, total, note = '') {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const width = 30;
      const fill = Math.round((done / Math.max(1, total)) * width);
      process.stderr.write(
        `\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} ${note}\x1b[K`,
      );
    },
    end() {
      if (tty) process.stderr.write('\n');
    },
  };
}

export function registerTrainCommand(program: Command): void {
  addFrontEndOptions(program.command('train'), false)
    .description(
      'train a source CNN on labelled data (CWRU or a bring-your-own folder) and write a model folder',
    )
    .argument('<data>', 'data folder (CWRU or with manifest.csv)')
    .requiredOption(
      '--out <dir>',
      'model folder to write (model.json, weights.bin, faultline.json)',
    )
    .option('--domains <list>', 'source domains, comma-separated (default all)')
    .option('--loads <list>', 'CWRU: source loads in HP, e.g. 0,1 (same as --domains load0,load1)')
    .option('--classes <list>', 'classes to learn (default every label of the source domains)')
    .option('--seed <n>', 'seed of weight initialisers and shuffles', '1')
    .option('--epochs <n>', 'maximum epochs (early stopping on source validation loss)', '15')
    .option('--variant <name>', `CNN variant (${CNN_VARIANTS.join(', ')})`, 'strided')
    .option(
      '--label-column <column>',
      'bring-your-own: manifest column with the class label',
      'label',
    )
    .option(
      '--heads <list>',
      `auxiliary heads on the shared features, trained with the classes: ${HEAD_NAMES.join(', ')} (default none: one head)`,
    )
    .action(async (data: string, o: TrainCliOptions) => {
      const heads = parseHeads(o.heads);
      const seed = Number(o.seed);
      const epochs = Number(o.epochs);
      if (!Number.isInteger(seed))
        throw new FaultlineError('FL_ERR_CLI_USAGE', `--seed must be an integer, got '${o.seed}'`);
      if (!Number.isInteger(epochs) || epochs < 1)
        throw new FaultlineError('FL_ERR_CLI_USAGE', `--epochs must be ≥ 1, got '${o.epochs}'`);
      if (!CNN_VARIANTS.includes(o.variant as CnnVariant))
        throw new FaultlineError('FL_ERR_CLI_USAGE', `unknown variant '${o.variant}'`);
      const fe = frontEndFromCli(o);
      const { kind, recordings } = await loadLabelledData(data, {
        labelColumn: o.labelColumn,
        targetRate: fe.input.sampleRate,
      });
      const domains = o.loads
        ? o.loads.split(',').map((l) => `load${l.trim()}`)
        : o.domains?.split(',').map((d) => d.trim());
      const frontEnd = frontEndForTraining(
        fe.input,
        fe.axes,
        fe.normalisation,
        domains ? recordings.filter((r) => domains.includes(r.domain)) : recordings,
      );
      const bar = progressBar('train');
      // Loaded here, not at start: it brings tfjs, which other commands (the gateway) keep out of the main thread.
      const { trainSourceModel } = await import('../../model/pipeline.js');
      const meta = await trainSourceModel({
        recordings,
        datasetLabel: data,
        kind,
        domains,
        classes: o.classes?.split(','),
        frontEnd,
        variant: o.variant as CnnVariant,
        epochs,
        seed,
        speedAugment: fe.speedAugment,
        outDir: o.out,
        heads,
        log: (m) => process.stderr.write(`faultline: train: ${m}\n`),
        command: `faultline train ${process.argv.slice(3).join(' ')}`,
        onStep: (s, n, e) => bar.update(s, n, `epoch ${e}`),
        onEpoch: (e, acc, loss) => {
          bar.end();
          process.stderr.write(
            `faultline: train: epoch ${e}: source val accuracy ${(acc * 100).toFixed(2)} %, loss ${loss.toFixed(4)}\n`,
          );
        },
      });
      process.stdout.write(
        `model ${o.out}: ${meta.classes.length} classes, ${meta.architecture.params} parameters, ` +
          `source val ${(meta.metrics.sourceValAccuracy * 100).toFixed(2)} %, test ${(meta.metrics.sourceTestAccuracy * 100).toFixed(2)} %, ` +
          `${meta.training.seconds} s on ${meta.training.backend}` +
          (meta.heads ? `; heads ${meta.heads.map((h) => h.name).join(', ')}` : '') +
          '\n',
      );
    });
}
