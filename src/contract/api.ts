/**
 * The request and response shapes of the gateway's HTTP API that are not a
 * machine or an alert: request bodies and query strings (fastify validates
 * requests with these schemas, through the route table ./routes.ts and
 * src/daemon/type-provider.ts), errors, promotions, and the answers the
 * OpenAPI document (./openapi.ts) describes.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../errors.js';
import { alarmRateSchema } from './alarms.js';

/** Every error answer: `{ error: <FL_ERR code>, message }`. */
export const apiErrorSchema = z.object({
  error: z.string().describe(
    `FL_ERR_… code (src/errors.ts: ${Object.keys(ERROR_CODES)
      .filter((c) => c.startsWith('FL_ERR_API_'))
      .join(', ')}, …), or "internal" for an unexpected failure`,
  ),
  message: z.string(),
});
export type ApiError = z.infer<typeof apiErrorSchema>;

/** Answer of `GET /healthz`. */
export const healthzSchema = z.object({ ok: z.boolean() });

/** Body of `POST /api/machines/:id/adapt` (an empty body takes the defaults). */
export const adaptBodySchema = z
  .strictObject({
    seconds: z
      .number()
      .min(1)
      .max(3600)
      .optional()
      .describe('Live signal to collect, s (default adaptation.seconds)'),
    strategy: z
      .enum(['dann', 'mmd', 'finetune', 'features'])
      .optional()
      .describe(
        'dann or mmd: label-free alignment (default adaptation.strategy); finetune or features: with fromVerdicts only',
      ),
    fromVerdicts: z
      .boolean()
      .optional()
      .describe(
        "Learn from the machine's verdict windows (strategy finetune, the default, or features); the collected signal is its unlabelled stream",
      ),
  })
  .prefault({});

/** Body of `POST /api/machines/:id/promote`. */
export const promoteBodySchema = z.strictObject({
  version: z.string().min(1).max(200).describe('Registry version id, e.g. v3-1a2b3c4d'),
  force: z
    .boolean()
    .optional()
    .describe('Activate although a promotion guard failed (needs reason)'),
  by: z.string().min(1).max(200).describe('Who promotes (recorded)'),
  reason: z.string().min(1).max(1000).optional().describe('Why (recorded; required with force)'),
});

/** Query of `GET /api/alerts`. */
export const alertsQuerySchema = z.object({
  machine: z.string().min(1).optional(),
  since: z.string().min(1).optional().describe('ISO 8601 time or ms since the epoch'),
  until: z.string().min(1).optional().describe('ISO 8601 time or ms since the epoch'),
  unacknowledged: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional().describe('Default 100'),
  token: z.string().optional().describe('The gateway token (instead of the Authorization header)'),
});

/** Measures `GET /api/machines/:id/history` knows, besides `prob.<class>` (docs/history.md). */
export const HISTORY_MEASURE_NAMES = [
  'velocity_rms',
  'acceleration_rms',
  'peak',
  'crest_factor',
  'kurtosis',
  'iso_zone',
  'rpm',
  'evidence_score',
  'evidence_bpfo',
  'evidence_bpfi',
  'evidence_bsf',
] as const;

/** Most buckets one history answer may hold (measures × buckets stay bounded). */
export const MAX_HISTORY_BUCKETS = 5000;

/** Query of `GET /api/machines/:id/history`. */
export const historyQuerySchema = z.object({
  measure: z
    .string()
    .min(1)
    .optional()
    .describe(
      `Comma-separated measures (default velocity_rms): ${HISTORY_MEASURE_NAMES.join(', ')}, or prob.<class> (a model class's probability)`,
    ),
  since: z
    .string()
    .min(1)
    .optional()
    .describe('ISO 8601 time or ms since the epoch (default: 24 h before until)'),
  until: z
    .string()
    .min(1)
    .optional()
    .describe('ISO 8601 time or ms since the epoch (default: now)'),
  step: z
    .string()
    .min(1)
    .optional()
    .describe(
      `Bucket width: 30s, 5m, 1h, 1d or a number of seconds (default: about 300 buckets over the range; at most ${MAX_HISTORY_BUCKETS} buckets)`,
    ),
  sensor: z.string().min(1).optional().describe("Only this sensor's windows (default all)"),
  token: z.string().optional().describe('The gateway token (instead of the Authorization header)'),
});

/** One time bucket of one measure: the windows in it and their min, mean and max. */
export const historyBucketSchema = z.object({
  t: z.number().describe('Start of the bucket, ms since the epoch'),
  n: z.number().int().describe('Windows in the bucket'),
  min: z.number(),
  mean: z.number(),
  max: z.number(),
});

/** Answer of `GET /api/machines/:id/history`. */
export const historyAnswerSchema = z.object({
  machine: z.string(),
  since: z
    .string()
    .describe('Start of the first bucket (since rounded down to the step), ISO 8601'),
  until: z.string().describe('End of the range (exclusive), ISO 8601'),
  stepMs: z.number().int().describe('Bucket width, ms (whole hours when read from the rollup)'),
  source: z
    .enum(['raw', 'hourly'])
    .describe('raw windows, or the hourly rollup (ranges past the raw retention)'),
  series: z
    .record(z.string(), z.array(historyBucketSchema))
    .describe('Per measure, its non-empty buckets, oldest first'),
});
export type HistoryAnswer = z.infer<typeof historyAnswerSchema>;

/** A hand promotion recorded in a machine's audit trail. */
export const promotionRecordSchema = z.object({
  /** ISO 8601 time. */
  at: z.string(),
  action: z.literal('promote'),
  version: z.string(),
  /** Version active before, if any. */
  from: z.string().optional(),
  /** Who asked (the API's `by`). */
  by: z.string(),
  /** Why; required when `forced`. */
  reason: z.string().optional(),
  /** True when the version had failed a promotion guard. */
  forced: z.boolean(),
  failedGuards: z.array(z.string()).optional(),
});
export type PromotionRecord = z.infer<typeof promotionRecordSchema>;

/** Answer of `POST /api/machines/:id/promote`. */
export const promoteResultSchema = z.object({
  machine: z.string(),
  from: z.string().optional(),
  to: z.string(),
  forced: z.boolean().optional().describe('A failed guard was overridden'),
  audit: promotionRecordSchema.optional(),
});

/** Answer of `POST /api/machines/:id/rollback`. */
export const rollbackResultSchema = z.object({
  machine: z.string(),
  from: z.string(),
  to: z.string(),
});

/** Answer of `GET /api/models`: the registry's versions, the active one and the hand promotions per machine. */
export const modelsSchema = z.object({
  versions: z.array(z.looseObject({ id: z.string() })).describe('Registered model versions'),
  active: z
    .record(z.string(), z.string().nullable())
    .describe('Active version per machine (null: none registered)'),
  audit: z
    .record(z.string(), z.array(promotionRecordSchema))
    .describe('Hand promotions per machine, oldest first'),
});

/**
 * Answer of `GET /api/gateway`: the top-level fields; the counters inside
 * (ingest sources, store, alerts, pipeline) are each part's own statistics
 * and may grow, so they are open objects here (src/daemon/views.ts types them).
 */
export const gatewayHealthSchema = z.looseObject({
  site: z.string(),
  gatewayId: z.string(),
  startedAt: z.string(),
  uptimeS: z.number(),
  broker: z.looseObject({
    url: z.string(),
    embedded: z.boolean(),
    connected: z.boolean(),
    clients: z.number().optional(),
  }),
  ingest: z.looseObject({
    sources: z.array(z.looseObject({})),
    perSensor: z.record(
      z.string(),
      z.object({
        framesPerS: z.number(),
        frames: z.number(),
        gaps: z.number(),
        badFrames: z.number(),
      }),
    ),
  }),
  store: z.looseObject({ kind: z.enum(['sqlite', 'influx']) }),
  alerts: z.looseObject({}),
  notify: z
    .array(
      z.looseObject({
        kind: z.string(),
        delivered: z.number().int(),
        queued: z.number().int(),
        failures: z.number().int(),
        dropped: z.number().int(),
        lastError: z.string().nullable(),
      }),
    )
    .optional()
    .describe(
      'Webhook and e-mail notifiers (configured ones only): delivered, waiting in the outbox, failed attempts, dropped, the last error',
    ),
  pipeline: z.looseObject({}).nullable().describe('Inference latency, queue depths, backend'),
  alarmRate: alarmRateSchema.optional(),
  fleet: z.object({ machines: z.number().int() }).optional(),
  reload: z.object({
    at: z.string().optional(),
    ok: z.boolean().optional(),
    error: z.string().optional(),
  }),
  stream: z
    .object({
      clients: z.number().int(),
      refused: z.number().int(),
      droppedSlow: z.number().int(),
      droppedUnresponsive: z.number().int(),
      skippedDiagnoses: z.number().int(),
    })
    .optional()
    .describe(
      'The /api/stream WebSocket: clients now, refused at the client cap, dropped as slow or unresponsive',
    ),
  outputs: z
    .object({
      modbus: z
        .looseObject({ host: z.string(), port: z.number().int(), clients: z.number().int() })
        .optional(),
      sparkplug: z.looseObject({ connected: z.boolean(), bdSeq: z.number().int() }).optional(),
      opcua: z
        .looseObject({ host: z.string(), port: z.number().int(), sessions: z.number().int() })
        .optional(),
    })
    .optional()
    .describe(
      'Plant protocols that are on (outputs.modbus, outputs.sparkplug, outputs.opcua): their counters',
    ),
  cluster: z
    .looseObject({
      live: z.array(z.string()),
      owned: z.array(z.string()),
      changes: z.number().int(),
      lastChangeAt: z.string().optional(),
      notOwnedBlocks: z.number().int(),
    })
    .optional(),
});
