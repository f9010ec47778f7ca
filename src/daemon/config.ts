/**
 * The gateway's configuration: one zod schema with a default and a one-line
 * doc for every option, validated once, then deep-frozen. A bad file is
 * rejected with the path of the first bad field, e.g.
 * `machines[2].sensors[0].sampleRate: expected a positive number`.
 *
 * YAML (or JSON, a YAML subset) on disk; `loadConfigFile` reads and validates,
 * `parseConfig` validates an object (the embedded defaults go through it too).
 * Unknown keys are refused, so a typo never silently falls back to a default.
 */

import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { healthConfigSchema } from '../diagnose/health-config.js';
import { FaultlineError } from '../errors.js';
import { name, port, posInt, posNum, secret, withPasswordFile } from './config-fields.js';
import { machineSchema } from './config-machine.js';
import { notifySchema } from './config-notify.js';
import { outputsSchema } from './config-outputs.js';
import { LOG_LEVELS } from './log.js';

/** True for an address only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** PEM key and certificate files a server listens with (TLS). */
const serverTlsSchema = z.strictObject({
  /** PEM certificate (chain) file. */
  certPath: z.string().min(1),
  /** PEM private key file of certPath. */
  keyPath: z.string().min(1),
});

/**
 * A client account of the embedded broker, with its role (the gateway's own
 * clients use broker.username/password and may do everything):
 * - sensor: publishes raw frames on the topics of its `sensors` only (the
 *   topics that route to them), subscribes to nothing;
 * - console: subscribes to (reads) anything and publishes acknowledgements
 *   (`faultline/<site>/<machine>/alert/ack`) of configured machines.
 */
const brokerUserSchema = z
  .strictObject({
    /** User name the client presents. */
    username: z.string().min(1).max(256),
    /** Password (`${NAME}`: from the environment). Give it or passwordFile. */
    password: secret().optional(),
    /** File holding the password (wins over password; `${NAME}` expanded in the path). Default none. */
    passwordFile: z.string().min(1).optional(),
    /** sensor or console (see above). */
    role: z.enum(['sensor', 'console']),
    /** Role sensor: the sensor ids whose raw frames this account may publish. Default none. */
    sensors: z.array(z.int().min(0).max(65535)).default([]),
  })
  .transform(withPasswordFile)
  .refine((u) => u.password !== undefined, {
    error: 'give password or passwordFile',
    path: ['password'],
  });

/** MQTT broker the gateway uses for raw frames, alerts and acknowledgements. */
const brokerSchema = z
  .strictObject({
    /** Run an embedded broker (aedes, MQTT 3.1.1) inside the gateway. Default true. */
    embedded: z.boolean().default(true),
    /** Embedded broker: listen address. Default 127.0.0.1 (loopback only); any other address needs username/password. */
    host: z.string().min(1).default('127.0.0.1'),
    /** Embedded broker: TCP port (0: any free port). Default 1883. */
    port: port().default(1883),
    /** External broker URL (mqtt://, mqtts://, ws://) when embedded is false. Default none. */
    url: z.string().min(1).optional(),
    /** Username of the gateway's own clients (external broker; the embedded broker requires it too when set, and gives it every right). Default none. */
    username: z.string().optional(),
    /** Password (`${NAME}`: from the environment). Default none. */
    password: secret().optional(),
    /** File holding the password (wins over password; systemd credentials, container secrets). Default none. */
    passwordFile: z.string().min(1).optional(),
    /** Embedded broker: more client accounts, each with a role (sensor or console). Needs username. Default none. */
    users: z.array(brokerUserSchema).default([]),
    /** Embedded broker: most simultaneous client connections; more are refused. Default 1000. */
    maxConnections: posInt().default(1000),
    /** Embedded broker: largest MQTT packet accepted, bytes (a raw frame is at most 64 KiB); a client sending more is disconnected. Default 131072. */
    maxPacketBytes: z
      .int()
      .min(1024)
      .max(256 * 1024 * 1024)
      .default(128 * 1024),
    /** Embedded broker: listen with TLS (mqtts) using these files. Default none (plain MQTT). */
    tls: serverTlsSchema.optional(),
    /** PEM CA file for TLS (the external broker's, or the one that signed broker.tls.certPath). Default none. */
    caPath: z.string().optional(),
    /** PEM client certificate for mutual TLS. Default none. */
    certPath: z.string().optional(),
    /** PEM private key of certPath. Default none. */
    keyPath: z.string().optional(),
    /** Verify the broker's certificate. Default true. */
    rejectUnauthorized: z.boolean().default(true),
    /** MQTT 5 shared-subscription group for raw frames (ingest fan-out); only for brokers that keep a topic on one member (EMQX sticky/hash_topic), never on mosquitto (round-robin per message breaks windows): use `cluster` there. Default none. */
    shareGroup: name('share group').optional(),
  })
  .prefault({})
  .transform(withPasswordFile)
  .refine((b) => b.embedded || b.url !== undefined, {
    error: 'set broker.url, or broker.embedded: true',
    path: ['url'],
  });

/** InfluxDB 1.x history (store-and-forward queue on disk); absent → the embedded SQLite store. */
const influxSchema = z
  .strictObject({
    /** Host. Default 127.0.0.1. */
    host: z.string().min(1).default('127.0.0.1'),
    /** HTTP port. Default 8086. */
    port: port().default(8086),
    /** Database. Default faultline. */
    database: z.string().min(1).default('faultline'),
    /** Retention policy name. Default faultline. */
    retentionPolicy: z.string().min(1).default('faultline'),
    /** Retention policy of the hourly rollup (store.hourlyRetentionDays long). Default <retentionPolicy>_hourly. */
    hourlyRetentionPolicy: z.string().min(1).optional(),
    /** Retention duration of the raw windows (InfluxQL, e.g. 30d, INF). Default 30d. */
    retention: z
      .string()
      .regex(/^(INF|\d+[hdw])$/, { error: 'expected an InfluxQL duration like 30d or INF' })
      .default('30d'),
    /** Username. Default none. */
    username: z.string().optional(),
    /** Password (`${NAME}`: from the environment). Default none. */
    password: secret().optional(),
    /** File holding the password (wins over password). Default none. */
    passwordFile: z.string().min(1).optional(),
    /** Store-and-forward queue directory. Default <stateDir>/influx-queue. */
    queueDir: z.string().min(1).optional(),
    /** Queue bound, bytes on disk. Default 256 MiB. */
    queueMaxBytes: posInt().default(256 * 1024 * 1024),
  })
  .transform(withPasswordFile);

/** Embedded history store (SQLite), used when no InfluxDB is configured. */
const storeSchema = z
  .strictObject({
    /** Database file. Default <stateDir>/history.db. */
    file: z.string().min(1).optional(),
    /** SQLite: raw windows older than this are pruned (after their hours are rolled up), days. Default 7. */
    pointRetentionDays: posNum().default(7),
    /** Hourly min/mean/max rollup kept this long, days (SQLite and InfluxDB). Default 1826 (5 years). */
    hourlyRetentionDays: posNum().default(1826),
    /** Alerts older than this are pruned, days. Default 90. */
    alertRetentionDays: posNum().default(90),
  })
  .prefault({});

/** What the `/api/stream` WebSocket may cost the gateway (src/daemon/stream-hub.ts). */
const streamSchema = z
  .strictObject({
    /** WebSocket clients served at once; one more is closed with 1013 (Try Again Later). Default 32. */
    maxClients: z.int().min(1).max(10_000).default(32),
    /** Unsent bytes per client: above half, diagnoses are skipped for it; past it, it is dropped. Default 2 MiB. */
    maxBufferedBytes: z
      .int()
      .min(64 * 1024)
      .max(256 * 1024 * 1024)
      .default(2 * 1024 * 1024),
    /** Ping period, ms; a client that leaves a ping unanswered for one period is dropped. Default 30000. */
    pingIntervalMs: z.int().min(100).max(3_600_000).default(30_000),
  })
  .prefault({});

/** http.stream's defaults, for the API built without a parsed config (tests). */
export const STREAM_DEFAULTS: Readonly<z.infer<typeof streamSchema>> = Object.freeze(
  streamSchema.parse({}),
);

/** The dashboard HTTP/WebSocket API. */
const httpSchema = z
  .strictObject({
    /** Listen address. Default 127.0.0.1 (use 0.0.0.0 to serve the plant network). */
    host: z.string().min(1).default('127.0.0.1'),
    /** TCP port (0: any free port). Default 8080. */
    port: port().default(8080),
    /** Access token (`${NAME}`: from the environment). Default: generated once and kept in <stateDir>/token. */
    token: secret()
      .pipe(z.string().min(16, { error: 'a token needs at least 16 characters' }))
      .optional(),
    /** Serve HTTPS with these files. Default none (plain HTTP, with a warning off loopback). */
    tls: serverTlsSchema.optional(),
    /** Origins (`https://console.example:8443`) allowed besides the gateway's own for state-changing requests and the WebSocket. Default none. */
    allowedOrigins: z.array(z.string().min(1)).default([]),
    /** Directory of the web console's static files. Default app/web/dist when it exists. */
    webDir: z.string().min(1).optional(),
    stream: streamSchema,
  })
  .prefault({});

/** Live diagnosis pipeline tuning. */
const pipelineSchema = z
  .strictObject({
    /** Inference worker threads. Default: the pipeline's (cores − 1). */
    workers: z.int().min(0).max(64).optional(),
    /** Windows per micro-batch. Default: the pipeline's. */
    maxBatch: posInt().optional(),
    /** Longest a window waits for its batch, ms. Default: the pipeline's. */
    maxLatencyMs: posNum().optional(),
    /** tfjs backend: node, wasm or cpu. Default: the best available. */
    backend: z.enum(['node', 'wasm', 'cpu']).optional(),
  })
  .prefault({});

/** The simulated fleet's pacing (machines with `simulate`). */
const fleetSchema = z
  .strictObject({
    /** Real-time multiple of the simulated sensors (2: twice as fast). Default 1. */
    speed: posNum().default(1),
    /** Samples per frame. Default 512. */
    frameSamples: posInt().default(512),
  })
  .prefault({});

/** On-the-spot adaptation. */
const adaptationSchema = z
  .strictObject({
    /** Labelled source data folder (CWRU or bring-your-own) for models not trained on the simulator. Default none. */
    sourceData: z.string().min(1).optional(),
    /** Default strategy: dann or mmd. Default dann. */
    strategy: z.enum(['dann', 'mmd']).default('dann'),
    /** Default collection time, s. Default 60. */
    seconds: posNum().default(60),
    /** Alignment steps. Default 150. */
    steps: posInt().default(150),
    /** Live signal one job may collect, bytes (4 per sample; seconds × rate is refused above it). Default 64 MiB. */
    maxSampleBytes: z
      .int()
      .min(64 * 1024)
      .max(2 ** 30)
      .default(64 * 2 ** 20),
    /** Finished adaptation jobs kept (listed, with their work folders); older ones are pruned. Default 20. */
    keepJobs: z.int().min(1).max(1000).default(20),
  })
  .prefault({});

/** Operator verdicts on alerts: the windows they label (./verdicts.ts, docs/verdicts.md). */
const verdictsSchema = z
  .strictObject({
    /** Recent windows kept in memory per machine, 4 bytes × the model's window length each (0: verdicts are stored but label no windows). Default 64. */
    windows: z.int().min(0).max(1024).default(64),
    /** A verdict labels the kept windows within this many seconds of its alert's time, s. Default 10. */
    aroundS: posNum().max(3600).default(10),
    /** Labelled windows a class needs before learning from verdicts takes it (the simulator's model: 10 windows ≈ 2.5 s of one alert). Default 10. */
    minPerClass: z.int().min(3).max(10_000).default(10),
  })
  .prefault({});

/** Several gateways sharing one site's MQTT machines (src/daemon/cluster.ts). */
const clusterSchema = z
  .strictObject({
    /** Share the site's MQTT machines with the other gateways of the site: each takes the machines it wins by rendezvous hash among the live gateways. Default false (this gateway diagnoses every configured machine). */
    enabled: z.boolean().default(false),
    /** MQTT keep-alive of the gateway's clients when enabled, s: a gateway whose link hangs is declared offline (Last Will) after 1.5 × this. Default 10. */
    keepaliveS: z.int().min(1).max(65535).default(10),
    /** How long to collect the other gateways' retained presence before taking machines at start, ms. Default 1000. */
    settleMs: z.int().min(0).max(60_000).default(1000),
    /** Presence heartbeat, s: the gateway re-sends its retained `online` this often, and counts another gateway gone after 3 periods without one. Default 10. */
    heartbeatS: z.number().min(0.1).max(3600).default(10),
  })
  .prefault({});

/** What the gateway logs (src/daemon/log.ts: JSON lines; journald priorities under systemd). */
const logSchema = z
  .strictObject({
    /** Least severe level written: fatal, error, warn, info, debug, trace or silent (`--log-level` overrides). Default info. */
    level: z
      .enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` })
      .default('info'),
  })
  .prefault({});

/** The whole gateway configuration. */
export const gatewayConfigSchema = z
  .strictObject({
    /** Site name (MQTT topic level). Default site1. */
    site: name('site').default('site1'),
    /** Gateway id for presence and client ids. Default: the host name. */
    gatewayId: name('gateway id').optional(),
    /** State directory (token, model registry, history, queues). Default ~/.faultline or $FAULTLINE_STATE_DIR. */
    stateDir: z.string().min(1).optional(),
    /** Default model (folder or registry version) for machines without their own. Default: the shipped model. */
    model: z.string().min(1).optional(),
    /** Monitored machines (at least one). */
    machines: z.array(machineSchema).min(1, { error: 'configure at least one machine' }),
    /** Alert policy: the health state machine's thresholds (src/diagnose/health.ts). */
    alerts: healthConfigSchema.prefault({}),
    /** Webhook and e-mail notifications of alerts (./config-notify.ts). Default: none. */
    notify: notifySchema,
    broker: brokerSchema,
    /** InfluxDB history; absent → embedded SQLite store. */
    influx: influxSchema.optional(),
    store: storeSchema,
    http: httpSchema,
    pipeline: pipelineSchema,
    fleet: fleetSchema,
    adaptation: adaptationSchema,
    verdicts: verdictsSchema,
    cluster: clusterSchema,
    /** Plant protocols (periodic metrics, Modbus TCP, Sparkplug B), each off unless configured. */
    outputs: outputsSchema,
    log: logSchema,
  })
  .superRefine((c, ctx) => {
    checkBrokerAccess(c, ctx);
    if (c.cluster.enabled && c.broker.shareGroup !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['broker', 'shareGroup'],
        message:
          'a share group and cluster.enabled exclude each other: the cluster assigns machines itself',
      });
    }
    const machines = new Set<string>();
    const sensors = new Map<number, string>();
    c.machines.forEach((m, i) => {
      if (m.id === 'gateway') {
        ctx.addIssue({
          code: 'custom',
          path: ['machines', i, 'id'],
          message: '"gateway" is reserved (presence topic)',
        });
      }
      if (machines.has(m.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['machines', i, 'id'],
          message: `machine id "${m.id}" is used twice`,
        });
      }
      machines.add(m.id);
      m.sensors.forEach((s, j) => {
        const other = sensors.get(s.id);
        if (other !== undefined && !s.serial) {
          ctx.addIssue({
            code: 'custom',
            path: ['machines', i, 'sensors', j, 'id'],
            message: `sensor id ${s.id} is already used by ${other}; sensor ids are unique within a site`,
          });
        }
        sensors.set(s.id, m.id);
      });
    });
  });

/** Who may reach the embedded broker, and with which accounts (see brokerUserSchema). */
function checkBrokerAccess(
  c: {
    broker: z.output<typeof brokerSchema>;
    machines: { sensors: { id: number }[] }[];
  },
  ctx: z.RefinementCtx,
): void {
  const b = c.broker;
  if (!b.embedded) return;
  if (!isLoopbackHost(b.host) && b.username === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['broker', 'host'],
      message: `the embedded broker would accept anyone on ${b.host} (off this machine) without credentials: set broker.username and broker.password (or passwordFile), or listen on 127.0.0.1`,
    });
  }
  if (b.users.length > 0 && b.username === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['broker', 'username'],
      message:
        "broker.users need the gateway's own account too: set broker.username and broker.password",
    });
  }
  const sensorIds = new Set(c.machines.flatMap((m) => m.sensors.map((s) => s.id)));
  const names = new Set(b.username === undefined ? [] : [b.username]);
  b.users.forEach((u, i) => {
    if (names.has(u.username))
      ctx.addIssue({
        code: 'custom',
        path: ['broker', 'users', i, 'username'],
        message: `user name ${JSON.stringify(u.username)} is used twice (broker.username counts)`,
      });
    names.add(u.username);
    u.sensors.forEach((id, j) => {
      if (!sensorIds.has(id))
        ctx.addIssue({
          code: 'custom',
          path: ['broker', 'users', i, 'sensors', j],
          message: `sensor ${id} is not a sensor of any configured machine`,
        });
    });
  });
}

export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type MachineConfig = GatewayConfig['machines'][number];

/** `machines[2].sensors[0].sampleRate` from a zod path. */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const k of p) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || '(root)';
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/**
 * Validates a configuration object, fills defaults and deep-freezes it.
 * @param source what to name in the error (file path or "embedded defaults")
 * @throws FaultlineError FL_ERR_CONFIG `<source>: <path>: <problem>`
 */
export function parseConfig(input: unknown, source = 'configuration'): Readonly<GatewayConfig> {
  const r = gatewayConfigSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    let where = formatPath(i.path);
    let msg = i.message;
    if (i.code === 'unrecognized_keys') {
      const keys = (i as { keys: string[] }).keys;
      where = formatPath([...i.path, keys[0]]);
      msg = `unknown option (check the spelling; see examples/gateway.yaml)`;
    }
    throw new FaultlineError('FL_ERR_CONFIG', `${source}: ${where}: ${msg}`);
  }
  return deepFreeze(r.data);
}

/**
 * Reads and validates a YAML (or JSON) configuration file.
 * @throws FaultlineError FL_ERR_CONFIG for an unreadable file, bad YAML or a bad field
 */
export async function loadConfigFile(file: string): Promise<Readonly<GatewayConfig>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FaultlineError(
      'FL_ERR_CONFIG',
      `cannot read configuration file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); check the --config path`,
    );
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (err) {
    throw new FaultlineError(
      'FL_ERR_CONFIG',
      `${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  // a section whose options are all commented out reads as null: treat it as absent (defaults)
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    raw = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== null));
  }
  return parseConfig(raw ?? {}, file);
}

/** The state directory: the config's, else $FAULTLINE_STATE_DIR, else ~/.faultline. */
export function resolveStateDir(
  config: Pick<GatewayConfig, 'stateDir'>,
  env = process.env,
): string {
  return path.resolve(
    config.stateDir ?? env.FAULTLINE_STATE_DIR ?? path.join(os.homedir(), '.faultline'),
  );
}

/** The gateway id: the config's, else the host name made into a topic level. */
export function resolveGatewayId(config: Pick<GatewayConfig, 'gatewayId'>): string {
  return (
    config.gatewayId ??
    (os
      .hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 64) ||
      'gateway1')
  );
}
