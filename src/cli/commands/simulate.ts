/**
 * `faultline simulate` — writes a synthetic bearing vibration signal (g) to a
 * .wav/.csv/.npy file and prints its defect frequencies and RMS; with
 * `--dataset <dir>`, writes a whole small bring-your-own data set
 * (conditions × classes × recordings + manifest.csv) instead.
 */
import type { Command } from 'commander';
import { FaultlineError, isFaultlineError } from '../../errors.js';
import { CONDITION_PRESET_NAMES, conditionPreset } from '../../sim/conditions.js';
import { writeSimDataset } from '../../sim/dataset.js';
import { FAULT_TYPES, type FaultType } from '../../sim/faults.js';
import { BearingSignalGenerator } from '../../sim/generator.js';
import {
  SIGNAL_FILE_FORMATS,
  type SignalFileFormat,
  writeSignalFile,
} from '../../sim/signal-files.js';
import { nonNegativeNumber, numberArg, positiveNumber } from './parse.js';

interface SimulateOptions {
  fault: string;
  rpm?: number;
  condition: string;
  severity?: number;
  duration?: number;
  rate: number;
  seed: number;
  out?: string;
  dataset?: string;
  conditions?: string;
  recordings: number;
  format: string;
}

function usage(message: string): FaultlineError {
  return new FaultlineError('FL_ERR_CLI_USAGE', message);
}

const integer = (flag: string, min: number) =>
  numberArg(flag, (n) => Number.isInteger(n) && n >= min, `an integer ≥ ${min}`);

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description(
      'write a synthetic bearing vibration signal (g) to a .wav/.csv/.npy file, or with --dataset a small ' +
        'labelled data set of several operating conditions with manifest.csv',
    )
    .option(
      '--fault <type>',
      `bearing fault: ${FAULT_TYPES.join('|')} (with --dataset: all classes are written)`,
      'none',
    )
    .option('--rpm <rpm>', "shaft speed, rpm (default: the condition's)", positiveNumber('--rpm'))
    .option(
      '--condition <preset>',
      `operating condition: ${CONDITION_PRESET_NAMES.join(', ')}`,
      'source-1797rpm',
    )
    .option(
      '--severity <g>',
      'impact peak at 1797 rpm, g (default 0.5)',
      nonNegativeNumber('--severity'),
    )
    .option(
      '--duration <s>',
      'seconds per recording (default 10; 2 with --dataset)',
      positiveNumber('--duration'),
    )
    .option('--rate <hz>', 'sample rate, Hz', integer('--rate', 1), 12000)
    .option(
      '--seed <n>',
      'random seed; the same seed gives the same signal',
      integer('--seed', 0),
      1,
    )
    .option(
      '--out <file>',
      'output file: .wav (float32), .csv (one column, header accel_g) or .npy (float32)',
    )
    .option('--dataset <dir>', 'write a data set into this new or empty folder instead of one file')
    .option(
      '--conditions <list>',
      'with --dataset: comma-separated condition presets (default: all)',
    )
    .option(
      '--recordings <n>',
      'with --dataset: recordings per condition and class',
      integer('--recordings', 1),
      3,
    )
    .option(
      '--format <fmt>',
      `with --dataset: file format, ${SIGNAL_FILE_FORMATS.join('|')}`,
      'wav',
    )
    .action(async (o: SimulateOptions) => {
      if (!FAULT_TYPES.includes(o.fault as FaultType)) {
        throw usage(`--fault ${JSON.stringify(o.fault)} must be one of ${FAULT_TYPES.join(', ')}`);
      }
      if ((o.out === undefined) === (o.dataset === undefined)) {
        throw usage('give exactly one of --out <file> or --dataset <dir>');
      }
      if (o.dataset !== undefined) await runDataset(o, o.dataset);
      else if (o.out !== undefined) await runSingle(o, o.out);
    });
}

async function runSingle(o: SimulateOptions, out: string): Promise<void> {
  if (!/\.(wav|csv|npy)$/i.test(out))
    throw usage(`--out ${JSON.stringify(out)} must end in .wav, .csv or .npy`);
  const gen = new BearingSignalGenerator({
    fault: { type: o.fault as FaultType, severity: o.severity },
    condition: conditionPreset(o.condition),
    rpm: o.rpm,
    sampleRate: o.rate,
    seed: o.seed,
  });
  const durationS = o.duration ?? 10;
  const n = Math.round(durationS * o.rate);
  if (n < 1) throw usage(`--duration ${durationS} s at ${o.rate} Hz gives no samples`);
  const samples = gen.next(n);
  await writeOrExplain(out, () => writeSignalFile(out, samples, o.rate));

  let sum = 0;
  let peak = 0;
  for (const v of samples) {
    sum += v * v;
    peak = Math.max(peak, Math.abs(v));
  }
  const f = gen.frequencies;
  const c = gen.config.condition;
  const hz = (v: number): string => `${v.toFixed(2)} Hz`;
  process.stdout.write(
    [
      `wrote ${out}: ${n} samples at ${o.rate} Hz (${(n / o.rate).toFixed(2)} s), g`,
      `fault ${gen.config.fault.type}${gen.config.fault.type === 'none' ? '' : ` severity ${gen.config.fault.severity} g`}, ` +
        `condition ${c.name}, ${c.rpm} rpm, load ${c.load}, seed ${o.seed}`,
      `shaft ${hz(f.shaftHz)}  BPFO ${hz(f.BPFO)}  BPFI ${hz(f.BPFI)}  BSF ${hz(f.BSF)} (2·BSF ${hz(2 * f.BSF)})  FTF ${hz(f.FTF)}`,
      `RMS ${Math.sqrt(sum / n).toFixed(4)} g, peak ${peak.toFixed(4)} g`,
      '',
    ].join('\n'),
  );
}

async function runDataset(o: SimulateOptions, dir: string): Promise<void> {
  if (!SIGNAL_FILE_FORMATS.includes(o.format as SignalFileFormat)) {
    throw usage(
      `--format ${JSON.stringify(o.format)} must be one of ${SIGNAL_FILE_FORMATS.join(', ')}`,
    );
  }
  const conditions = (o.conditions ?? CONDITION_PRESET_NAMES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((name) => conditionPreset(name));
  const result = await writeOrExplain(dir, () =>
    writeSimDataset(dir, {
      conditions:
        o.rpm === undefined
          ? conditions
          : conditions.map((c) => ({ ...c, name: `${c.name}@${o.rpm}rpm`, rpm: o.rpm as number })),
      recordingsPerClass: o.recordings,
      durationS: o.duration ?? 2,
      sampleRate: o.rate,
      seed: o.seed,
      format: o.format as SignalFileFormat,
      severity: o.severity,
    }),
  );
  const domains = [...new Set(result.entries.map((e) => e.domain))];
  const labels = [...new Set(result.entries.map((e) => e.label))];
  process.stdout.write(
    `wrote ${result.entries.length} recordings (${domains.length} domains × ${labels.length} classes × ${o.recordings}) ` +
      `and ${result.manifestPath}\ndomains: ${domains.join(', ')}\nlabels:  ${labels.join(', ')}\n`,
  );
}

/** Runs a write; file-system failures become FL_ERR_CLI_USAGE naming the path. */
async function writeOrExplain<T>(target: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (isFaultlineError(err)) throw err;
    throw usage(`cannot write ${target}: ${(err as Error).message}`);
  }
}
