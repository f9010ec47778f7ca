/**
 * One machine's reading for the plant outputs (periodic metrics, Modbus
 * registers, Sparkplug metrics), taken from the same runtime record and with
 * the same rules as `GET /api/machines` (./machine-views.ts), so a PLC, a
 * historian and the console never disagree about a machine.
 */
import type { MachineMetrics } from '../contract/metrics.js';
import type { MachineRuntime } from './machine-table.js';

/** A finite number clamped to [lo, hi], or null (NaN, ±Infinity, absent). */
function clamped(v: number | undefined, lo: number, hi: number): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : null;
}

/**
 * The reading of `rt` now.
 * @param nowMs ms since the epoch (the reading's `time`)
 * @param intervalS the period the reading is published with, s
 */
export function machineReading(
  site: string,
  rt: MachineRuntime,
  nowMs: number,
  intervalS: number,
): MachineMetrics {
  const d = rt.last;
  // as the machine view: the health state machine's values once it spoke, else the latest window's
  const confidence = rt.confidence ?? (d ? 1 - (d.probs.normal ?? 0) : undefined);
  const faultClass = rt.faultClass ?? d?.faultClass;
  return {
    site,
    machine: rt.config.id,
    state: rt.state,
    faultClass: faultClass ? faultClass : null,
    confidence: clamped(confidence, 0, 1),
    velocityRmsMmS: clamped(d?.velocityRmsMmS, 0, Number.MAX_VALUE),
    isoZone: d?.isoZone ?? null,
    modelVersion: rt.version?.id ?? (d?.modelVersion || null),
    lastWindow: d && Number.isFinite(d.t) ? new Date(d.t).toISOString() : null,
    intervalS,
    time: new Date(nowMs).toISOString(),
  };
}
