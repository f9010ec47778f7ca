/**
 * `faultline` — the command line. Thin: it parses arguments and calls the same
 * functions the daemon calls (ARCHITECTURE.md). Each command lives in its own
 * module under src/cli/commands and registers itself on the program.
 */
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

export function buildProgram(): Command {
  const program = new Command('faultline')
    .description('Vibration fault diagnosis for rotating machines: ingest → spectrogram → CNN')
    .version('0.1.0')
    .showHelpAfterError();
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
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (err instanceof FaultlineError) {
      process.stderr.write(`faultline: ${err.code}: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}

await main(process.argv);
