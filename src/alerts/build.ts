/**
 * Turns a health transition into the wire payloads of the alert topics.
 */

import {
  type Alert,
  type Evidence,
  type HealthStatePayload,
  healthStatePayloadSchema,
  type Shelf,
} from '../contract/alert.js';
import type { HeadReadings } from '../contract/heads.js';
import type { HealthChange, IsoZone } from '../contract/health.js';
import type { HealthSnapshot } from '../diagnose/health.js';
import { alertId, parseAlert, parseWith } from './schema.js';

/** What the state machine does not know but an alert carries. */
export interface AlertContext {
  site: string;
  sensor: string;
  isoZone: IsoZone;
  /** RMS velocity of the latest window, mm/s. */
  velocityRmsMmS: number;
  modelVersion: string;
  evidence?: Evidence;
  /** The latest window's auxiliary heads (multi-task models). */
  heads?: HeadReadings;
}

/**
 * Builds (and validates) the alert for a transition. The id is derived from
 * site/machine/sensor/time/state, so rebuilding it yields the same id.
 */
export function alertFromChange(change: HealthChange, ctx: AlertContext): Alert {
  return parseAlert({
    id: alertId(ctx.site, change.machine, ctx.sensor, change.t, change.to),
    site: ctx.site,
    machine: change.machine,
    sensor: ctx.sensor,
    state: change.to,
    previousState: change.from,
    faultClass: change.faultClass,
    confidence: Math.min(1, Math.max(0, change.confidence)),
    isoZone: ctx.isoZone,
    velocityRmsMmS: ctx.velocityRmsMmS,
    ...(ctx.evidence ? { evidence: ctx.evidence } : {}),
    reason: change.reason,
    modelVersion: ctx.modelVersion,
    ...(ctx.heads ? { heads: ctx.heads } : {}),
    time: new Date(change.t).toISOString(),
  });
}

/** Builds (and validates) the retained state payload from a snapshot. */
export function statePayload(
  site: string,
  snap: HealthSnapshot,
  nowMs: number,
  extra: {
    alertId?: string;
    modelVersion?: string;
    heads?: HeadReadings;
    shelved?: Shelf | null;
  } = {},
): HealthStatePayload {
  return parseWith(
    healthStatePayloadSchema,
    {
      site,
      machine: snap.machine,
      state: snap.state,
      since: new Date(snap.since ?? nowMs).toISOString(),
      faultClass: snap.faultClass,
      confidence: Math.min(1, Math.max(0, snap.confidence)),
      ...(snap.isoZone ? { isoZone: snap.isoZone } : {}),
      ...(snap.velocityRmsMmS !== undefined ? { velocityRmsMmS: snap.velocityRmsMmS } : {}),
      ...(snap.reason ? { reason: snap.reason } : {}),
      ...extra,
      time: new Date(nowMs).toISOString(),
    },
    'health state',
  );
}
