/** PEM files named by the config (http.tls, broker.tls), read at start. */
import { readFileSync } from 'node:fs';
import { FaultlineError } from '../errors.js';

/**
 * Reads the PEM file of config setting `setting` (e.g. `http.tls.certPath`).
 * @throws FaultlineError FL_ERR_CONFIG naming the setting and why, so a wrong
 *   path or a key the service user cannot read is a config error (exit 2)
 */
export function readPem(file: string, setting: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new FaultlineError(
      'FL_ERR_CONFIG',
      `cannot read ${setting} ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path and its permissions`,
    );
  }
}
