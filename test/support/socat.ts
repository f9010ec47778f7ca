/**
 * A real pseudo-terminal pair made by socat — two serial "devices" wired back
 * to back: bytes written to `a` come out of `b` and vice versa. The links live
 * in a temp directory and keep their paths across `restart()`, which is how
 * tests unplug and replug a device.
 */
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { launchService, type RestartableService, restartableService } from './service.js';

export const SOCAT_BIN = process.env.FAULTLINE_SOCAT ?? 'socat';

/** `kill()` makes both ends vanish, as on unplugging a USB adapter; `restart()` brings them back on the same paths. */
export interface PtyPair extends RestartableService {
  /** Path of one end (a symlink to /dev/pts/N). */
  readonly a: string;
  /** Path of the other end. */
  readonly b: string;
  readonly dir: string;
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
  const links = async () => (await exists(a)) && (await exists(b));
  const service = await restartableService({
    launch: () =>
      launchService(
        SOCAT_BIN,
        ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`],
        links,
        { timeoutMs: 30_000, intervalMs: 10, what: `links ${a}, ${b}` },
      ),
    dir,
    // socat removes its links on a clean exit; make sure, so a reconnecting
    // reader sees "no such device" rather than a dangling link to a dead pts
    afterKill: async () => {
      await rm(a, { force: true });
      await rm(b, { force: true });
    },
  });
  return { a, b, dir, ...service };
}
