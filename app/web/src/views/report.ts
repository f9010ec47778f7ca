/**
 * A printable condition report of one machine (`#/machine/<id>/report`):
 * its state and diagnosis, the last week's trend with alerts and model
 * changes marked, the last evidence with its envelope spectrum, and the
 * alerts with their acknowledgements. "Print / save as PDF" hands the page
 * to the browser's print dialog; the print stylesheet leaves the console's
 * chrome out and prints on white.
 */
import type uPlot from 'uplot';
import { stateBadge, zoneBadge } from '../badges.js';
import { envelopeChart } from '../charts/plots.js';
import type { ViewContext } from '../context.js';
import { bearingOf, defectMarkers } from '../defects.js';
import { h, setText, tableHead, type View } from '../dom.js';
import { dateTime, faultLabel, percent, timeZoneName, toMs, utc, withUnit } from '../format.js';
import { BASE_MEASURES, probMeasures, rangeWindow, timeMarkers } from '../trend-data.js';
import type { Alert, EnvelopePayload, MachineInfo } from '../types.js';
import { loadTrend, modelClasses } from './trend.js';
import { renderTrendCharts, type TrendCharts } from './trend-charts.js';

/** Fits the printable width of A4 with 12 mm margins at 96 px per inch. */
const REPORT_W = 680;

function row(label: string, value: Node | string): HTMLElement {
  return h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, value));
}

function alertTable(alerts: Alert[]): HTMLElement {
  if (!alerts.length) return h('p', { class: 'muted' }, 'No alerts in the report period.');
  return h(
    'table',
    { class: 'report-alerts' },
    tableHead(['Time', 'State', 'Fault', 'Reason', 'Acknowledged']),
    h(
      'tbody',
      {},
      ...alerts.map((a) => {
        const ack = a.acknowledged;
        return h(
          'tr',
          { 'data-alert': a.id, class: ack ? 'acked' : 'open' },
          h('td', { title: a.time }, dateTime(toMs(a.time))),
          h('td', {}, stateBadge(a.state)),
          h('td', {}, `${faultLabel(a.faultClass)} (${percent(a.confidence)})`),
          h('td', {}, a.reason),
          h(
            'td',
            { class: 'ack' },
            ack
              ? `${ack.by}, ${dateTime(toMs(ack.time))}${ack.comment ? ` — “${ack.comment}”` : ''}`
              : 'not acknowledged',
          ),
        );
      }),
    ),
  );
}

export function reportView(ctx: ViewContext, id: string): View {
  const w = rangeWindow('7d', Date.now());
  const state = h('tbody');
  const trendHost = h('div', { class: 'report-trend' });
  const envHost = h('div', { class: 'chart' });
  const envNote = h('p', { class: 'small' });
  const alertsHost = h('div');
  const printBtn = h(
    'button',
    { type: 'button', class: 'primary print no-print', onclick: () => window.print() },
    'Print / save as PDF',
  );
  const el = h(
    'article',
    { class: 'view report', 'data-machine': id },
    h(
      'header',
      { class: 'report-head' },
      h(
        'div',
        { class: 'no-print report-nav' },
        h('a', { href: `#/machine/${encodeURIComponent(id)}` }, `← ${id}`),
        ' · ',
        h('a', { href: `#/machine/${encodeURIComponent(id)}/trend` }, 'Trend'),
        printBtn,
      ),
      h('h1', {}, `Condition report — ${id}`),
      h(
        'p',
        { class: 'small' },
        `Generated ${dateTime(Date.now())} (${utc(Date.now())}); trend ${dateTime(w.since)} to ${dateTime(w.until)}.`,
      ),
    ),
    h(
      'section',
      { class: 'report-section' },
      h('h2', {}, 'State'),
      h('table', { class: 'report-state' }, state),
    ),
    h('section', { class: 'report-section' }, h('h2', {}, 'Trend, last 7 days'), trendHost),
    h(
      'section',
      { class: 'report-section' },
      h('h2', {}, 'Last evidence: envelope spectrum'),
      envHost,
      envNote,
    ),
    h(
      'section',
      { class: 'report-section' },
      h('h2', {}, 'Alerts and acknowledgements, last 7 days'),
      alertsHost,
    ),
  );

  let charts: TrendCharts | undefined;
  let env: EnvelopePayload | undefined;
  let markers = defectMarkers(bearingOf({ id }).geometry, undefined);
  const envChart: uPlot = envelopeChart(envHost, () => markers, REPORT_W, 200, 'amplitude (g)');
  ctx.view?.([id]); // the envelope spectrum comes with the live diagnoses of viewed machines

  function renderState(): void {
    const m = ctx.store.machines.get(id);
    const info: MachineInfo = m?.info ?? { id };
    const d = m?.last ?? info.diagnosis ?? undefined;
    state.replaceChildren(
      row('Machine', [info.id, info.description, info.line, info.site].filter(Boolean).join(' · ')),
      row('State', stateBadge(m?.state ?? info.state)),
      row('Since', m?.since ? dateTime(m.since) : '—'),
      row('Why', m?.reason ?? info.stateReason ?? '—'),
      row('Diagnosis', d ? `${faultLabel(d.faultClass)} (${percent(d.confidence)})` : '—'),
      row(
        'Velocity RMS',
        h('span', {}, withUnit(d?.velocityRmsMmS, 'mm/s', 2), ' ', zoneBadge(d?.isoZone)),
      ),
      row('Kurtosis', withUnit(d?.kurtosis, '', 2).trim()),
      row('Model', d?.modelVersion ?? info.model?.version ?? info.modelVersion ?? '—'),
    );
  }

  function renderEvidence(): void {
    const m = ctx.store.machines.get(id);
    const d = m?.last;
    if (d?.envelope?.amplitude?.length) env = d.envelope;
    const rpm = d?.rpm ?? m?.info.nominalRpm ?? m?.info.simulated?.rpm;
    markers = defectMarkers(bearingOf(m?.info ?? { id }).geometry, rpm ?? undefined);
    const ev = d?.evidence ?? m?.info.evidence ?? undefined;
    const evText = ev?.defect
      ? `${ev.defect} at ${ev.frequencyHz?.toFixed(1)} Hz, score ${(ev.score ?? ev.prominence ?? 0).toFixed(2)}`
      : 'no defect line stands out';
    const amp = env?.amplitude ?? [];
    const xs =
      env?.freqHz?.length === amp.length ? env.freqHz : amp.map((_, i) => i * (env?.df ?? 1));
    envChart.setData([xs, amp]);
    setText(
      envNote,
      amp.length
        ? `Last evidence: ${evText}${d ? ` (window of ${dateTime(d.t)})` : ''}. Dashed lines: bearing defect frequencies at ${rpm ? `${rpm.toFixed(0)} rpm` : 'unknown speed'}.`
        : `No envelope spectrum received yet (it comes with the next window that computes evidence); last evidence: ${evText}.`,
    );
    envHost.dataset.bins = String(amp.length);
  }

  async function load(): Promise<void> {
    el.dataset.state = 'loading';
    try {
      const info = await ctx.api.get<MachineInfo>(`/api/machines/${encodeURIComponent(id)}`);
      if (info?.id) ctx.store.setMachines([info]);
      const measures = [
        ...BASE_MEASURES.filter((m) => ['velocity_rms', 'kurtosis'].includes(m.id)),
        ...probMeasures(modelClasses(info)),
      ];
      const [answer, extra] = await loadTrend(ctx, id, measures, w);
      const marks = timeMarkers(extra.alerts, extra.audit, w);
      charts?.dispose();
      charts = renderTrendCharts(trendHost, answer, measures, {
        width: REPORT_W,
        height: 170,
        fit: false,
        xLabel: `time (${timeZoneName()})`,
        window: w,
        markers: () => marks,
      });
      alertsHost.replaceChildren(alertTable(extra.alerts));
      renderState();
      renderEvidence();
      el.dataset.state = 'ready';
    } catch (err) {
      el.dataset.state = 'error';
      ctx.notify(`Report: ${(err as Error).message}`, true);
    }
  }

  renderState();
  renderEvidence();
  void load();
  return {
    el,
    update: (kind, machine) => {
      if (machine !== undefined && machine !== id) return;
      renderState();
      if (kind === 'machine') renderEvidence();
    },
    escape: () => {
      ctx.navigate(`#/machine/${encodeURIComponent(id)}`);
      return true;
    },
    dispose: () => {
      ctx.view?.([]);
      charts?.dispose();
      envChart.destroy();
    },
  };
}
