/**
 * The REST routes validate their requests with the contract's zod schemas
 * through fastify's type provider: a bad body, query or parameter is a 400
 * `FL_ERR_API_REQUEST` naming the first bad field, checked before the
 * handler runs (so before a 404), and the handler receives the parsed
 * values (a coerced limit, an empty body as the adapt defaults). The
 * gateway is a fake that records what reaches it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/daemon/api.js';
import type { GatewayApi } from '../../src/daemon/gateway-api.js';

const TOKEN = 't'.repeat(32);
const AUTH = { authorization: `Bearer ${TOKEN}` };
const JSON_BODY = { ...AUTH, 'content-type': 'application/json' };

/** What reached the gateway, one entry per call. */
const calls: unknown[][] = [];

const gw = {
  config: { site: 's', machines: [{ id: 'm1' }] },
  gatewayId: 'g',
  machines: () => [],
  machine: (id: string) => (id === 'm1' ? { id } : undefined),
  alerts: async (q: unknown) => {
    calls.push(['alerts', q]);
    return [];
  },
  ackAlert: async (id: string, by: string, comment?: string) => {
    calls.push(['ack', id, by, comment]);
    return { id };
  },
  startAdaptation: (machine: string, o: unknown) => {
    calls.push(['adapt', machine, o]);
    return { id: 'j1' };
  },
  promote: async (machine: string, o: unknown) => {
    calls.push(['promote', machine, o]);
    return { machine, to: 'v2', forced: false };
  },
  on() {
    return this;
  },
  off() {
    return this;
  },
} as unknown as GatewayApi;

let app: FastifyInstance;
before(async () => {
  app = await buildApi(gw, { token: TOKEN });
});
after(() => app.close());

async function call(
  method: 'GET' | 'POST',
  url: string,
  payload?: string,
): Promise<{ status: number; body: { error?: string; message?: string } }> {
  calls.length = 0;
  const r = await app.inject({
    method,
    url,
    headers: payload === undefined ? AUTH : JSON_BODY,
    ...(payload === undefined ? {} : { payload }),
  });
  return { status: r.statusCode, body: r.json() };
}

/** Asserts a 400 FL_ERR_API_REQUEST with this message that reached nothing. */
async function refused(
  method: 'GET' | 'POST',
  url: string,
  payload: string | undefined,
  message: string,
) {
  const r = await call(method, url, payload);
  assert.deepEqual(r, { status: 400, body: { error: 'FL_ERR_API_REQUEST', message } }, url);
  assert.deepEqual(calls, [], `${url}: the gateway was not called`);
}

test('a bad body is a 400 naming the first bad field; a missing body reads as {}', async () => {
  const ack = '/api/alerts/a1/ack';
  const noBy = 'body field by: Invalid input: expected string, received undefined';
  await refused('POST', ack, '{}', noBy);
  await refused('POST', ack, undefined, noBy);
  await refused('POST', ack, 'null', noBy);
  await refused(
    'POST',
    ack,
    '{"by":""}',
    'body field by: Too small: expected string to have >=1 characters',
  );
  await refused(
    'POST',
    ack,
    '{"by":"a","extra":1}',
    'body field (root): Unrecognized key: "extra"',
  );
  await refused(
    'POST',
    ack,
    '[]',
    'body field (root): Invalid input: expected object, received array',
  );
  await refused(
    'POST',
    '/api/machines/m1/adapt',
    '{"strategy":"magic"}',
    'body field strategy: Invalid option: expected one of "dann"|"mmd"|"finetune"|"features"',
  );
  await refused('POST', '/api/machines/m1/promote', '{"version":"v1"}', noBy);
  // fastify's own refusal of a body that is not JSON keeps the same error shape
  const bad = await call('POST', ack, '{"by":');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'FL_ERR_API_REQUEST');
});

test('the body is checked before the machine: a bad body to an unknown machine is a 400, a good one a 404', async () => {
  await refused(
    'POST',
    '/api/machines/nope/adapt',
    '{"seconds":"x"}',
    'body field seconds: Invalid input: expected number, received string',
  );
  const r = await call('POST', '/api/machines/nope/adapt', '{"seconds":5}');
  assert.deepEqual(r, {
    status: 404,
    body: { error: 'FL_ERR_API_NOT_FOUND', message: 'unknown machine "nope"' },
  });
});

test('the handlers get the parsed values', async () => {
  assert.equal((await call('POST', '/api/machines/m1/adapt')).status, 202);
  assert.deepEqual(calls, [['adapt', 'm1', {}]], 'no body: the defaults');
  assert.equal(
    (await call('POST', '/api/alerts/a1/ack', '{"by":"ana","comment":"c"}')).status,
    200,
  );
  assert.deepEqual(calls, [['ack', 'a1', 'ana', 'c']]);
  assert.equal(
    (await call('GET', '/api/alerts?limit=20&unacknowledged=true&machine=m1&x=1')).status,
    200,
  );
  assert.deepEqual(calls, [['alerts', { machine: 'm1', unacknowledged: true, limit: 20 }]]);
  await call('GET', '/api/alerts?since=1700000000000&until=2024-01-01T00:00:00Z');
  assert.deepEqual(calls, [
    ['alerts', { since: 1_700_000_000_000, until: 1_704_067_200_000, limit: 100 }],
  ]);
});

test('a bad query is a 400 naming the parameter', async () => {
  await refused(
    'GET',
    '/api/alerts?limit=0',
    undefined,
    'query parameter limit: Too small: expected number to be >=1',
  );
  await refused(
    'GET',
    '/api/alerts?machine=a&machine=b',
    undefined,
    'query parameter machine: Invalid input: expected string, received array',
  );
  await refused(
    'GET',
    '/api/alerts?since=yesterday',
    undefined,
    'since must be an ISO 8601 time or ms since the epoch, got "yesterday"',
  );
});
