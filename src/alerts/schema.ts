/**
 * Wire schemas of the alert topics (src/alerts/README.md), defined once in zod.
 * `alert.schema.json` beside this file is `z.toJSONSchema(alertSchema)`
 * (JSON Schema draft 2020-12) for consumers outside TypeScript; a test checks
 * the two agree. Regenerate with `npx tsx src/alerts/write-schema.ts`.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { DEFECT_KINDS, HEALTH_STATES } from '../diagnose/types.js';
import { FaultlineError } from '../errors.js';

/** One MQTT topic level: non-empty, without `/`, `+`, `#` or NUL. */
export const topicLevel = z
  .string()
  .min(1)
  .max(128)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is invalid in an MQTT topic
  .regex(/^[^/+#\u0000]+$/, 'must not contain / + # or NUL (it is an MQTT topic level)');

const healthState = z.enum(HEALTH_STATES);
const isoZone = z.enum(['A', 'B', 'C', 'D']);
/** ISO 8601 UTC with a `Z` suffix, e.g. `2025-01-01T12:00:00.000Z`. */
const utcTime = z.iso.datetime({ offset: false });

export const evidenceSchema = z
  .object({
    defect: z.enum(DEFECT_KINDS).describe('Characteristic frequency the peak matches'),
    frequencyHz: z.number().positive().describe('Peak frequency, Hz'),
    prominence: z.number().min(0).describe('Peak height over the local floor, dB'),
  })
  .describe('Spectral evidence behind the diagnosis');

export const alertSchema = z
  .object({
    id: z.uuid().describe('Stable id: a re-published alert keeps it, so receivers dedup on it'),
    site: topicLevel,
    machine: topicLevel,
    sensor: topicLevel,
    state: healthState.describe('Health state entered'),
    previousState: healthState.describe('Health state left'),
    faultClass: z
      .string()
      .min(1)
      .describe('Fault location (normal, inner, outer, ball…), never a data-set code'),
    confidence: z
      .number()
      .min(0)
      .max(1)
      .describe('Mean fault probability over the debounce window'),
    isoZone: isoZone.describe('ISO 20816 zone of the latest window'),
    velocityRmsMmS: z.number().min(0).describe('RMS velocity of the latest window, mm/s'),
    evidence: evidenceSchema.optional(),
    reason: z.string().min(1).describe('Why the state changed, for people'),
    modelVersion: z.string().min(1).describe('Version of the model that diagnosed'),
    time: utcTime.describe('When the state changed, ISO 8601 UTC'),
    acknowledged: z
      .object({
        by: z.string().min(1),
        time: utcTime,
        comment: z.string().max(1000).optional(),
      })
      .optional()
      .describe('Set once an operator acknowledged the alert'),
  })
  .describe('Faultline health alert (topic faultline/<site>/<machine>/alert)');

export type Alert = z.infer<typeof alertSchema>;
export type Evidence = z.infer<typeof evidenceSchema>;

/** Retained current health of a machine (topic faultline/<site>/<machine>/state). */
export const healthStatePayloadSchema = z.object({
  site: topicLevel,
  machine: topicLevel,
  state: healthState,
  /** When the current state was entered. */
  since: utcTime,
  faultClass: z.string().min(1),
  confidence: z.number().min(0).max(1),
  isoZone: isoZone.optional(),
  velocityRmsMmS: z.number().min(0).optional(),
  /** Id of the alert that announced the current state, if any. */
  alertId: z.uuid().optional(),
  /** Why the machine is in this state, for people (for `stream-mismatch`: which sensor does not fit, and why). */
  reason: z.string().min(1).optional(),
  modelVersion: z.string().optional(),
  /** When this payload was published. */
  time: utcTime,
});
export type HealthStatePayload = z.infer<typeof healthStatePayloadSchema>;

/** Operator acknowledgement (topic faultline/<site>/<machine>/alert/ack). */
export const ackSchema = z.object({
  id: z.uuid(),
  by: z.string().min(1).max(200),
  comment: z.string().max(1000).optional(),
});
export type AlertAck = z.infer<typeof ackSchema>;

/** Gateway presence (retained, topic faultline/<site>/gateway/<id>/status; also the Last Will). */
export const gatewayStatusSchema = z.object({
  status: z.enum(['online', 'offline']),
  gateway: topicLevel,
  /** When the connection that set this status was opened. */
  since: utcTime,
});
export type GatewayStatus = z.infer<typeof gatewayStatusSchema>;

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
