/**
 * The gateway's state directory (default ~/.faultline): the API token, the
 * model registry, the embedded history database and the InfluxDB queue.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import { FaultlineError } from '../errors.js';

/** Creates the state directory (mode 0700: it holds the access token). */
export async function ensureStateDir(dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new FaultlineError(
      'FL_ERR_CONFIG',
      `cannot create the state directory ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); set \`stateDir\` or FAULTLINE_STATE_DIR to a writable folder`,
    );
  }
  return dir;
}

/**
 * The API access token kept in `<dir>/token`: read when present, otherwise
 * generated (32 random bytes, base64url) and written with mode 0600.
 */
export async function loadOrCreateToken(dir: string): Promise<string> {
  const file = path.join(dir, 'token');
  try {
    const t = (await readFile(file, 'utf8')).trim();
    if (t.length >= 16) return t;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(32).toString('base64url');
  // Whole or not at all: a token torn by a power cut would lock every operator out.
  await writeFileAtomic(file, `${token}\n`, { mode: 0o600, backup: false });
  return token;
}
