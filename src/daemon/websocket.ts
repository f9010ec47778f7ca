/**
 * `GET /api/stream` — a WebSocket of live events, one JSON object per message:
 *
 *   { type: 'diagnosis', data: MachineDiagnosis }   per window (class probabilities;
 *                                                   `spectrogram` rows when the pipeline sends them)
 *   { type: 'health',    data: HealthChange & {site} }
 *   { type: 'alert',     data: Alert }
 *   { type: 'ack',       data: { id, machine, by, comment?, via } }
 *   { type: 'ingest',    data: { <machine>: MachineIngest } }   every 2 s
 *   { type: 'adaptation', data: AdaptJob }
 *
 *   { type: 'viewing',   data: { machines: string[] } }   answer to a `view` message
 *
 * The client may send `{ "type": "view", "machines": ["<id>", …] }` (or
 * `"machine": "<id>" | null`) naming the machines it shows in detail; it
 * replaces the previous set. While at least one client views a machine, its
 * diagnoses carry the coarse `spectrogram` (waterfall) and `envelope`
 * (envelope spectrum). Unknown ids are ignored; other messages are ignored.
 *
 * A slow client is not allowed to grow the gateway's memory: when its socket
 * buffers more than 1 MiB, diagnoses (the bulk) are skipped for it until it
 * catches up; the rarer events are always sent.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { GatewayApi } from './gateway-api.js';
import type { GatewayEvents } from './views.js';

const MAX_BUFFERED = 1024 * 1024;
/** Machines one client may view at once (bounds what one socket can switch on). */
const MAX_VIEWED = 64;

/** The machine ids of a `view` message, or undefined when it is not one. */
export function viewRequest(text: string): string[] | undefined {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!m || typeof m !== 'object') return undefined;
  const o = m as { type?: unknown; machines?: unknown; machine?: unknown };
  if (o.type !== 'view') return undefined;
  const list = Array.isArray(o.machines)
    ? o.machines
    : o.machine === null || o.machine === undefined
      ? []
      : [o.machine];
  return [...new Set(list.filter((x): x is string => typeof x === 'string'))].slice(0, MAX_VIEWED);
}

function toJson(type: string, data: unknown): string {
  return JSON.stringify({ type, data }, (_k, v) => {
    if (v instanceof Float32Array || v instanceof Float64Array) return Array.from(v);
    if (typeof v === 'bigint') return Number(v);
    return v;
  });
}

export function registerStream(app: FastifyInstance, gw: GatewayApi): void {
  app.get('/api/stream', { websocket: true }, (socket: WebSocket) => {
    const send = (type: string, data: unknown, bulk = false) => {
      if (socket.readyState !== socket.OPEN) return;
      if (bulk && socket.bufferedAmount > MAX_BUFFERED) return;
      socket.send(toJson(type, data));
    };
    const handlers: { [K in keyof GatewayEvents]?: (...a: GatewayEvents[K]) => void } = {
      diagnosis: (d) => send('diagnosis', d, true),
      health: (h) => send('health', h),
      alert: (a) => send('alert', a),
      ack: (a) => send('ack', a),
      ingest: (s) => send('ingest', s),
      adaptation: (j) => send('adaptation', j),
    };
    for (const [k, fn] of Object.entries(handlers)) gw.on(k as keyof GatewayEvents, fn as never);
    send('hello', { site: gw.config.site, gatewayId: gw.gatewayId, machines: gw.machines() });
    const viewing = new Map<string, () => void>();
    socket.on('message', (raw: Buffer, isBinary: boolean) => {
      const ids = isBinary ? undefined : viewRequest(raw.toString());
      if (!ids) return;
      const want = new Set(ids.filter((id) => gw.machine(id) !== undefined));
      for (const [id, release] of viewing) {
        if (!want.has(id)) {
          release();
          viewing.delete(id);
        }
      }
      for (const id of want) if (!viewing.has(id)) viewing.set(id, gw.view(id));
      send('viewing', { machines: [...viewing.keys()] });
    });
    socket.on('close', () => {
      for (const [k, fn] of Object.entries(handlers)) gw.off(k as keyof GatewayEvents, fn as never);
      for (const release of viewing.values()) release();
      viewing.clear();
    });
  });
}
