/**
 * Bad input: random and mutated inputs (and oversize ones) for every parser
 * an outsider can reach — the frame decoder (serial stream and MQTT payload),
 * the configuration loader, the alert/ack schemas, every API route of a real
 * gateway over HTTP, and MQTT payloads published to a real gateway's broker.
 *
 * For each: no crash (the gateway still answers), no unbounded memory (heap
 * after a forced GC stays within a fixed margin), a clear error each time
 * (a FaultlineError with a stable code, a 4xx JSON `{ error, message }`, or a
 * counted bad frame / bad ack). Counts are printed; crashes must be 0.
 * Inputs come from a seeded generator, so a failure replays exactly.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import mqtt from 'mqtt';
import WebSocket from 'ws';
import { stringify as toYaml } from 'yaml';
import { parseAlert } from '../../src/alerts/schema.js';
import { ackSchema } from '../../src/contract/alert.js';
import { type GatewayConfigInput, loadConfigFile, parseConfig } from '../../src/daemon/config.js';
import { Gateway, type GatewayHealth } from '../../src/daemon/gateway.js';
import { FaultlineError, isFaultlineError } from '../../src/errors.js';
import { decodePayload, SerialFrameDecoder } from '../../src/ingest/decoder.js';
import { encodeFrame, encodeSerialPacket } from '../../src/ingest/frame.js';
import { SequenceTracker } from '../../src/ingest/sequence.js';
import { exampleAlert } from '../alerts/example.js';
import { quiet, simModelDir } from '../support/gateway-fixture.js';
import { heapMiB } from '../support/heap.js';

/** mulberry32: small, seeded, good enough to drive a fuzzer. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const bytes = (n: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  };
  /** Flips, overwrites, inserts, deletes or truncates a few bytes. */
  const mutate = (src: Uint8Array): Uint8Array => {
    let b = Uint8Array.from(src);
    const ops = 1 + int(4);
    for (let k = 0; k < ops; k++) {
      const i = int(Math.max(1, b.length));
      switch (int(5)) {
        case 0:
          b[i] ^= 1 << int(8);
          break;
        case 1:
          b[i] = [0, 0xff, 0x7f, 0x80][int(4)];
          break;
        case 2:
          b = Uint8Array.from([...b.subarray(0, i), ...bytes(1 + int(8)), ...b.subarray(i)]);
          break;
        case 3:
          b = Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + 1 + int(8))]);
          break;
        default:
          b = b.subarray(0, i);
      }
    }
    return b;
  };
  /** A random JSON-ish value, nested up to `depth`. */
  const value = (depth = 3): unknown => {
    switch (int(depth > 0 ? 9 : 6)) {
      case 0:
        return null;
      case 1:
        return [true, false][int(2)];
      case 2:
        return [0, -1, 1e308, -1e-308, 65536, 3.5, Number.MAX_SAFE_INTEGER][int(7)];
      case 3:
        return ['', 'x', '../../etc/passwd', '\u0000', 'a'.repeat(300), '+/#', '😀'][int(7)];
      case 4:
        return int(1000) - 500;
      case 5:
        return Buffer.from(bytes(int(12))).toString('latin1');
      case 6:
        return Array.from({ length: int(4) }, () => value(depth - 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = 0; i < int(4); i++)
          o[['id', 'by', 'comment', 'x', '__proto__'][int(5)]] = value(depth - 1);
        return o;
      }
    }
  };
  /** Replaces one randomly chosen leaf (or key) of `obj` by a random value. */
  const mutateJson = (obj: unknown): unknown => {
    const copy = JSON.parse(JSON.stringify(obj)) as Record<string, unknown>;
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, p: (string | number)[]) => {
      paths.push(p);
      if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) walk(x, [...p, Array.isArray(v) ? Number(k) : k]);
    };
    walk(copy, []);
    const p = paths[int(paths.length)];
    if (p.length === 0) return value();
    let parent: Record<string | number, unknown> = copy;
    for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const last = p[p.length - 1];
    if (int(4) === 0 && !Array.isArray(parent)) {
      delete parent[last];
      parent[`${String(last)}${['x', '_', ''][int(3)]}`] = value();
    } else if (int(5) === 0) delete parent[last];
    else parent[last] = value();
    return copy;
  };
  return { next, int, bytes, mutate, value, mutateJson };
}

const counts: Record<string, { inputs: number; errors: number; crashes: number }> = {};
function count(kind: string, outcome: 'ok' | 'error' | 'crash') {
  counts[kind] ??= { inputs: 0, errors: 0, crashes: 0 };
  counts[kind].inputs++;
  if (outcome === 'error') counts[kind].errors++;
  if (outcome === 'crash') counts[kind].crashes++;
}

const WIRE = { channels: 1, format: 'int16' as const, scale: 16 / 32768, rpm: 0 };

/** A valid raw frame of `n` int16 samples. */
function frame(seq: number, n = 256): Uint8Array {
  const s = new Int16Array(n).map((_, i) => Math.round(1000 * Math.sin(i / 5)));
  return encodeFrame(
    {
      sensorId: 1,
      seq,
      t0Us: 1_700_000_000_000_000n + BigInt(seq) * 21_333n,
      sampleRate: 12_000,
      ...WIRE,
    },
    s,
  );
}

test('frame decoder: random, mutated and oversize MQTT payloads and serial byte streams', () => {
  const r = rng(1);
  const h0 = heapMiB();
  const tracker = new SequenceTracker();
  const good = frame(0);
  for (let i = 0; i < 20_000; i++) {
    const input =
      i % 4 === 0
        ? r.bytes(r.int(200))
        : i % 997 === 0
          ? r.bytes(70_000 + r.int(1 << 20))
          : r.mutate(good);
    try {
      const out = decodePayload(input, tracker);
      if (out.kind === 'bad') {
        assert.ok(out.reason.startsWith('FL_ERR_'), out.reason);
        assert.ok(out.message.length > 10);
        count('frame (MQTT payload)', 'error');
      } else count('frame (MQTT payload)', 'ok');
    } catch {
      count('frame (MQTT payload)', 'crash');
    }
  }
  // serial: one long stream of good packets with garbage, cut at random points
  const dec = new SerialFrameDecoder();
  let bad = 0;
  let blocks = 0;
  dec.on('bad-frame', () => bad++);
  dec.on('data', () => blocks++);
  dec.on('error', () => count('frame (serial stream)', 'crash'));
  for (let i = 0; i < 5000; i++) {
    const pkt = encodeSerialPacket(
      { sensorId: 2, seq: i, t0Us: BigInt(i) * 21_333n, sampleRate: 12_000, ...WIRE },
      new Int16Array(128).fill(i),
    );
    const chunk = i % 3 === 0 ? r.mutate(pkt) : i % 50 === 0 ? r.bytes(5000) : pkt;
    for (let at = 0; at < chunk.length; ) {
      const n = 1 + r.int(chunk.length);
      dec.write(chunk.subarray(at, at + n));
      at += n;
    }
    count('frame (serial stream)', 'ok');
  }
  dec.write(r.bytes(300_000)); // an oversize garbage burst without a delimiter
  count('frame (serial stream)', 'ok');
  const grown = heapMiB() - h0;
  assert.ok(blocks > 2500, `valid packets still decoded among garbage: ${blocks}`);
  assert.ok(bad > 100, `bad packets counted: ${bad}`);
  counts['frame (serial stream)'].errors = bad;
  assert.ok(grown < 30, `heap grew ${grown.toFixed(1)} MiB`);
  assert.equal(counts['frame (MQTT payload)'].crashes, 0);
});

test('configuration loader: mutated configs and random YAML files → FL_ERR_CONFIG or a valid config', async () => {
  const r = rng(2);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-fuzz-config-'));
  const good: GatewayConfigInput = {
    site: 's',
    machines: [
      {
        id: 'm',
        sensors: [{ id: 1, sampleRate: 12000, serial: '/dev/ttyUSB0' }],
        bearing: { balls: 9, ballDiameter: 0.31, pitchDiameter: 1.5 },
      },
    ],
    broker: { embedded: false, url: 'mqtts://b:8883', username: 'u', password: 'p' },
    influx: { host: 'db', port: 8086, retention: '30d' },
    http: { port: 8080, token: 'x'.repeat(20) },
    alerts: { silentAfterMs: 5000 },
  };
  parseConfig(good); // the seed itself is valid
  const check = (fn: () => unknown, kind: string) => {
    try {
      fn();
      count(kind, 'ok');
    } catch (e) {
      if (isFaultlineError(e) && e.code === 'FL_ERR_CONFIG' && /: /.test(e.message))
        count(kind, 'error');
      else {
        count(kind, 'crash');
        assert.fail(`${kind}: not a clear FL_ERR_CONFIG: ${(e as Error).stack}`);
      }
    }
  };
  for (let i = 0; i < 3000; i++) {
    let v: unknown = good;
    for (let k = 0; k <= r.int(3); k++) v = r.mutateJson(v);
    check(() => parseConfig(v, 'fuzz'), 'config object');
  }
  try {
    for (let i = 0; i < 300; i++) {
      const file = path.join(dir, `c${i}.yaml`);
      const text =
        i % 3 === 0
          ? Buffer.from(r.bytes(r.int(400))).toString('latin1')
          : Buffer.from(r.mutate(Buffer.from(toYaml(good)))).toString('utf8');
      await writeFile(file, i === 7 ? 'x: '.repeat(200_000) : text);
      const h = await loadConfigFile(file).then(
        () => 'ok' as const,
        (e: unknown) =>
          isFaultlineError(e) && e.code === 'FL_ERR_CONFIG'
            ? ('error' as const)
            : ('crash' as const),
      );
      count('config file (YAML)', h);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(counts['config file (YAML)'].crashes, 0);
});

test('alert and ack schemas: mutated alerts and random acks → parsed or FL_ERR_ALERT_SCHEMA', () => {
  const r = rng(3);
  for (let i = 0; i < 3000; i++) {
    try {
      parseAlert(r.mutateJson(exampleAlert) as never);
      count('alert payload', 'ok');
    } catch (e) {
      count(
        'alert payload',
        e instanceof FaultlineError && e.code === 'FL_ERR_ALERT_SCHEMA' ? 'error' : 'crash',
      );
    }
    try {
      const a = ackSchema.safeParse(
        i % 2
          ? r.value(4)
          : r.mutateJson({ id: '5d0c3c3e-3f7b-4a41-9b0e-1f0e2d6f0a11', by: 'ana' }),
      );
      count('ack payload', a.success ? 'ok' : 'error');
    } catch {
      count('ack payload', 'crash');
    }
  }
  assert.equal(counts['alert payload'].crashes, 0);
  assert.equal(counts['ack payload'].crashes, 0);
});

// ── a real gateway for the API, WebSocket and MQTT payloads ────────────────

let dir: string;
let gw: Gateway;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-fuzz-gw-'));
  gw = await Gateway.start({
    config: parseConfig({
      site: 'z',
      gatewayId: 'gw-z',
      stateDir: path.join(dir, 'state'),
      model: await simModelDir(),
      machines: [{ id: 'm1', sensors: [{ id: 1, sampleRate: 12_000 }] }],
      broker: { port: 0 },
      http: { port: 0 },
      pipeline: { workers: 1 },
    }),
    fleet: false,
    log: quiet,
  });
});

after(async () => {
  await gw?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  const rows = Object.entries(counts).map(
    ([k, v]) =>
      `${k}: ${v.inputs} inputs, ${v.errors} refused with a clear error, ${v.crashes} crashes`,
  );
  console.log(`# fuzz totals\n# ${rows.join('\n# ')}`);
});

test('API: random methods, routes, queries and bodies (and oversize ones) → 4xx JSON errors, never 5xx', async () => {
  const r = rng(4);
  const auth = { authorization: `Bearer ${gw.token}` };
  const routes = [
    '/api/machines',
    '/api/machines/m1',
    '/api/alerts',
    '/api/gateway',
    '/api/models',
    '/api/alerts/x/ack',
    '/api/machines/nope/adapt',
    '/api/machines/m1/rollback',
    '/api/adaptations/zz',
    '/api/machines/%00',
    '/api/../etc',
  ];
  const h0 = process.memoryUsage().rss;
  for (let i = 0; i < 800; i++) {
    const route = routes[r.int(routes.length)];
    const q =
      i % 3 === 0
        ? `?${['since', 'until', 'limit', 'machine', 'unacknowledged', 'x'][r.int(6)]}=${encodeURIComponent(JSON.stringify(r.value(1)) ?? '')}`
        : '';
    const method = ['GET', 'POST', 'PUT', 'DELETE'][r.int(4)];
    const body =
      method === 'GET' || method === 'DELETE'
        ? undefined
        : i % 100 === 0
          ? 'x'.repeat(200_000) // oversize
          : i % 5 === 0
            ? Buffer.from(r.bytes(r.int(100))).toString('latin1') // not JSON
            : JSON.stringify(r.value(3));
    const res = await fetch(`${gw.apiUrl}${route}${q}`, {
      method,
      headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    if (res.status >= 500) {
      count('API request', 'crash');
      assert.fail(`${method} ${route}${q} → ${res.status} ${text}`);
    }
    if (res.status >= 400) {
      const e = JSON.parse(text) as { error?: string; message?: string };
      assert.ok(
        typeof e.message === 'string' && e.message.length > 0,
        `${res.status} without a message: ${text}`,
      );
      count('API request', 'error');
    } else count('API request', 'ok');
  }
  // without a token every route but /healthz is refused
  for (const route of routes) {
    const res = await fetch(`${gw.apiUrl}${route}`);
    assert.equal(res.status, route === '/api/../etc' ? res.status : 401, route);
    count(
      'API request without token',
      res.status === 401 || res.status === 404 ? 'error' : 'crash',
    );
  }
  assert.ok((await fetch(`${gw.apiUrl}/healthz`)).ok);
  const grownMiB = (process.memoryUsage().rss - h0) / 2 ** 20;
  assert.ok(grownMiB < 200, `RSS grew ${grownMiB.toFixed(0)} MiB`);
});

test('WebSocket /api/stream refuses a missing or wrong token and serves the right one', async () => {
  const ws = gw.apiUrl.replace(/^http/, 'ws');
  const attempt = (url: string) =>
    new Promise<string>((resolve) => {
      const s = new WebSocket(url);
      s.once('message', (m) => {
        resolve(`message ${String(m).slice(0, 40)}`);
        s.close();
      });
      s.once('unexpected-response', (_req, res) => {
        resolve(`refused ${res.statusCode}`);
        s.terminate();
      });
      s.once('error', (e) => resolve(`error ${e.message}`));
    });
  assert.equal(await attempt(`${ws}/api/stream`), 'refused 401');
  assert.equal(await attempt(`${ws}/api/stream?token=${'y'.repeat(43)}`), 'refused 401');
  assert.match(
    await attempt(`${ws}/api/stream?token=${encodeURIComponent(gw.token)}`),
    /^message \{"type":"hello"/,
  );
});

test('MQTT payloads: fuzzed raw frames, acks and an oversize message on the gateway broker → counted, gateway alive', async () => {
  const r = rng(5);
  const c = await mqtt.connectAsync(gw.brokerUrl, { protocolVersion: 4, clientId: 'fuzzer' });
  const before = gw.health();
  const good = frame(1);
  let badAcks = 0;
  let rawBytes = 0;
  for (let i = 0; i < 1500; i++) {
    const raw = Buffer.from(i % 4 ? r.mutate(good) : r.bytes(r.int(300)));
    rawBytes += raw.length;
    await c.publishAsync('faultline/z/m1/1/raw', raw, { qos: 1 });
    count('MQTT raw frame', 'ok');
    const ack =
      i % 3 ? JSON.stringify(r.value(3)) : Buffer.from(r.bytes(r.int(60))).toString('latin1');
    let valid = false;
    try {
      valid = ackSchema.safeParse(JSON.parse(ack)).success;
    } catch {}
    if (!valid) badAcks++;
    await c.publishAsync('faultline/z/m1/alert/ack', ack, { qos: 1 });
    count('MQTT ack', valid ? 'ok' : 'error');
  }
  await c.endAsync();
  // 4 MiB on one message: the embedded broker (broker.maxPacketBytes, 128 KiB) cuts the
  // client off at the packet's header; it never reaches ingest
  const oversizeBefore = gw.health().broker.access?.oversizePackets ?? 0;
  const big = mqtt.connect(gw.brokerUrl, { protocolVersion: 4, reconnectPeriod: 0 });
  await new Promise<void>((res) => big.once('connect', () => res()));
  const cut = new Promise<void>((res) => big.once('close', () => res()));
  big.publish('faultline/z/m1/1/raw', Buffer.alloc(4 << 20, 0x55), { qos: 0 });
  await cut;
  big.end(true);
  count('MQTT raw frame', 'error');
  // The broker has every message (QoS 1); wait until the gateway's ingest and
  // alert clients took them all, however long that takes here.
  const deadline = Date.now() + 60_000;
  let h: GatewayHealth = gw.health();
  while (
    (h.ingest.sources[0].bytes - before.ingest.sources[0].bytes < rawBytes ||
      h.alerts.badAcks - before.alerts.badAcks < badAcks) &&
    Date.now() < deadline
  ) {
    await new Promise((res) => setTimeout(res, 100));
    h = gw.health();
  }
  const ingested = h.ingest.sources[0].bytes - before.ingest.sources[0].bytes;
  assert.ok(ingested >= rawBytes, `payload bytes ingested: ${ingested} of ${rawBytes}`);
  const src = h.ingest.sources[0];
  const newBad = src.badFrames - before.ingest.sources[0].badFrames;
  counts['MQTT raw frame'].errors = newBad;
  assert.ok(newBad > 1000, `bad frames counted: ${newBad}`);
  assert.equal(
    gw.health().broker.access?.oversizePackets,
    oversizeBefore + 1,
    'the oversize one is refused by the broker and counted',
  );
  assert.equal(h.alerts.badAcks - before.alerts.badAcks, badAcks, 'every malformed ack counted');
  assert.equal(src.state, 'connected', 'ingest still connected');
  assert.ok((await fetch(`${gw.apiUrl}/healthz`)).ok, 'gateway alive');
});
