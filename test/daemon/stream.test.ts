/**
 * The `/api/stream` WebSocket under clients that misbehave: the real fastify
 * API listening on loopback, real `ws` clients, and a gateway that is an
 * event emitter (the stream only listens to its events; a diagnosis pipeline
 * would only make the event rate depend on the machine).
 *
 * - a client that never reads: dropped at the buffer cap; heap and buffers
 *   flat while 96 MiB stream past it;
 * - the client cap: the extra client closed with 1013 and a reason;
 * - a half-open client (never answers pings): terminated, its neighbour kept;
 * - one serialisation per event, however many clients.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { after, test } from 'node:test';
import WebSocket from 'ws';
import { type ApiServer, startApi } from '../../src/daemon/api.js';
import { parseConfig } from '../../src/daemon/config.js';
import type { GatewayApi } from '../../src/daemon/gateway-api.js';
import {
  CLOSE_TRY_AGAIN_LATER,
  encodeEvent,
  type StreamLimits,
} from '../../src/daemon/stream-hub.js';
import { heapMiB } from '../support/heap.js';
import { waitFor } from '../support/links.js';

const TOKEN = 't'.repeat(32);

/** A gateway reduced to what the stream uses: its events and the hello message. */
function fakeGateway(): GatewayApi & EventEmitter {
  const em = new EventEmitter();
  return Object.assign(em, {
    config: { site: 's', machines: [] },
    gatewayId: 'g',
    machines: () => [],
    machine: () => undefined,
    view: () => () => {},
  }) as unknown as GatewayApi & EventEmitter;
}

const servers: ApiServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function serve(
  stream: Partial<StreamLimits>,
): Promise<{ gw: GatewayApi & EventEmitter; api: ApiServer; url: string }> {
  const gw = fakeGateway();
  const api = await startApi(gw, { host: '127.0.0.1', port: 0, token: TOKEN, stream });
  servers.push(api);
  return { gw, api, url: `${api.url.replace(/^http/, 'ws')}/api/stream?token=${TOKEN}` };
}

/** A connected client that counts what it receives by type (keeps no messages). */
async function client(url: string, o: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, o);
  const counts = new Map<string, number>();
  let closed: { code: number; reason: string } | undefined;
  ws.on('message', (b: Buffer) => {
    // the type from the message's head: parsing 64 KiB per diagnosis would make
    // the reader, not the gateway, what the test measures
    const type = /^\{"type":"([a-z]+)"/.exec(b.subarray(0, 32).toString())?.[1] ?? '?';
    counts.set(type, (counts.get(type) ?? 0) + 1);
  });
  ws.on('close', (code, reason) => {
    closed = { code, reason: String(reason) };
  });
  ws.on('error', () => {}); // a terminated socket reports ECONNRESET; `closed` tells the story
  await once(ws, 'open');
  return {
    ws,
    count: (type: string) => counts.get(type) ?? 0,
    closed: () => closed,
  };
}

/** External memory a backlog would live in (socket buffers are Buffers), MiB, after GC. */
function buffersMiB(): number {
  heapMiB(); // collects
  return process.memoryUsage().arrayBuffers / 2 ** 20;
}

test('http.stream: defaults, and out-of-range limits are named by their path', () => {
  const machines = [{ id: 'a', sensors: [{ id: 1, sampleRate: 12000 }] }];
  assert.deepEqual(parseConfig({ machines }).http.stream, {
    maxClients: 32,
    maxBufferedBytes: 2 * 1024 * 1024,
    pingIntervalMs: 30_000,
  });
  assert.throws(
    () => parseConfig({ machines, http: { stream: { maxClients: 0 } } }, 'gw.yaml'),
    /gw\.yaml: http\.stream\.maxClients/,
  );
  assert.throws(
    () => parseConfig({ machines, http: { stream: { pingIntervalMs: 5 } } }, 'gw.yaml'),
    /http\.stream\.pingIntervalMs/,
  );
});

test('a client that never reads is dropped at the buffer cap; memory stays flat while 96 MiB stream past it', {
  timeout: 300_000,
}, async () => {
  const CAP = 256 * 1024;
  // pings far apart: this test is about the buffer cap, not about unanswered pings
  const { gw, api, url } = await serve({ maxBufferedBytes: CAP, pingIntervalMs: 3_600_000 });
  const reader = await client(url);
  const stalled = await client(url);
  stalled.ws.pause(); // stops reading: the kernel buffers fill, then the gateway's would
  await waitFor(() => api.streamStats().clients === 2, 'two clients');

  // a diagnosis of ≈ 64 KiB (a waterfall view) and an alert of ≈ 16 KiB
  const diagnosis = { machine: 'm', spectrogram: new Float32Array(16 * 1024).fill(0.5) };
  const alert = { id: 'a', machine: 'm', note: 'x'.repeat(16 * 1024) };
  const diagnosisBytes = encodeEvent('diagnosis', diagnosis).length;
  const alertBytes = encodeEvent('alert', alert).length;
  const heap0 = heapMiB();
  const buf0 = buffersMiB();
  let sent = 0;
  let alerts = 0;
  const TOTAL = 96 * 2 ** 20;
  const deadline = Date.now() + 120_000;
  while (sent < TOTAL || api.streamStats().droppedSlow === 0) {
    assert.ok(
      Date.now() < deadline,
      `not done in 120 s: ${(sent / 2 ** 20).toFixed(0)} MiB sent, ${JSON.stringify(api.streamStats())}`,
    );
    for (let i = 0; i < 16; i++) {
      gw.emit('diagnosis', diagnosis);
      sent += diagnosisBytes;
    }
    gw.emit('alert', alert);
    alerts++;
    sent += alertBytes;
    // the reader keeps up (paced by what it has received, not by a clock), so only the stalled one lags
    await waitFor(() => reader.count('alert') === alerts, 'the reader to catch up');
  }
  const heap1 = heapMiB();
  const buf1 = buffersMiB();
  console.log(
    `stream: ${(sent / 2 ** 20).toFixed(0)} MiB broadcast; heap ${heap0.toFixed(1)} → ${heap1.toFixed(1)} MiB, array buffers ${buf0.toFixed(1)} → ${buf1.toFixed(1)} MiB; ${JSON.stringify(api.streamStats())}`,
  );
  const stats = api.streamStats();
  assert.equal(stats.droppedSlow, 1);
  assert.equal(stats.clients, 1, 'the reader stays');
  assert.ok(stats.skippedDiagnoses > 0, 'diagnoses skipped while the stalled client lagged');
  assert.ok(heap1 - heap0 < 16, `heap grew ${(heap1 - heap0).toFixed(1)} MiB`);
  assert.ok(buf1 - buf0 < 16, `array buffers grew ${(buf1 - buf0).toFixed(1)} MiB`);
  assert.equal(reader.closed(), undefined);

  // the stalled client, reading again, finds its connection cut without a close frame
  stalled.ws.resume();
  await waitFor(() => stalled.closed() !== undefined, 'the stalled client to see the drop');
  assert.equal(stalled.closed()?.code, 1006);
  reader.ws.close();
});

test('more clients than http.stream.maxClients: the extra one is closed with 1013 and a reason', async () => {
  const { api, url } = await serve({ maxClients: 2 });
  const a = await client(url);
  const b = await client(url);
  await waitFor(() => a.count('hello') === 1 && b.count('hello') === 1, 'two hellos');
  const c = await client(url);
  await waitFor(() => c.closed() !== undefined, 'the third client to be closed');
  assert.equal(c.closed()?.code, CLOSE_TRY_AGAIN_LATER);
  assert.match(c.closed()?.reason ?? '', /at most 2 clients \(http\.stream\.maxClients\)/);
  assert.equal(c.count('hello'), 0, 'a refused client gets no events');
  assert.equal(api.streamStats().refused, 1);

  // a slot freed is a slot taken
  a.ws.close();
  await waitFor(() => api.streamStats().clients === 1, 'the slot to be freed');
  const d = await client(url);
  await waitFor(() => d.count('hello') === 1, 'the new client to be served');
  assert.equal(d.closed(), undefined);
  b.ws.close();
  d.ws.close();
});

test('a half-open client (it never answers pings) is terminated; a live one is kept', async () => {
  // A live client has a whole period to answer. It runs in this process, so an
  // event-loop stall longer than the period would condemn it too: 5 s leaves
  // room for a machine busy with other test files.
  const { api, url } = await serve({ pingIntervalMs: 5000 });
  const live = await client(url);
  let pings = 0;
  live.ws.on('ping', () => pings++);
  const halfOpen = await client(url, { autoPong: false });
  await waitFor(() => halfOpen.closed() !== undefined, 'the half-open client to be terminated');
  assert.equal(halfOpen.closed()?.code, 1006, 'terminated, no close handshake');
  const stats = api.streamStats();
  assert.equal(stats.droppedUnresponsive, 1);
  assert.equal(stats.clients, 1);
  assert.ok(pings >= 1, 'the live client was pinged');
  assert.equal(live.closed(), undefined, 'the live client answered and stays');
  live.ws.close();
});

test('each event is serialised once, whatever the number of clients', async () => {
  const { gw, url } = await serve({});
  const clients = await Promise.all(Array.from({ length: 5 }, () => client(url)));
  await waitFor(() => clients.every((c) => c.count('hello') === 1), 'five hellos');
  const stringify = JSON.stringify;
  let calls = 0;
  JSON.stringify = ((...args: Parameters<typeof stringify>) => {
    if ((args[0] as { type?: unknown } | null)?.type === 'alert') calls++;
    return stringify(...args);
  }) as typeof JSON.stringify;
  try {
    gw.emit('alert', { id: 'x', machine: 'm' });
    await waitFor(() => clients.every((c) => c.count('alert') === 1), 'the alert at every client');
  } finally {
    JSON.stringify = stringify;
  }
  assert.equal(calls, 1);
  for (const c of clients) c.ws.close();
});
