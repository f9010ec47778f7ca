/**
 * What the gateway shows: the shapes `GET /api/machines`, `GET /api/gateway`
 * and the `/api/stream` WebSocket send, and the gateway's typed events. Kept
 * apart from ./gateway.ts so the API modules (./api.ts, ./routes.ts,
 * ./websocket.ts, through ./gateway-api.ts) need not import the gateway.
 */

import type { z } from 'zod';
import type { NotifierStats } from '../alerts/notifier.js';
import type { AlertPublisher } from '../alerts/publisher.js';
import type { Alert, Shelf, Verdict } from '../contract/alert.js';
import type { gatewayHealthSchema } from '../contract/api.js';
import type { HealthChange } from '../contract/health.js';
import type { AdaptJob, MachineDiagnosis, MachineIngest } from '../contract/machine.js';
import type { IngestStats } from '../ingest/source.js';
import type { HistoryStore } from '../store/types.js';
import type { EmbeddedBrokerStats } from './broker.js';

/**
 * `GET /api/gateway`: the contract's shape (`gatewayHealthSchema`), so the
 * fields it names are written once. The schema leaves each part's own
 * counters open (they grow with the part); here they are narrowed to the
 * types the parts really return, so building the view stays type-checked.
 */
export type GatewayHealth = Omit<
  Wire,
  'broker' | 'ingest' | 'store' | 'alerts' | 'notify' | 'pipeline' | 'outputs'
> & {
  broker: Named<Wire['broker']> & {
    /** Embedded broker: refused CONNECTs, denied publishes/subscriptions, oversize packets. */
    access?: EmbeddedBrokerStats['access'];
  };
  ingest: Omit<Named<Wire['ingest']>, 'sources'> & { sources: IngestStats[] };
  store: Named<Wire['store']> & ReturnType<HistoryStore['stats']>;
  alerts: ReturnType<AlertPublisher['stats']>;
  notify?: NotifierStats[];
  /** The pipeline's statistics (inference latency, queue depths, backend), or null before it runs. */
  pipeline: object | null;
  outputs?: {
    modbus?: Named<NonNullable<WireOutputs['modbus']>> & { reads: number; exceptions: number };
    sparkplug?: Named<NonNullable<WireOutputs['sparkplug']>> & {
      births: number;
      data: number;
      deaths: number;
    };
  };
};

/** `T` without the index signature zod gives an open object (it would swallow every named key in `Omit`). */
type Named<T> = { [K in keyof T as string extends K ? never : K]: T[K] };
type Wire = Named<z.output<typeof gatewayHealthSchema>>;
type WireOutputs = NonNullable<Wire['outputs']>;

export interface GatewayEvents {
  diagnosis: [MachineDiagnosis];
  health: [HealthChange & { site: string }];
  alert: [Alert];
  ack: [
    {
      id: string;
      machine: string;
      by: string;
      comment?: string;
      verdict?: Verdict;
      via: 'mqtt' | 'api';
    },
  ];
  adaptation: [AdaptJob];
  /** A machine was shelved, unshelved or its shelf ran out (`by: 'expiry'`). */
  shelve: [{ machine: string; shelved: Shelf | null; by: string }];
  ingest: [Record<string, MachineIngest>];
}
