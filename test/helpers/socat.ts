/**
 * A real pseudo-terminal pair made by socat — two serial "devices" wired back
 * to back: bytes written to `a` come out of `b` and vice versa. The links live
 * in a temp directory and keep their paths across `restart()`, which is how
 * tests unplug and replug a device.
 */
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type ServiceProcess, spawnService } from './service.js';

export const SOCAT_BIN = process.env.FAULTLINE_SOCAT ?? 'socat';

export interface PtyPair {
  /** Path of one end (a symlink to /dev/pts/N). */
  readonly a: string;
  /** Path of the other end. */
  readonly b: string;
  readonly dir: string;
  /** Kills socat: both ends vanish, as on unplugging a USB adapter. */
  kill(): Promise<void>;
  /** Starts socat again with the same link paths and waits for them. */
  restart(): Promise<void>;
  /** Kills socat and removes the temp directory. */
  stop(): Promise<void>;
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Starts `socat -d -d pty,raw,echo=0,link=<a> pty,raw,echo=0,link=<b>` and waits for both links. */
export async function startPtyPair(): Promise<PtyPair> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-pty-'));
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  let proc: ServiceProcess | undefined;
  const launch = async () => {
    proc = await spawnService(SOCAT_BIN, [
      '-d',
      '-d',
      `pty,raw,echo=0,link=${a}`,
      `pty,raw,echo=0,link=${b}`,
    ]);
    const deadline = Date.now() + 5000;
    while (!((await exists(a)) && (await exists(b)))) {
      if (proc.child.exitCode !== null)
        throw new Error(`socat exited at start: ${proc.stderr().trim()}`);
      if (Date.now() > deadline) {
        await proc.stop('SIGKILL');
        throw new Error(
          `socat links ${a}, ${b} did not appear within 5 s: ${proc.stderr().trim()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  await launch();
  const kill = async () => {
    await proc?.stop('SIGTERM');
    // socat removes its links on a clean exit; make sure, so a reconnecting
    // reader sees "no such device" rather than a dangling link to a dead pts
    await rm(a, { force: true });
    await rm(b, { force: true });
  };
  return {
    a,
    b,
    dir,
    kill,
    async restart() {
      await kill();
      await launch();
    },
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
