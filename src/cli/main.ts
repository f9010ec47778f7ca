/**
 * `faultline` — the command line. Thin: it parses arguments and calls the same
 * functions the daemon calls (ARCHITECTURE.md). Each command lives in its own
 * module under src/cli/commands and registers itself on the program.
 *
 * Exit status (./exit-codes.ts): 0 done, 1 a runtime failure, 2 a usage
 * error; an error ends the command with `faultline: <code>: <message>`.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { FaultlineError } from '../errors.js';
import { registerAdaptCommand } from './commands/adapt.js';
import { registerBridgeCommand } from './commands/bridge.js';
import { registerDatasetCommand } from './commands/dataset.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerEvalCommand } from './commands/eval.js';
import { registerGatewayCommand } from './commands/gateway.js';
import { registerIngestCommand } from './commands/ingest.js';
import { registerSimulateCommand } from './commands/simulate.js';
import { registerSimulateSensorCommand } from './commands/simulate-sensor.js';
import { registerSpectrogramCommand } from './commands/spectrogram.js';
import { registerTrainCommand } from './commands/train.js';
import { EXIT_FAILURE, exitStatusOfCode, exitStatusOfCommander } from './exit-codes.js';

/**
 * The version in package.json: read, not written out here, so a release
 * changes one place. The file is two levels up from src/cli and dist/cli alike.
 */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('faultline')
    .description('Vibration fault diagnosis for rotating machines: ingest → spectrogram → CNN')
    .version(packageVersion())
    .showHelpAfterError()
    // before the commands are added: they copy it, so their own errors
    // (an unknown option of `gateway`) also come back here for the exit status
    .exitOverride();
  registerDemoCommand(program);
  registerDatasetCommand(program);
  registerSpectrogramCommand(program);
  registerSimulateCommand(program);
  registerSimulateSensorCommand(program);
  registerIngestCommand(program);
  registerBridgeCommand(program);
  registerEvalCommand(program);
  registerTrainCommand(program);
  registerAdaptCommand(program);
  registerGatewayCommand(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed the message (and the help after it)
      process.exitCode = exitStatusOfCommander(err);
      return;
    }
    if (err instanceof FaultlineError) {
      process.stderr.write(`faultline: ${err.code}: ${err.message}\n`);
      process.exitCode = exitStatusOfCode(err.code);
      return;
    }
    // not an error Faultline raises on purpose: a bug, whose stack helps its report
    process.stderr.write(`faultline: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = EXIT_FAILURE;
  }
}

await main(process.argv);
