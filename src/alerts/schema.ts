/**
 * Validation and ids of the alert payloads. The schemas themselves are part of
 * the contract (src/contract/alert.ts); `alert.schema.json` beside this file is
 * `z.toJSONSchema(alertSchema)` (JSON Schema draft 2020-12) for consumers
 * outside TypeScript; a test checks the two agree. Regenerate with
 * `npx tsx src/alerts/write-schema.ts`.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type Alert, alertSchema } from '../contract/alert.js';
import { FaultlineError } from '../errors.js';

/** The alert JSON Schema (draft 2020-12), as shipped in alert.schema.json. */
export function alertJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(alertSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}

/**
 * Validates an alert.
 * @throws FaultlineError FL_ERR_ALERT_SCHEMA naming the first bad field
 */
export function parseAlert(value: unknown): Alert {
  return parseWith(alertSchema, value, 'alert');
}

/** Validates with `schema`, throwing FL_ERR_ALERT_SCHEMA with the bad field's path. */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw new FaultlineError(
    'FL_ERR_ALERT_SCHEMA',
    `${what} field ${i.path.join('.') || '(root)'}: ${i.message}; see src/alerts/alert.schema.json`,
  );
}

/**
 * Deterministic alert id: an RFC 9562 version-8 UUID from SHA-256 of the
 * fields that identify one transition, so the same transition processed twice
 * (a restart, a replay) yields the same id and receivers dedup it.
 */
export function alertId(
  site: string,
  machine: string,
  sensor: string,
  timeMs: number,
  state: string,
): string {
  const h = createHash('sha256')
    .update([site, machine, sensor, String(timeMs), state].join('\u0000'))
    .digest();
  h[6] = (h[6] & 0x0f) | 0x80; // version 8
  h[8] = (h[8] & 0x3f) | 0x80; // variant 10xx
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
