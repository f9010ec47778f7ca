/**
 * Response-header rewriting for console windows: every response from a known
 * gateway origin gets the shell's strict CSP, whatever the gateway sent, so a
 * gateway that serves a looser policy (or none) cannot widen it.
 */
import { consoleCsp, gatewayOrigin } from './csp.js';

/** Returns headers with any existing CSP replaced when `url` is from one of `origins`. */
export function withConsoleCsp(
  url: string,
  headers: Record<string, string[]> | undefined,
  origins: ReadonlySet<string>,
): Record<string, string[]> | undefined {
  let origin: string;
  try {
    origin = gatewayOrigin(url);
  } catch {
    return headers;
  }
  if (!origins.has(origin)) return headers;
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() !== 'content-security-policy') out[k] = v;
  }
  out['Content-Security-Policy'] = [consoleCsp(origin)];
  return out;
}
