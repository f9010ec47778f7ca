/**
 * What the gateway shows: the shapes `GET /api/machines`, `GET /api/gateway`
 * and the `/api/stream` WebSocket send, and the gateway's typed events. Kept
 * apart from ./gateway.ts so the API modules (./api.ts, ./routes.ts,
 * ./websocket.ts, through ./gateway-api.ts) need not import the gateway.
 */
import type { NotifierStats } from '../alerts/notifier.js';
import type { AlertPublisher } from '../alerts/publisher.js';
import type { AlarmRate } from '../contract/alarms.js';
import type { Alert, Shelf } from '../contract/alert.js';
import type { HealthChange } from '../contract/health.js';
import type { AdaptJob, MachineDiagnosis, MachineIngest } from '../contract/machine.js';
import type { IngestStats } from '../ingest/source.js';
import type { HistoryStore } from '../store/types.js';
import type { EmbeddedBrokerStats } from './broker.js';
import type { StreamStats } from './stream-hub.js';

/** `GET /api/gateway`. */
export interface GatewayHealth {
  site: string;
  gatewayId: string;
  startedAt: string;
  uptimeS: number;
  broker: {
    url: string;
    embedded: boolean;
    connected: boolean;
    clients?: number;
    /** Embedded broker: refused CONNECTs, denied publishes/subscriptions, oversize packets. */
    access?: EmbeddedBrokerStats['access'];
  };
  ingest: {
    sources: IngestStats[];
    perSensor: Record<
      string,
      { framesPerS: number; frames: number; gaps: number; badFrames: number }
    >;
  };
  store: { kind: 'sqlite' | 'influx' } & ReturnType<HistoryStore['stats']>;
  alerts: ReturnType<AlertPublisher['stats']>;
  /** Webhook and e-mail notifiers (configured ones only): delivered, waiting, failures. */
  notify?: NotifierStats[];
  /** The pipeline's statistics (inference latency, queue depths, backend), or null before it runs. */
  pipeline: object | null;
  /** Alarms per day (last 24 h, 7-day mean) and standing alarms, per machine and site (./alarm-rates.ts). */
  alarmRate?: AlarmRate;
  fleet?: { machines: number };
  reload: { at?: string; ok?: boolean; error?: string };
  /** `/api/stream`: clients now, refused (client cap), dropped (slow, unresponsive), skipped diagnoses. */
  stream?: StreamStats;
  /** Plant protocols that are on: the Modbus server's and the Sparkplug node's counters. */
  outputs?: {
    modbus?: { host: string; port: number; reads: number; exceptions: number; clients: number };
    sparkplug?: {
      connected: boolean;
      bdSeq: number;
      births: number;
      data: number;
      deaths: number;
    };
  };
  /** With `cluster.enabled`: the live gateways of the site and the machines this one owns. */
  cluster?: {
    live: string[];
    owned: string[];
    /** Membership changes seen since start. */
    changes: number;
    lastChangeAt?: string;
    /** Frames that arrived for machines another gateway owns (hand-over overlap), dropped. */
    notOwnedBlocks: number;
  };
}

export interface GatewayEvents {
  diagnosis: [MachineDiagnosis];
  health: [HealthChange & { site: string }];
  alert: [Alert];
  ack: [{ id: string; machine: string; by: string; comment?: string; via: 'mqtt' | 'api' }];
  adaptation: [AdaptJob];
  /** A machine was shelved, unshelved or its shelf ran out (`by: 'expiry'`). */
  shelve: [{ machine: string; shelved: Shelf | null; by: string }];
  ingest: [Record<string, MachineIngest>];
}
