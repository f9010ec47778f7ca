/**
 * A history chart: per measure, the mean as a line over a band from the
 * bucket's min to its max; alerts and model changes marked on the time axis
 * (DOM marks over the plot, so they carry a tooltip and can be found);
 * drag across the plot to zoom (the caller refetches at a finer step).
 */
import uPlot from 'uplot';
import type { BandColumns, TimeMarker, TrendMeasure } from '../trend-data.js';

/** Line colours that read on the dark console and on paper alike. */
export const BAND_COLORS = [
  '#58a6ff',
  '#f0883e',
  '#3fb950',
  '#a371f7',
  '#f85149',
  '#39c5cf',
  '#d29922',
];

const AXIS = {
  stroke: '#8b9bab',
  grid: { stroke: 'rgba(120,140,160,0.25)', width: 1 },
  ticks: { stroke: 'rgba(120,140,160,0.25)', width: 1 },
};

/** `#58a6ff` → `rgba(88,166,255,a)`. */
function alpha(hex: string, a: number): string {
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

export interface BandChartOptions {
  measures: readonly TrendMeasure[];
  width: number;
  height: number;
  /** Time axis label, e.g. `time (CET)`. */
  xLabel: string;
  yLabel: string;
  /** The x range, ms (the window asked for, so a gap at either end shows as one). */
  xRange: [number, number];
  /** Fixed y range (probabilities 0–1, ISO zones 1–4); default from the data. */
  yRange?: [number, number];
  /** Tick text of the y axis (e.g. zone letters). */
  yTick?: (v: number) => string;
  /** The marks to draw, read on every redraw. */
  markers: () => readonly TimeMarker[];
  /** Called with the window the operator dragged across, ms; absent: no zoom. */
  onZoom?: (since: number, until: number) => void;
}

/** Places the marks in the plot's overlay at their times (hidden outside the x range). */
function placeMarkers(u: uPlot, host: HTMLElement, markers: readonly TimeMarker[]): void {
  const xMin = (u.scales.x.min ?? 0) * 1000;
  const xMax = (u.scales.x.max ?? 0) * 1000;
  const inside = markers.filter((m) => m.t >= xMin && m.t <= xMax);
  while (host.children.length > inside.length) host.lastElementChild?.remove();
  inside.forEach((m, i) => {
    let el = host.children[i] as HTMLElement | undefined;
    if (!el) {
      el = document.createElement('div');
      el.append(document.createElement('span'));
      host.append(el);
    }
    el.className = `time-mark mark-${m.kind}${m.state ? ` state-${m.state}` : ''}`;
    el.dataset.kind = m.kind;
    el.dataset.t = String(m.t);
    el.title = m.title;
    el.style.left = `${u.valToPos(m.t / 1000, 'x')}px`;
    (el.firstElementChild as HTMLElement).textContent = m.kind === 'alert' ? '▲' : '◆';
  });
}

/**
 * Builds the chart into `el`; feed it with `setData([x, …per measure min, mean, max])`
 * (x in s since the epoch), e.g. from `bandData`.
 */
export function bandChart(el: HTMLElement, o: BandChartOptions): uPlot {
  const series: uPlot.Series[] = [{ label: 'time' }];
  const bands: uPlot.Band[] = [];
  o.measures.forEach((m, i) => {
    const color = BAND_COLORS[i % BAND_COLORS.length];
    const fmt = (_u: uPlot, v: number | null) =>
      v === null || !Number.isFinite(v)
        ? '—'
        : `${v.toFixed(m.digits)}${m.unit ? ` ${m.unit}` : ''}`;
    const base = 1 + i * 3;
    series.push(
      {
        label: `${m.label} min`,
        stroke: alpha(color, 0.45),
        width: 0.5,
        value: fmt,
        points: { show: false },
      },
      { label: `${m.label} mean`, stroke: color, width: 1.5, value: fmt, points: { show: false } },
      {
        label: `${m.label} max`,
        stroke: alpha(color, 0.45),
        width: 0.5,
        value: fmt,
        points: { show: false },
      },
    );
    bands.push({ series: [base + 2, base], fill: alpha(color, 0.18) });
  });
  const marks = document.createElement('div');
  marks.className = 'time-marks';
  const u = new uPlot(
    {
      width: o.width,
      height: o.height,
      series,
      bands,
      legend: { live: true },
      cursor: { drag: { x: Boolean(o.onZoom), y: false, setScale: false } },
      scales: {
        x: { time: true, range: [o.xRange[0] / 1000, o.xRange[1] / 1000] },
        y: o.yRange ? { range: o.yRange } : { auto: true },
      },
      axes: [
        { ...AXIS, label: o.xLabel, labelSize: 18, size: 36 },
        {
          ...AXIS,
          label: o.yLabel,
          labelSize: 18,
          values: o.yTick ? (_u, vs) => vs.map((v) => o.yTick?.(v) ?? String(v)) : undefined,
        },
      ],
      hooks: {
        init: [(p) => p.over.append(marks)],
        draw: [(p) => placeMarkers(p, marks, o.markers())],
        setSelect: [
          (p) => {
            const { left, width } = p.select;
            if (!o.onZoom || width < 3) return;
            const since = p.posToVal(left, 'x') * 1000;
            const until = p.posToVal(left + width, 'x') * 1000;
            p.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            o.onZoom(since, until);
          },
        ],
      },
    },
    [[], ...series.slice(1).map(() => [])],
    el,
  );
  return u;
}

/** uPlot's data for `bandChart` from aligned columns, in the order of `measures`. */
export function bandData(
  x: number[],
  cols: Record<string, BandColumns>,
  measures: readonly TrendMeasure[],
): uPlot.AlignedData {
  const out: (number | null)[][] = [];
  for (const m of measures) {
    const c = cols[m.id] ?? { min: [], mean: [], max: [] };
    out.push(c.min, c.mean, c.max);
  }
  return [x, ...out] as uPlot.AlignedData;
}
