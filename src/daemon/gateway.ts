/**
 * The gateway's lifecycle: it wires the parts together and owns their order.
 *
 *   broker (embedded aedes | external) ◄── simulated fleet / sensor nodes
 *        │ raw frames                         serial sensors ──┐
 *        ▼                                                     ▼
 *   MqttSource ─────────────────────────────► route ◄──── SerialSource
 *                                               │ IngestedBlock + {site, machine, sensor}
 *                                               ├──► AdaptationManager (collects when asked)
 *                                               ▼
 *                                      DiagnosisPipeline ── 'diagnosis' ─► points → HistoryStore
 *                                               │                       └► WebSocket
 *                                               └── 'health' ─► AlertPublisher (MQTT) + HistoryStore + WebSocket
 *   AlertPublisher 'ack' ─► HistoryStore.ack      API POST /api/alerts/:id/ack ─► HistoryStore.ack
 *
 * Start order: state dir → broker → store → registry/models → pipeline →
 * alerts → ingest → API → fleet; close in reverse. A failure half-way closes
 * what was started and rejects with the FaultlineError.
 */
import { EventEmitter } from 'node:events';
import { access } from 'node:fs/promises';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { alertFromChange, statePayload } from '../alerts/build.js';
import { AlertPublisher, gatewayConnectOptions } from '../alerts/publisher.js';
import {
  type Alert,
  type Evidence,
  type HealthStatePayload,
  healthStatePayloadSchema,
} from '../alerts/schema.js';
import { ackTopic } from '../alerts/topics.js';
import { probeModelInWorker } from '../diagnose/inference-pool.js';
import {
  DiagnosisPipeline,
  type MachineDiagnosis,
  type MachineSpec,
  type MachineStatus,
} from '../diagnose/pipeline.js';
import {
  DEFECT_KINDS,
  type HealthChange,
  type HealthState,
  type IsoZone,
} from '../diagnose/types.js';
import { CWRU_DE_BEARING } from '../dsp/bearing.js';
import { FaultlineError, isFaultlineError } from '../errors.js';
import { type MqttLinkOptions, mqttAuthOptions } from '../ingest/mqtt-link.js';
import { MqttSource } from '../ingest/mqtt-source.js';
import { SerialSource } from '../ingest/serial-source.js';
import type { IngestedBlock, IngestSource } from '../ingest/source.js';
import { rawFilter } from '../ingest/topics.js';
import type { AdaptStrategy } from '../model/pipeline.js';
import { SimulatedFleet } from '../sim/fleet.js';
import { InfluxHistoryStore } from '../store/influx.js';
import { SqliteHistoryStore } from '../store/sqlite.js';
import {
  type AlertQuery,
  type HistoryPoint,
  type HistoryStore,
  healthPoint,
  ingestPoint,
  probsPoint,
  vibrationPoint,
} from '../store/types.js';
import { AckRecorder } from './acks.js';
import { AdaptationManager, type AdaptJob } from './adaptation.js';
import { type ApiServer, startApi } from './api.js';
import { EmbeddedBroker, mqtt311Connect } from './broker.js';
import { brokerAccounts, topicMatches } from './broker-auth.js';
import { ClusterMembership, ownerOf } from './cluster.js';
import {
  type GatewayConfig,
  loadConfigFile,
  type MachineConfig,
  resolveGatewayId,
  resolveStateDir,
} from './config.js';
import type { GatewayApi } from './gateway-api.js';
import { resolveMachineModels } from './models.js';
import { ModelRegistry, type ModelVersion } from './registry.js';
import { redactUrl } from './secrets.js';
import { ensureStateDir, loadOrCreateToken } from './state.js';
import type { GatewayEvents, GatewayHealth, MachineIngest, MachineView } from './views.js';

export type { GatewayApi } from './gateway-api.js';
export type { GatewayEvents, GatewayHealth, MachineIngest, MachineView } from './views.js';

/** What identifies the MQTT echo of an ack the API published. */
const echoKey = (id: string, by: string, comment?: string) =>
  JSON.stringify([id, by, comment ?? null]);

export interface GatewayLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const consoleLogger: GatewayLogger = {
  info: (m) => console.log(m),
  warn: (m) => console.warn(m),
  error: (m) => console.error(m),
};

export interface GatewayOptions {
  config: Readonly<GatewayConfig>;
  /** The file the config came from; `reload()` re-reads it. */
  configFile?: string;
  log?: GatewayLogger;
  /** Run the simulated fleet for machines with `simulate`. Default true. */
  fleet?: boolean;
  /** Repository root (shipped models, web console). Default: two levels above this file. */
  repoRoot?: string;
}

interface MachineRuntime {
  config: MachineConfig;
  state: HealthState | 'starting';
  stateSince?: number;
  faultClass?: string;
  confidence?: number;
  last?: MachineDiagnosis;
  alertId?: string;
  version?: ModelVersion;
  ingest: MachineIngest;
  /** Interval counters for StreamStats. */
  interval: { frames: number; crcErrors: number; gaps: number; bytes: number };
  /** This gateway diagnoses the machine (always, unless `cluster.enabled` gave it to another). */
  owned: boolean;
  /** Owning gateway id (cluster), null when unknown. */
  owner: string | null;
}

const STATS_INTERVAL_MS = 2000;
const POINT_FLUSH_MS = 1000;
/** Diagnosis points buffered before the oldest are dropped (store slower than the stream). */
const MAX_PENDING_POINTS = 20_000;

/** A running gateway. Create with {@link Gateway.start}. */
export class Gateway extends EventEmitter<GatewayEvents> implements GatewayApi {
  config: Readonly<GatewayConfig>;
  readonly configFile?: string;
  readonly stateDir: string;
  readonly gatewayId: string;
  readonly token: string;
  readonly startedAt = Date.now();
  /** Filled as parts start. */
  brokerUrl = '';
  dashboardUrl = '';
  apiUrl = '';
  private readonly log: GatewayLogger;
  private readonly repoRoot: string;
  private broker?: EmbeddedBroker;
  private store?: HistoryStore;
  private storeKind: 'sqlite' | 'influx' = 'sqlite';
  registry?: ModelRegistry;
  private pipeline?: DiagnosisPipeline;
  private alertClient?: MqttClient;
  private publisher?: AlertPublisher;
  private sources: IngestSource[] = [];
  private api?: ApiServer;
  private fleet?: SimulatedFleet;
  adaptation?: AdaptationManager;
  private readonly machinesById = new Map<string, MachineRuntime>();
  /** `site/machine/sensor` → machine, for MQTT; `serialPath#sensor` → machine for serial. */
  private readonly routes = new Map<string, MachineRuntime>();
  private pendingPoints: HistoryPoint[] = [];
  private timers: NodeJS.Timeout[] = [];
  private readonly apiAcks = new Set<string>();
  private readonly acks = new AckRecorder({
    store: () => this.store,
    alerts: (q) => this.alerts(q),
    announce: (a) => this.emit('ack', a),
  });
  private lastReload: GatewayHealth['reload'] = {};
  private closing = false;
  private unrouted = 0;
  /** Clients looking at each machine (WebSocket `view` messages); > 0 turns on the display payloads. */
  private readonly viewers = new Map<string, number>();
  private membership?: ClusterMembership;
  private mqttSource?: MqttSource;
  /** Retained states of machines other gateways own (cluster). */
  private readonly remoteStates = new Map<string, HealthStatePayload>();
  private notOwned = 0;

  private constructor(o: GatewayOptions, stateDir: string, token: string) {
    super();
    this.config = o.config;
    this.configFile = o.configFile;
    this.stateDir = stateDir;
    this.token = token;
    this.gatewayId = resolveGatewayId(o.config);
    this.log = o.log ?? consoleLogger;
    this.repoRoot = o.repoRoot ?? path.resolve(import.meta.dirname, '..', '..');
    for (const m of o.config.machines) {
      const rt: MachineRuntime = {
        config: m,
        state: 'starting',
        ingest: { frames: 0, badFrames: 0, gaps: 0, framesPerS: 0, dropped: 0 },
        interval: { frames: 0, crcErrors: 0, gaps: 0, bytes: 0 },
        owned: true,
        owner: this.gatewayId,
      };
      this.machinesById.set(m.id, rt);
      for (const s of m.sensors) {
        this.routes.set(s.serial ? `${s.serial}#${s.id}` : `${o.config.site}/${m.id}/${s.id}`, rt);
      }
    }
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

  private async startParts(withFleet: boolean): Promise<void> {
    const c = this.config;
    // 1. broker
    const link: MqttLinkOptions = { url: '' };
    if (c.broker.embedded) {
      this.broker = await EmbeddedBroker.start({
        host: c.broker.host,
        port: c.broker.port,
        accounts: brokerAccounts(c),
        maxConnections: c.broker.maxConnections,
        maxPacketBytes: c.broker.maxPacketBytes,
        tls: c.broker.tls,
        log: (m) => this.log.warn(m),
      });
      this.brokerUrl = this.broker.url;
      link.connect = mqtt311Connect;
      // our own clients verify the embedded broker's certificate like any other client
      if (c.broker.tls) link.caPath = c.broker.caPath ?? c.broker.tls.certPath;
    } else {
      this.brokerUrl = c.broker.url ?? '';
      link.caPath = c.broker.caPath;
      link.certPath = c.broker.certPath;
      link.keyPath = c.broker.keyPath;
      link.rejectUnauthorized = c.broker.rejectUnauthorized;
    }
    link.url = this.brokerUrl;
    link.username = c.broker.username;
    link.password = c.broker.password;

    // 2. store
    if (c.influx) {
      this.storeKind = 'influx';
      const store = await InfluxHistoryStore.open({
        host: c.influx.host,
        port: c.influx.port,
        database: c.influx.database,
        retentionPolicy: c.influx.retentionPolicy,
        retentionDuration: c.influx.retention,
        username: c.influx.username,
        password: c.influx.password,
        queueDir: c.influx.queueDir ?? path.join(this.stateDir, 'influx-queue'),
        queue: { maxBytes: c.influx.queueMaxBytes },
      });
      store.on('disconnected', (e) =>
        this.log.warn(`faultline gateway: InfluxDB unreachable, queueing points: ${e.message}`),
      );
      store.on('connected', () => this.log.info('faultline gateway: InfluxDB connected'));
      this.store = store;
    } else {
      const day = 86_400_000;
      this.store = new SqliteHistoryStore({
        file: c.store.file ?? path.join(this.stateDir, 'history.db'),
        pointRetentionMs: c.store.pointRetentionDays * day,
        alertRetentionMs: c.store.alertRetentionDays * day,
      });
    }

    // 3. models
    // A new model is proven in a worker of its own: the main thread never loads tfjs.
    const backend = c.pipeline.backend;
    this.registry = await ModelRegistry.open(path.join(this.stateDir, 'registry'), {
      log: (m) => this.log.warn(m),
      proveModel: (dir) =>
        this.pipeline ? this.pipeline.probeModel(dir) : probeModelInWorker(dir, backend),
    });
    const versions = await resolveMachineModels({
      config: c,
      registry: this.registry,
      repoRoot: this.repoRoot,
      stateDir: this.stateDir,
      log: (m) => this.log.info(m),
    });
    for (const [id, v] of versions) {
      const rt = this.machinesById.get(id);
      if (rt) rt.version = v;
    }

    // 4. pipeline
    const specs: MachineSpec[] = c.machines.map((m) => this.machineSpec(m));
    const pipeline = new DiagnosisPipeline({
      machines: specs,
      workers: c.pipeline.workers,
      maxBatch: c.pipeline.maxBatch,
      maxLatencyMs: c.pipeline.maxLatencyMs,
      health: c.alerts,
      backend: c.pipeline.backend,
    });
    this.pipeline = pipeline;
    pipeline.on('diagnosis', (d: MachineDiagnosis) => this.onDiagnosis(d));
    pipeline.on('health', (h: HealthChange & { site: string }) => this.onHealth(h));
    pipeline.on('window-dropped', (info: { machine?: string }) => {
      const rt = info?.machine ? this.machinesById.get(info.machine) : undefined;
      if (rt) rt.ingest.dropped++;
    });
    pipeline.on('error', (err: Error) =>
      this.log.error(`faultline gateway: pipeline: ${err.message}`),
    );
    await pipeline.start();

    // 5. alerts — same credentials and TLS files as ingest (an external TLS broker needs them)
    const base: IClientOptions = {
      ...mqttAuthOptions(link),
      reconnectPeriod: 1000,
      // a short keep-alive bounds how long a hung gateway keeps its machines (Last Will)
      ...(c.cluster.enabled ? { keepalive: c.cluster.keepaliveS } : {}),
    };
    const opts = gatewayConnectOptions({ site: c.site, gatewayId: this.gatewayId, base });
    this.alertClient = c.broker.embedded
      ? mqtt311Connect(this.brokerUrl, opts)
      : mqtt.connect(this.brokerUrl, opts);
    this.alertClient.on('error', () => undefined); // reconnects on its own; state shows in /api/gateway
    this.publisher = new AlertPublisher({
      client: this.alertClient,
      site: c.site,
      gatewayId: this.gatewayId,
      log: (m) => this.log.warn(m),
    });
    this.publisher.on('ack', (a) => void this.recordAck(a.id, a.machine, a.by, a.comment, 'mqtt'));
    this.publisher.start();
    if (c.cluster.enabled) this.startCluster(this.alertClient);

    // 6. adaptation
    this.adaptation = new AdaptationManager({
      registry: this.registry,
      workDir: path.join(this.stateDir, 'adapt-work'),
      steps: c.adaptation.steps,
      sourceDataDir: c.adaptation.sourceData,
      setModel: (machine, dir) => this.setModel(machine, dir),
      sensorOf: (machine) => {
        const m = this.machinesById.get(machine)?.config;
        return m
          ? {
              sensor: m.sensors[0].id,
              sampleRate: m.sensors[0].sampleRate,
              channel: m.sensors[0].channel,
              ...((m.sensors[0].bearing ?? m.bearing)
                ? { bearing: m.sensors[0].bearing ?? m.bearing }
                : {}),
            }
          : undefined;
      },
      log: (m) => this.log.warn(m),
    });
    this.adaptation.on('progress', (j) => this.emit('adaptation', j));

    // 7. ingest
    await this.startIngest(link);

    // 8. API
    this.api = await startApi(this, {
      host: c.http.host,
      port: c.http.port,
      token: this.token,
      tls: c.http.tls,
      allowedOrigins: c.http.allowedOrigins,
      log: (m) => this.log.warn(m),
      webDir:
        c.http.webDir ?? (await firstExisting([path.join(this.repoRoot, 'app', 'web', 'dist')])),
    });
    this.apiUrl = this.api.url;
    this.dashboardUrl = `${this.api.url}/?token=${encodeURIComponent(this.token)}`;

    // 9. fleet (not in a cluster: every member would simulate the same sensors)
    if (withFleet && c.cluster.enabled && c.machines.some((m) => m.simulate)) {
      this.log.warn(
        'faultline gateway: cluster.enabled: the simulated fleet is not started; sensors publish on their own',
      );
    } else if (withFleet && c.machines.some((m) => m.simulate)) {
      this.fleet = await SimulatedFleet.start({
        site: c.site,
        machines: c.machines,
        link: { ...link, backoff: { initialMs: 200, maxMs: 2000 } },
        speed: c.fleet.speed,
        frameSamples: c.fleet.frameSamples,
        log: (m) => this.log.warn(m),
      });
    }

    this.timers.push(setInterval(() => this.statsTick(), STATS_INTERVAL_MS).unref());
    this.timers.push(setInterval(() => void this.flushPoints(), POINT_FLUSH_MS).unref());
    for (const rt of this.machinesById.values()) if (rt.owned) this.publishState(rt);
  }

  // ── cluster: machine ownership (src/daemon/cluster.ts) ──────────────────

  /** Learns the live gateways from presence, and the owners' retained states for the API. */
  private startCluster(client: MqttClient): void {
    const site = this.config.site;
    const membership = new ClusterMembership({
      client,
      site,
      self: this.gatewayId,
      log: (m) => this.log.warn(m),
    });
    this.membership = membership;
    const statePrefix = `faultline/${site}/`;
    client.on('message', (topic, payload) => {
      if (!topic.startsWith(statePrefix) || !topic.endsWith('/state')) return;
      const machine = topic.slice(statePrefix.length, -'/state'.length);
      if (!this.machinesById.has(machine)) return;
      if (payload.length === 0) {
        this.remoteStates.delete(machine);
        return;
      }
      try {
        const r = healthStatePayloadSchema.safeParse(JSON.parse(payload.toString('utf8')));
        if (r.success) this.remoteStates.set(machine, r.data);
      } catch {
        // not JSON: not a state we can show
      }
    });
    const subscribeStates = () =>
      client
        .subscribeAsync(`faultline/${site}/+/state`, { qos: 1 })
        .catch((e: Error) =>
          this.log.warn(`faultline gateway: cluster: state subscription failed: ${e.message}`),
        );
    client.on('connect', () => void subscribeStates());
    if (client.connected) void subscribeStates();
    membership.on('change', () => void this.reassign());
    membership.start();
    // ownership of the machines until ingest starts: computed there after the settle time
    this.assignOwners(membership.live());
  }

  /** A machine read from a local serial device stays here: the device cannot move. */
  private isLocal(m: MachineConfig): boolean {
    return m.sensors.some((s) => s.serial !== undefined);
  }

  /** Raw-frame filters of a machine's MQTT sensors. */
  private machineFilters(m: MachineConfig): string[] {
    return m.sensors
      .filter((s) => !s.serial)
      .map((s) => s.topic ?? rawFilter({ site: this.config.site, machine: m.id, sensor: s.id }));
  }

  /** Sets every machine's owner from the live set; returns the machines gained and lost. */
  private assignOwners(live: string[]): { gained: string[]; lost: string[] } {
    const gained: string[] = [];
    const lost: string[] = [];
    for (const rt of this.machinesById.values()) {
      const owner = this.isLocal(rt.config)
        ? this.gatewayId
        : (ownerOf(rt.config.id, live) ?? null);
      const owned = owner === this.gatewayId;
      if (owned && !rt.owned) gained.push(rt.config.id);
      if (!owned && rt.owned) lost.push(rt.config.id);
      rt.owner = owner;
      rt.owned = owned;
    }
    return { gained, lost };
  }

  /** Filters of the owned machines, and of the others (to drop from a persistent session). */
  private ownedFilters(): { owned: string[]; others: string[] } {
    const owned: string[] = [];
    const others: string[] = [];
    for (const rt of this.machinesById.values()) {
      (rt.owned ? owned : others).push(...this.machineFilters(rt.config));
    }
    return { owned, others };
  }

  /** Membership changed: move machines, then the ingest subscriptions. */
  private async reassign(): Promise<void> {
    if (!this.membership || this.closing) return;
    const { gained, lost } = this.assignOwners(this.membership.live());
    if (gained.length === 0 && lost.length === 0) return;
    for (const id of lost) this.remoteStates.delete(id);
    this.log.info(
      `faultline gateway: cluster ${this.membership.live().join(', ')}: ` +
        `${gained.length ? `took ${gained.join(', ')}` : ''}${gained.length && lost.length ? '; ' : ''}` +
        `${lost.length ? `handed over ${lost.join(', ')}` : ''}`,
    );
    if (!this.mqttSource) return; // ingest not started yet: it subscribes what is owned then
    const { owned, others } = this.ownedFilters();
    try {
      await this.mqttSource.setTopics(owned, { alsoUnsubscribe: others });
    } catch (err) {
      this.log.error(
        `faultline gateway: cluster: ingest subscriptions not updated: ${(err as Error).message}`,
      );
    }
  }

  private machineSpec(m: MachineConfig): MachineSpec {
    const rt = this.machinesById.get(m.id);
    if (!rt?.version) throw new FaultlineError('FL_ERR_MODEL_FILE', `machine ${m.id} has no model`);
    return {
      site: this.config.site,
      machine: m.id,
      sensors: m.sensors.map((s) => ({
        id: String(s.id),
        sampleRate: s.sampleRate,
        channel: s.channel,
        ...(s.bearing ? { bearing: s.bearing } : {}),
      })),
      modelDir: rt.version.dir,
      ...(m.bearing ? { bearing: m.bearing } : {}),
      iso: m.iso,
      ...(m.nominalRpm !== undefined ? { nominalRpm: m.nominalRpm } : {}),
      ...(m.silentAfterS !== undefined ? { silentAfterS: m.silentAfterS } : {}),
    };
  }

  private async startIngest(link: MqttLinkOptions): Promise<void> {
    const c = this.config;
    const mqttSensors = c.machines.flatMap((m) =>
      m.sensors.filter((s) => !s.serial).map((s) => ({ m, s })),
    );
    if (mqttSensors.length > 0) {
      const custom = mqttSensors.filter(({ s }) => s.topic).map(({ s }) => s.topic as string);
      const cluster = c.cluster.enabled;
      const src = new MqttSource({
        ...link,
        clientId: `faultline-gw-${this.gatewayId}-ingest`,
        ...(cluster
          ? { topics: [], dynamicTopics: true, keepaliveS: c.cluster.keepaliveS }
          : {
              topics: [rawFilter({ site: c.site, shareGroup: c.broker.shareGroup }), ...custom],
            }),
        waitForBroker: !c.broker.embedded,
        // state only for topics that route to a configured sensor (garbage topics make none)
        accept: (w) =>
          this.routes.has(`${w.site}/${w.machine}/${w.sensor}`) ||
          custom.some((f) => topicMatches(f, `faultline/${w.site}/${w.machine}/${w.sensor}/raw`)),
      });
      src.on('bad-frame', (info) => {
        const rt = info.topic ? this.routeOfTopic(info.topic) : undefined;
        if (rt) {
          rt.ingest.badFrames++;
          rt.interval.crcErrors++;
        }
      });
      src.on('gap', (g) => {
        const rt = this.routes.get(g.sensor);
        if (rt) {
          rt.ingest.gaps += g.missing;
          rt.interval.gaps += g.missing;
        }
      });
      src.on('warning', (e) => this.log.warn(`faultline gateway: ingest: ${e.message}`));
      src.on('data', (b: IngestedBlock) => this.route(b));
      this.sources.push(src);
      await src.start();
      if (cluster && this.membership) {
        // let the other gateways' retained presence arrive before taking machines
        await this.clusterSettled();
        this.assignOwners(this.membership.live());
        this.mqttSource = src;
        const { owned, others } = this.ownedFilters();
        // a persistent session may still hold an earlier run's filters: drop them
        await src.setTopics(owned, { alsoUnsubscribe: [rawFilter({ site: c.site }), ...others] });
        const mine = [...this.machinesById.values()].filter((r) => r.owned).map((r) => r.config.id);
        this.log.info(
          `faultline gateway: cluster ${this.membership.live().join(', ')}: owns ${mine.join(', ') || 'no machine'}`,
        );
      }
    }
    const serialPaths = [
      ...new Set(c.machines.flatMap((m) => m.sensors.flatMap((s) => (s.serial ? [s] : [])))),
    ];
    const byPath = new Map<string, number>();
    for (const s of serialPaths) byPath.set(s.serial as string, s.baudRate);
    for (const [p, baudRate] of byPath) {
      const src = new SerialSource({ path: p, baudRate, waitForDevice: true });
      src.on('bad-frame', () => {
        for (const [k, rt] of this.routes) {
          if (k.startsWith(`${p}#`)) {
            rt.ingest.badFrames++;
            rt.interval.crcErrors++;
            break;
          }
        }
      });
      src.on('gap', (g) => {
        const rt = this.routes.get(`${p}#${g.sensor}`);
        if (rt) {
          rt.ingest.gaps += g.missing;
          rt.interval.gaps += g.missing;
        }
      });
      src.on('reconnecting', (r) =>
        this.log.warn(`faultline gateway: serial ${p}: reconnecting (${r.error ?? 'closed'})`),
      );
      src.on('data', (b: IngestedBlock) => this.route(b));
      this.sources.push(src);
      await src.start();
    }
  }

  /** Resolves `cluster.settleMs` after the presence client connected. */
  private async clusterSettled(): Promise<void> {
    const client = this.alertClient;
    if (client && !client.connected) {
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    }
    await sleep(this.config.cluster.settleMs);
  }

  private routeOfTopic(topic: string): MachineRuntime | undefined {
    const p = topic.split('/');
    return p.length === 5 ? this.routes.get(`${p[1]}/${p[2]}/${p[3]}`) : undefined;
  }

  private route(b: IngestedBlock): void {
    const key =
      b.origin.link === 'mqtt'
        ? `${b.origin.site}/${b.origin.machine}/${b.sensorId}`
        : `${b.origin.path}#${b.sensorId}`;
    const rt = this.routes.get(key);
    if (!rt || !this.pipeline) {
      this.unrouted++;
      return;
    }
    if (!rt.owned) {
      this.notOwned++; // in flight when the machine moved to another gateway
      return;
    }
    rt.ingest.frames++;
    rt.interval.frames++;
    rt.interval.bytes += b.samples.length * 2;
    rt.ingest.lastFrameAt = new Date().toISOString();
    this.adaptation?.offer(rt.config.id, b);
    // drops are counted from the pipeline's 'window-dropped' events
    this.pipeline.push(b, {
      site: this.config.site,
      machine: rt.config.id,
      sensor: String(b.sensorId),
    });
  }

  private statsTick(): void {
    const now = Date.now();
    const points: HistoryPoint[] = [];
    const snapshot: Record<string, MachineIngest> = {};
    for (const rt of this.machinesById.values()) {
      const iv = rt.interval;
      rt.ingest.framesPerS = (iv.frames * 1000) / STATS_INTERVAL_MS;
      if (!rt.owned) {
        // another gateway reports this machine's stream
        snapshot[rt.config.id] = { ...rt.ingest };
        continue;
      }
      const where = { site: this.config.site, machine: rt.config.id };
      try {
        this.pipeline?.noteStream(
          { ...where, sensor: String(rt.config.sensors[0].id) },
          { frames: iv.frames, crcErrors: iv.crcErrors, gaps: iv.gaps },
        );
      } catch (err) {
        this.log.warn(
          `faultline gateway: stream stats of ${rt.config.id}: ${(err as Error).message}`,
        );
      }
      points.push(
        ingestPoint(where, now, {
          frames: iv.frames,
          crcErrors: iv.crcErrors,
          gaps: iv.gaps,
          bytes: iv.bytes,
        }),
      );
      rt.interval = { frames: 0, crcErrors: 0, gaps: 0, bytes: 0 };
      snapshot[rt.config.id] = { ...rt.ingest };
    }
    this.queuePoints(points);
    this.emit('ingest', snapshot);
  }

  private onDiagnosis(d: MachineDiagnosis): void {
    const rt = this.machinesById.get(d.machine);
    if (!rt?.owned) return; // a window in flight when the machine moved away
    rt.last = d;
    if (rt.state === 'starting') {
      rt.state = 'ok';
      rt.stateSince = d.t;
    }
    const where = { site: d.site, machine: d.machine, sensor: d.sensor };
    this.queuePoints([
      probsPoint(where, d.t, d.probs),
      vibrationPoint(where, d.t, {
        rmsG: d.rmsG,
        velocityRmsMmS: d.velocityRmsMmS,
        isoZone: d.isoZone,
        rpm: finite(d.rpm),
      }),
    ]);
    this.emit('diagnosis', d);
  }

  private onHealth(h: HealthChange & { site: string }): void {
    const rt = this.machinesById.get(h.machine);
    // A machine another gateway owns goes `silent` here: its owner speaks for it.
    if (!rt?.owned) return;
    rt.state = h.to;
    rt.stateSince = h.t;
    rt.faultClass = h.faultClass;
    rt.confidence = h.confidence;
    const d = rt.last;
    const sensor = d?.sensor ?? String(rt.config.sensors[0].id);
    let alert: Alert | undefined;
    try {
      alert = alertFromChange(h, {
        site: this.config.site,
        sensor,
        isoZone: (d?.isoZone ?? 'A') as IsoZone,
        velocityRmsMmS: Math.max(0, finite(d?.velocityRmsMmS) ?? 0),
        modelVersion: d?.modelVersion ?? rt.version?.id ?? 'unknown',
        ...(evidenceOf(d) ? { evidence: evidenceOf(d) } : {}),
      });
      rt.alertId = alert.id;
      this.publisher?.publishAlert(alert);
      void this.store
        ?.writeAlert(alert)
        .catch((e: Error) => this.log.warn(`faultline gateway: alert not stored: ${e.message}`));
      this.emit('alert', alert);
    } catch (err) {
      this.log.error(
        `faultline gateway: alert for ${h.machine} not built: ${(err as Error).message}`,
      );
    }
    this.queuePoints([
      healthPoint({ site: this.config.site, machine: h.machine, sensor }, h.t, {
        state: h.to,
        faultClass: h.faultClass,
        confidence: h.confidence,
      }),
    ]);
    this.publishState(rt);
    this.emit('health', h);
  }

  /** Publishes the machine's retained state from the pipeline's health snapshot. */
  private publishState(rt: MachineRuntime): void {
    if (!this.publisher || !this.pipeline) return;
    const status = this.pipeline.snapshot().find((m) => m.machine === rt.config.id);
    if (!status) return;
    try {
      this.publisher.publishState(
        statePayload(this.config.site, status.health, Date.now(), {
          ...(rt.alertId ? { alertId: rt.alertId } : {}),
          ...(rt.version ? { modelVersion: rt.version.id } : {}),
        }),
      );
    } catch (err) {
      this.log.warn(
        `faultline gateway: state of ${rt.config.id} not published: ${(err as Error).message}`,
      );
    }
  }

  private queuePoints(points: HistoryPoint[]): void {
    this.pendingPoints.push(...points);
    const over = this.pendingPoints.length - MAX_PENDING_POINTS;
    if (over > 0) this.pendingPoints.splice(0, over);
  }

  private async flushPoints(): Promise<void> {
    if (!this.store || this.pendingPoints.length === 0) return;
    const batch = this.pendingPoints;
    this.pendingPoints = [];
    try {
      await this.store.writePoints(batch);
    } catch (err) {
      this.log.warn(
        `faultline gateway: ${batch.length} points not stored: ${(err as Error).message}`,
      );
    }
  }

  private async recordAck(
    id: string,
    machine: string,
    by: string,
    comment: string | undefined,
    via: 'mqtt' | 'api',
  ): Promise<void> {
    // our own echo of an API ack (keyed by its content: another ack of the same id is not an echo)
    if (via === 'mqtt' && this.apiAcks.delete(echoKey(id, by, comment))) return;
    try {
      await this.acks.record({ id, machine, by, ...(comment ? { comment } : {}) }, via);
    } catch (err) {
      this.log.warn(
        `faultline gateway: ack of ${id} on ${machine} refused: ${(err as Error).message}`,
      );
    }
  }

  /** Swaps a machine's model in the pipeline (registry already updated). */
  private async setModel(machine: string, dir: string): Promise<void> {
    await this.pipeline?.setModel(machine, dir);
    const rt = this.machinesById.get(machine);
    const v = this.registry?.active(machine);
    if (rt && v) rt.version = v;
    this.log.info(`faultline gateway: ${machine} now runs model ${v?.id ?? dir}`);
  }

  // ── queries for the API ────────────────────────────────────────────────

  /** Every machine's state, diagnosis and evidence. */
  machines(): MachineView[] {
    const status = new Map((this.pipeline?.snapshot() ?? []).map((s) => [s.machine, s]));
    return [...this.machinesById.keys()].map(
      (id) => this.machine(id, status.get(id) ?? null) as MachineView,
    );
  }

  /** @param status the pipeline's status of the machine (looked up when not given) */
  machine(id: string, status?: MachineStatus | null): MachineView | undefined {
    const rt = this.machinesById.get(id);
    if (!rt) return undefined;
    const m = rt.config;
    const st =
      status === undefined
        ? this.pipeline?.machineStatus(`${this.config.site}/${id}`)
        : (status ?? undefined);
    const sensorStatus = new Map((st?.sensors ?? []).map((s) => [s.id, s]));
    const cluster = this.config.cluster.enabled;
    // another gateway's machine: our last diagnosis of it is stale, its owner's retained state is not
    const remote = cluster && !rt.owned ? (this.remoteStates.get(id) ?? null) : undefined;
    const d = remote === undefined ? rt.last : undefined;
    const { spectrogram: _s, envelope: _e, ...diag } = d ?? ({} as MachineDiagnosis);
    const sim = m.simulate ? this.fleet?.machines.find((f) => f.machine === id) : undefined;
    const job = this.adaptation?.jobs(id)[0];
    return {
      id,
      site: this.config.site,
      ...(m.description ? { description: m.description } : {}),
      ...(m.line ? { line: m.line } : {}),
      bearing: { ...(m.bearing ?? CWRU_DE_BEARING) },
      bearingSource: m.bearing ? 'config' : 'default',
      iso: { group: m.iso.group, foundation: m.iso.foundation },
      ...(m.nominalRpm !== undefined ? { nominalRpm: m.nominalRpm } : {}),
      sensors: m.sensors.map((s) => {
        const ss = remote === undefined ? sensorStatus.get(String(s.id)) : undefined;
        return {
          id: s.id,
          sampleRate: s.sampleRate,
          link: s.serial
            ? `serial:${s.serial}`
            : `mqtt:${s.topic ?? `faultline/${this.config.site}/${id}/${s.id}/raw`}`,
          ...(ss?.streamRate != null ? { streamRate: ss.streamRate } : {}),
          ...(ss?.resampling ? { resampling: ss.resampling } : {}),
          ...(ss && Object.keys(ss.droppedBlocks).length > 0
            ? { droppedBlocks: { ...ss.droppedBlocks } as Record<string, number> }
            : {}),
          ...(ss?.misfit
            ? {
                misfit: {
                  since: new Date(ss.misfit.since).toISOString(),
                  blocks: ss.misfit.blocks,
                  reason: ss.misfit.reason,
                },
              }
            : {}),
        };
      }),
      ...(remote !== undefined
        ? {
            state: remote?.state ?? 'starting',
            ...(remote
              ? {
                  stateSince: remote.since,
                  faultClass: remote.faultClass,
                  confidence: remote.confidence,
                  ...(remote.reason ? { stateReason: remote.reason } : {}),
                }
              : {}),
          }
        : {
            state: rt.state,
            ...(rt.stateSince !== undefined
              ? { stateSince: new Date(rt.stateSince).toISOString() }
              : {}),
            ...(st?.health.reason && rt.state !== 'starting'
              ? { stateReason: st.health.reason }
              : {}),
            faultClass: rt.faultClass ?? d?.faultClass,
            confidence: rt.confidence ?? (d ? 1 - (d.probs.normal ?? 0) : undefined),
          }),
      ...(d
        ? {
            diagnosis: diag as Omit<MachineDiagnosis, 'spectrogram' | 'envelope'>,
            evidence: d.evidence,
          }
        : {}),
      ...(rt.version
        ? {
            model: {
              version: rt.version.id,
              contentHash: rt.version.contentHash,
              origin: rt.version.origin,
              classes: rt.version.classes,
            },
          }
        : {}),
      ingest: { ...rt.ingest },
      ...(sim ? { simulated: { fault: sim.fault, condition: sim.condition, rpm: sim.rpm } } : {}),
      ...(job ? { adaptation: job } : {}),
      ...(cluster ? { cluster: { owned: rt.owned, owner: rt.owner } } : {}),
    };
  }

  /** Alerts from the store, most recent first. */
  async alerts(q: AlertQuery): Promise<Alert[]> {
    return this.store ? this.store.queryAlerts({ site: this.config.site, ...q }) : [];
  }

  /**
   * Acknowledges an alert from the API: recorded in the store and published on
   * the alert's ack topic so other consoles learn of it.
   * @throws FaultlineError FL_ERR_API_NOT_FOUND for an unknown alert id
   */
  async ackAlert(id: string, by: string, comment?: string): Promise<Alert> {
    // unknown id: 404; store failure: thrown on (the API answers 5xx, never 200)
    const { alert: found, first } = await this.acks.record(
      { id, by, ...(comment ? { comment } : {}) },
      'api',
    );
    if (first && this.alertClient?.connected) {
      const key = echoKey(id, by, comment);
      this.apiAcks.add(key);
      this.alertClient
        .publishAsync(
          ackTopic(this.config.site, found.machine),
          JSON.stringify({ id, by, ...(comment ? { comment } : {}) }),
          { qos: 1 },
        )
        .catch(() => this.apiAcks.delete(key));
    }
    return found;
  }

  /** Gateway health for `GET /api/gateway`. */
  health(): GatewayHealth {
    const perSensor: GatewayHealth['ingest']['perSensor'] = {};
    for (const rt of this.machinesById.values()) {
      for (const s of rt.config.sensors) {
        perSensor[`${rt.config.id}/${s.id}`] = {
          framesPerS: rt.ingest.framesPerS / rt.config.sensors.length,
          frames: rt.ingest.frames,
          gaps: rt.ingest.gaps,
          badFrames: rt.ingest.badFrames,
        };
      }
    }
    const store = this.store?.stats() ?? {
      queued: 0,
      queuedBytes: 0,
      written: 0,
      flushed: 0,
      dropped: 0,
      rejected: 0,
      lastError: null,
      connected: false,
    };
    return {
      site: this.config.site,
      gatewayId: this.gatewayId,
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeS: Math.round((Date.now() - this.startedAt) / 1000),
      broker: {
        url: redactUrl(this.brokerUrl),
        embedded: this.config.broker.embedded,
        connected: this.alertClient?.connected ?? false,
        ...(this.broker
          ? { clients: this.broker.stats().clients, access: this.broker.stats().access }
          : {}),
      },
      ingest: { sources: this.sources.map((s) => s.stats()), perSensor },
      store: { kind: this.storeKind, ...store, ...{ pendingPoints: this.pendingPoints.length } },
      alerts: this.publisher?.stats() ?? {
        published: 0,
        queued: 0,
        dropped: 0,
        statesPublished: 0,
        acks: 0,
        badAcks: 0,
        connected: false,
      },
      pipeline: this.pipeline
        ? { ...(this.pipeline.stats() as object), unroutedBlocks: this.unrouted }
        : null,
      ...(this.fleet ? { fleet: { machines: this.fleet.machines.length } } : {}),
      reload: { ...this.lastReload },
      ...(this.membership
        ? {
            cluster: {
              live: this.membership.live(),
              owned: [...this.machinesById.values()].filter((r) => r.owned).map((r) => r.config.id),
              changes: this.membership.changes,
              ...(this.membership.lastChangeAt !== undefined
                ? { lastChangeAt: new Date(this.membership.lastChangeAt).toISOString() }
                : {}),
              notOwnedBlocks: this.notOwned,
            },
          }
        : {}),
    };
  }

  /** Pipeline machine snapshots (for the console). */
  pipelineSnapshot(): unknown {
    return this.pipeline?.snapshot() ?? [];
  }

  /** Starts an on-the-spot adaptation of a machine. */
  startAdaptation(machine: string, o: { seconds?: number; strategy?: AdaptStrategy }): AdaptJob {
    if (!this.adaptation) throw new FaultlineError('FL_ERR_CONFIG', 'the gateway is not running');
    return this.adaptation.start(machine, {
      seconds: o.seconds ?? this.config.adaptation.seconds,
      strategy: o.strategy ?? this.config.adaptation.strategy,
    });
  }

  /**
   * One more client looks at `machine`: while any does, its sensors'
   * diagnoses carry the coarse spectrogram and envelope spectrum (computed
   * on demand: see the report of the gateway helper for the per-window cost).
   * Returns the release function (idempotent); unknown machines are ignored.
   */
  view(machine: string): () => void {
    const rt = this.machinesById.get(machine);
    if (!rt) return () => {};
    const n = (this.viewers.get(machine) ?? 0) + 1;
    this.viewers.set(machine, n);
    if (n === 1) this.setDisplay(rt, true);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.viewers.get(machine) ?? 1) - 1;
      if (left > 0) this.viewers.set(machine, left);
      else {
        this.viewers.delete(machine);
        this.setDisplay(rt, false);
      }
    };
  }

  /** Clients currently looking at `machine`. */
  viewerCount(machine: string): number {
    return this.viewers.get(machine) ?? 0;
  }

  private setDisplay(rt: MachineRuntime, on: boolean): void {
    for (const s of rt.config.sensors) {
      const key = { site: this.config.site, machine: rt.config.id, sensor: String(s.id) };
      this.pipeline?.requestSpectrogram(key, on);
      this.pipeline?.requestEnvelope(key, on);
    }
  }

  /**
   * Activates a registered version for a machine by hand. A candidate whose
   * adaptation failed a guard (`adaptation.promoted === false`) needs
   * `force: true` and a `reason`; every promotion is recorded in the
   * registry's audit trail with who did it and why. The model is swapped into
   * the pipeline first, so a model the machine's sensors cannot run changes
   * nothing.
   * @throws FaultlineError FL_ERR_API_NOT_FOUND (machine), FL_ERR_MODEL_FILE (version),
   *   FL_ERR_API_REQUEST (guard failed without force/reason), FL_ERR_MODEL_MISMATCH
   */
  async promote(
    machine: string,
    o: { version: string; force?: boolean; by: string; reason?: string },
  ): Promise<{ machine: string; from?: string; to: string; forced: boolean }> {
    if (!this.registry || !this.pipeline)
      throw new FaultlineError('FL_ERR_CONFIG', 'the gateway is not running');
    if (!this.machinesById.has(machine))
      throw new FaultlineError(
        'FL_ERR_API_NOT_FOUND',
        `unknown machine ${JSON.stringify(machine)}; GET /api/machines lists them`,
      );
    const v = this.registry.get(o.version);
    if (!v)
      throw new FaultlineError(
        'FL_ERR_API_NOT_FOUND',
        `model version ${JSON.stringify(o.version)} is not in the registry; GET /api/models lists them`,
      );
    const failed = v.adaptation?.guards.filter((g) => !g.passed) ?? [];
    const guardFailed = v.adaptation !== undefined && !v.adaptation.promoted;
    if (guardFailed && !(o.force === true && o.reason && o.reason.trim().length > 0)) {
      throw new FaultlineError(
        'FL_ERR_API_REQUEST',
        `version ${v.id} failed guard(s) ${failed.map((g) => g.name).join(', ') || '(unnamed)'}; ` +
          'to activate it anyway send force: true with a reason (it is recorded in the registry)',
      );
    }
    const from = this.registry.active(machine);
    if (from?.id !== v.id) await this.pipeline.setModel(machine, v.dir);
    await this.registry.promote(machine, v.id, {
      by: o.by,
      ...(o.reason ? { reason: o.reason } : {}),
      forced: guardFailed,
      ...(failed.length ? { failedGuards: failed.map((g) => g.name) } : {}),
    });
    const rt = this.machinesById.get(machine);
    if (rt) rt.version = this.registry.active(machine);
    this.log.info(
      `faultline gateway: ${machine} promoted to ${v.id} by ${o.by}${guardFailed ? ` (forced: ${o.reason})` : ''}`,
    );
    return { machine, ...(from ? { from: from.id } : {}), to: v.id, forced: guardFailed };
  }

  /** Rolls a machine back to its previous model version. */
  async rollback(machine: string): Promise<{ from: ModelVersion; to: ModelVersion }> {
    if (!this.adaptation) throw new FaultlineError('FL_ERR_CONFIG', 'the gateway is not running');
    if (!this.machinesById.has(machine))
      throw new FaultlineError(
        'FL_ERR_API_NOT_FOUND',
        `unknown machine ${JSON.stringify(machine)}`,
      );
    return this.adaptation.rollback(machine);
  }

  /**
   * Re-reads the configuration file (SIGHUP). A bad file is logged and the
   * running configuration kept. A good one replaces it; per-machine model
   * changes are applied at once, other changes need a restart (logged).
   * @returns true when the new configuration was taken
   */
  async reload(): Promise<boolean> {
    const at = new Date().toISOString();
    if (!this.configFile) {
      this.lastReload = { at, ok: false, error: 'running on embedded defaults: nothing to reload' };
      this.log.warn('faultline gateway: reload: running on embedded defaults, no file to re-read');
      return false;
    }
    let next: Readonly<GatewayConfig>;
    try {
      next = await loadConfigFile(this.configFile);
    } catch (err) {
      const msg = isFaultlineError(err) ? `${err.code}: ${err.message}` : (err as Error).message;
      this.lastReload = { at, ok: false, error: msg };
      this.log.error(
        `faultline gateway: reload refused, keeping the running configuration: ${msg}`,
      );
      return false;
    }
    const restart = changedNeedingRestart(this.config, next);
    const prev = this.config;
    this.config = next;
    for (const m of next.machines) {
      const old = prev.machines.find((x) => x.id === m.id);
      if (old && (old.model ?? prev.model) !== (m.model ?? next.model) && this.registry) {
        try {
          const v = await resolveMachineModels({
            config: { ...next, machines: [m] },
            registry: this.registry,
            repoRoot: this.repoRoot,
            stateDir: this.stateDir,
            log: (x) => this.log.info(x),
          });
          const ver = v.get(m.id);
          if (ver) await this.setModel(m.id, ver.dir);
        } catch (err) {
          this.log.error(
            `faultline gateway: reload: model of ${m.id} not changed: ${(err as Error).message}`,
          );
        }
      }
    }
    this.lastReload = { at, ok: true };
    this.log.info(
      `faultline gateway: configuration reloaded from ${this.configFile}${restart.length ? `; restart to apply ${restart.join(', ')}` : ''}`,
    );
    return true;
  }

  /** Stops everything in reverse start order. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    const step = async (what: string, fn: () => Promise<unknown> | undefined) => {
      try {
        await fn();
      } catch (err) {
        this.log.warn(`faultline gateway: closing ${what}: ${(err as Error).message}`);
      }
    };
    this.membership?.stop();
    await step('fleet', () => this.fleet?.close());
    await step('api', () => this.api?.close());
    await step('adaptation', () => this.adaptation?.close());
    for (const s of this.sources) await step('ingest', () => s.close());
    await step('pipeline', async () => this.pipeline?.close());
    await step('points', () => this.flushPoints());
    await step('alerts', async () => {
      if (!this.publisher) return;
      if (this.alertClient?.connected) await Promise.race([this.publisher.flushed(), sleep(2000)]);
      await this.publisher.close();
    });
    if (!this.publisher) await step('alert client', async () => this.alertClient?.end(true));
    await step('store', () => this.store?.close());
    await step('broker', () => this.broker?.close());
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

function finite(v: number | null | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The pipeline's evidence as the alert schema wants it (defect kind + frequency). */
function evidenceOf(d: MachineDiagnosis | undefined): Evidence | undefined {
  const e = d?.evidence;
  if (!e || e.frequencyHz === undefined || !(e.frequencyHz > 0)) return undefined;
  if (e.defect === null || !(DEFECT_KINDS as readonly string[]).includes(e.defect))
    return undefined;
  return {
    defect: e.defect as Evidence['defect'],
    frequencyHz: e.frequencyHz,
    prominence: Math.max(0, finite(e.score) ?? 0),
  };
}

/** Top-level settings whose change needs a restart. */
function changedNeedingRestart(a: GatewayConfig, b: GatewayConfig): string[] {
  const keys = [
    'site',
    'gatewayId',
    'stateDir',
    'alerts',
    'broker',
    'influx',
    'store',
    'http',
    'pipeline',
    'fleet',
    'cluster',
  ] as const;
  const out: string[] = keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  const strip = (m: MachineConfig) => JSON.stringify({ ...m, model: undefined });
  if (
    a.machines.length !== b.machines.length ||
    a.machines.some((m, i) => strip(m) !== strip(b.machines[i]))
  )
    out.push('machines');
  return out;
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
