/** Small pieces shared by views: state badge, zone badge, freshness. */
import { h } from './dom.js';
import { ago, clock, utc } from './format.js';
import { freshness, stateLook } from './health.js';

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
