/**
 * The OpenAPI document is generated from the contract's route table: every
 * route the gateway's fastify app registers is in it (and nothing else), its
 * references resolve, and the alert schema is the one the MQTT alerts use.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { alertSchema } from '../../src/contract/alert.js';
import { openApiDocument } from '../../src/contract/openapi.js';
import { fastifyPath, ROUTES } from '../../src/contract/routes.js';
import { buildApi } from '../../src/daemon/api.js';
import type { GatewayApi } from '../../src/daemon/gateway-api.js';

/** A gateway that answers nothing: enough for the app to register its routes. */
const idle = {
  config: { site: 's', machines: [] },
  gatewayId: 'g',
  machines: () => [],
  machine: () => undefined,
  on() {
    return this;
  },
  off() {
    return this;
  },
} as unknown as GatewayApi;

/**
 * `METHOD path` of every route the app registers (HEAD, which fastify adds to
 * each GET, left out), read from fastify's route tree: each line is one node,
 * four characters of indent per level, its segment then `(METHODS)`.
 */
function registeredRoutes(app: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│├└─\s]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = Math.floor(m[1].length / 4);
    stack.length = depth;
    stack.push(m[2]);
    const p = stack.join('');
    for (const method of m[3].split(', ')) if (method !== 'HEAD') out.push(`${method} ${p}`);
  }
  return out.sort();
}

test('route tree parsing: nested segments are joined', () => {
  const fake = {
    printRoutes: () =>
      '└── / (GET, HEAD)\n    ├── healthz (GET, HEAD)\n    └── api/machines (GET, HEAD)\n        └── /:id (GET, HEAD)\n            └── /adapt (POST, GET, HEAD)\n',
  } as unknown as FastifyInstance;
  assert.deepEqual(registeredRoutes(fake), [
    'GET /',
    'GET /api/machines',
    'GET /api/machines/:id',
    'GET /api/machines/:id/adapt',
    'GET /healthz',
    'POST /api/machines/:id/adapt',
  ]);
});

test('every route the API registers is in the OpenAPI document, and every documented route exists', async () => {
  const app = await buildApi(idle, { token: 't'.repeat(32) });
  try {
    await app.ready();
    // `/` is the console (static files or the placeholder page), not part of the API
    const registered = registeredRoutes(app).filter((r) => r !== 'GET /');
    assert.ok(
      registered.length >= 14,
      `only ${registered.length} routes read:\n${registered.join('\n')}`,
    );
    const doc = openApiDocument() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${fastifyPath(p)}`))
      .sort();
    assert.deepEqual(registered, documented);
    assert.deepEqual(
      ROUTES.map((r) => `${r.method.toUpperCase()} ${fastifyPath(r.path)}`).sort(),
      documented,
    );
  } finally {
    await app.close();
  }
});

test('the document is OpenAPI 3.1, its references resolve, and Alert is the MQTT alert schema', () => {
  const doc = openApiDocument() as {
    openapi: string;
    components: { schemas: Record<string, Record<string, unknown>> };
  };
  assert.equal(doc.openapi, '3.1.0');
  const refs = JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? [];
  assert.ok(refs.length > 10);
  for (const ref of refs) {
    const name = ref.replace(/^"\$ref":"#\/components\/schemas\//, '').replace(/"$/, '');
    assert.ok(doc.components.schemas[name], `${ref} does not resolve`);
  }
  const alert = doc.components.schemas.Alert;
  assert.deepEqual(
    alert.required,
    Object.keys(alertSchema.shape).filter(
      (k) => !alertSchema.shape[k as keyof typeof alertSchema.shape].safeParse(undefined).success,
    ),
  );
  const evidence = (
    alert.properties as Record<string, { properties: Record<string, { description: string }> }>
  ).evidence;
  assert.match(evidence.properties.prominence.description, /plain ratio \(not dB\)/);
  assert.notEqual(openApiDocument(), openApiDocument(), 'a fresh object each call');
});
