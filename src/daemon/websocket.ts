/**
 * `GET /api/stream` — a WebSocket of live events, one JSON object per message:
 *
 *   { type: 'diagnosis', data: MachineDiagnosis }   per window (class probabilities;
 *                                                   `spectrogram` rows when the pipeline sends them)
 *   { type: 'health',    data: HealthChange & {site} }
 *   { type: 'alert',     data: Alert }
 *   { type: 'ack',       data: { id, machine, by, comment?, verdict?, via } }
 *   { type: 'ingest',    data: { <machine>: MachineIngest } }   every 2 s
 *   { type: 'adaptation', data: AdaptJob }
 *   { type: 'shelve',    data: { machine, shelved: Shelf | null, by } }   shelved, unshelved, ran out
 *
 *   { type: 'viewing',   data: { machines: string[] } }   answer to a `view` message
 *
 * The client may send `{ "type": "view", "machines": ["<id>", …] }` (or
 * `"machine": "<id>" | null`) naming the machines it shows in detail; it
 * replaces the previous set. While at least one client views a machine, its
 * diagnoses carry the coarse `spectrogram` (waterfall) and `envelope`
 * (envelope spectrum). Unknown ids are ignored; other messages are ignored.
 *
 * What one client may cost (client cap, buffer cap on every event kind,
 * ping/terminate of half-open sockets, one serialisation per event) is
 * ./stream-hub.ts's job; `http.stream` sets its limits. Close codes a client
 * sees: 1013 when the gateway already serves `http.stream.maxClients`, 1006
 * (no close frame) when it was dropped as too slow or unresponsive.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { GatewayApi } from './gateway-api.js';
import { StreamHub, type StreamLimits } from './stream-hub.js';
import type { GatewayEvents } from './views.js';

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

/**
 * Registers `GET /api/stream` and returns its hub (for its counters). The
 * gateway's events are listened to once per app, not once per socket, and
 * each is serialised once for all clients.
 */
export function registerStream(
  app: FastifyInstance,
  gw: GatewayApi,
  limits: StreamLimits,
): StreamHub {
  const hub = new StreamHub(limits);
  const handlers: { [K in keyof GatewayEvents]: (...a: GatewayEvents[K]) => void } = {
    diagnosis: (d) => hub.broadcast('diagnosis', d, true),
    health: (h) => hub.broadcast('health', h),
    alert: (a) => hub.broadcast('alert', a),
    ack: (a) => hub.broadcast('ack', a),
    ingest: (s) => hub.broadcast('ingest', s),
    adaptation: (j) => hub.broadcast('adaptation', j),
    shelve: (s) => hub.broadcast('shelve', s),
  };
  for (const [k, fn] of Object.entries(handlers)) gw.on(k as keyof GatewayEvents, fn as never);
  app.addHook('onClose', async () => {
    for (const [k, fn] of Object.entries(handlers)) gw.off(k as keyof GatewayEvents, fn as never);
    hub.close();
  });

  app.get('/api/stream', { websocket: true }, (socket: WebSocket) => {
    if (!hub.admit(socket)) return;
    hub.sendTo(socket, 'hello', {
      site: gw.config.site,
      gatewayId: gw.gatewayId,
      machines: gw.machines(),
    });
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
      hub.sendTo(socket, 'viewing', { machines: [...viewing.keys()] });
    });
    socket.on('close', () => {
      for (const release of viewing.values()) release();
      viewing.clear();
    });
  });
  return hub;
}
