/**
 * The field types the gateway's configuration schemas share (./config.ts,
 * ./config-machine.ts): numbers, ports, topic-level names and secrets, each
 * with the error message a user sees next to the bad field's path.
 */
import { z } from 'zod';
import { expandEnv, readSecretFile } from './secrets.js';

const POSITIVE = 'expected a positive number';
export const posNum = () => z.number({ error: POSITIVE }).positive({ error: POSITIVE });
export const posInt = () =>
  z
    .int({ error: 'expected a positive integer' })
    .positive({ error: 'expected a positive integer' });
export const port = () =>
  z
    .int({ error: 'expected a TCP port number (0–65535)' })
    .min(0, { error: 'expected a TCP port number (0–65535)' })
    .max(65535, { error: 'expected a TCP port number (0–65535)' });
/** One MQTT topic level (site, machine, sensor names end up in topics). */
export const name = (what: string) =>
  z
    .string({ error: `expected a ${what} name` })
    .min(1, { error: `${what} name must not be empty` })
    .max(128)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is invalid in an MQTT topic
    .regex(/^[^/+#\u0000\s]+$/, {
      error: `${what} name must not contain / + # or spaces (it is an MQTT topic level)`,
    });

/** A password or token: `${NAME}` is replaced by environment variable NAME (src/daemon/secrets.ts). */
export const secret = () =>
  z.string().transform((v, ctx) => {
    const r = expandEnv(v);
    if (r.ok) return r.value;
    ctx.addIssue({ code: 'custom', message: r.message });
    return z.NEVER;
  });

/**
 * Puts the contents of `passwordFile` (when given) into `password`, so the
 * rest of the gateway sees one field. The file wins over an inline password.
 */
export function withPasswordFile<T extends { password?: string; passwordFile?: string }>(
  o: T,
  ctx: z.RefinementCtx,
): T {
  if (o.passwordFile === undefined) return o;
  const r = readSecretFile(o.passwordFile);
  if (r.ok) return { ...o, password: r.value };
  ctx.addIssue({ code: 'custom', path: ['passwordFile'], message: r.message });
  return z.NEVER;
}
