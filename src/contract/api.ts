/**
 * The request and response shapes of the gateway's HTTP API that are not a
 * machine or an alert: request bodies and query strings (validated with these
 * schemas by src/daemon/routes.ts), errors, promotions, and the route table
 * the OpenAPI document is generated from (./openapi.ts).
 */
import { z } from 'zod';
import { ERROR_CODES } from '../errors.js';

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
      .enum(['dann', 'mmd'])
      .optional()
      .describe('Alignment strategy (default adaptation.strategy)'),
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
  pipeline: z.looseObject({}).nullable().describe('Inference latency, queue depths, backend'),
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
    })
    .optional()
    .describe('Plant protocols that are on (outputs.modbus, outputs.sparkplug): their counters'),
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
