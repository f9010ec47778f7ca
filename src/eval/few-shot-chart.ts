/**
 * The few-shot figure as PNG (pngjs, the canvas of ./chart.ts): target test
 * accuracy (y, from 50 % or lower to 100 %) against k labelled windows per
 * class (x, the asked k evenly spaced, so 0 and 1 stay apart from 20), one
 * line per series (a task, or a data set when several reports are combined),
 * its mean over seeds, with a legend to the right.
 */
import { PNG } from 'pngjs';
import { Canvas, FONT } from './chart.js';
import type { FewShotReport } from './few-shot.js';

type Rgb = [number, number, number];

/** One line of the figure: its name and its mean accuracy (fraction) per k. */
export interface FewShotSeries {
  name: string;
  points: { k: number; mean: number }[];
}

const PALETTE: Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

// Glyphs ./chart.ts's font lacks, for task and data-set names (3×5, MSB = left).
const EXTRA: Record<string, number[]> = {
  F: [7, 4, 6, 4, 4],
  G: [7, 4, 5, 5, 7],
  H: [5, 5, 7, 5, 5],
  J: [1, 1, 1, 5, 7],
  K: [5, 5, 6, 5, 5],
  P: [7, 5, 7, 4, 4],
  Q: [7, 5, 5, 7, 1],
  V: [5, 5, 5, 5, 2],
  W: [5, 5, 7, 7, 5],
  X: [5, 5, 2, 5, 5],
  Z: [7, 1, 2, 4, 7],
  '/': [1, 1, 2, 4, 4],
  '=': [0, 7, 0, 7, 0],
  '(': [2, 4, 4, 4, 2],
  ')': [2, 1, 1, 1, 2],
  ',': [0, 0, 0, 2, 4],
};
const GLYPHS: Record<string, number[]> = { ...FONT, ...EXTRA };

function label(cv: Canvas, x: number, y: number, s: string, colour: Rgb = [0, 0, 0]): void {
  let cx = x;
  for (const ch of s.toUpperCase()) {
    const g = GLYPHS[ch] ?? GLYPHS[' '];
    g.forEach((row, j) => {
      for (let i = 0; i < 3; i++) if (row & (4 >> i)) cv.rect(cx + i * 2, y + j * 2, 2, 2, colour);
    });
    cx += 8;
  }
}

/** A straight line `w` pixels wide from (x0, y0) to (x1, y1). */
function line(cv: Canvas, x0: number, y0: number, x1: number, y1: number, c: Rgb, w: number): void {
  const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
  const h = Math.floor(w / 2);
  for (let i = 0; i <= n; i++)
    cv.rect(x0 + ((x1 - x0) * i) / n - h, y0 + ((y1 - y0) * i) / n - h, w, w, c);
}

/** The lines of one report's `fewShot`: one per task. */
export function fewShotSeries(r: FewShotReport): FewShotSeries[] {
  const short = (d: string) => d.replace(/^load/, '');
  return r.tasks.map((t) => ({
    name: `${short(t.source)}>${short(t.target)}`,
    points: t.points.map((p) => ({ k: p.k, mean: p.mean })),
  }));
}

/** Renders `series` as PNG bytes; `title` is drawn above the plot. */
export function fewShotChart(series: readonly FewShotSeries[], title = 'few-shot'): Buffer {
  const ks = [...new Set(series.flatMap((s) => s.points.map((p) => p.k)))].sort((a, b) => a - b);
  const left = 56;
  const top = 40;
  const plotW = Math.max(240, 70 * Math.max(1, ks.length - 1));
  const plotH = 260;
  const legendW = 16 + 8 * Math.max(8, ...series.map((s) => s.name.length));
  const cv = new Canvas(left + plotW + 30 + legendW, top + plotH + 60);
  label(cv, left, 10, title);
  const worst = Math.min(0.5, ...series.flatMap((s) => s.points.map((p) => p.mean)));
  const floor = Math.max(0, Math.floor((Number.isFinite(worst) ? worst : 0.5) * 10) / 10);
  const yOf = (acc: number) =>
    top + plotH - ((Math.max(floor, Math.min(1, acc)) - floor) / (1 - floor)) * plotH;
  const xOf = (k: number) =>
    left + 10 + (ks.length > 1 ? (ks.indexOf(k) / (ks.length - 1)) * (plotW - 20) : plotW / 2);
  for (let g = Math.round(floor * 100); g <= 100; g += 10) {
    const y = yOf(g / 100);
    cv.rect(left - 4, y, plotW, 1, [220, 220, 220]);
    label(cv, 4, y - 5, `${g}%`);
  }
  for (const k of ks) {
    cv.rect(xOf(k), top + plotH, 1, 5, [0, 0, 0]);
    label(cv, xOf(k) - 4 * String(k).length, top + plotH + 10, String(k));
  }
  label(cv, left + plotW / 2 - 90, top + plotH + 32, 'k labelled windows per class');
  series.forEach((s, i) => {
    const c = PALETTE[i % PALETTE.length];
    // Each line thinner than the one before: lines that coincide (several
    // series at 100 %) still show every colour, as nested stripes.
    const w = 3 + 3 * Math.min(4, series.length - 1 - i);
    const pts = s.points
      .filter((p) => Number.isFinite(p.mean))
      .sort((a, b) => a.k - b.k)
      .map((p) => [xOf(p.k), yOf(p.mean)] as const);
    for (let j = 1; j < pts.length; j++) line(cv, ...pts[j - 1], ...pts[j], c, w);
    for (const [x, y] of pts) cv.rect(x - w / 2 - 2, y - w / 2 - 2, w + 4, w + 4, c);
    const ly = top + i * 18;
    cv.rect(left + plotW + 30, ly, 12, 12, c);
    label(cv, left + plotW + 48, ly + 1, s.name);
  });
  return PNG.sync.write(cv.png);
}
