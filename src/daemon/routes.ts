/**
 * The REST routes of the dashboard API (auth is a hook in ./api.ts). Bodies
 * and query strings are validated with zod; errors are JSON
 * `{ error: <FL_ERR code>, message }` with 400 (bad request), 404 (unknown
 * machine/alert/job), 409 (conflicting work, e.g. an adaptation running) or
 * 503 (the history store failed: nothing was recorded); an unexpected error is a 500.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { FaultlineError, isFaultlineError } from '../errors.js';
import type { GatewayApi } from './gateway-api.js';
import { openApiDocument } from './openapi.js';

const ackBody = z.strictObject({
  by: z.string().min(1).max(200),
  comment: z.string().max(1000).optional(),
});

const adaptBody = z
  .strictObject({
    /** Live signal to collect, s. */
    seconds: z.number().min(1).max(3600).optional(),
    strategy: z.enum(['dann', 'mmd']).optional(),
  })
  .prefault({});

const promoteBody = z.strictObject({
  /** Registry version id, e.g. `v3-1a2b3c4d`. */
  version: z.string().min(1).max(200),
  /** Activate even though the candidate failed a promotion guard (needs `reason`). */
  force: z.boolean().optional(),
  /** Who promotes (recorded). */
  by: z.string().min(1).max(200),
  /** Why (recorded; required with force). */
  reason: z.string().min(1).max(1000).optional(),
});

const alertsQuery = z.object({
  machine: z.string().min(1).optional(),
  /** ISO 8601 time or ms since the epoch. */
  since: z.string().min(1).optional(),
  until: z.string().min(1).optional(),
  unacknowledged: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  token: z.string().optional(),
});

function parse<S extends z.ZodType>(schema: S, v: unknown, what: string): z.output<S> {
  const r = schema.safeParse(v);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw new FaultlineError(
    'FL_ERR_API_REQUEST',
    `${what} ${i.path.join('.') || '(root)'}: ${i.message}`,
  );
}

/** ms since the epoch from an ISO time or a number string. */
function timeParam(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) {
    throw new FaultlineError(
      'FL_ERR_API_REQUEST',
      `${name} must be an ISO 8601 time or ms since the epoch, got ${JSON.stringify(v)}`,
    );
  }
  return t;
}

/** Maps a thrown error to the JSON error reply. */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (isFaultlineError(err)) {
    const status =
      err.code === 'FL_ERR_API_NOT_FOUND'
        ? 404
        : err.code === 'FL_ERR_API_REQUEST' && /already running|failed guard/.test(err.message)
          ? 409
          : err.code === 'FL_ERR_API_AUTH'
            ? 401
            : err.code.startsWith('FL_ERR_STORE_')
              ? 503 // the store failed: the request was not carried out
              : 400;
    return reply.code(status).send({ error: err.code, message: err.message });
  }
  return reply.code(500).send({ error: 'internal', message: (err as Error).message });
}

export function registerRoutes(app: FastifyInstance, gw: GatewayApi): void {
  app.setErrorHandler((err, _req, reply) => {
    if ((err as { statusCode?: number }).statusCode && !isFaultlineError(err)) {
      const e = err as { statusCode: number; message: string };
      return reply.code(e.statusCode).send({ error: 'FL_ERR_API_REQUEST', message: e.message });
    }
    return sendError(reply, err);
  });

  app.get('/api/openapi.json', async () => openApiDocument());

  app.get('/api/machines', async () => gw.machines());

  app.get<{ Params: { id: string } }>('/api/machines/:id', async (req) => {
    const m = gw.machine(req.params.id);
    if (!m)
      throw new FaultlineError(
        'FL_ERR_API_NOT_FOUND',
        `unknown machine ${JSON.stringify(req.params.id)}; GET /api/machines lists them`,
      );
    return m;
  });

  app.get('/api/alerts', async (req) => {
    const q = parse(alertsQuery, req.query, 'query parameter');
    return gw.alerts({
      ...(q.machine ? { machine: q.machine } : {}),
      ...(q.since ? { since: timeParam(q.since, 'since') } : {}),
      ...(q.until ? { until: timeParam(q.until, 'until') } : {}),
      ...(q.unacknowledged === 'true' ? { unacknowledged: true } : {}),
      limit: q.limit ?? 100,
    });
  });

  app.post<{ Params: { id: string } }>('/api/alerts/:id/ack', async (req) => {
    const body = parse(ackBody, req.body ?? {}, 'body field');
    return gw.ackAlert(req.params.id, body.by, body.comment);
  });

  app.get('/api/gateway', async () => gw.health());

  app.get('/api/models', async () => ({
    versions: gw.registry?.list() ?? [],
    active: Object.fromEntries(
      gw.config.machines.map((m) => [m.id, gw.registry?.active(m.id)?.id ?? null]),
    ),
    /** Hand promotions per machine (the audit trail of POST /api/machines/:id/promote). */
    audit: Object.fromEntries(
      gw.config.machines.map((m) => [m.id, gw.registry?.audit(m.id) ?? []]),
    ),
  }));

  app.post<{ Params: { id: string } }>('/api/machines/:id/adapt', async (req, reply) => {
    const body = parse(adaptBody, req.body ?? {}, 'body field');
    if (!gw.machine(req.params.id))
      throw new FaultlineError(
        'FL_ERR_API_NOT_FOUND',
        `unknown machine ${JSON.stringify(req.params.id)}`,
      );
    const job = gw.startAdaptation(req.params.id, body);
    return reply.code(202).send(job);
  });

  app.get<{ Params: { id: string } }>('/api/machines/:id/adapt', async (req) => {
    if (!gw.machine(req.params.id))
      throw new FaultlineError(
        'FL_ERR_API_NOT_FOUND',
        `unknown machine ${JSON.stringify(req.params.id)}`,
      );
    return gw.adaptation?.jobs(req.params.id) ?? [];
  });

  app.get<{ Params: { job: string } }>('/api/adaptations/:job', async (req) => {
    const j = gw.adaptation?.job(req.params.job);
    if (!j)
      throw new FaultlineError(
        'FL_ERR_API_NOT_FOUND',
        `unknown adaptation job ${JSON.stringify(req.params.job)}`,
      );
    return j;
  });

  app.post<{ Params: { id: string } }>('/api/machines/:id/promote', async (req) => {
    const body = parse(promoteBody, req.body ?? {}, 'body field');
    const r = await gw.promote(req.params.id, body);
    return { ...r, audit: gw.registry?.audit(req.params.id).at(-1) };
  });

  app.post<{ Params: { id: string } }>('/api/machines/:id/rollback', async (req) => {
    const r = await gw.rollback(req.params.id);
    return { machine: req.params.id, from: r.from.id, to: r.to.id };
  });
}
