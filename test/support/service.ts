/**
 * Child processes for test services (mosquitto, influxd, socat): spawned,
 * tracked and always killed — on `stop()`, and as a last resort when the test
 * process exits, so a failed assertion never leaves a broker or pty pair
 * behind. {@link launchService} waits until a service is ready;
 * {@link restartableService} gives the kill / restart / stop handle the
 * outage tests use.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, rm } from 'node:fs/promises';

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
  /** Sends `signal` (default SIGTERM) and waits for the exit; SIGKILL after 10 s. */
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
      // room for a clean exit (mosquitto saves its persistence file) on a busy machine
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** True when `bin` exists (tests skip with a message otherwise). */
export async function haveBinary(bin: string): Promise<boolean> {
  try {
    await access(bin);
    return true;
  } catch {
    return false;
  }
}

export interface ReadyOptions {
  /** Give up after this long, ms. */
  timeoutMs: number;
  /** Pause between probes, ms. */
  intervalMs: number;
  /** What `ready` waits for, for the timeout message (e.g. "/ping answering 204"). */
  what: string;
}

/**
 * Spawns `cmd args` and resolves once `ready()` returns true (polled every
 * `intervalMs`). Rejects — after killing the process — when it exits first
 * or `timeoutMs` passes, with the tail of its stderr in the message.
 */
export async function launchService(
  cmd: string,
  args: string[],
  ready: () => Promise<boolean>,
  o: ReadyOptions,
): Promise<ServiceProcess> {
  const proc = await spawnService(cmd, args);
  const name = cmd.split('/').pop();
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${name} exited at start: ${proc.stderr().trim().slice(-2000)}`);
    }
    if (await ready()) return proc;
    if (Date.now() > deadline) {
      await proc.stop('SIGKILL');
      throw new Error(
        `${name}: no ${o.what} after ${o.timeoutMs} ms: ${proc.stderr().trim().slice(-2000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, o.intervalMs));
  }
}

/** A service that outage tests can take down and bring back on the same ports and data. */
export interface RestartableService {
  /** Stops the process (SIGTERM, so it can save its state), keeping its directory. */
  kill(): Promise<void>;
  /** Kills it and launches it again with the same config; resolves when it is ready. */
  restart(): Promise<void>;
  /** Stops the process and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Launches a service now with `launch` and returns its kill / restart / stop
 * handle. `afterKill` runs after every kill (e.g. to remove links the service
 * leaves); `stopSignal` is what `stop()` sends (default SIGTERM).
 */
export async function restartableService(o: {
  launch: () => Promise<ServiceProcess>;
  dir: string;
  stopSignal?: NodeJS.Signals;
  afterKill?: () => Promise<void>;
}): Promise<RestartableService> {
  let proc = await o.launch();
  const halt = async (signal: NodeJS.Signals) => {
    await proc.stop(signal);
    await o.afterKill?.();
  };
  return {
    kill: () => halt('SIGTERM'),
    async restart() {
      await halt('SIGTERM');
      proc = await o.launch();
    },
    async stop() {
      await halt(o.stopSignal ?? 'SIGTERM');
      await rm(o.dir, { recursive: true, force: true });
    },
  };
}
