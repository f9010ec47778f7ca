/**
 * Fleet overview: one tile per machine, most urgent first, with its state
 * (colour + glyph + word), diagnosed fault and confidence, ISO 20816 zone and
 * velocity, data freshness and a velocity sparkline. Tiles are focusable;
 * Enter or a click opens the machine.
 */
import { freshnessLabel, shelvedBadge, stateBadge, zoneBadge } from '../badges.js';
import { drawSparkline } from '../charts/sparkline.js';
import type { ViewContext } from '../context.js';
import { h, setText, type View } from '../dom.js';
import { faultLabel, percent, withUnit } from '../format.js';
import { byUrgency, STATES_BY_URGENCY, stateLook } from '../health.js';
import type { MachineLive } from '../store.js';

const SPARK_POINTS = 120;

/** The site and line a machine belongs to (line: from the gateway when it sends one, else none). */
export function siteOf(m: MachineLive): string {
  return String(m.info.site ?? m.last?.site ?? '—');
}
export function lineOf(m: MachineLive): string {
  return String(m.info.line ?? '—');
}

interface Tile {
  el: HTMLElement;
  badge: HTMLElement;
  fault: HTMLElement;
  /** Why the stream does not fit, shown while the machine is in `stream-mismatch`. */
  reason: HTMLElement;
  zone: HTMLElement;
  velocity: HTMLElement;
  fresh: HTMLElement;
  spark: HTMLCanvasElement;
  key: string;
}

export function fleetView(ctx: ViewContext): View {
  const { store } = ctx;
  const siteSel = h('select', { id: 'filter-site', 'aria-label': 'Filter by site' });
  const lineSel = h('select', { id: 'filter-line', 'aria-label': 'Filter by line' });
  const search = h('input', {
    type: 'search',
    id: 'filter-text',
    placeholder: 'Find machine…',
    'aria-label': 'Find machine by name',
  });
  const summary = h('div', { class: 'summary', role: 'status', 'aria-live': 'polite' });
  const grid = h('div', {
    class: 'tiles',
    role: 'list',
    'aria-label': 'Machines, most urgent first',
  });
  const empty = h('p', { class: 'empty' }, 'Waiting for the gateway to report machines…');
  const el = h(
    'section',
    { class: 'view fleet', 'aria-labelledby': 'fleet-title' },
    h(
      'div',
      { class: 'toolbar' },
      h('h1', { id: 'fleet-title' }, 'Fleet'),
      summary,
      h(
        'div',
        { class: 'filters' },
        h('label', {}, 'Site ', siteSel),
        h('label', {}, 'Line ', lineSel),
        search,
      ),
    ),
    grid,
    empty,
  );
  const tiles = new Map<string, Tile>();
  for (const s of [siteSel, lineSel]) s.addEventListener('change', () => update());
  search.addEventListener('input', () => update());

  function fillSelect(sel: HTMLSelectElement, values: string[]): void {
    const want = ['', ...values];
    const have = Array.from(sel.options).map((o) => o.value);
    if (want.join('\n') === have.join('\n')) return;
    const keep = sel.value;
    sel.replaceChildren(...want.map((v) => h('option', { value: v }, v === '' ? 'All' : v)));
    sel.value = want.includes(keep) ? keep : '';
    // A filter with one value filters nothing: disable it rather than hide it, so the layout stays put.
    sel.disabled = values.length <= 1;
  }

  function makeTile(m: MachineLive): Tile {
    const badge = h('span');
    const fault = h('div', { class: 'fault' });
    const reason = h('p', { class: 'reason', hidden: true });
    const zone = h('span');
    const velocity = h('span', { class: 'velocity' });
    const fresh = h('span');
    const spark = h('canvas', { class: 'spark', 'aria-hidden': 'true' });
    const el = h(
      'article',
      {
        class: 'tile',
        role: 'listitem',
        tabindex: 0,
        'data-machine': m.id,
        onclick: () => ctx.navigate(`#/machine/${encodeURIComponent(m.id)}`),
        onkeydown: (e: Event) => {
          const k = (e as KeyboardEvent).key;
          if (k === 'Enter' || k === ' ') {
            e.preventDefault();
            ctx.navigate(`#/machine/${encodeURIComponent(m.id)}`);
          }
        },
      },
      h('header', {}, h('h2', { class: 'name' }, m.id), badge),
      h('p', { class: 'desc' }, m.info.description ?? ''),
      fault,
      reason,
      h('div', { class: 'row' }, zone, velocity),
      h('figure', { class: 'trend' }, spark, h('figcaption', {}, 'velocity RMS, recent')),
      h('footer', {}, fresh),
    );
    return { el, badge, fault, reason, zone, velocity, fresh, spark, key: '' };
  }

  function updateTile(t: Tile, m: MachineLive, now: number): void {
    const d = m.last;
    const look = stateLook(m.state);
    const why = m.state === 'stream-mismatch' ? m.reason : undefined;
    const key = [
      m.state,
      m.info.shelved?.until,
      why,
      d?.t,
      d?.faultClass,
      d?.confidence,
      d?.isoZone,
      d?.velocityRmsMmS,
    ].join('|');
    if (key !== t.key) {
      t.key = key;
      t.el.className = `tile ${look.cls}`;
      t.badge.replaceChildren(stateBadge(m.state), ' ', shelvedBadge(m.info.shelved));
      // A machine whose stream never fitted has no diagnosis: its health summary's `normal` says nothing.
      const fc =
        d?.faultClass ??
        (m.state === 'stream-mismatch' ? undefined : (m.info.faultClass as string | undefined));
      const conf = d?.confidence ?? (m.info.confidence as number | undefined);
      setText(
        t.fault,
        fc
          ? `${faultLabel(fc)}${fc === 'normal' ? '' : ` · ${percent(conf)} confidence`}`
          : 'No diagnosis yet',
      );
      setText(t.reason, why ?? '');
      t.reason.hidden = !why;
      if (why) t.reason.title = why;
      t.zone.replaceChildren(zoneBadge(d?.isoZone));
      setText(t.velocity, withUnit(d?.velocityRmsMmS, 'mm/s', 2));
      t.el.setAttribute(
        'aria-label',
        `${m.id}: ${look.label}${why ? ` (${why})` : ''}. ${fc ? faultLabel(fc) : 'no diagnosis'}${conf !== undefined ? `, ${percent(conf)} confidence` : ''}. Zone ${d?.isoZone ?? 'unknown'}. Press Enter to open.`,
      );
      drawSparkline(
        t.spark,
        m.trend.tail('velocity', SPARK_POINTS),
        getComputedStyle(t.el).getPropertyValue('--state').trim() || '#58a6ff',
      );
    }
    t.fresh.replaceChildren(freshnessLabel(m.receivedAt, now));
  }

  function update(): void {
    const all = [...store.machines.values()];
    fillSelect(siteSel, [...new Set(all.map(siteOf))].sort());
    fillSelect(lineSel, [...new Set(all.map(lineOf))].sort());
    const text = search.value.trim().toLowerCase();
    const shown = all
      .filter(
        (m) =>
          (!siteSel.value || siteOf(m) === siteSel.value) &&
          (!lineSel.value || lineOf(m) === lineSel.value),
      )
      .filter(
        (m) =>
          !text ||
          m.id.toLowerCase().includes(text) ||
          (m.info.description ?? '').toLowerCase().includes(text),
      )
      .sort((a, b) =>
        byUrgency(
          { id: a.id, state: a.state, confidence: a.last?.confidence },
          { id: b.id, state: b.state, confidence: b.last?.confidence },
        ),
      );
    const now = Date.now();
    const focused = document.activeElement;
    shown.forEach((m, i) => {
      let t = tiles.get(m.id);
      if (!t) {
        t = makeTile(m);
        tiles.set(m.id, t);
      }
      updateTile(t, m, now);
      if (grid.children[i] !== t.el) grid.insertBefore(t.el, grid.children[i] ?? null);
    });
    while (grid.children.length > shown.length) grid.lastElementChild?.remove();
    // Re-ordering can blur a moved tile; give the keyboard user their focus back.
    if (focused instanceof HTMLElement && focused !== document.activeElement && focused.isConnected)
      focused.focus();
    setText(
      empty,
      all.length
        ? 'No machine matches the filters.'
        : 'Waiting for the gateway to report machines…',
    );
    empty.hidden = shown.length > 0;
    const counts = STATES_BY_URGENCY.map(
      (s) => [s, all.filter((m) => m.state === s).length] as const,
    ).filter(([, n]) => n > 0);
    summary.replaceChildren(
      ...counts.map(([s, n]) => {
        const l = stateLook(s);
        return h(
          'span',
          { class: `count ${l.cls}` },
          h('span', { 'aria-hidden': 'true' }, l.icon),
          ` ${n} ${l.label}`,
        );
      }),
    );
  }

  const timer = setInterval(update, 1000);
  update();
  return {
    el,
    update: () => update(),
    dispose: () => clearInterval(timer),
  };
}
