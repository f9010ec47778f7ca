/**
 * The REST routes of the dashboard API (auth is a hook in ./api.ts; the
 * `/api/stream` WebSocket is ./websocket.ts). Each route's method, path and
 * schemas come from the contract's table (src/contract/routes.ts), the one
 * the OpenAPI document is generated from; fastify validates params, query
 * and body with those zod schemas (./type-provider.ts) and the handlers are
 * typed from them. Errors are JSON `{ error: <FL_ERR code>, message }` with
 * the status ./http-errors.ts maps the code to: 400 (bad request), 404
 * (unknown machine/alert/job) or 409 (conflicting work, e.g. an adaptation
 * running).
 */
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import { openApiDocument } from '../contract/openapi.js';
import { API } from '../contract/routes.js';
import { FaultlineError, isFaultlineError } from '../errors.js';
import type { GatewayApi } from './gateway-api.js';
import { historyQuery } from './history-params.js';
import { sendError } from './http-errors.js';
import {
  jsonSerializerCompiler,
  type RouteHandler,
  routeOptions,
  zodValidatorCompiler,
} from './type-provider.js';

/** The table's routes served here: all but the WebSocket. */
type RestRoutes = Omit<typeof API, 'stream'>;

/** One handler per REST route of the table (a route without one does not compile). */
type Handlers = { [K in keyof RestRoutes]: RouteHandler<RestRoutes[K]> };

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
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(jsonSerializerCompiler);
  app.setErrorHandler((err, req, reply) => {
    // fastify's own refusals (bad JSON, body too large, unsupported media type)
    if ((err as { statusCode?: number }).statusCode && !isFaultlineError(err)) {
      const e = err as { statusCode: number; message: string };
      return reply.code(e.statusCode).send({ error: 'FL_ERR_API_REQUEST', message: e.message });
    }
    // a bug, not a bad request: its stack belongs in the log (the 500 answer carries only the message)
    if (!isFaultlineError(err)) req.log.error({ err }, 'request handler threw');
    return sendError(reply, err);
  });

  const unknownMachine = (id: string, hint = '') =>
    new FaultlineError('FL_ERR_API_NOT_FOUND', `unknown machine ${JSON.stringify(id)}${hint}`);

  const handlers: Handlers = {
    healthz: async () => ({ ok: true }),

    openapi: async () => openApiDocument(),

    machines: async () => gw.machines(),

    machine: async (req) => {
      const m = gw.machine(req.params.id);
      if (!m) throw unknownMachine(req.params.id, '; GET /api/machines lists them');
      return m;
    },

    history: async (req) => {
      const q = req.query;
      if (!gw.machine(req.params.id))
        throw unknownMachine(req.params.id, '; GET /api/machines lists them');
      const sq = historyQuery(
        req.params.id,
        { ...q, since: timeParam(q.since, 'since'), until: timeParam(q.until, 'until') },
        Date.now(),
      );
      return gw.history(sq);
    },

    alerts: async (req) => {
      const q = req.query;
      return gw.alerts({
        ...(q.machine ? { machine: q.machine } : {}),
        ...(q.since ? { since: timeParam(q.since, 'since') } : {}),
        ...(q.until ? { until: timeParam(q.until, 'until') } : {}),
        ...(q.unacknowledged === 'true' ? { unacknowledged: true } : {}),
        limit: q.limit ?? 100,
      });
    },

    ack: async (req) => gw.ackAlert(req.params.id, req.body.by, req.body.comment, req.body.verdict),

    gateway: async () => gw.health(),

    models: async () => ({
      versions: gw.registry?.list() ?? [],
      active: Object.fromEntries(
        gw.config.machines.map((m) => [m.id, gw.registry?.active(m.id)?.id ?? null]),
      ),
      /** Hand promotions per machine (the audit trail of POST /api/machines/:id/promote). */
      audit: Object.fromEntries(
        gw.config.machines.map((m) => [m.id, gw.registry?.audit(m.id) ?? []]),
      ),
    }),

    adapt: async (req, reply) => {
      if (!gw.machine(req.params.id)) throw unknownMachine(req.params.id);
      const job = gw.startAdaptation(req.params.id, req.body);
      return reply.code(202).send(job);
    },

    adaptJobs: async (req) => {
      if (!gw.machine(req.params.id)) throw unknownMachine(req.params.id);
      return gw.adaptation?.jobs(req.params.id) ?? [];
    },

    adaptation: async (req) => {
      const j = gw.adaptation?.job(req.params.job);
      if (!j)
        throw new FaultlineError(
          'FL_ERR_API_NOT_FOUND',
          `unknown adaptation job ${JSON.stringify(req.params.job)}`,
        );
      return j;
    },

    promote: async (req) => {
      const r = await gw.promote(req.params.id, req.body);
      return { ...r, audit: gw.registry?.audit(req.params.id).at(-1) };
    },

    shelve: async (req) => gw.shelve(req.params.id, req.body),

    unshelve: async (req) => gw.unshelve(req.params.id, req.body.by),

    rollback: async (req) => {
      const r = await gw.rollback(req.params.id);
      return { machine: req.params.id, from: r.from.id, to: r.to.id };
    },
  };

  for (const name of Object.keys(handlers) as (keyof Handlers)[]) {
    // `name` ties each handler to its route; TypeScript cannot follow that
    // through the two lookups, so the handler is passed untyped here
    app.route({ ...routeOptions(API[name]), handler: handlers[name] as RouteHandlerMethod });
  }
}
