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
 * A slow client is not allowed to grow the gateway's memory: when its socket
 * buffers more than 1 MiB, diagnoses (the bulk) are skipped for it until it
 * catches up; the rarer events are always sent.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { Gateway, GatewayEvents } from './gateway.js';

const MAX_BUFFERED = 1024 * 1024;

function toJson(type: string, data: unknown): string {
  return JSON.stringify({ type, data }, (_k, v) => {
    if (v instanceof Float32Array || v instanceof Float64Array) return Array.from(v);
    if (typeof v === 'bigint') return Number(v);
    return v;
  });
}

export function registerStream(app: FastifyInstance, gw: Gateway): void {
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
    socket.on('close', () => {
      for (const [k, fn] of Object.entries(handlers)) gw.off(k as keyof GatewayEvents, fn as never);
    });
  });
}
