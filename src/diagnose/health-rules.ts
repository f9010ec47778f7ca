/**
 * The window rules of the health state machine (./health.ts), pure over the
 * most recent windows: the fault probability of a window, the level the
 * k-of-n rules and the ISO zone floor support, the hysteresis that steps a
 * level down, saturation, and the fault class shown.
 */
import { type IsoZone, SEVERITIES, type Severity } from '../contract/health.js';
import type { HealthConfig } from './health-config.js';

/** What the rules keep of one window. */
export interface WindowEntry {
  /** Fault probability, 0–1. */
  p: number;
  zone: IsoZone;
  clipped: boolean;
  probs: Record<string, number>;
}

export const ZONE_RANK: Record<IsoZone, number> = { A: 0, B: 1, C: 2, D: 3 };
export const rank = (s: Severity): number => SEVERITIES.indexOf(s);

type Level = 'watch' | 'warning' | 'alarm';

/** The last `n` entries of `ring` (fewer when it holds fewer). */
export function lastN(ring: readonly WindowEntry[], n: number): WindowEntry[] {
  return ring.slice(Math.max(0, ring.length - n));
}

/**
 * Fault probability of a window: 1 − probs[normalClass], or, for a model
 * without that class, the sum of the probabilities (at most 1).
 */
export function faultProbability(probs: Record<string, number>, normalClass: string): number {
  const normal = probs[normalClass];
  return normal === undefined
    ? Math.min(
        1,
        Object.values(probs).reduce((a, b) => a + b, 0),
      )
    : Math.max(0, Math.min(1, 1 - normal));
}

/** Highest level supported by the k-of-n rules over `recent` windows, with its reason. */
export function supportedLevel(
  recent: readonly WindowEntry[],
  config: HealthConfig,
): { level: number; reason: string } {
  const { levels, zone } = config;
  let level = 0;
  let reason = '';
  for (let L = 3; L >= 1; L--) {
    const cfg = levels[SEVERITIES[L] as Level];
    const count = recent.filter((w) => w.p >= cfg.enter).length;
    if (count >= cfg.k) {
      level = L;
      reason = `fault p ≥ ${cfg.enter.toFixed(2)} in ${count} of last ${recent.length} windows`;
      break;
    }
  }
  for (const z of ['D', 'C'] as const) {
    const floor = rank(zone[z]);
    const count = recent.filter((w) => ZONE_RANK[w.zone] >= ZONE_RANK[z]).length;
    if (count >= zone.k && floor > level) {
      level = floor;
      reason = `ISO 20816 zone ${z} or worse in ${count} of last ${recent.length} windows`;
      break;
    }
  }
  return { level, reason };
}

/** Rank of the lowest zone whose floor is at least level L (+∞ when none). */
function zoneFloorsAtLeast(L: number, zone: HealthConfig['zone']): number {
  if (rank(zone.C) >= L) return ZONE_RANK.C;
  if (rank(zone.D) >= L) return ZONE_RANK.D;
  return Number.POSITIVE_INFINITY;
}

/**
 * The fault level after the latest window: up at once to what is supported;
 * down one level at a time while the last `clearWindows` windows are calm for
 * each level left, never below what is supported. `reason` is null when the
 * level stays.
 */
export function nextSeverity(
  severity: number,
  ring: readonly WindowEntry[],
  config: HealthConfig,
): { severity: number; reason: string | null } {
  const { level, reason } = supportedLevel(lastN(ring, config.windows), config);
  if (level > severity) return { severity: level, reason };
  const m = config.clearWindows;
  if (ring.length < m) return { severity, reason: null };
  const quiet = lastN(ring, m);
  let next = severity;
  while (next > level) {
    const exit = config.levels[SEVERITIES[next] as Level].exit;
    const zoneLimit = zoneFloorsAtLeast(next, config.zone);
    const calm = quiet.every((w) => w.p < exit && ZONE_RANK[w.zone] < zoneLimit);
    if (!calm) break;
    next--;
  }
  if (next < severity) {
    const exit = config.levels[SEVERITIES[severity] as Level].exit;
    return { severity: next, reason: `fault p < ${exit.toFixed(2)} for ${m} windows` };
  }
  return { severity, reason: null };
}

/**
 * Whether the machine is `saturated` after the latest window: entered when
 * `saturation.k` of the last n windows clipped, left after
 * `saturation.clearWindows` clean ones. `reason` is null when it stays.
 */
export function nextSaturated(
  saturated: boolean,
  ring: readonly WindowEntry[],
  config: HealthConfig,
): { saturated: boolean; reason: string | null } {
  const { k, clearWindows } = config.saturation;
  const recent = lastN(ring, config.windows);
  const clipped = recent.filter((w) => w.clipped).length;
  if (!saturated && clipped >= k) {
    return {
      saturated: true,
      reason: `clipped samples in ${clipped} of last ${recent.length} windows`,
    };
  }
  if (
    saturated &&
    ring.length >= clearWindows &&
    lastN(ring, clearWindows).every((w) => !w.clipped)
  ) {
    return { saturated: false, reason: `no clipping for ${clearWindows} windows` };
  }
  return { saturated, reason: null };
}

/** Fault class and confidence over the `recent` (debounce) windows. */
export function faultSummary(
  recent: readonly WindowEntry[],
  config: HealthConfig,
): { faultClass: string; confidence: number } {
  if (recent.length === 0) return { faultClass: config.normalClass, confidence: 0 };
  const confidence = recent.reduce((a, w) => a + w.p, 0) / recent.length;
  if (confidence < config.levels.watch.enter) {
    return { faultClass: config.normalClass, confidence };
  }
  // Sum each fault class's probability over the window; ties go to the
  // class seen first in insertion order, which is deterministic.
  const sums = new Map<string, number>();
  for (const w of recent) {
    for (const [k, v] of Object.entries(w.probs)) {
      if (k !== config.normalClass) sums.set(k, (sums.get(k) ?? 0) + v);
    }
  }
  let best = config.normalClass;
  let bestSum = -1;
  for (const [k, v] of sums) {
    if (v > bestSum) {
      best = k;
      bestSum = v;
    }
  }
  return { faultClass: best, confidence };
}
