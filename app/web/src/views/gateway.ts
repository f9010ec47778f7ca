/**
 * Gateway health: ingest rate and frame errors and gaps per sensor, broker and
 * database connection state, inference latency, queue depths and the tfjs
 * backend in use, and the alarm rate per machine (./alarm-rate.ts). Polled every 2 s from `GET /api/gateway`; fields the
 * gateway does not report show as "—" with the raw pipeline figures below.
 */
import type { AlarmRate } from '../../../../src/contract/alarms.js';
import type { ViewContext } from '../context.js';
import { h, tableHead, type View } from '../dom.js';
import { dateTime, toMs, utc, withUnit } from '../format.js';
import { alarmRatePanel } from './alarm-rate.js';

type Json = Record<string, unknown>;

const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

/** Finds the first numeric field whose dotted path matches `re` anywhere in `obj` (depth ≤ 4). */
export function findNumber(
  obj: unknown,
  re: RegExp,
  depth = 0,
  prefix = '',
): { path: string; value: number } | undefined {
  if (!obj || typeof obj !== 'object' || depth > 4) return undefined;
  for (const [k, v] of Object.entries(obj as Json)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'number' && Number.isFinite(v) && re.test(p)) return { path: p, value: v };
  }
  for (const [k, v] of Object.entries(obj as Json)) {
    const r = findNumber(v, re, depth + 1, prefix ? `${prefix}.${k}` : k);
    if (r) return r;
  }
  return undefined;
}

/** Finds the first string field whose key matches `re`. */
export function findString(obj: unknown, re: RegExp, depth = 0): string | undefined {
  if (!obj || typeof obj !== 'object' || depth > 4) return undefined;
  for (const [k, v] of Object.entries(obj as Json))
    if (typeof v === 'string' && re.test(k)) return v;
  for (const v of Object.values(obj as Json)) {
    const r = findString(v, re, depth + 1);
    if (r) return r;
  }
  return undefined;
}

function connState(connected: unknown): HTMLElement {
  const ok = connected === true;
  return h(
    'span',
    { class: `conn ${ok ? 'up' : 'down'}` },
    h('span', { 'aria-hidden': 'true' }, ok ? '● ' : '✖ '),
    ok ? 'connected' : 'disconnected',
  );
}

function card(title: string, ...rows: [string, HTMLElement | string][]): HTMLElement {
  return h(
    'section',
    { class: 'panel card' },
    h('h2', {}, title),
    h('dl', { class: 'kv' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
  );
}

/** Flattens an object into `a.b.c = value` rows for the raw figures list. */
function flatten(
  obj: unknown,
  prefix = '',
  out: [string, string][] = [],
  depth = 0,
): [string, string][] {
  if (obj === null || obj === undefined) return out;
  if (typeof obj !== 'object' || depth > 3) {
    out.push([
      prefix,
      typeof obj === 'number' ? String(Math.round(obj * 1000) / 1000) : String(obj),
    ]);
    return out;
  }
  for (const [k, v] of Object.entries(obj as Json))
    flatten(v, prefix ? `${prefix}.${k}` : k, out, depth + 1);
  return out;
}

export function gatewayView(ctx: ViewContext): View {
  const body = h(
    'div',
    { class: 'gw-body' },
    h('p', { class: 'muted' }, 'Loading gateway health…'),
  );
  const el = h(
    'section',
    { class: 'view gateway', 'aria-labelledby': 'gw-title' },
    h('div', { class: 'toolbar' }, h('h1', { id: 'gw-title' }, 'Gateway health')),
    body,
  );

  function render(g: Json): void {
    const broker = (g.broker ?? {}) as Json;
    const store = (g.store ?? {}) as Json;
    const alerts = (g.alerts ?? {}) as Json;
    const pipeline = (g.pipeline ?? {}) as Json;
    const ingest = (g.ingest ?? {}) as { perSensor?: Record<string, Json>; sources?: Json[] };
    const backend = findString(pipeline, /backend/i) ?? findString(g, /backend/i) ?? '—';
    const latency =
      findNumber(pipeline, /latency.*(p50|mean|avg|median)|(p50|mean|avg).*latency/i) ??
      findNumber(pipeline, /latency/i);
    const latency95 = findNumber(pipeline, /latency.*(p95|p99|max)|(p95|p99|max).*latency/i);
    const queue = findNumber(pipeline, /queue|pending|inflight|in_flight/i);
    const started = toMs(g.startedAt as string);
    const sensors = Object.entries(ingest.perSensor ?? {});
    // The pipeline reports samples/s keyed `site/machine/sensor`; perSensor is keyed `machine/sensor`.
    const samples = (pipeline.ingestSamplesPerS ?? {}) as Record<string, number>;
    const samplesOf = (k: string) =>
      num(samples[`${String(g.site ?? '')}/${k}`]) ?? num(samples[k]);
    body.replaceChildren(
      h(
        'div',
        { class: 'cards' },
        card(
          'Gateway',
          ['Site', String(g.site ?? '—')],
          ['Gateway id', String(g.gatewayId ?? '—')],
          ['Started', h('span', { title: utc(started) }, dateTime(started))],
          ['Uptime', withUnit(num(g.uptimeS), 's', 0)],
        ),
        card(
          'MQTT broker',
          ['State', connState(broker.connected)],
          ['URL', String(broker.url ?? '—')],
          ['Embedded', broker.embedded ? 'yes' : 'no'],
          ['Clients', String(broker.clients ?? '—')],
          ['Alerts queued', String(alerts.queued ?? '—')],
        ),
        card(
          `History database (${String(store.kind ?? '—')})`,
          ['State', connState(store.connected)],
          ['Queued points', String(store.queued ?? '—')],
          ['Pending points', String(store.pendingPoints ?? '—')],
          ['Dropped / rejected', `${store.dropped ?? '—'} / ${store.rejected ?? '—'}`],
          ['Last error', String(store.lastError ?? 'none')],
        ),
        card(
          'Inference',
          ['Backend', backend],
          ['Latency', latency ? `${latency.value.toFixed(1)} ms` : '—'],
          ['Latency (tail)', latency95 ? `${latency95.value.toFixed(1)} ms` : '—'],
          ['Queue depth', queue ? `${queue.value} (${queue.path})` : '—'],
        ),
      ),
      h(
        'section',
        { class: 'panel' },
        h('h2', {}, 'Ingest per sensor'),
        h(
          'table',
          { class: 'sensors' },
          tableHead(
            [
              'Sensor (machine/id)',
              'Rate (frames/s)',
              'Rate (samples/s)',
              'Frames',
              'Frame errors',
              'Gaps (missing frames)',
            ],
            1,
          ),
          h(
            'tbody',
            {},
            ...sensors.map(([k, s]) => {
              const bad = num(s.badFrames) ?? 0;
              const gaps = num(s.gaps) ?? 0;
              return h(
                'tr',
                { class: bad + gaps > 0 ? 'warn' : '' },
                h('td', {}, k),
                h('td', { class: 'num' }, (num(s.framesPerS) ?? 0).toFixed(1)),
                h('td', { class: 'num' }, samplesOf(k)?.toFixed(0) ?? '—'),
                h('td', { class: 'num' }, String(s.frames ?? '—')),
                h('td', { class: 'num' }, bad ? `▲ ${bad}` : '0'),
                h('td', { class: 'num' }, gaps ? `▲ ${gaps}` : '0'),
              );
            }),
          ),
        ),
      ),
      ...[alarmRatePanel(g.alarmRate as AlarmRate | undefined)].filter((p) => p !== null),
      h(
        'details',
        { class: 'panel raw' },
        h('summary', {}, 'All pipeline and link figures'),
        h(
          'dl',
          { class: 'kv small' },
          ...flatten({ pipeline, sources: ingest.sources, alerts }).flatMap(([k, v]) => [
            h('dt', {}, k),
            h('dd', {}, v),
          ]),
        ),
      ),
    );
  }

  let open = true;
  const poll = () =>
    ctx.api
      .get<Json>('/api/gateway')
      .then((g) => {
        if (!open) return;
        // Keep the raw-figures <details> open across refreshes.
        const wasOpen = body.querySelector('details')?.open ?? false;
        render(g);
        const d = body.querySelector('details');
        if (d) d.open = wasOpen;
      })
      .catch((err: Error) => ctx.notify(`Gateway health: ${err.message}`, true));
  void poll();
  const timer = setInterval(poll, 2000);
  return {
    el,
    update: () => {},
    dispose: () => {
      open = false;
      clearInterval(timer);
    },
  };
}
