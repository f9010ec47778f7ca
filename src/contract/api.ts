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
  error: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES]).describe('FL_ERR_… code'),
  message: z.string(),
});
export type ApiError = z.infer<typeof apiErrorSchema>;

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
