/**
 * The OpenAPI 3.1 document of the gateway API, served at `/api/openapi.json`,
 * generated from the contract's zod schemas (`z.toJSONSchema`, JSON Schema
 * draft 2020-12, which OpenAPI 3.1 uses as is), route by route from the
 * table in ./routes.ts, the same table the gateway registers its routes from.
 * A test checks that every route the gateway's fastify app registers is in
 * the document, and that real answers validate.
 */
import { z } from 'zod';
import { alertSchema } from './alert.js';
import { apiErrorSchema, promotionRecordSchema } from './api.js';
import { adaptJobSchema, machineViewSchema } from './machine.js';
import { type ApiRoute, ROUTES } from './routes.js';

/** Schemas listed once under `components.schemas` and referenced by name. */
export const COMPONENTS = {
  Error: apiErrorSchema,
  Alert: alertSchema,
  Machine: machineViewSchema,
  AdaptJob: adaptJobSchema,
  Promotion: promotionRecordSchema,
} as const satisfies Record<string, z.ZodType>;

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

/** The JSON Schemas of an object's properties (path or query parameters), as a client sends them. */
function properties(schema: z.ZodObject | undefined): Record<string, Json> {
  if (!schema) return {};
  return (jsonSchema(schema, 'input') as { properties?: Record<string, Json> }).properties ?? {};
}

function operation(r: ApiRoute): Json {
  const parameters: Json[] = [];
  for (const [name, s] of Object.entries(properties(r.params))) {
    const { description, ...schema } = s;
    parameters.push({
      name,
      in: 'path',
      required: true,
      schema,
      ...(description ? { description } : {}),
    });
  }
  for (const [name, s] of Object.entries(properties(r.query))) {
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

/** The OpenAPI document's top level (below it, JSON Schema and OpenAPI objects as JSON). */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: Json;
  security: Json[];
  /** Path in OpenAPI form → method → operation. */
  paths: Record<string, Json>;
  components: { securitySchemes: Json; schemas: Record<string, Json> };
}

/** The document (a fresh object each call). */
export function openApiDocument(): OpenApiDocument {
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
