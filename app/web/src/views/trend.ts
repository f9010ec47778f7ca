/**
 * A machine's history (`#/machine/<id>/trend`): the chosen measures over the
 * last hour, day, week or month as min/mean/max bands, alerts and model
 * changes marked on the time axis. Drag across a chart to zoom in (fetched
 * again at a finer step), "Reset zoom" to go back; "Export CSV" downloads the
 * buckets shown. Esc goes back to the machine.
 */
import type { ViewContext } from '../context.js';
import { h, setText, type View } from '../dom.js';
import { dateTime, timeZoneName, utc } from '../format.js';
import {
  alertsPath,
  BASE_MEASURES,
  bucketCount,
  csvFileName,
  type HistoryAnswer,
  historyCsv,
  historyPath,
  PROB_GROUP,
  type PromotionRecord,
  probMeasures,
  RANGES,
  type RangeId,
  rangeWindow,
  spanLabel,
  stepLabel,
  type TimeMarker,
  type TrendMeasure,
  timeMarkers,
  type Window,
} from '../trend-data.js';
import type { Alert, MachineInfo } from '../types.js';
import { renderTrendCharts, type TrendCharts } from './trend-charts.js';

const CHART_H = 200;
/** Shown at first: the ISO quantity, the impulsiveness and the model's verdict. */
const DEFAULT_CHOICE = new Set(['velocity_rms', 'kurtosis', PROB_GROUP]);

/** Alerts, model changes and classes of one machine, fetched once per load. */
export async function machineContext(
  ctx: ViewContext,
  id: string,
  w: Window,
): Promise<{ alerts: Alert[]; audit: PromotionRecord[] }> {
  const [alerts, models] = await Promise.all([
    ctx.api.get<Alert[]>(alertsPath(id, w)),
    ctx.api
      .get<{ audit?: Record<string, PromotionRecord[]> }>('/api/models')
      .catch(() => ({ audit: {} as Record<string, PromotionRecord[]> })),
  ]);
  return { alerts: Array.isArray(alerts) ? alerts : [], audit: models.audit?.[id] ?? [] };
}

/** The history of `measures` over `w`, with the machine's alerts and model changes. */
export function loadTrend(
  ctx: ViewContext,
  id: string,
  measures: readonly TrendMeasure[],
  w: Window,
): Promise<[HistoryAnswer, Awaited<ReturnType<typeof machineContext>>]> {
  return Promise.all([
    ctx.api.get<HistoryAnswer>(
      historyPath(
        id,
        measures.map((m) => m.id),
        w,
      ),
    ),
    machineContext(ctx, id, w),
  ]);
}

/** The model's classes (`prob.<class>` measures); the operator's four when the gateway names none. */
export function modelClasses(info: MachineInfo | undefined): string[] {
  const c = info?.model?.classes;
  return Array.isArray(c) && c.length ? c : ['normal', 'inner race', 'outer race', 'ball'];
}

export function trendView(ctx: ViewContext, id: string): View {
  let range: RangeId = '7d';
  /** The zoomed window, or undefined for the range ending now. */
  let zoom: Window | undefined;
  let classes = modelClasses(ctx.store.machines.get(id)?.info);
  const chosen = new Set(DEFAULT_CHOICE);
  let shown: { answer: HistoryAnswer; measures: TrendMeasure[]; window: Window } | undefined;
  let charts: TrendCharts | undefined;
  let markers: TimeMarker[] = [];
  let seq = 0;

  const rangeButtons = RANGES.map((r) =>
    h(
      'button',
      {
        type: 'button',
        class: 'range',
        'data-range': r.id,
        'aria-pressed': 'false',
        onclick: () => {
          range = r.id;
          zoom = undefined;
          void load();
        },
      },
      r.label,
    ),
  );
  const reset = h(
    'button',
    {
      type: 'button',
      class: 'reset-zoom',
      disabled: true,
      onclick: () => {
        zoom = undefined;
        void load();
      },
    },
    'Reset zoom',
  );
  const exportBtn = h(
    'button',
    { type: 'button', class: 'export-csv', disabled: true, onclick: () => exportCsv() },
    'Export CSV',
  );
  const choices = h('fieldset', { class: 'measure-choice' }, h('legend', {}, 'Measures'));
  const status = h('p', { class: 'trend-status muted small', role: 'status' });
  const legend = h(
    'p',
    { class: 'muted small' },
    'Line: mean per step; band: min to max. ',
    h('span', { class: 'time-mark-key mark-alert' }, '▲'),
    ' alert, ',
    h('span', { class: 'time-mark-key mark-model' }, '◆'),
    ' model change (hover for details). Drag across a chart to zoom in.',
  );
  const chartsHost = h('div', { class: 'trend-charts' });
  const el = h(
    'section',
    { class: 'view trend', 'data-machine': id },
    h(
      'div',
      { class: 'machine-head' },
      h(
        'button',
        {
          class: 'back',
          type: 'button',
          title: 'Back to the machine (Esc)',
          onclick: () => back(),
        },
        `← ${id}`,
      ),
      h('div', { class: 'title' }, h('h1', {}, `${id} — trend`)),
      h(
        'a',
        { href: `#/machine/${encodeURIComponent(id)}/report`, class: 'report-link' },
        'Condition report',
      ),
    ),
    h(
      'div',
      { class: 'trend-toolbar' },
      h('div', { class: 'ranges', role: 'group', 'aria-label': 'Range' }, ...rangeButtons),
      reset,
      exportBtn,
    ),
    choices,
    legend,
    status,
    chartsHost,
  );

  const back = () => ctx.navigate(`#/machine/${encodeURIComponent(id)}`);

  function renderChoices(): void {
    const items: [string, string][] = [
      ...BASE_MEASURES.map((m): [string, string] => [m.id, m.label]),
      [PROB_GROUP, 'Fault probabilities'],
    ];
    choices.replaceChildren(
      h('legend', {}, 'Measures'),
      ...items.map(([key, label]) => {
        const box = h('input', {
          type: 'checkbox',
          name: 'measure',
          value: key,
          checked: chosen.has(key),
        });
        box.addEventListener('change', () => {
          if (box.checked) chosen.add(key);
          else chosen.delete(key);
          void load();
        });
        return h('label', {}, box, ` ${label}`);
      }),
    );
  }

  function measures(): TrendMeasure[] {
    return [
      ...BASE_MEASURES.filter((m) => chosen.has(m.id)),
      ...(chosen.has(PROB_GROUP) ? probMeasures(classes) : []),
    ];
  }

  async function load(): Promise<void> {
    const my = ++seq;
    const w = zoom ?? rangeWindow(range, Date.now());
    for (const b of rangeButtons)
      b.setAttribute('aria-pressed', String(!zoom && b.dataset.range === range));
    reset.disabled = !zoom;
    const ms = measures();
    if (!ms.length) {
      charts?.dispose();
      charts = undefined;
      shown = undefined;
      exportBtn.disabled = true;
      setText(status, 'Choose at least one measure.');
      return;
    }
    setText(status, `Loading ${spanLabel(w.until - w.since)}…`);
    el.dataset.state = 'loading';
    try {
      const [answer, extra] = await loadTrend(ctx, id, ms, w);
      if (my !== seq) return; // a newer load started meanwhile
      markers = timeMarkers(extra.alerts, extra.audit, w);
      shown = { answer, measures: ms, window: w };
      charts?.dispose();
      charts = renderTrendCharts(chartsHost, answer, ms, {
        width: chartsHost.clientWidth || 900,
        height: CHART_H,
        fit: true,
        xLabel: `time (${timeZoneName()})`,
        window: w,
        markers: () => markers,
        onZoom: (since, until) => {
          if (until - since < 60_000) return; // a click, not a window
          zoom = { since, until };
          void load();
        },
      });
      const n = bucketCount(
        answer,
        ms.map((m) => m.id),
      );
      exportBtn.disabled = n === 0;
      setText(
        status,
        `${zoom ? 'Zoomed: ' : ''}${spanLabel(w.until - w.since)} from ${dateTime(w.since)} to ${dateTime(w.until)}, step ${stepLabel(answer.stepMs)} (${answer.source === 'hourly' ? 'hourly rollup' : 'raw windows'}), ${n} buckets, ${markers.length} marks.`,
      );
      status.title = `${utc(w.since)} – ${utc(w.until)}`;
      el.dataset.state = 'ready';
    } catch (err) {
      if (my !== seq) return;
      el.dataset.state = 'error';
      setText(status, `History: ${(err as Error).message}`);
      ctx.notify(`History: ${(err as Error).message}`, true);
    }
  }

  /** Downloads the buckets shown as CSV (the browser saves it; nothing goes back to the gateway). */
  function exportCsv(): void {
    if (!shown) return;
    const csv = historyCsv(
      shown.answer,
      shown.measures.map((m) => m.id),
    );
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
    const a = h('a', { href: url, download: csvFileName(id, shown.window), hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  renderChoices();
  ctx.api
    .get<MachineInfo>(`/api/machines/${encodeURIComponent(id)}`)
    .then((info) => {
      if (info?.id) {
        ctx.store.setMachines([info]);
        classes = modelClasses(info);
      }
    })
    .catch((err: Error) => ctx.notify(`Machine ${id}: ${err.message}`, true))
    .finally(() => void load());
  return {
    el,
    update: () => {},
    escape: () => {
      back();
      return true;
    },
    dispose: () => {
      seq++;
      charts?.dispose();
    },
  };
}
