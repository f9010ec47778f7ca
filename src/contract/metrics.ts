/**
 * The periodic machine reading (topic faultline/<site>/<machine>/metrics,
 * ./topics.ts): what the plant's historians and SCADA poll-style consumers
 * want every N seconds, beside the retained state topic that changes only on
 * transitions. The Modbus register map (./modbus-map.ts) and the Sparkplug B
 * metrics (./sparkplug.ts) carry the same values, so all three are built from
 * one `MachineMetrics`.
 */
import { z } from 'zod';
import { topicLevel, utcTime } from './alert.js';
import { isoZoneSchema, machineStateSchema } from './health.js';

export const machineMetricsSchema = z
  .object({
    site: topicLevel,
    machine: topicLevel,
    state: machineStateSchema.describe('Health state now (`starting` before the first window)'),
    faultClass: z
      .string()
      .min(1)
      .nullable()
      .describe(
        'Operator fault location (normal, inner race, outer race, ball…); null before the first window',
      ),
    confidence: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe('Fault probability 0–1 behind the state; null before the first window'),
    velocityRmsMmS: z
      .number()
      .min(0)
      .nullable()
      .describe('RMS velocity of the latest window, mm/s; null before the first window'),
    isoZone: isoZoneSchema
      .nullable()
      .describe('ISO 20816 zone of the latest window; null before the first window'),
    modelVersion: z.string().min(1).nullable().describe('Model version diagnosing the machine'),
    lastWindow: utcTime
      .nullable()
      .describe('Time of the latest diagnosed window (sensor clock); null before the first'),
    intervalS: z
      .number()
      .positive()
      .describe('Publication period, s: a consumer may count the machine stale after 3 periods'),
    time: utcTime.describe('When this reading was taken, ISO 8601 UTC'),
  })
  .describe('Periodic machine reading (topic faultline/<site>/<machine>/metrics)');
export type MachineMetrics = z.infer<typeof machineMetricsSchema>;
