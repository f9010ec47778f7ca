/**
 * The machine part of the gateway's configuration: a machine, its sensors,
 * its bearing (geometry or a designation from src/data/bearings.ts) and its
 * ISO 20816 class. Part of the one schema in ./config.ts.
 */
import { z } from 'zod';
import { lookupBearing } from '../data/bearings.js';
import { name, posInt, posNum } from './config-fields.js';

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
export const machineSchema = z.strictObject({
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
