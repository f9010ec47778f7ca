/**
 * Secrets in the configuration: where they come from and how they are shown.
 *
 * A password or token may be written as `${NAME}` (or contain it): the value
 * of environment variable NAME is put in its place, so containers pass
 * secrets as variables. A `passwordFile` names a file holding the password
 * (systemd's `LoadCredential=` puts them in `$CREDENTIALS_DIRECTORY`, which
 * may itself be written as `${CREDENTIALS_DIRECTORY}/broker`); one trailing
 * newline is dropped.
 *
 * Whatever prints the configuration or the gateway's state (`gateway
 * --check`, `GET /api/gateway`) goes through {@link redactConfig} /
 * {@link redactUrl} first: passwords, tokens and the password of a URL are
 * replaced by {@link REDACTED}.
 */
import { readFileSync } from 'node:fs';

/** What a redacted secret reads as. */
export const REDACTED = '<redacted>';

/** The outcome of resolving a secret: its value, or why it cannot be had. */
export type SecretResult = { ok: true; value: string } | { ok: false; message: string };

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Replaces each `${NAME}` in `value` with environment variable NAME.
 * An unset variable is an error (a silently empty password is worse).
 */
export function expandEnv(value: string, env: NodeJS.ProcessEnv = process.env): SecretResult {
  let missing: string | undefined;
  const out = value.replace(ENV_REF, (_m, name: string) => {
    const v = env[name];
    if (v === undefined) missing ??= name;
    return v ?? '';
  });
  if (missing !== undefined)
    return {
      ok: false,
      message: `environment variable ${missing} is not set (named as \${${missing}}); set it or write the value itself`,
    };
  return { ok: true, value: out };
}

/**
 * Reads a secret from `file` (after `${NAME}` expansion of the path), without
 * one trailing newline.
 */
export function readSecretFile(file: string, env: NodeJS.ProcessEnv = process.env): SecretResult {
  const p = expandEnv(file, env);
  if (!p.ok) return p;
  try {
    return { ok: true, value: readFileSync(p.value, 'utf8').replace(/\r?\n$/, '') };
  } catch (err) {
    return {
      ok: false,
      message: `cannot read ${p.value} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the path and its permissions`,
    };
  }
}

/** `scheme://user:<redacted>@host/…` for a URL with a password; other strings unchanged. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (!u.password && !u.username) return url;
  const at = url.indexOf('@');
  const scheme = url.indexOf('://');
  if (at < 0 || scheme < 0) return url;
  const user = u.username ? decodeURIComponent(u.username) : '';
  return `${url.slice(0, scheme + 3)}${user}${u.password ? `:${REDACTED}` : ''}@${url.slice(at + 1)}`;
}

const SECRET_KEY = /password$|^token$|secret/i;

/**
 * A deep copy of `value` with every secret replaced by {@link REDACTED}:
 * keys ending in `password`, `token` and `secret` keys, and the password of
 * any string that is a URL with credentials. File paths (`passwordFile`)
 * are kept: they say where the secret is, not what it is.
 */
export function redactConfig<T>(value: T): T {
  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === 'string') return SECRET_KEY.test(key) ? REDACTED : redactUrl(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, ''));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, k);
      return out;
    }
    return v;
  };
  return walk(value, '') as T;
}
