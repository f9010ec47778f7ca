/**
 * uPlot charts of the machine and adaptation views. Colours follow the CSS
 * theme; every chart has a legend with units, so no value is read off a
 * colour alone.
 */
import uPlot from 'uplot';

export const CLASS_COLORS: Record<string, string> = {
  normal: '#3fb950',
  'inner race': '#f85149',
  'outer race': '#d29922',
  ball: '#a371f7',
};

const AXIS = {
  stroke: '#9fb0c0',
  grid: { stroke: '#223041', width: 1 },
  ticks: { stroke: '#223041', width: 1 },
};

function baseOpts(
  width: number,
  height: number,
  title?: string,
): Pick<uPlot.Options, 'width' | 'height' | 'title' | 'cursor' | 'legend'> {
  return { width, height, title, cursor: { drag: { x: false, y: false } }, legend: { live: true } };
}

/** Local-time axis values (uPlot's default already uses local time; the caption names the zone). */
function timeAxis(label: string): uPlot.Axis {
  return { ...AXIS, label, labelSize: 18, size: 36 };
}

/** Class probabilities over time: x in s since epoch, one 0–1 line per class. */
export function probabilityChart(
  el: HTMLElement,
  classes: string[],
  width: number,
  height: number,
  tzLabel: string,
): uPlot {
  return new uPlot(
    {
      ...baseOpts(width, height),
      scales: { x: { time: true }, y: { range: [0, 1] } },
      axes: [
        timeAxis(`time (${tzLabel})`),
        {
          ...AXIS,
          label: 'probability',
          labelSize: 18,
          values: (_u, v) => v.map((x) => `${Math.round(x * 100)} %`),
        },
      ],
      series: [
        { label: 'time' },
        ...classes.map((c) => ({
          label: c,
          stroke: CLASS_COLORS[c] ?? '#58a6ff',
          width: 1.5,
          value: (_u: uPlot, v: number | null) =>
            v === null || !Number.isFinite(v) ? '—' : `${(v * 100).toFixed(0)} %`,
        })),
      ],
    },
    [[], ...classes.map(() => [])],
    el,
  );
}

/** Zone colours, A (good) … D (damage likely); translucent so the trend stays readable. */
const ZONE_FILL = [
  'rgba(63,185,80,0.10)',
  'rgba(88,166,255,0.08)',
  'rgba(210,153,34,0.14)',
  'rgba(248,81,73,0.16)',
];
const ZONE_TEXT = ['#3fb950', '#58a6ff', '#d29922', '#f85149'];

/**
 * Velocity RMS trend (mm/s) over ISO 20816 zone bands drawn under the line,
 * each labelled with its letter (A–D) and boundary.
 * @param boundaries [A/B, B/C, C/D] in mm/s
 */
export function velocityChart(
  el: HTMLElement,
  boundaries: readonly number[],
  width: number,
  height: number,
  tzLabel: string,
): uPlot {
  const [ab, bc, cd] = boundaries;
  return new uPlot(
    {
      ...baseOpts(width, height),
      scales: {
        x: { time: true },
        // Always show up to a bit above C/D so the zones are visible even on a quiet machine.
        y: {
          range: (_u, _min, max) => [
            0,
            Math.max(cd * 1.25, (Number.isFinite(max) ? max : 0) * 1.1),
          ],
        },
      },
      axes: [
        timeAxis(`time (${tzLabel})`),
        { ...AXIS, label: 'velocity RMS (mm/s)', labelSize: 18 },
      ],
      series: [
        { label: 'time' },
        {
          label: 'velocity RMS',
          stroke: '#e6edf3',
          width: 1.5,
          value: (_u, v) => (v === null ? '—' : `${v.toFixed(2)} mm/s`),
        },
      ],
      hooks: {
        drawClear: [
          (u) => {
            const { ctx, bbox } = u;
            const edges = [0, ab, bc, cd, Number.POSITIVE_INFINITY];
            ctx.save();
            // uPlot leaves its axis text alignment on the context: set ours.
            ctx.textAlign = 'left';
            ctx.textBaseline = 'alphabetic';
            ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
            for (let z = 0; z < 4; z++) {
              const yTop = u.valToPos(
                Math.min(edges[z + 1], u.scales.y.max ?? cd * 1.25),
                'y',
                true,
              );
              const yBot = u.valToPos(edges[z], 'y', true);
              if (!(yBot > bbox.top)) continue;
              const top = Math.max(bbox.top, yTop);
              ctx.fillStyle = ZONE_FILL[z];
              ctx.fillRect(bbox.left, top, bbox.width, yBot - top);
              ctx.fillStyle = ZONE_TEXT[z];
              const label =
                z < 3 ? `Zone ${'ABCD'[z]} < ${edges[z + 1]} mm/s` : `Zone D ≥ ${cd} mm/s`;
              // Label at the top of its band, where a trend inside the band rarely is.
              ctx.fillText(
                label,
                bbox.left + 6 * devicePixelRatio,
                Math.min(yBot - 3 * devicePixelRatio, top + 13 * devicePixelRatio),
              );
            }
            ctx.restore();
          },
        ],
      },
    },
    [[], []],
    el,
  );
}

export interface DefectMarker {
  name: string;
  hz: number;
}

const MARKER_COLORS: Record<string, string> = {
  BPFO: '#d29922',
  BPFI: '#f85149',
  BSF: '#a371f7',
  FTF: '#58a6ff',
  '1X': '#9fb0c0',
  '2X': '#9fb0c0',
};

/**
 * Envelope spectrum (amplitude vs Hz) with vertical markers at the bearing's
 * defect frequencies (and their 2nd harmonics, dotted). Without a spectrum
 * from the gateway, the evidence peak is drawn as a single stem.
 */
export function envelopeChart(
  el: HTMLElement,
  markers: () => DefectMarker[],
  width: number,
  height: number,
  yLabel: string,
): uPlot {
  return new uPlot(
    {
      ...baseOpts(width, height),
      scales: {
        x: { time: false },
        y: {
          range: (_u, _min, max) => [0, Math.max(1e-9, (Number.isFinite(max) ? max : 1) * 1.15)],
        },
      },
      axes: [
        { ...AXIS, label: 'frequency (Hz)', labelSize: 18 },
        { ...AXIS, label: yLabel, labelSize: 18 },
      ],
      series: [
        { label: 'frequency', value: (_u, v) => (v === null ? '—' : `${v.toFixed(1)} Hz`) },
        {
          label: yLabel,
          stroke: '#58a6ff',
          width: 1.25,
          points: { show: false },
          value: (_u, v) => (v === null ? '—' : v.toFixed(3)),
        },
      ],
      hooks: {
        draw: [
          (u) => {
            const { ctx, bbox } = u;
            ctx.save();
            ctx.textAlign = 'left';
            ctx.textBaseline = 'alphabetic';
            ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
            ctx.lineWidth = devicePixelRatio;
            let row = 0;
            for (const m of markers()) {
              for (const h of [1, 2]) {
                const f = m.hz * h;
                if (!(f >= (u.scales.x.min ?? 0) && f <= (u.scales.x.max ?? 0))) continue;
                const x = u.valToPos(f, 'x', true);
                ctx.strokeStyle = MARKER_COLORS[m.name] ?? '#9fb0c0';
                ctx.setLineDash(
                  h === 1
                    ? [6 * devicePixelRatio, 4 * devicePixelRatio]
                    : [2 * devicePixelRatio, 4 * devicePixelRatio],
                );
                ctx.beginPath();
                ctx.moveTo(x, bbox.top);
                ctx.lineTo(x, bbox.top + bbox.height);
                ctx.stroke();
                if (h === 1) {
                  ctx.fillStyle = ctx.strokeStyle;
                  ctx.fillText(
                    `${m.name} ${m.hz.toFixed(1)} Hz`,
                    x + 3 * devicePixelRatio,
                    bbox.top + (12 + 13 * (row % 4)) * devicePixelRatio,
                  );
                  row++;
                }
              }
            }
            ctx.restore();
          },
        ],
      },
    },
    [[], []],
    el,
  );
}

/** Adaptation curves vs step: any of loss, class loss, domain loss, discriminator accuracy. */
export function adaptationChart(
  el: HTMLElement,
  names: string[],
  width: number,
  height: number,
): uPlot {
  const colors = ['#58a6ff', '#3fb950', '#d29922', '#f85149'];
  return new uPlot(
    {
      ...baseOpts(width, height),
      scales: { x: { time: false } },
      axes: [{ ...AXIS, label: 'alignment step', labelSize: 18 }, { ...AXIS }],
      series: [
        { label: 'step' },
        ...names.map((n, i) => ({ label: n, stroke: colors[i % colors.length], width: 1.5 })),
      ],
    },
    [[], ...names.map(() => [])],
    el,
  );
}

/** Resizes a chart to its container's width (ResizeObserver), keeping its height. */
export function fitWidth(u: uPlot, container: HTMLElement, height: number): () => void {
  const ro = new ResizeObserver(() => {
    const w = Math.max(200, Math.floor(container.clientWidth));
    if (w !== u.width) u.setSize({ width: w, height });
  });
  ro.observe(container);
  return () => ro.disconnect();
}
