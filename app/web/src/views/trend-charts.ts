/**
 * The history charts of one answer, one panel per measure group (each
 * measure on its own axis, the class probabilities together): used by the
 * trend view (zoomable, resizing) and the condition report (fixed width).
 */
import type uPlot from 'uplot';
import { bandChart, bandData } from '../charts/band.js';
import { fitWidth } from '../charts/plots.js';
import { h } from '../dom.js';
import {
  alignBands,
  groupTitle,
  type HistoryAnswer,
  PROB_GROUP,
  type TimeMarker,
  type TrendMeasure,
  type Window,
} from '../trend-data.js';

export interface TrendChartsOptions {
  /** Width of each chart, px; with `fit`, only the first width. */
  width: number;
  height: number;
  /** Follow the panel's width (the trend view); the report keeps `width`. */
  fit: boolean;
  xLabel: string;
  /** The window shown, ms. */
  window: Window;
  markers: () => readonly TimeMarker[];
  onZoom?: (since: number, until: number) => void;
}

/** The charts made, and how to take them down. */
export interface TrendCharts {
  charts: uPlot[];
  dispose(): void;
}

/** Groups `measures` by chart, keeping their order. */
function groups(measures: readonly TrendMeasure[]): TrendMeasure[][] {
  const by = new Map<string, TrendMeasure[]>();
  for (const m of measures) by.set(m.group, [...(by.get(m.group) ?? []), m]);
  return [...by.values()];
}

/** Replaces `host`'s content with a panel per group of `measures`, drawn from `answer`. */
export function renderTrendCharts(
  host: HTMLElement,
  answer: Pick<HistoryAnswer, 'series'>,
  measures: readonly TrendMeasure[],
  o: TrendChartsOptions,
): TrendCharts {
  const charts: uPlot[] = [];
  const cleanups: (() => void)[] = [];
  const panels: HTMLElement[] = [];
  for (const g of groups(measures)) {
    const group = g[0].group;
    const chartHost = h('div', { class: 'chart' });
    const { x, cols } = alignBands(
      answer,
      g.map((m) => m.id),
    );
    const buckets = x.length;
    const panel = h(
      'section',
      { class: 'panel trend-panel', 'data-group': group, 'data-buckets': buckets },
      h('h2', {}, groupTitle(group, g)),
      chartHost,
      buckets ? null : h('p', { class: 'muted small no-data' }, 'No data in this window.'),
    );
    panels.push(panel);
    host.append(panel);
    const zone = group === 'iso_zone';
    const u = bandChart(chartHost, {
      measures: g,
      width: o.fit ? Math.max(300, chartHost.clientWidth || o.width) : o.width,
      height: o.height,
      xLabel: o.xLabel,
      xRange: [o.window.since, o.window.until],
      yLabel: group === PROB_GROUP ? 'probability' : g[0].unit || g[0].label,
      yRange: group === PROB_GROUP ? [0, 1] : zone ? [0.5, 4.5] : undefined,
      yTick: zone
        ? (v) => (Number.isInteger(v) && v >= 1 && v <= 4 ? 'ABCD'[v - 1] : '')
        : undefined,
      markers: o.markers,
      onZoom: o.onZoom,
    });
    u.setData(bandData(x, cols, g));
    charts.push(u);
    if (o.fit) cleanups.push(fitWidth(u, chartHost, o.height));
  }
  return {
    charts,
    dispose: () => {
      for (const c of cleanups) c();
      for (const c of charts) c.destroy();
      for (const p of panels) p.remove();
    },
  };
}
