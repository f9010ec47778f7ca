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
import { lookupBearing } from '../data/bearings.js';
import { healthConfigSchema } from '../diagnose/health.js';
import { FaultlineError } from '../errors.js';

const POSITIVE = 'expected a positive number';
const posNum = () => z.number({ error: POSITIVE }).positive({ error: POSITIVE });
const posInt = () =>
  z
    .int({ error: 'expected a positive integer' })
    .positive({ error: 'expected a positive integer' });
const port = () =>
  z
    .int({ error: 'expected a TCP port number (0–65535)' })
    .min(0, { error: 'expected a TCP port number (0–65535)' })
    .max(65535, { error: 'expected a TCP port number (0–65535)' });
/** One MQTT topic level (site, machine, sensor names end up in topics). */
const name = (what: string) =>
  z
    .string({ error: `expected a ${what} name` })
    .min(1, { error: `${what} name must not be empty` })
    .max(128)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is invalid in an MQTT topic
    .regex(/^[^/+#\u0000\s]+$/, {
      error: `${what} name must not contain / + # or spaces (it is an MQTT topic level)`,
    });

/** Bearing geometry for the defect frequencies (same units for both diameters). */
const geometrySchema = z
  .strictObject({
    /** Number of rolling elements. */
    balls: z.int().min(3).max(100),
    /** Rolling-element diameter (any length unit, same as pitchDiameter). */
    ballDiameter: posNum(),
    /** Pitch diameter (same unit as ballDiameter). */
    pitchDiameter: posNum(),
    /** Contact angle, degrees. Default 0. */
    contactAngleDeg: z.number().min(0).max(60).default(0),
  })
  .refine((b) => b.ballDiameter < b.pitchDiameter, {
    error: 'ballDiameter must be smaller than pitchDiameter',
  });

/**
 * A bearing: its geometry, or a designation from the project's table
 * (src/data/bearings.ts, e.g. "6205" or "SKF 6205-2RS"), turned into its
 * geometry here so the rest of the gateway sees one shape.
 */
const bearingSchema = z.union([
  geometrySchema,
  z.string().transform((s, ctx) => {
    const found = lookupBearing(s);
    if (!found.ok) {
      ctx.addIssue({ code: 'custom', message: found.message });
      return z.NEVER;
    }
    return { ...found.entry.geometry };
  }),
]);

/** ISO 20816-3 classification of the machine. */
const isoSchema = z
  .strictObject({
    /** 1: large machines 300 kW–50 MW; 2: medium 15–300 kW. Default 2. */
    group: z
      .union([z.literal(1), z.literal(2)], { error: 'expected machine group 1 or 2' })
      .default(2),
    /** Foundation: rigid or flexible. Default rigid. */
    foundation: z.enum(['rigid', 'flexible']).default('rigid'),
  })
  .prefault({});

/** One vibration sensor of a machine. */
const sensorSchema = z
  .strictObject({
    /** Sensor id as in the frame header (unique within the site). */
    id: z.int({ error: 'expected an integer sensor id (0–65535)' }).min(0).max(65535),
    /**
     * Samples per second per channel the sensor is set up for, Hz. A stream more than ±1 % off the
     * model's rate is resampled to it (1 kHz–1 MHz); each frame's own rate is followed.
     */
    sampleRate: posNum(),
    /** Channel of a multi-channel frame to diagnose. Default 0. */
    channel: z.int().min(0).default(0),
    /** Serial device the sensor streams on (e.g. /dev/ttyUSB0). Default: none (MQTT). */
    serial: z.string().min(1).optional(),
    /** Serial baud rate. Default 921600. */
    baudRate: posInt().default(921_600),
    /** MQTT topic of the raw frames. Default `faultline/<site>/<machine>/<id>/raw`. */
    topic: z.string().min(1).optional(),
    /** The bearing this sensor watches, when it is not the machine's. Default: the machine's. */
    bearing: bearingSchema.optional(),
  })
  .refine((s) => !(s.serial && s.topic), { error: 'give either serial or topic, not both' });

/** A simulated sensor signal for a machine (the demo fleet and tests). */
const simulateSchema = z.strictObject({
  /** Bearing fault to simulate: none, inner, outer, ball. Default none. */
  fault: z.enum(['none', 'inner', 'outer', 'ball']).default('none'),
  /** Impact peak, g. Default 0.5. */
  severity: z.number().min(0).max(100).default(0.5),
  /** Operating condition preset (src/sim/conditions.ts). Default source-1797rpm. */
  condition: z.string().min(1).default('source-1797rpm'),
  /** Shaft speed override, rpm. Default: the condition's. */
  rpm: posNum().optional(),
  /** Seed of the simulated signal. Default 1. */
  seed: z.int().default(1),
});

/** One monitored machine. */
const machineSchema = z.strictObject({
  /** Machine name (an MQTT topic level), unique within the site. */
  id: name('machine'),
  /** Human description shown on the console. Default none. */
  description: z.string().max(500).optional(),
  /** Production line (or area) the machine belongs to, for the console's Line filter. Default none. */
  line: z.string().min(1).max(100).optional(),
  /** Model folder or registry version id for this machine. Default: `model` at the top level. */
  model: z.string().min(1).optional(),
  /** Sensors of the machine (at least one). */
  sensors: z.array(sensorSchema).min(1, { error: 'a machine needs at least one sensor' }),
  /**
   * Bearing: geometry {balls, ballDiameter, pitchDiameter, contactAngleDeg}
   * or a designation ("6205"). Default: the model's training bearing when it
   * has one, else the CWRU drive-end 6205-2RS.
   */
  bearing: bearingSchema.optional(),
  /** ISO 20816 machine group and foundation. Default group 2, rigid. */
  iso: isoSchema,
  /** Nominal shaft speed, rpm, when the sensor does not report it. Default: estimated from the spectrum. */
  nominalRpm: posNum().optional(),
  /** No data for this long → `silent`, s. Default: alerts.silentAfterMs. */
  silentAfterS: posNum().optional(),
  /** Simulate this machine's sensors inside the gateway (demo fleet). Default: off (real sensors). */
  simulate: simulateSchema.optional(),
});

/** MQTT broker the gateway uses for raw frames, alerts and acknowledgements. */
const brokerSchema = z
  .strictObject({
    /** Run an embedded broker (aedes, MQTT 3.1.1) inside the gateway. Default true. */
    embedded: z.boolean().default(true),
    /** Embedded broker: listen address. Default 127.0.0.1 (loopback only). */
    host: z.string().min(1).default('127.0.0.1'),
    /** Embedded broker: TCP port (0: any free port). Default 1883. */
    port: port().default(1883),
    /** External broker URL (mqtt://, mqtts://, ws://) when embedded is false. Default none. */
    url: z.string().min(1).optional(),
    /** Username (external broker; the embedded broker requires it too when set). Default none. */
    username: z.string().optional(),
    /** Password. Default none. */
    password: z.string().optional(),
    /** PEM CA file for TLS. Default none. */
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
  .refine((b) => b.embedded || b.url !== undefined, {
    error: 'set broker.url, or broker.embedded: true',
    path: ['url'],
  });

/** InfluxDB 1.x history (store-and-forward queue on disk); absent → the embedded SQLite store. */
const influxSchema = z.strictObject({
  /** Host. Default 127.0.0.1. */
  host: z.string().min(1).default('127.0.0.1'),
  /** HTTP port. Default 8086. */
  port: port().default(8086),
  /** Database. Default faultline. */
  database: z.string().min(1).default('faultline'),
  /** Retention policy name. Default faultline. */
  retentionPolicy: z.string().min(1).default('faultline'),
  /** Retention duration (InfluxQL, e.g. 30d, INF). Default 30d. */
  retention: z
    .string()
    .regex(/^(INF|\d+[hdw])$/, { error: 'expected an InfluxQL duration like 30d or INF' })
    .default('30d'),
  /** Username. Default none. */
  username: z.string().optional(),
  /** Password. Default none. */
  password: z.string().optional(),
  /** Store-and-forward queue directory. Default <stateDir>/influx-queue. */
  queueDir: z.string().min(1).optional(),
  /** Queue bound, bytes on disk. Default 256 MiB. */
  queueMaxBytes: posInt().default(256 * 1024 * 1024),
});

/** Embedded history store (SQLite), used when no InfluxDB is configured. */
const storeSchema = z
  .strictObject({
    /** Database file. Default <stateDir>/history.db. */
    file: z.string().min(1).optional(),
    /** Points older than this are pruned, days. Default 7. */
    pointRetentionDays: posNum().default(7),
    /** Alerts older than this are pruned, days. Default 90. */
    alertRetentionDays: posNum().default(90),
  })
  .prefault({});

/** The dashboard HTTP/WebSocket API. */
const httpSchema = z
  .strictObject({
    /** Listen address. Default 127.0.0.1 (use 0.0.0.0 to serve the plant network). */
    host: z.string().min(1).default('127.0.0.1'),
    /** TCP port (0: any free port). Default 8080. */
    port: port().default(8080),
    /** Access token. Default: generated once and kept in <stateDir>/token. */
    token: z.string().min(16, { error: 'a token needs at least 16 characters' }).optional(),
    /** Directory of the web console's static files. Default app/web/dist when it exists. */
    webDir: z.string().min(1).optional(),
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
    broker: brokerSchema,
    /** InfluxDB history; absent → embedded SQLite store. */
    influx: influxSchema.optional(),
    store: storeSchema,
    http: httpSchema,
    pipeline: pipelineSchema,
    fleet: fleetSchema,
    adaptation: adaptationSchema,
    cluster: clusterSchema,
  })
  .superRefine((c, ctx) => {
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
