/**
 * The plant outputs of the gateway's configuration (issue #15): each one is
 * off unless its section is present, so a gateway upgraded in place opens no
 * new port and sends no new topic until someone asks for it.
 */
import { z } from 'zod';
import { name, port, secret, withPasswordFile } from './config-fields.js';

/** Periodic readings on faultline/<site>/<machine>/metrics (src/contract/metrics.ts). */
const metricsSchema = z.strictObject({
  /** Publication period, s (1–3600). Default 10. */
  intervalS: z.number().min(1).max(3600).default(10),
});

/** Modbus TCP server for PLCs (docs/modbus.md: the register map). */
const modbusSchema = z.strictObject({
  /** Listen address. Default 127.0.0.1 (use the plant network's address to serve PLCs). */
  host: z.string().min(1).default('127.0.0.1'),
  /** TCP port (0: a free port, picked at start; tests). Default 502, the Modbus port (needs CAP_NET_BIND_SERVICE). */
  port: port().default(502),
  /** Unit identifier the server answers to (1–247); requests for another unit get no answer. Default 1. */
  unitId: z.int().min(1).max(247).default(1),
});

/** Sparkplug B edge node on the gateway's broker (src/plant/sparkplug-node.ts). */
const sparkplugSchema = z.strictObject({
  /** Sparkplug group id (topic spBv1.0/<groupId>/…). Default faultline. */
  groupId: name('Sparkplug group id').default('faultline'),
  /** Edge node id. Default: the gateway id. */
  edgeNodeId: name('Sparkplug edge node id').optional(),
  /** How often machines are checked, s: a DDATA carries the metrics that changed since the last (report by exception). Default 10. */
  intervalS: z.number().min(1).max(3600).default(10),
});

/** One OPC UA user: a name and its password (inline, `${NAME}`, or a file). */
const opcuaUserSchema = z
  .strictObject({
    /** User name a client logs in with. */
    username: z.string().min(1).max(128),
    /** Password (`${NAME}`: an environment variable). */
    password: secret().optional(),
    /** File holding the password (wins over password). */
    passwordFile: z.string().min(1).optional(),
  })
  .transform(withPasswordFile)
  .refine((u) => typeof u.password === 'string' && u.password.length > 0, {
    message: 'an OPC UA user needs a password or a passwordFile',
    path: ['password'],
  });

/** The OPC UA message security modes (Part 4 §7.20). */
export const OPCUA_SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;

/** OPC UA server with the machines and their alarms (docs/opcua.md). */
const opcuaSchema = z
  .strictObject({
    /** Listen address. Default 127.0.0.1 (use the plant network's address to serve SCADA clients). */
    host: z.string().min(1).default('127.0.0.1'),
    /** TCP port (0: a free port, picked at start; tests). Default 4840, the OPC UA port. */
    port: port().default(4840),
    /** Message security modes offered (None, Sign, SignAndEncrypt). Default Sign and SignAndEncrypt. */
    securityModes: z.array(z.enum(OPCUA_SECURITY_MODES)).min(1).default(['Sign', 'SignAndEncrypt']),
    /** Users who may log in with a name and password. Default none. */
    users: z.array(opcuaUserSchema).default([]),
    /** Whether a client may open an anonymous session (read and acknowledge). Default false. */
    allowAnonymous: z.boolean().default(false),
  })
  .refine((o) => o.allowAnonymous || o.users.length > 0, {
    message: 'an OPC UA server without users needs allowAnonymous: true (nobody could log in)',
    path: ['users'],
  });

/** Plant protocols, each off unless configured. */
export const outputsSchema = z
  .strictObject({
    /** Periodic MQTT readings. Default off. */
    metrics: metricsSchema.optional(),
    /** Modbus TCP server. Default off. */
    modbus: modbusSchema.optional(),
    /** Sparkplug B edge node. Default off. */
    sparkplug: sparkplugSchema.optional(),
    /** OPC UA server. Default off. */
    opcua: opcuaSchema.optional(),
  })
  .prefault({});
