/**
 * Files that survive a power cut: replaced whole or not at all, with the
 * previous version kept as `<file>.bak`.
 *
 *   1. write `<file>.<pid>.tmp` and fsync it (its bytes are on disk)
 *   2. copy the current `<file>` to `<file>.bak` the same way (tmp, fsync, rename)
 *   3. rename the temp file over `<file>` (atomic on POSIX file systems)
 *   4. fsync the directory (the renames themselves are on disk)
 *
 * A crash at any step leaves `<file>` either old or new, and `<file>.bak`
 * readable; {@link readWithBackup} falls back to the backup when `<file>` is
 * missing or does not parse (a copy truncated by another tool, a disk that
 * lied about its flushes).
 */
import { copyFile, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

async function fsyncPath(p: string, flags: 'r' | 'r+' = 'r'): Promise<void> {
  const fh = await open(p, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of a directory; some file systems refuse it (EINVAL/EISDIR): then nothing more can be done. */
async function fsyncDir(dir: string): Promise<void> {
  try {
    await fsyncPath(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw err;
  }
}

/**
 * Replaces `file` with `data` atomically and durably, keeping the previous
 * content as `<file>.bak` (when there was one and `backup` is not false).
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  o: { backup?: boolean; mode?: number } = {},
): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w', o.mode ?? 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  if (o.backup !== false) {
    const bakTmp = `${file}.bak.${process.pid}.tmp`;
    try {
      await copyFile(file, bakTmp);
      await fsyncPath(bakTmp, 'r+');
      await rename(bakTmp, `${file}.bak`);
    } catch (err) {
      await rm(bakTmp, { force: true });
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  await rename(tmp, file);
  await fsyncDir(path.dirname(file));
}

/** What {@link readWithBackup} found. */
export type BackupRead<T> =
  | { from: 'file'; value: T }
  | { from: 'backup'; value: T; problem: string }
  | { from: 'none' };

/**
 * Reads and parses `file`; when it is missing or `parse` throws, reads
 * `<file>.bak` instead.
 * @throws the error of `file` when neither can be read and parsed (and `file` exists)
 */
export async function readWithBackup<T>(
  file: string,
  parse: (text: string) => T,
): Promise<BackupRead<T>> {
  let problem: unknown;
  try {
    return { from: 'file', value: parse(await readFile(file, 'utf8')) };
  } catch (err) {
    problem = err;
  }
  const missing = (problem as NodeJS.ErrnoException).code === 'ENOENT';
  try {
    const value = parse(await readFile(`${file}.bak`, 'utf8'));
    return {
      from: 'backup',
      value,
      problem: missing ? `${file} is missing` : `${file}: ${(problem as Error).message}`,
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && missing) throw err;
    if (missing) return { from: 'none' };
    throw problem;
  }
}
