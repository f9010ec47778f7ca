/**
 * The plant outputs of the gateway's configuration (issue #15): each one is
 * off unless its section is present, so a gateway upgraded in place opens no
 * new port and sends no new topic until someone asks for it.
 */
import { z } from 'zod';
import { name, port } from './config-fields.js';

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

/** Plant protocols, each off unless configured. */
export const outputsSchema = z
  .strictObject({
    /** Periodic MQTT readings. Default off. */
    metrics: metricsSchema.optional(),
    /** Modbus TCP server. Default off. */
    modbus: modbusSchema.optional(),
    /** Sparkplug B edge node. Default off. */
    sparkplug: sparkplugSchema.optional(),
  })
  .prefault({});
