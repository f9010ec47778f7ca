/**
 * Child processes for test services (mosquitto, socat): spawned, tracked and
 * always killed — on `stop()`, and as a last resort when the test process
 * exits, so a failed assertion never leaves a broker or pty pair behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** Resolves when the process has exited (immediately if it already has). */
  exited(): Promise<void>;
  /** Sends `signal` (default SIGTERM) and waits for the exit; SIGKILL after 3 s. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns `cmd args`, tracking it for cleanup. Throws when the binary is missing. */
export async function spawnService(cmd: string, args: string[]): Promise<ServiceProcess> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    // keep the tail only: a chatty service must not grow the test's memory
    err = (err + d).slice(-16_384);
  });
  let exited = false;
  const exit = once(child, 'exit').then(() => {
    exited = true;
    live.delete(child);
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (e) => reject(new Error(`cannot start ${cmd}: ${e.message}`)));
  });
  live.add(child);
  return {
    child,
    stderr: () => err,
    exited: () => exit,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (exited) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(timer);
    },
  };
}
