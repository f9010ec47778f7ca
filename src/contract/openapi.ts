/**
 * The OpenAPI 3.1 document of the gateway API, served at `/api/openapi.json`,
 * generated from the contract's zod schemas (`z.toJSONSchema`, JSON Schema
 * draft 2020-12, which OpenAPI 3.1 uses as is). The route table below is the
 * one list of the API's routes; a test checks that every route the gateway's
 * fastify app registers is in it, and that real answers validate.
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
  promotionRecordSchema,
  rollbackResultSchema,
} from './api.js';
import { adaptJobSchema, machineViewSchema } from './machine.js';

/** Schemas listed once under `components.schemas` and referenced by name. */
export const COMPONENTS = {
  Error: apiErrorSchema,
  Alert: alertSchema,
  Machine: machineViewSchema,
  AdaptJob: adaptJobSchema,
  Promotion: promotionRecordSchema,
} as const satisfies Record<string, z.ZodType>;

/** A response: a schema (a component is referenced by name) or none (101). */
interface Response {
  description: string;
  schema?: z.ZodType;
}

/** One route of the API. `path` is in OpenAPI form (`/api/machines/{id}`). */
export interface Route {
  method: 'get' | 'post';
  path: string;
  summary: string;
  /** Open without the token. */
  open?: boolean;
  /** Path parameters: name → description. */
  params?: Record<string, { description?: string; format?: string }>;
  /** Query parameters, one per property of the object. */
  query?: z.ZodObject;
  body?: { schema: z.ZodType; required: boolean };
  responses: Record<number, Response>;
}

const machineParam = { id: { description: 'Machine id' } };
const error = (description: string): Response => ({ description, schema: apiErrorSchema });
const ok = (schema: z.ZodType, description = 'OK'): Response => ({ description, schema });

/** Every route of the API (the static console aside). */
export const ROUTES: readonly Route[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness (no token)',
    open: true,
    responses: { 200: ok(healthzSchema) },
  },
  {
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document',
    responses: { 200: ok(z.looseObject({ openapi: z.string() })) },
  },
  {
    method: 'get',
    path: '/api/machines',
    summary: "Every machine's state, diagnosis and evidence",
    responses: { 200: ok(z.array(machineViewSchema)), 401: error('No or wrong token') },
  },
  {
    method: 'get',
    path: '/api/machines/{id}',
    summary: 'One machine',
    params: machineParam,
    responses: { 200: ok(machineViewSchema), 404: error('Unknown machine') },
  },
  {
    method: 'post',
    path: '/api/machines/{id}/adapt',
    summary: 'Adapt the machine’s model to its live signal (unlabelled); runs in the background',
    params: machineParam,
    body: { schema: adaptBodySchema, required: false },
    responses: {
      202: ok(adaptJobSchema, 'Started'),
      400: error('Bad body, or seconds × sample rate over adaptation.maxSampleBytes'),
      404: error('Unknown machine'),
      409: error('An adaptation is running on this gateway (FL_ERR_API_BUSY): one at a time'),
    },
  },
  {
    method: 'get',
    path: '/api/machines/{id}/adapt',
    summary: "The machine's adaptation jobs, most recent first",
    params: machineParam,
    responses: { 200: ok(z.array(adaptJobSchema)), 404: error('Unknown machine') },
  },
  {
    method: 'get',
    path: '/api/adaptations/{job}',
    summary: 'One adaptation job',
    params: { job: {} },
    responses: { 200: ok(adaptJobSchema), 404: error('Unknown job') },
  },
  {
    method: 'post',
    path: '/api/machines/{id}/promote',
    summary:
      'Activate a registered model version for the machine by hand. A candidate that failed a promotion guard needs force: true and a reason; every promotion is recorded in the registry audit trail (GET /api/models → audit)',
    params: machineParam,
    body: { schema: promoteBodySchema, required: true },
    responses: {
      200: ok(promoteResultSchema),
      400: error('Bad body, or a model the machine cannot run'),
      404: error('Unknown machine or version'),
      409: error('The version failed a guard and force/reason were not given'),
    },
  },
  {
    method: 'post',
    path: '/api/machines/{id}/rollback',
    summary: 'Re-activate the previous model version of the machine',
    params: machineParam,
    responses: { 200: ok(rollbackResultSchema), 400: error('Nothing to roll back to') },
  },
  {
    method: 'post',
    path: '/api/machines/{id}/shelve',
    summary:
      'Shelve the machine (maintenance) for durationS or until a time, with who and why: it is still diagnosed and stored, but raises no alerts or notifications until it unshelves by itself. Recorded in the log and the store',
    params: machineParam,
    body: { schema: shelveBodySchema, required: true },
    responses: {
      200: ok(shelveResultSchema),
      400: error(
        'Bad body: no by or reason, both or neither of durationS and until, until past or over 30 days ahead',
      ),
      404: error('Unknown machine'),
    },
  },
  {
    method: 'post',
    path: '/api/machines/{id}/unshelve',
    summary: 'End the machine’s shelving now (a machine not shelved answers shelved: null)',
    params: machineParam,
    body: { schema: unshelveBodySchema, required: true },
    responses: {
      200: ok(shelveResultSchema),
      400: error('Bad body'),
      404: error('Unknown machine'),
    },
  },
  {
    method: 'get',
    path: '/api/machines/{id}/history',
    summary:
      "min/mean/max per time bucket of the machine's measures (velocity RMS, kurtosis, ISO zone, class probabilities…), from the raw windows or, for ranges past the raw retention, the hourly rollup",
    params: machineParam,
    query: historyQuerySchema,
    responses: {
      200: ok(historyAnswerSchema),
      400: error('Bad query: unknown measure, since not before until, bad step, too many buckets'),
      404: error('Unknown machine'),
    },
  },
  {
    method: 'get',
    path: '/api/alerts',
    summary: 'Alerts, most recent first',
    query: alertsQuerySchema,
    responses: { 200: ok(z.array(alertSchema)), 400: error('Bad query') },
  },
  {
    method: 'post',
    path: '/api/alerts/{id}/ack',
    summary: 'Acknowledge an alert (recorded in the store and published on the ack topic)',
    params: { id: { format: 'uuid' } },
    body: { schema: ackBodySchema, required: true },
    responses: { 200: ok(alertSchema), 400: error('Bad body'), 404: error('Unknown alert') },
  },
  {
    method: 'get',
    path: '/api/gateway',
    summary:
      'Gateway health: ingest rate per sensor, frame errors and gaps, broker and database state, inference latency, queue depths, backend',
    responses: { 200: ok(gatewayHealthSchema) },
  },
  {
    method: 'get',
    path: '/api/models',
    summary: 'Model registry: versions and the active version per machine',
    responses: { 200: ok(modelsSchema) },
  },
  {
    method: 'get',
    path: '/api/stream',
    summary:
      'WebSocket of live events: {type, data} with type diagnosis | health | alert | ack | ingest | adaptation | shelve | hello | viewing. The client may send {"type":"view","machines":["<id>",…]}: while a machine is viewed, its diagnoses carry spectrogram (coarse, [freq, time], newFrames new at the end) and envelope ({freqHz, amplitude, df, binHz}, g)',
    responses: { 101: { description: 'Switching protocols' } },
  },
];

type Json = Record<string, unknown>;

/** JSON Schema of `schema` (no `$schema` key: the document sets the dialect). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as Json;
  return rest;
}

/** A component reference when `schema` is one, else its JSON Schema (arrays of components too). */
function schemaOrRef(schema: z.ZodType): Json {
  for (const [name, c] of Object.entries(COMPONENTS)) {
    if (c === schema) return { $ref: `#/components/schemas/${name}` };
  }
  if (schema instanceof z.ZodArray) {
    const item = schemaOrRef(schema.element as z.ZodType);
    if ('$ref' in item) return { type: 'array', items: item };
  }
  return jsonSchema(schema, 'output');
}

function operation(r: Route): Json {
  const parameters: Json[] = [];
  for (const [name, p] of Object.entries(r.params ?? {})) {
    parameters.push({
      name,
      in: 'path',
      required: true,
      schema: { type: 'string', ...(p.format ? { format: p.format } : {}) },
      ...(p.description ? { description: p.description } : {}),
    });
  }
  const query = r.query
    ? (jsonSchema(r.query, 'input') as { properties?: Record<string, Json> })
    : {};
  for (const [name, s] of Object.entries(query.properties ?? {})) {
    if (name === 'token') continue; // a security scheme (queryToken), not a parameter
    const { description, ...schema } = s;
    parameters.push({ name, in: 'query', schema, ...(description ? { description } : {}) });
  }
  const responses: Json = {};
  for (const [code, res] of Object.entries(r.responses)) {
    responses[code] = {
      description: res.description,
      ...(res.schema
        ? { content: { 'application/json': { schema: schemaOrRef(res.schema) } } }
        : {}),
    };
  }
  return {
    summary: r.summary,
    ...(r.open ? { security: [] } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(r.body
      ? {
          requestBody: {
            required: r.body.required,
            content: { 'application/json': { schema: jsonSchema(r.body.schema, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

/** The document (a fresh object each call). */
export function openApiDocument(): Json {
  const paths: Record<string, Json> = {};
  for (const r of ROUTES) {
    paths[r.path] = { ...paths[r.path], [r.method]: operation(r) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Faultline gateway API',
      version: '1',
      description:
        'Live bearing-fault diagnosis of the machines of one site. Everything under /api needs the gateway token (Authorization: Bearer <token>, or ?token=<token>); GET /healthz and the static console are open.',
    },
    security: [{ bearer: [] }, { queryToken: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        queryToken: { type: 'apiKey', in: 'query', name: 'token' },
      },
      schemas: Object.fromEntries(
        Object.entries(COMPONENTS).map(([name, s]) => [name, jsonSchema(s, 'output')]),
      ),
    },
  };
}

/** The route table's paths in fastify's form (`/api/machines/:id`), for checks. */
export function fastifyPath(openApiPath: string): string {
  return openApiPath.replace(/\{(\w+)\}/g, ':$1');
}
