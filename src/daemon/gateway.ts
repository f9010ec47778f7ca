/**
 * The gateway's composition root: it creates the parts, wires them together
 * and owns their order. The work itself lives in the modules it composes:
 *
 *   broker (embedded aedes | external) ◄── simulated fleet / sensor nodes
 *        │ raw frames                         serial sensors ──┐
 *        ▼                                                     ▼
 *   MqttSource ──────────► IngestRouter (./ingest-router.ts) ◄── SerialSource
 *                                               │ IngestedBlock + {site, machine, sensor}
 *                                               ├──► AdaptationManager (collects when asked)
 *                                               ▼
 *                                      DiagnosisPipeline ── 'diagnosis' ─► Outputs (./outputs.ts):
 *                                               └── 'health' ──────────► points → HistoryStore,
 *                                                                         alerts + states → MQTT,
 *                                                                         events → WebSocket
 *   ClusterOwnership (./cluster-ownership.ts): which machines this gateway diagnoses
 *   ModelControl (./model-control.ts): registry, promote/rollback, adaptation jobs, reload
 *   machine views (./machine-views.ts), Viewers (./viewers.ts): what the API shows
 *
 * Start order: state dir → broker → store → registry/models → pipeline →
 * alerts → plant outputs → adaptation → ingest → API → fleet; close in reverse. A failure
 * half-way closes what was started and rejects with the FaultlineError.
 */
import { EventEmitter } from 'node:events';
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { ShelveBody, ShelveResult } from '../contract/alarms.js';
import type { Alert, Verdict } from '../contract/alert.js';
import type { HistoryAnswer } from '../contract/api.js';
import type { HealthChange } from '../contract/health.js';
import type {
  AdaptJob,
  AdaptStrategy,
  MachineDiagnosis,
  MachineView,
} from '../contract/machine.js';
import { DiagnosisPipeline } from '../diagnose/pipeline.js';
import type { MachineStatus } from '../diagnose/pipeline-status.js';
import type { MqttLinkOptions } from '../ingest/mqtt-link.js';
import { SimulatedFleet } from '../sim/fleet.js';
import type { AggregateQuery, AlertQuery } from '../store/types.js';
import type { AdaptationManager } from './adaptation.js';
import { AlarmHandling } from './alarm-handling.js';
import { type ApiServer, startApi } from './api.js';
import { EmbeddedBroker, mqtt311Connect } from './broker.js';
import { brokerAccounts } from './broker-auth.js';
import { ClusterOwnership } from './cluster-ownership.js';
import { type GatewayConfig, resolveGatewayId, resolveStateDir } from './config.js';
import type { GatewayApi } from './gateway-api.js';
import type { GatewayContext, GatewayParts } from './gateway-context.js';
import { IngestRouter, STATS_INTERVAL_MS } from './ingest-router.js';
import { createLogger, type GatewayLogger } from './log.js';
import { rateLimited } from './log-limit.js';
import { MachineTable, machineSpec } from './machine-table.js';
import { gatewayHealth, machineView, machineViews, type ViewSources } from './machine-views.js';
import { ModelControl } from './model-control.js';
import { openNotifiers } from './notify.js';
import { Outputs, openHistoryStore } from './outputs.js';
import { PlantOutputs } from './plant-outputs.js';
import type { ModelRegistry, ModelVersion } from './registry.js';
import { ensureStateDir, loadOrCreateToken } from './state.js';
import { VERDICTS_DIR, VerdictWindows } from './verdicts.js';
import { Viewers } from './viewers.js';
import type { GatewayEvents, GatewayHealth } from './views.js';

export type { GatewayApi } from './gateway-api.js';
export type { GatewayLogger } from './log.js';
export type { GatewayEvents, GatewayHealth } from './views.js';

export interface GatewayOptions {
  config: Readonly<GatewayConfig>;
  /** The file the config came from; `reload()` re-reads it. */
  configFile?: string;
  /** The logger (./log.ts). Default: JSON lines on stdout at the config's `log.level`. */
  log?: GatewayLogger;
  /** Run the simulated fleet for machines with `simulate`. Default true. */
  fleet?: boolean;
  /** Repository root (shipped models, web console). Default: two levels above this file. */
  repoRoot?: string;
}

const POINT_FLUSH_MS = 1000;

/** A running gateway. Create with {@link Gateway.start}. */
export class Gateway extends EventEmitter<GatewayEvents> implements GatewayApi {
  readonly configFile?: string;
  readonly stateDir: string;
  readonly gatewayId: string;
  readonly token: string;
  readonly startedAt = Date.now();
  /** Filled as parts start. */
  brokerUrl = '';
  dashboardUrl = '';
  apiUrl = '';
  private readonly ctx: GatewayContext;
  private readonly parts: GatewayParts = { storeKind: 'sqlite', sources: [] };
  private readonly outputs: Outputs;
  /** Metrics, Modbus, Sparkplug (./plant-outputs.ts), each off unless configured. */
  private readonly plant: PlantOutputs;
  private readonly models: ModelControl;
  private readonly viewers: Viewers;
  private readonly alarms: AlarmHandling;
  private ingest?: IngestRouter;
  private ownership?: ClusterOwnership;
  private api?: ApiServer;
  private timers: NodeJS.Timeout[] = [];

  private constructor(o: GatewayOptions, stateDir: string, token: string) {
    super();
    this.configFile = o.configFile;
    this.stateDir = stateDir;
    this.token = token;
    this.gatewayId = resolveGatewayId(o.config);
    this.ctx = {
      config: o.config,
      gatewayId: this.gatewayId,
      stateDir,
      repoRoot: o.repoRoot ?? path.resolve(import.meta.dirname, '..', '..'),
      log: o.log ?? createLogger({ level: o.config.log.level }),
      machines: new MachineTable(o.config, this.gatewayId),
      parts: this.parts,
      // GatewayEmit keeps the event map's typing at the callers; EventEmitter's own
      // generic signature cannot take a spread of a generic tuple
      emit: (event, ...args) => void (this as EventEmitter).emit(event, ...args),
      closing: false,
    };
    this.outputs = new Outputs(this.ctx);
    this.plant = new PlantOutputs(this.ctx);
    this.models = new ModelControl(this.ctx, o.configFile);
    this.viewers = new Viewers(this.ctx);
    this.alarms = new AlarmHandling(this.ctx, {
      queuePoints: (p) => this.outputs.queuePoints(p),
      publishState: (rt) => this.outputs.publishState(rt),
    });
    this.on('alert', (a) => this.alarms.onAlert(a));
    this.on('alert', (a) => this.parts.verdicts?.onAlert(a));
    this.on('ack', (a) => this.alarms.onAck(a.id));
  }

  /**
   * Starts every part (see the module comment).
   * @throws FaultlineError FL_ERR_CONFIG for a taken port or unusable state dir, FL_ERR_MODEL_FILE…
   */
  static async start(o: GatewayOptions): Promise<Gateway> {
    const stateDir = await ensureStateDir(resolveStateDir(o.config));
    const token = o.config.http.token ?? (await loadOrCreateToken(stateDir));
    const gw = new Gateway(o, stateDir, token);
    try {
      await gw.startParts(o.fleet ?? true);
    } catch (err) {
      await gw.close().catch(() => undefined);
      throw err;
    }
    return gw;
  }

  /** The running configuration (`reload()` replaces it). */
  get config(): Readonly<GatewayConfig> {
    return this.ctx.config;
  }

  /** Model versions, the active one per machine and the audit; absent before start. */
  get registry(): ModelRegistry | undefined {
    return this.parts.registry;
  }

  /** Where the Modbus TCP server listens (outputs.modbus); absent when off or before start. */
  get modbusAddress(): { host: string; port: number } | undefined {
    return this.plant.modbus?.address;
  }

  /** The OPC UA endpoint URL, when outputs.opcua is configured. */
  get opcuaEndpoint(): string | undefined {
    return this.plant.opcua?.endpointUrl;
  }

  /** Adaptation jobs; absent before start. */
  get adaptation(): AdaptationManager | undefined {
    return this.parts.adaptation;
  }

  private async startParts(withFleet: boolean): Promise<void> {
    const { ctx, parts } = this;
    const c = ctx.config;
    const log = ctx.log;
    // 1. broker
    const link = await this.startBroker();

    // 2. store, and the shelved machines (their audit goes to the store)
    await openHistoryStore(ctx);
    await this.alarms.open();

    // 3. models, and the verdicts written so far (their counts; the classes a verdict may confirm)
    await this.models.open();
    parts.verdicts = await VerdictWindows.open({
      dir: path.join(ctx.stateDir, VERDICTS_DIR),
      windows: c.verdicts.windows,
      aroundMs: c.verdicts.aroundS * 1000,
      classes: (id) =>
        ctx.machines.get(id)?.version?.classes ??
        parts.pipeline?.machineStatus(`${c.site}/${id}`)?.model?.classes,
      warn: (m) => log.warn(m),
      info: (m) => log.info(m),
    });

    // 4. pipeline
    const pipeline = new DiagnosisPipeline({
      machines: c.machines.map((m) => machineSpec(c.site, m, ctx.machines.get(m.id)?.version)),
      workers: c.pipeline.workers,
      maxBatch: c.pipeline.maxBatch,
      maxLatencyMs: c.pipeline.maxLatencyMs,
      health: c.alerts,
      backend: c.pipeline.backend,
    });
    parts.pipeline = pipeline;
    pipeline.on('diagnosis', (d: MachineDiagnosis) => this.outputs.onDiagnosis(d));
    pipeline.on('health', (h: HealthChange & { site: string }) => this.outputs.onHealth(h));
    const verdicts = parts.verdicts;
    // only when windows are kept: each costs the pipeline a copy
    if (c.verdicts.windows > 0) pipeline.on('window', (w) => verdicts.keep(w));
    pipeline.on('window-dropped', (info: { machine?: string }) => {
      const rt = info?.machine ? ctx.machines.get(info.machine) : undefined;
      if (rt) rt.ingest.dropped++;
    });
    pipeline.on('error', (err: Error) => log.error(`faultline gateway: pipeline: ${err.message}`));
    await pipeline.start();

    // 5. alerts, and with them the cluster presence (the alert client carries the Last Will)
    await this.outputs.connectAlerts(link, this.brokerUrl);
    await openNotifiers(ctx);
    if (c.cluster.enabled && parts.alertClient) {
      this.ownership = new ClusterOwnership(ctx, parts.alertClient);
    }

    // 5b. plant outputs (metrics, Modbus, Sparkplug): they read the machine table
    await this.plant.start(link, this.brokerUrl, async (id, by, comment) => {
      await this.outputs.ackAlert(id, by, comment);
    });
    // the OPC UA alarms follow the gateway's alerts and acks, wherever the ack came from
    this.on('alert', (a: Alert) => this.plant.onAlert(a));
    this.on('ack', (a: GatewayEvents['ack'][0]) => this.plant.onAck(a));

    // 6. adaptation
    if (parts.registry) this.models.createAdaptation(parts.registry);

    // 7. ingest
    this.ingest = new IngestRouter(ctx, {
      queuePoints: (p) => this.outputs.queuePoints(p),
      ...(this.ownership ? { ownership: this.ownership } : {}),
    });
    await this.ingest.start(link);

    // 8. API
    this.api = await startApi(this, {
      host: c.http.host,
      port: c.http.port,
      token: this.token,
      tls: c.http.tls,
      allowedOrigins: c.http.allowedOrigins,
      stream: c.http.stream,
      log: rateLimited((m) => log.warn(m)),
      logger: log,
      webDir:
        c.http.webDir ?? (await firstExisting([path.join(ctx.repoRoot, 'app', 'web', 'dist')])),
    });
    this.apiUrl = this.api.url;
    this.dashboardUrl = `${this.api.url}/?token=${encodeURIComponent(this.token)}`;

    // 9. fleet (not in a cluster: every member would simulate the same sensors)
    if (withFleet && c.cluster.enabled && c.machines.some((m) => m.simulate)) {
      log.warn(
        'faultline gateway: cluster.enabled: the simulated fleet is not started; sensors publish on their own',
      );
    } else if (withFleet && c.machines.some((m) => m.simulate)) {
      parts.fleet = await SimulatedFleet.start({
        site: c.site,
        machines: c.machines,
        link: { ...link, backoff: { initialMs: 200, maxMs: 2000 } },
        speed: c.fleet.speed,
        frameSamples: c.fleet.frameSamples,
        log: (m) => log.warn(m),
      });
    }

    const ingest = this.ingest;
    this.timers.push(setInterval(() => ingest.statsTick(), STATS_INTERVAL_MS).unref());
    this.timers.push(setInterval(() => void this.outputs.flushPoints(), POINT_FLUSH_MS).unref());
    for (const rt of ctx.machines.all()) if (rt.owned) this.outputs.publishState(rt);
  }

  /** Starts the embedded broker, or points at the external one; returns the link for MQTT clients. */
  private async startBroker(): Promise<MqttLinkOptions> {
    const b = this.ctx.config.broker;
    const link: MqttLinkOptions = { url: '' };
    if (b.embedded) {
      this.parts.broker = await EmbeddedBroker.start({
        host: b.host,
        port: b.port,
        accounts: brokerAccounts(this.ctx.config),
        maxConnections: b.maxConnections,
        maxPacketBytes: b.maxPacketBytes,
        tls: b.tls,
        // clients can make these at will (refused logins, oversize packets)
        log: rateLimited((m) => this.ctx.log.warn(m)),
      });
      this.brokerUrl = this.parts.broker.url;
      link.connect = mqtt311Connect;
      // our own clients verify the embedded broker's certificate like any other client
      if (b.tls) link.caPath = b.caPath ?? b.tls.certPath;
    } else {
      this.brokerUrl = b.url ?? '';
      link.caPath = b.caPath;
      link.certPath = b.certPath;
      link.keyPath = b.keyPath;
      link.rejectUnauthorized = b.rejectUnauthorized;
    }
    link.url = this.brokerUrl;
    link.username = b.username;
    link.password = b.password;
    return link;
  }

  // ── the API (GatewayApi): each call goes to the module that does it ─────

  /** Every machine's state, diagnosis and evidence. */
  machines(): MachineView[] {
    return machineViews(this.ctx, this.viewSources());
  }

  /** @param status the pipeline's status of the machine (looked up when not given) */
  machine(id: string, status?: MachineStatus | null): MachineView | undefined {
    return machineView(this.ctx, this.ownership, id, status);
  }

  /** Alerts from the store, most recent first. */
  alerts(q: AlertQuery): Promise<Alert[]> {
    return this.outputs.alerts(q);
  }

  history(q: AggregateQuery): Promise<HistoryAnswer> {
    return this.outputs.history(q);
  }

  /**
   * Acknowledges an alert from the API: recorded in the store and published on
   * the alert's ack topic so other consoles learn of it.
   * @throws FaultlineError FL_ERR_API_NOT_FOUND for an unknown alert id
   */
  ackAlert(id: string, by: string, comment?: string, verdict?: Verdict): Promise<Alert> {
    return this.outputs.ackAlert(id, by, comment, verdict);
  }

  /** Shelves a machine: diagnosed, but no alerts or notifications until it runs out. */
  shelve(machine: string, body: ShelveBody): Promise<ShelveResult> {
    return this.alarms.shelve(machine, body);
  }

  /** Ends a machine's shelf now. */
  unshelve(machine: string, by: string): Promise<ShelveResult> {
    return this.alarms.unshelve(machine, by);
  }

  /** Gateway health for `GET /api/gateway`. */
  health(): GatewayHealth {
    return gatewayHealth(this.ctx, this.viewSources());
  }

  /** Pipeline machine snapshots (for the console). */
  pipelineSnapshot(): unknown {
    return this.parts.pipeline?.snapshot() ?? [];
  }

  /** Starts an on-the-spot adaptation of a machine. */
  startAdaptation(
    machine: string,
    o: { seconds?: number; strategy?: AdaptStrategy; fromVerdicts?: boolean },
  ): AdaptJob {
    return this.models.startAdaptation(machine, o);
  }

  /**
   * One more client looks at `machine`: while any does, its sensors'
   * diagnoses carry the coarse spectrogram and envelope spectrum.
   * Returns the release function (idempotent); unknown machines are ignored.
   */
  view(machine: string): () => void {
    return this.viewers.view(machine);
  }

  /** Clients currently looking at `machine`. */
  viewerCount(machine: string): number {
    return this.viewers.count(machine);
  }

  /** See {@link ModelControl.promote}. */
  promote(
    machine: string,
    o: { version: string; force?: boolean; by: string; reason?: string },
  ): Promise<{ machine: string; from?: string; to: string; forced: boolean }> {
    return this.models.promote(machine, o);
  }

  /** Rolls a machine back to its previous model version. */
  rollback(machine: string): Promise<{ from: ModelVersion; to: ModelVersion }> {
    return this.models.rollback(machine);
  }

  /**
   * Re-reads the configuration file (SIGHUP); see {@link ModelControl.reload}.
   * @returns true when the new configuration was taken
   */
  reload(): Promise<boolean> {
    return this.models.reload();
  }

  private viewSources(): ViewSources {
    return {
      ...(this.ownership ? { ownership: this.ownership } : {}),
      startedAt: this.startedAt,
      brokerUrl: this.brokerUrl,
      pendingPoints: this.outputs.pending,
      unroutedBlocks: this.ingest?.unrouted ?? 0,
      notOwnedBlocks: this.ingest?.notOwned ?? 0,
      reload: this.models.lastReload,
      alarmRate: this.alarms.alarmRate(),
      ...(this.api ? { stream: this.api.streamStats() } : {}),
      ...(this.plant.health() ? { outputs: this.plant.health() } : {}),
    };
  }

  /** Stops everything in reverse start order. Idempotent. */
  async close(): Promise<void> {
    if (this.ctx.closing) return;
    this.ctx.closing = true;
    const { parts } = this;
    for (const t of this.timers) clearInterval(t);
    const step = async (what: string, fn: () => Promise<unknown> | undefined) => {
      try {
        await fn();
      } catch (err) {
        this.ctx.log.warn(`faultline gateway: closing ${what}: ${(err as Error).message}`);
      }
    };
    this.ownership?.stop();
    await step('fleet', () => parts.fleet?.close());
    await step('api', () => this.api?.close());
    await step('adaptation', () => parts.adaptation?.close());
    for (const s of parts.sources) await step('ingest', () => s.close());
    await step('pipeline', async () => parts.pipeline?.close());
    await step('plant outputs', () => this.plant.close());
    await step('points', () => this.outputs.flushPoints());
    await step('alerts', async () => {
      const { publisher } = parts;
      if (!publisher) return;
      if (parts.alertClient?.connected) await Promise.race([publisher.flushed(), sleep(2000)]);
      await publisher.close();
    });
    await step('alert outbox', () => parts.alertOutbox?.close());
    for (const n of parts.notifiers ?? []) await step(`${n.kind} notifier`, () => n.close());
    if (!parts.publisher) await step('alert client', async () => parts.alertClient?.end(true));
    await step('shelves', () => parts.shelving?.close());
    await step('store', () => parts.store?.close());
    await step('broker', () => parts.broker?.close());
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const p of paths) {
    try {
      await access(p);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}
