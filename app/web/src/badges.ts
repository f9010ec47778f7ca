/** Small pieces shared by views: state badge, zone badge, freshness. */
import { h } from './dom.js';
import { ago, clock, dateTime, utc } from './format.js';
import { freshness, stateLook } from './health.js';
import type { Shelf } from './types.js';

/** A state badge: glyph + label, coloured, with the meaning as tooltip. */
export function stateBadge(state: string | undefined): HTMLSpanElement {
  const look = stateLook(state);
  return h(
    'span',
    { class: `badge ${look.cls}`, title: look.meaning, 'data-state': state ?? 'unknown' },
    h('span', { class: 'icon', 'aria-hidden': 'true' }, look.icon),
    ` ${look.label}`,
  );
}

/** `‖ Shelved until 14:00` with who and why as tooltip; nothing when not shelved. */
export function shelvedBadge(shelf: Shelf | null | undefined): HTMLSpanElement | string {
  if (!shelf) return '';
  const until = Date.parse(shelf.until);
  return h(
    'span',
    {
      class: 'badge shelved',
      'data-shelved': 'true',
      title: `Shelved by ${shelf.by}: ${shelf.reason}. No alerts or notifications until ${dateTime(until)} (${utc(until)}); still diagnosed.`,
    },
    h('span', { class: 'icon', 'aria-hidden': 'true' }, '‖'),
    ` Shelved until ${until - Date.now() < 86_400_000 ? clock(until, false) : dateTime(until)}`,
  );
}

/** ISO 20816 zone letter with its meaning. */
export function zoneBadge(zone: string | undefined): HTMLSpanElement {
  const meaning: Record<string, string> = {
    A: 'Zone A: newly commissioned condition',
    B: 'Zone B: unrestricted long-term operation',
    C: 'Zone C: not for long-term operation',
    D: 'Zone D: damage likely',
  };
  return h(
    'span',
    {
      class: `zone zone-${zone ?? 'none'}`,
      title: zone ? meaning[zone] : 'no velocity reading yet',
    },
    zone ? `ISO ${zone}` : 'ISO —',
  );
}

/** `● live · 3 s ago` with the absolute time (local and UTC) as tooltip. */
export function freshnessLabel(lastMs: number | undefined, now: number): HTMLSpanElement {
  const f = freshness(lastMs, now);
  const icon = { live: '●', stale: '◐', old: '○', none: '○' }[f];
  const text = { live: 'live', stale: 'stale', old: 'no recent data', none: 'no data yet' }[f];
  return h(
    'span',
    {
      class: `fresh fresh-${f}`,
      title:
        lastMs === undefined ? 'no data received' : `last data ${clock(lastMs)} (${utc(lastMs)})`,
    },
    h('span', { 'aria-hidden': 'true' }, icon),
    ` ${text}${lastMs === undefined ? '' : ` · ${ago(lastMs, now)}`}`,
  );
}
