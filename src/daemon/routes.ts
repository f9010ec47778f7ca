/**
 * The REST routes of the dashboard API (auth is a hook in ./api.ts). Bodies
 * and query strings are validated with the contract's zod schemas
 * (src/contract/api.ts), which also generate the OpenAPI document; errors are JSON
 * `{ error: <FL_ERR code>, message }` with the status ./http-errors.ts maps
 * the code to: 400 (bad request), 404 (unknown machine/alert/job) or 409
 * (conflicting work, e.g. an adaptation running).
 */
import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import {
  shelveBodySchema as shelveBody,
  unshelveBodySchema as unshelveBody,
} from '../contract/alarms.js';
import { ackBodySchema as ackBody } from '../contract/alert.js';
import {
  adaptBodySchema as adaptBody,
  alertsQuerySchema as alertsQuery,
  historyQuerySchema as historyQuery,
  promoteBodySchema as promoteBody,
} from '../contract/api.js';
import { openApiDocument } from '../contract/openapi.js';
import { FaultlineError, isFaultlineError } from '../errors.js';
import type { GatewayApi } from './gateway-api.js';
import { historyQuery as storeHistoryQuery } from './history-params.js';
import { sendError } from './http-errors.js';

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

export function registerRoutes(app: FastifyInstance, gw: GatewayApi): void {
  app.setErrorHandler((err, req, reply) => {
    if ((err as { statusCode?: number }).statusCode && !isFaultlineError(err)) {
      const e = err as { statusCode: number; message: string };
      return reply.code(e.statusCode).send({ error: 'FL_ERR_API_REQUEST', message: e.message });
    }
    // a bug, not a bad request: its stack belongs in the log (the 500 answer carries only the message)
    if (!isFaultlineError(err)) req.log.error({ err }, 'request handler threw');
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

  app.get<{ Params: { id: string } }>('/api/machines/:id/history', async (req) => {
    const q = parse(historyQuery, req.query, 'query parameter');
    if (!gw.machine(req.params.id))
      throw new FaultlineError(
        'FL_ERR_API_NOT_FOUND',
        `unknown machine ${JSON.stringify(req.params.id)}; GET /api/machines lists them`,
      );
    const sq = storeHistoryQuery(
      req.params.id,
      { ...q, since: timeParam(q.since, 'since'), until: timeParam(q.until, 'until') },
      Date.now(),
    );
    return gw.history(sq);
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

  app.post<{ Params: { id: string } }>('/api/machines/:id/shelve', async (req) => {
    const body = parse(shelveBody, req.body ?? {}, 'body field');
    return gw.shelve(req.params.id, body);
  });

  app.post<{ Params: { id: string } }>('/api/machines/:id/unshelve', async (req) => {
    const body = parse(unshelveBody, req.body ?? {}, 'body field');
    return gw.unshelve(req.params.id, body.by);
  });

  app.post<{ Params: { id: string } }>('/api/machines/:id/rollback', async (req) => {
    const r = await gw.rollback(req.params.id);
    return { machine: req.params.id, from: r.from.id, to: r.to.id };
  });
}
