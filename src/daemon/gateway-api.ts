/**
 * The part of the gateway the HTTP and WebSocket API use (./api.ts,
 * ./routes.ts, ./websocket.ts): they depend on this interface, not on the
 * Gateway class, so the gateway can start the API (passing itself) without
 * an import cycle. ./gateway.ts implements it.
 */
import type { ShelveBody, ShelveResult } from '../contract/alarms.js';
import type { Alert, Verdict } from '../contract/alert.js';
import type { HistoryAnswer } from '../contract/api.js';
import type { AdaptJob, AdaptStrategy, MachineView } from '../contract/machine.js';
import type { AggregateQuery, AlertQuery } from '../store/types.js';
import type { AdaptationManager } from './adaptation.js';
import type { GatewayConfig } from './config.js';
import type { ModelRegistry, ModelVersion } from './registry.js';
import type { GatewayEvents, GatewayHealth } from './views.js';

export interface GatewayApi {
  /** The site and its machines (the hello message, `GET /api/models`). */
  readonly config: Readonly<Pick<GatewayConfig, 'site' | 'machines'>>;
  readonly gatewayId: string;
  /** Model versions, the active one per machine and the promotion audit; absent before start. */
  readonly registry?: Pick<ModelRegistry, 'list' | 'active' | 'audit'>;
  /** Adaptation jobs; absent before start. */
  readonly adaptation?: Pick<AdaptationManager, 'job' | 'jobs'>;

  /** Every machine, in config order (`GET /api/machines`). */
  machines(): MachineView[];
  /** One machine, or undefined when the id is unknown. */
  machine(id: string): MachineView | undefined;
  /** Alerts of this site, most recent first. */
  alerts(q: AlertQuery): Promise<Alert[]>;
  /** min/mean/max per time bucket of a machine's measures (`GET /api/machines/:id/history`). */
  history(q: AggregateQuery): Promise<HistoryAnswer>;
  /**
   * Acknowledges an alert from the API, with the operator's verdict when given;
   * rejects with FL_ERR_API_NOT_FOUND for an unknown id, FL_ERR_API_REQUEST for
   * a confirmed class the machine's model does not have.
   */
  ackAlert(id: string, by: string, comment?: string, verdict?: Verdict): Promise<Alert>;
  /**
   * Shelves a machine (`POST /api/machines/:id/shelve`): still diagnosed, no
   * alerts or notifications until it runs out. Rejects with
   * FL_ERR_API_NOT_FOUND (unknown machine) or FL_ERR_API_REQUEST (bad until).
   */
  shelve(machine: string, body: ShelveBody): Promise<ShelveResult>;
  /** Ends a machine's shelf now (`POST /api/machines/:id/unshelve`). */
  unshelve(machine: string, by: string): Promise<ShelveResult>;
  /** `GET /api/gateway`. */
  health(): GatewayHealth;
  /** Starts collecting live signal and adapting the machine's model. */
  startAdaptation(
    machine: string,
    o: { seconds?: number; strategy?: AdaptStrategy; fromVerdicts?: boolean },
  ): AdaptJob;
  /** Marks the machine as shown in detail; call the returned function to stop. */
  view(machine: string): () => void;
  /** Activates a registry version for the machine (guards unless forced with a reason). */
  promote(
    machine: string,
    o: { version: string; force?: boolean; by: string; reason?: string },
  ): Promise<{ machine: string; from?: string; to: string; forced: boolean }>;
  /** Back to the machine's previous model version. */
  rollback(machine: string): Promise<{ from: ModelVersion; to: ModelVersion }>;

  on<K extends keyof GatewayEvents>(event: K, listener: (...args: GatewayEvents[K]) => void): this;
  off<K extends keyof GatewayEvents>(event: K, listener: (...args: GatewayEvents[K]) => void): this;
}
