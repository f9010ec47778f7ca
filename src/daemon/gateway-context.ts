/**
 * What the gateway's modules share: the running configuration, who this
 * gateway is, where it logs, its machines, the parts it started and how it
 * emits its events. ./gateway.ts creates one and hands it to each module it
 * composes (./ingest-router.ts, ./cluster-ownership.ts, ./outputs.ts,
 * ./machine-views.ts, ./model-control.ts), so none of them imports the
 * Gateway class.
 */
import type { MqttClient } from 'mqtt';
import type { AlertNotifier } from '../alerts/notifier.js';
import type { AlertOutbox } from '../alerts/outbox.js';
import type { AlertPublisher } from '../alerts/publisher.js';
import type { DiagnosisPipeline } from '../diagnose/pipeline.js';
import type { IngestSource } from '../ingest/source.js';
import type { SimulatedFleet } from '../sim/fleet.js';
import type { HistoryStore } from '../store/types.js';
import type { AdaptationManager } from './adaptation.js';
import type { EmbeddedBroker } from './broker.js';
import type { GatewayConfig } from './config.js';
import type { GatewayLogger } from './log.js';
import type { MachineTable } from './machine-table.js';
import type { ModelRegistry } from './registry.js';
import type { Shelving } from './shelving.js';
import type { VerdictWindows } from './verdicts.js';
import type { GatewayEvents } from './views.js';

/** Emits one of the gateway's typed events (to the WebSocket clients and other listeners). */
export type GatewayEmit = <K extends keyof GatewayEvents>(
  event: K,
  ...args: GatewayEvents[K]
) => void;

/** The running parts, filled in start order: each is absent until it has started. */
export interface GatewayParts {
  broker?: EmbeddedBroker;
  store?: HistoryStore;
  storeKind: 'sqlite' | 'influx';
  registry?: ModelRegistry;
  pipeline?: DiagnosisPipeline;
  /** The alert, state and presence client (it carries the gateway's Last Will). */
  alertClient?: MqttClient;
  publisher?: AlertPublisher;
  /** The publisher's on-disk journal (absent when it could not be opened). */
  alertOutbox?: AlertOutbox;
  /** Webhook and e-mail notifiers (./notify.ts); empty when none is configured. */
  notifiers?: AlertNotifier[];
  adaptation?: AdaptationManager;
  /** Shelved machines (./shelving.ts): no alerts while shelved. */
  shelving?: Shelving;
  /** Windows kept for verdicts and the verdicts' counts (./verdicts.ts). */
  verdicts?: VerdictWindows;
  sources: IngestSource[];
  fleet?: SimulatedFleet;
}

export interface GatewayContext {
  /** The running configuration; `reload()` replaces it. */
  config: Readonly<GatewayConfig>;
  readonly gatewayId: string;
  readonly stateDir: string;
  /** Repository root (shipped models, web console). */
  readonly repoRoot: string;
  /** The one pino logger (./log.ts); fastify logs through a child of it. */
  readonly log: GatewayLogger;
  readonly machines: MachineTable;
  readonly parts: GatewayParts;
  readonly emit: GatewayEmit;
  /** Set once close() began: late callbacks then do nothing. */
  closing: boolean;
}
