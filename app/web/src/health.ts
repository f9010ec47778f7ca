/**
 * How each health state is shown: a label and a glyph besides the colour
 * (colour is never the only carrier), and its urgency rank for sorting.
 */
import type { HealthState } from './types.js';

export interface StateLook {
  label: string;
  /** A glyph from DejaVu Sans, present on the gateway's and most desktops' fonts. */
  icon: string;
  /** CSS class carrying the colour: `st-<state>`. */
  cls: string;
  /** Higher is more urgent. */
  urgency: number;
  /** One sentence for tooltips and screen readers. */
  meaning: string;
}

const LOOKS: Record<HealthState, StateLook> = {
  alarm: {
    label: 'Alarm',
    icon: '✖',
    cls: 'st-alarm',
    urgency: 6,
    meaning: 'Fault confirmed: plan a stop',
  },
  warning: {
    label: 'Warning',
    icon: '▲',
    cls: 'st-warning',
    urgency: 5,
    meaning: 'Fault likely: inspect soon',
  },
  'stream-mismatch': {
    label: 'Stream mismatch',
    icon: '≠',
    cls: 'st-stream-mismatch',
    urgency: 4,
    meaning: 'Sensor data does not fit (sample rate, channel): check the sensor setup',
  },
  'stream-errors': {
    label: 'Stream errors',
    icon: '≋',
    cls: 'st-stream-errors',
    urgency: 4,
    meaning: 'Frames lost or corrupt: check the sensor link',
  },
  saturated: {
    label: 'Saturated',
    icon: '▮',
    cls: 'st-saturated',
    urgency: 3,
    meaning: 'Sensor at full scale: readings clipped',
  },
  silent: {
    label: 'Silent',
    icon: '⌀',
    cls: 'st-silent',
    urgency: 2,
    meaning: 'No data received recently',
  },
  watch: {
    label: 'Watch',
    icon: '◉',
    cls: 'st-watch',
    urgency: 1,
    meaning: 'Early signs: keep an eye on it',
  },
  starting: {
    label: 'Starting',
    icon: '…',
    cls: 'st-starting',
    urgency: -1,
    meaning: 'Gateway is starting this machine',
  },
  ok: { label: 'OK', icon: '✓', cls: 'st-ok', urgency: 0, meaning: 'No fault detected' },
};

const UNKNOWN: StateLook = {
  label: 'Unknown',
  icon: '?',
  cls: 'st-unknown',
  urgency: -1,
  meaning: 'No state yet',
};

/** Presentation of a state; unknown or missing states get a neutral look. */
export function stateLook(state: string | undefined | null): StateLook {
  return (state && LOOKS[state as HealthState]) || UNKNOWN;
}

/** Every state, most urgent first (for legends and filters). */
export const STATES_BY_URGENCY: HealthState[] = (Object.keys(LOOKS) as HealthState[]).sort(
  (a, b) => LOOKS[b].urgency - LOOKS[a].urgency,
);

export interface UrgencyKey {
  id: string;
  state?: string;
  confidence?: number;
}

/**
 * Sort comparator: most urgent state first, then higher fault confidence,
 * then machine id (stable, so tiles do not jump between equal machines).
 */
export function byUrgency(a: UrgencyKey, b: UrgencyKey): number {
  const d = stateLook(b.state).urgency - stateLook(a.state).urgency;
  if (d !== 0) return d;
  const c = (b.confidence ?? 0) - (a.confidence ?? 0);
  if (Math.abs(c) > 1e-9) return c;
  return a.id.localeCompare(b.id);
}

export type Freshness = 'live' | 'stale' | 'old' | 'none';

/**
 * How fresh a machine's latest data is: live within `staleMs` (default 5 s),
 * stale up to 6× that, old beyond; none without data.
 */
export function freshness(lastMs: number | undefined, nowMs: number, staleMs = 5_000): Freshness {
  if (lastMs === undefined || !Number.isFinite(lastMs)) return 'none';
  const age = nowMs - lastMs;
  if (age <= staleMs) return 'live';
  if (age <= 6 * staleMs) return 'stale';
  return 'old';
}
