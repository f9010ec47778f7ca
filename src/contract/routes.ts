/**
 * The route table of the gateway API: each route once, with the zod schemas
 * of its path parameters, query, body and answers. It is the one list both
 * ends are built from: the daemon registers every REST route from it through
 * fastify's type provider (src/daemon/routes.ts; the handler of each route is
 * typed from these schemas, and fastify validates requests with them), and
 * ./openapi.ts generates the OpenAPI document from it.
 *
 * This module declares shapes only (no fastify): the contract is the bottom
 * layer, and the console may import it.
 */
import { z } from 'zod';
import { shelveBodySchema, shelveResultSchema, unshelveBodySchema } from './alarms.js';
import { ackBodySchema, alertSchema } from './alert.js';
import {
  adaptBodySchema,
  alertsQuerySchema,
  apiErrorSchema,
  gatewayHealthSchema,
  healthzSchema,
  historyAnswerSchema,
  historyQuerySchema,
  modelsSchema,
  promoteBodySchema,
  promoteResultSchema,
  rollbackResultSchema,
} from './api.js';
import { adaptJobSchema, machineViewSchema } from './machine.js';

/** A response: a schema (a component is referenced by name) or none (101). */
export interface ApiResponse {
  description: string;
  schema?: z.ZodType;
}

/** One route of the API. `path` is in OpenAPI form (`/api/machines/{id}`). */
export interface ApiRoute {
  method: 'get' | 'post';
  path: string;
  summary: string;
  /** Open without the token. */
  open?: boolean;
  /**
   * Path parameters, one string per `{name}` of the path; `.describe()` and
   * `.meta({ format })` become the parameter's description and format.
   */
  params?: z.ZodObject<Record<string, z.ZodString>>;
  /** Query parameters, one per property of the object. */
  query?: z.ZodObject;
  body?: { schema: z.ZodType; required: boolean };
  responses: Readonly<Record<number, ApiResponse>>;
}

const machineParams = z.object({ id: z.string().describe('Machine id') });
const error = (description: string) => ({ description, schema: apiErrorSchema });
const ok = <S extends z.ZodType>(schema: S, description = 'OK') => ({ description, schema });

/**
 * Every route of the API (the static console aside), by name. `as const
 * satisfies` keeps each route's own schema types, which type its handler.
 */
export const API = {
  healthz: {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness (no token)',
    open: true,
    responses: { 200: ok(healthzSchema) },
  },
  openapi: {
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document',
    responses: { 200: ok(z.looseObject({ openapi: z.string() })) },
  },
  machines: {
    method: 'get',
    path: '/api/machines',
    summary: "Every machine's state, diagnosis and evidence",
    responses: { 200: ok(z.array(machineViewSchema)), 401: error('No or wrong token') },
  },
  machine: {
    method: 'get',
    path: '/api/machines/{id}',
    summary: 'One machine',
    params: machineParams,
    responses: { 200: ok(machineViewSchema), 404: error('Unknown machine') },
  },
  adapt: {
    method: 'post',
    path: '/api/machines/{id}/adapt',
    summary:
      'Adapt the machine’s model to its live signal (unlabelled), or with fromVerdicts learn from its verdict windows; runs in the background',
    params: machineParams,
    body: { schema: adaptBodySchema, required: false },
    responses: {
      202: ok(adaptJobSchema, 'Started'),
      400: error('Bad body, or seconds × sample rate over adaptation.maxSampleBytes'),
      404: error('Unknown machine'),
      409: error(
        'An adaptation is running on this gateway (FL_ERR_API_BUSY): one at a time; or fromVerdicts and no class has verdicts.minPerClass labelled windows (FL_ERR_API_VERDICTS_FEW)',
      ),
    },
  },
  adaptJobs: {
    method: 'get',
    path: '/api/machines/{id}/adapt',
    summary: "The machine's adaptation jobs, most recent first",
    params: machineParams,
    responses: { 200: ok(z.array(adaptJobSchema)), 404: error('Unknown machine') },
  },
  adaptation: {
    method: 'get',
    path: '/api/adaptations/{job}',
    summary: 'One adaptation job',
    params: z.object({ job: z.string() }),
    responses: { 200: ok(adaptJobSchema), 404: error('Unknown job') },
  },
  promote: {
    method: 'post',
    path: '/api/machines/{id}/promote',
    summary:
      'Activate a registered model version for the machine by hand. A candidate that failed a promotion guard needs force: true and a reason; every promotion is recorded in the registry audit trail (GET /api/models → audit)',
    params: machineParams,
    body: { schema: promoteBodySchema, required: true },
    responses: {
      200: ok(promoteResultSchema),
      400: error('Bad body, or a model the machine cannot run'),
      404: error('Unknown machine or version'),
      409: error('The version failed a guard and force/reason were not given'),
    },
  },
  rollback: {
    method: 'post',
    path: '/api/machines/{id}/rollback',
    summary: 'Re-activate the previous model version of the machine',
    params: machineParams,
    responses: { 200: ok(rollbackResultSchema), 400: error('Nothing to roll back to') },
  },
  shelve: {
    method: 'post',
    path: '/api/machines/{id}/shelve',
    summary:
      'Shelve the machine (maintenance) for durationS or until a time, with who and why: it is still diagnosed and stored, but raises no alerts or notifications until it unshelves by itself. Recorded in the log and the store',
    params: machineParams,
    body: { schema: shelveBodySchema, required: true },
    responses: {
      200: ok(shelveResultSchema),
      400: error(
        'Bad body: no by or reason, both or neither of durationS and until, until past or over 30 days ahead',
      ),
      404: error('Unknown machine'),
    },
  },
  unshelve: {
    method: 'post',
    path: '/api/machines/{id}/unshelve',
    summary: 'End the machine’s shelving now (a machine not shelved answers shelved: null)',
    params: machineParams,
    body: { schema: unshelveBodySchema, required: true },
    responses: {
      200: ok(shelveResultSchema),
      400: error('Bad body'),
      404: error('Unknown machine'),
    },
  },
  history: {
    method: 'get',
    path: '/api/machines/{id}/history',
    summary:
      "min/mean/max per time bucket of the machine's measures (velocity RMS, kurtosis, ISO zone, class probabilities…), from the raw windows or, for ranges past the raw retention, the hourly rollup",
    params: machineParams,
    query: historyQuerySchema,
    responses: {
      200: ok(historyAnswerSchema),
      400: error('Bad query: unknown measure, since not before until, bad step, too many buckets'),
      404: error('Unknown machine'),
    },
  },
  alerts: {
    method: 'get',
    path: '/api/alerts',
    summary: 'Alerts, most recent first',
    query: alertsQuerySchema,
    responses: { 200: ok(z.array(alertSchema)), 400: error('Bad query') },
  },
  ack: {
    method: 'post',
    path: '/api/alerts/{id}/ack',
    summary: 'Acknowledge an alert (recorded in the store and published on the ack topic)',
    // Documented as a uuid (alert ids are one) but not checked: any other id
    // is simply no alert of this gateway (404), as a client would expect.
    params: z.object({ id: z.string().meta({ format: 'uuid' }) }),
    body: { schema: ackBodySchema, required: true },
    responses: { 200: ok(alertSchema), 400: error('Bad body'), 404: error('Unknown alert') },
  },
  gateway: {
    method: 'get',
    path: '/api/gateway',
    summary:
      'Gateway health: ingest rate per sensor, frame errors and gaps, broker and database state, inference latency, queue depths, backend',
    responses: { 200: ok(gatewayHealthSchema) },
  },
  models: {
    method: 'get',
    path: '/api/models',
    summary: 'Model registry: versions and the active version per machine',
    responses: { 200: ok(modelsSchema) },
  },
  stream: {
    method: 'get',
    path: '/api/stream',
    summary:
      'WebSocket of live events: {type, data} with type diagnosis | health | alert | ack | ingest | adaptation | shelve | hello | viewing. The client may send {"type":"view","machines":["<id>",…]}: while a machine is viewed, its diagnoses carry spectrogram (coarse, [freq, time], newFrames new at the end) and envelope ({freqHz, amplitude, df, binHz}, g)',
    responses: { 101: { description: 'Switching protocols' } },
  },
} as const satisfies Record<string, ApiRoute>;

/** The routes of the table, in its order (the document lists them so). */
export const ROUTES: readonly ApiRoute[] = Object.values(API);

/** A table path in fastify's form (`/api/machines/{id}` → `/api/machines/:id`). */
export function fastifyPath(openApiPath: string): string {
  return openApiPath.replace(/\{(\w+)\}/g, ':$1');
}
