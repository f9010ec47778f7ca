/**
 * The contract's zod schemas as fastify's type provider: a route of the
 * table in src/contract/routes.ts becomes fastify route options whose
 * `schema` holds its zod schemas, so fastify validates params, query and
 * body with them before the handler runs, and the handler's request and
 * answer are typed from them (`app.withTypeProvider<ZodTypeProvider>()`).
 *
 * Why a provider of our own rather than fastify-type-provider-zod (7.0.0
 * supports fastify 5 and zod 4): that package declares @fastify/swagger and
 * openapi-types as required peers, for its swagger transforms, so npm would
 * install them on every gateway, although the OpenAPI document here is
 * generated from the contract's own table (src/contract/openapi.ts). Of the
 * rest, we would use its `safeParse` validator and the provider interface
 * (the dozen lines below); not its serializer, which re-encodes each answer
 * through zod (see {@link jsonSerializerCompiler}), and its validation
 * errors carry the zod path as a JSON pointer, which we would parse back
 * into the messages the API gives ("body field by: …").
 */
import type {
  ContextConfigDefault,
  FastifySchemaCompiler,
  FastifySerializerCompiler,
  FastifyTypeProvider,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
} from 'fastify';
import type { z } from 'zod';
import { type ApiRoute, fastifyPath } from '../contract/routes.js';
import { FaultlineError } from '../errors.js';

/**
 * An answer's type: the response schema's input (what a client's parse of
 * the JSON accepts), less the open part of its open objects. `z.looseObject`
 * types that part as an index signature, `{ [k: string]: unknown }`, which
 * an interface never satisfies in TypeScript (only a type literal does), so
 * the daemon's stats interfaces would not fit a schema that accepts them.
 * Dropped, it still accepts any extra key, and the named keys stay checked;
 * a record (`Record<string, T>` with a known T) keeps its index.
 */
export type Answer<T> = T extends readonly (infer E)[]
  ? Answer<E>[]
  : T extends object
    ? { [K in keyof T as string extends K ? (unknown extends T[K] ? never : K) : K]: Answer<T[K]> }
    : T;

/**
 * Types a request part from its zod schema (the parsed value: coerced, with
 * defaults) and an answer from its response schema ({@link Answer}).
 */
export interface ZodTypeProvider extends FastifyTypeProvider {
  readonly validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  readonly serializer: this['schema'] extends z.ZodType ? Answer<z.input<this['schema']>> : unknown;
}

/** How an error message names the part of the request that failed. */
const PART_NAMES: Readonly<Record<string, string>> = {
  body: 'body field',
  querystring: 'query parameter',
  params: 'path parameter',
  headers: 'header',
};

/**
 * Validates a request part with its zod schema; fastify replaces the part
 * with the parsed value. A failure is a FL_ERR_API_REQUEST (400) naming the
 * first bad field, e.g. `body field by: Too small: expected string to have
 * >=1 characters`.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const part = httpPart ?? 'request';
  const what = PART_NAMES[part] ?? part;
  return (data: unknown) => {
    // fastify hands a missing body over as null: read it as `{}`, so a POST
    // without a body takes the defaults (adapt) or names the field it lacks
    const r = schema.safeParse(part === 'body' ? (data ?? {}) : data);
    if (r.success) return { value: r.data };
    const issue = r.error.issues[0];
    return {
      error: new FaultlineError(
        'FL_ERR_API_REQUEST',
        `${what} ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
      ),
    };
  };
};

/**
 * Answers are written with `JSON.stringify`, as fastify writes those of a
 * route without a response schema. The response schemas type the handlers,
 * and a test checks real answers against them; checking each answer at run
 * time would spend the gateway's CPU on every poll of the console, and would
 * turn a drift between a view and its schema into a 500 where the console
 * could still have shown the data.
 */
export const jsonSerializerCompiler: FastifySerializerCompiler<unknown> = () => (data) =>
  JSON.stringify(data);

type Field<T, K extends PropertyKey> = T extends { readonly [P in K]: infer V } ? V : undefined;

/** The fastify schema of a table route, as the type provider reads it. */
export interface RouteSchema<R extends ApiRoute> {
  params: Field<R, 'params'>;
  querystring: Field<R, 'query'>;
  body: Field<Field<R, 'body'>, 'schema'>;
  response: {
    [C in keyof R['responses'] as Field<R['responses'][C], 'schema'> extends z.ZodType
      ? C
      : never]: Field<R['responses'][C], 'schema'>;
  };
}

/** The handler of a table route: request and answer typed from the route's schemas. */
export type RouteHandler<R extends ApiRoute> = RouteHandlerMethod<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  RouteGenericInterface,
  ContextConfigDefault,
  RouteSchema<R>,
  ZodTypeProvider
>;

/** fastify route options (method, url, schema) of a table route; a fresh schema object each call, since fastify marks it. */
export function routeOptions<R extends ApiRoute>(r: R) {
  const response: Record<string, z.ZodType> = {};
  for (const [code, res] of Object.entries(r.responses)) {
    if (res.schema) response[code] = res.schema;
  }
  return {
    method: r.method.toUpperCase() as Uppercase<R['method']>,
    url: fastifyPath(r.path),
    // absent parts are left out, not set to undefined (fastify warns about those)
    schema: {
      ...(r.params ? { params: r.params } : {}),
      ...(r.query ? { querystring: r.query } : {}),
      ...(r.body ? { body: r.body.schema } : {}),
      response,
    } as unknown as RouteSchema<R>,
  };
}
