/**
 * The vocabulary of a machine's health as it crosses every boundary (alerts,
 * the retained state topic, the API, the console): health states, defect
 * kinds and ISO 20816 zones, as zod schemas with their inferred types.
 */
import { z } from 'zod';

/** Ordered fault severities; the index is the severity rank (0 = ok). */
export const SEVERITIES = ['ok', 'watch', 'warning', 'alarm'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * Stream diagnostic states: something is wrong with the data, not (necessarily)
 * with the machine. They are never fault diagnoses.
 */
export const STREAM_STATES = ['silent', 'stream-errors', 'saturated', 'stream-mismatch'] as const;
export type StreamState = (typeof STREAM_STATES)[number];

/** Every state a machine's health can be in. */
export const HEALTH_STATES = [...SEVERITIES, ...STREAM_STATES] as const;
export const healthStateSchema = z.enum(HEALTH_STATES);
export type HealthState = z.infer<typeof healthStateSchema>;

/** A machine's state in the API: its health, or `starting` before its first window. */
export const machineStateSchema = z.enum(['starting', ...HEALTH_STATES]);
export type MachineState = z.infer<typeof machineStateSchema>;

/** Characteristic bearing/shaft frequencies a piece of evidence can point at. */
export const DEFECT_KINDS = ['BPFO', 'BPFI', 'BSF', 'FTF', '1X', '2X'] as const;
export const defectKindSchema = z.enum(DEFECT_KINDS);
export type DefectKind = z.infer<typeof defectKindSchema>;

/** The bearing defect lines the envelope evidence looks for (2·BSF for a ball). */
export const DEFECT_LINES = ['BPFO', 'BPFI', 'BSF'] as const;
export type DefectLine = (typeof DEFECT_LINES)[number];

/** ISO 20816 vibration severity zone of a window's RMS velocity (A best … D worst). */
export const isoZoneSchema = z.enum(['A', 'B', 'C', 'D']);
export type IsoZone = z.infer<typeof isoZoneSchema>;

/** ISO 20816-3 machine group and foundation of a machine. */
export const isoClassSchema = z.object({
  group: z.union([z.literal(1), z.literal(2)]),
  foundation: z.enum(['rigid', 'flexible']),
});

/**
 * A transition of one machine's health, emitted by the state machine and
 * pushed as the `health` events of `/api/stream` (with the site).
 */
export const healthChangeSchema = z.object({
  machine: z.string(),
  from: healthStateSchema,
  to: healthStateSchema,
  /** Time of the input that caused the change, ms since the Unix epoch. */
  t: z.number(),
  /** Most likely fault location over the debounce window (`normal` when none). */
  faultClass: z.string(),
  /** Mean fault probability (1 − p(normal)) over the debounce window, 0–1. */
  confidence: z.number(),
  /** Human-readable cause, e.g. `fault p ≥ 0.70 in 3 of last 5 windows`. */
  reason: z.string(),
});
export type HealthChange = z.infer<typeof healthChangeSchema>;
