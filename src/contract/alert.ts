/**
 * Wire schemas of the alert topics (src/alerts/README.md) and of the alerts
 * the API returns. `src/alerts/alert.schema.json` is `z.toJSONSchema(alertSchema)`
 * (draft 2020-12) for consumers outside TypeScript; a test checks they agree.
 */
import { z } from 'zod';
import { headReadingsSchema } from './heads.js';
import { defectKindSchema, healthStateSchema, isoZoneSchema } from './health.js';

/** One MQTT topic level: non-empty, without `/`, `+`, `#` or NUL. */
export const topicLevel = z
  .string()
  .min(1)
  .max(128)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is invalid in an MQTT topic
  .regex(/^[^/+#\u0000]+$/, 'must not contain / + # or NUL (it is an MQTT topic level)');

/** ISO 8601 UTC with a `Z` suffix, e.g. `2025-01-01T12:00:00.000Z`. */
export const utcTime = z.iso.datetime({ offset: false });

/**
 * The evidence behind an alert. `prominence` is the envelope-spectrum score of
 * the defect line: the geometric mean, over its first harmonics, of peak
 * amplitude / median amplitude of the surrounding band — a plain ratio, not
 * dB (1 = level with the floor; a clear fault scores 50–500).
 */
export const evidenceSchema = z
  .object({
    defect: defectKindSchema.describe('Characteristic frequency the peak matches'),
    frequencyHz: z.number().positive().describe('Peak frequency, Hz'),
    prominence: z
      .number()
      .min(0)
      .describe(
        'Peak height over the local floor as a plain ratio (not dB): geometric mean over the harmonics of peak / median of the surrounding band',
      ),
  })
  .describe('Spectral evidence behind the diagnosis');
export type Evidence = z.infer<typeof evidenceSchema>;

/**
 * What the operator found when acknowledging an alert (issue #16): the fault
 * is real (`confirmed`, with the class the machine really has, one of its
 * model's classes), the machine was healthy (`false-alarm`), or nobody can
 * tell yet (`unknown`). Confirmed and false alarms label the windows around
 * the alert as target data for that machine (docs/verdicts.md).
 */
export const verdictSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('confirmed'),
      faultClass: z
        .string()
        .min(1)
        .max(100)
        .describe('The class the machine really has: one of its active model’s classes'),
    }),
    z.strictObject({ kind: z.literal('false-alarm') }),
    z.strictObject({ kind: z.literal('unknown') }),
  ])
  .describe(
    'The operator’s verdict on the alert: confirmed (with the class), false alarm, unknown',
  );
export type Verdict = z.infer<typeof verdictSchema>;

export const alertSchema = z
  .object({
    id: z.uuid().describe('Stable id: a re-published alert keeps it, so receivers dedup on it'),
    site: topicLevel,
    machine: topicLevel,
    sensor: topicLevel,
    state: healthStateSchema.describe('Health state entered'),
    previousState: healthStateSchema.describe('Health state left'),
    faultClass: z
      .string()
      .min(1)
      .describe('Fault location (normal, inner, outer, ball…), never a data-set code'),
    confidence: z
      .number()
      .min(0)
      .max(1)
      .describe('Mean fault probability over the debounce window'),
    isoZone: isoZoneSchema.describe('ISO 20816 zone of the latest window'),
    velocityRmsMmS: z.number().min(0).describe('RMS velocity of the latest window, mm/s'),
    evidence: evidenceSchema.optional(),
    reason: z.string().min(1).describe('Why the state changed, for people'),
    modelVersion: z.string().min(1).describe('Version of the model that diagnosed'),
    heads: headReadingsSchema.optional(),
    time: utcTime.describe('When the state changed, ISO 8601 UTC'),
    acknowledged: z
      .object({
        by: z.string().min(1),
        time: utcTime,
        comment: z.string().max(1000).optional(),
        verdict: verdictSchema.optional(),
      })
      .optional()
      .describe('Set once an operator acknowledged the alert'),
  })
  .describe('Faultline health alert (topic faultline/<site>/<machine>/alert)');
export type Alert = z.infer<typeof alertSchema>;

/** Who shelves a machine, and why: the fields a shelf and the request that makes it share. */
export const shelfReasonFields = {
  by: z.string().min(1).max(200).describe('Who shelved the machine'),
  reason: z.string().min(1).max(1000).describe('Why (maintenance, a known fault being repaired…)'),
};

/**
 * A machine shelved (in maintenance): still diagnosed, but raising no alerts
 * and no notifications until `until`, when it unshelves by itself (ISA-18.2
 * shelving, with who and why). Shown on the machine view and the state topic.
 */
export const shelfSchema = z
  .object({
    ...shelfReasonFields,
    since: utcTime.describe('When it was shelved'),
    until: utcTime.describe('When it unshelves by itself'),
  })
  .describe('Shelved: diagnosed, but no alerts or notifications until `until`');
export type Shelf = z.infer<typeof shelfSchema>;

/** Retained current health of a machine (topic faultline/<site>/<machine>/state). */
export const healthStatePayloadSchema = z.object({
  site: topicLevel,
  machine: topicLevel,
  state: healthStateSchema,
  /** When the current state was entered. */
  since: utcTime,
  faultClass: z.string().min(1),
  confidence: z.number().min(0).max(1),
  isoZone: isoZoneSchema.optional(),
  velocityRmsMmS: z.number().min(0).optional(),
  /** Id of the alert that announced the current state, if any. */
  alertId: z.uuid().optional(),
  /** Why the machine is in this state, for people (for `stream-mismatch`: which sensor does not fit, and why). */
  reason: z.string().min(1).optional(),
  modelVersion: z.string().optional(),
  /** The latest window's auxiliary heads, for a multi-task model (./heads.ts). */
  heads: headReadingsSchema.optional(),
  /** Shelved (no alerts until `until`), or null; absent from gateways before shelving existed. */
  shelved: shelfSchema.nullable().optional(),
  /** When this payload was published. */
  time: utcTime,
});
export type HealthStatePayload = z.infer<typeof healthStatePayloadSchema>;

/** Operator acknowledgement (topic faultline/<site>/<machine>/alert/ack). */
export const ackSchema = z.object({
  id: z.uuid(),
  by: z.string().min(1).max(200),
  comment: z.string().max(1000).optional(),
  verdict: verdictSchema.optional(),
});
export type AlertAck = z.infer<typeof ackSchema>;

/** Body of `POST /api/alerts/:id/ack` (the id is in the path). */
export const ackBodySchema = z.strictObject({
  by: z.string().min(1).max(200),
  comment: z.string().max(1000).optional(),
  verdict: verdictSchema.optional(),
});
export type AckBody = z.infer<typeof ackBodySchema>;

/** Gateway presence (retained, topic faultline/<site>/gateway/<id>/status; also the Last Will). */
export const gatewayStatusSchema = z.object({
  status: z.enum(['online', 'offline']),
  gateway: topicLevel,
  /** When the connection that set this status was opened. */
  since: utcTime,
  /**
   * Heartbeat period, s: a gateway that sends it promises a fresh `online`
   * at least this often, and the others count it gone after 3 periods
   * without one (a retained `online` of a gateway that died while the broker
   * was down would otherwise hold its machines for ever). Absent: no promise.
   */
  heartbeatS: z.number().positive().max(3600).optional(),
  /** When this heartbeat was sent. */
  beat: utcTime.optional(),
});
export type GatewayStatus = z.infer<typeof gatewayStatusSchema>;
