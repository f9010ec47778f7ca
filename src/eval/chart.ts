/**
 * A PNG view of an evaluation report (pngjs, no canvas): grouped bars of
 * target accuracy per task (one colour per strategy, y axis from 50 % or lower to 100 %), and
 * below them one confusion matrix per strategy summed over tasks and seeds
 * (rows = true class, columns = predicted, darker = more windows, red
 * off-diagonal = errors). Labels use a built-in 3×5 pixel font (digits, a
 * few letters and symbols), drawn at 2× scale.
 */
import { PNG } from 'pngjs';
import type { EvalReport } from './evaluate.js';

type Rgb = [number, number, number];
export const STRATEGY_COLOURS: Record<string, Rgb> = {
  'source-only': [150, 150, 150],
  dann: [31, 119, 180],
  mmd: [255, 127, 14],
  cdan: [44, 160, 44],
  'dann-ent': [214, 39, 40],
  'dann-im': [148, 103, 189],
};

// 3×5 glyphs, rows top→bottom, 3 bits each (MSB = left).
export const FONT: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7],
  '1': [2, 6, 2, 2, 7],
  '2': [7, 1, 7, 4, 7],
  '3': [7, 1, 7, 1, 7],
  '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7],
  '6': [7, 4, 7, 5, 7],
  '7': [7, 1, 1, 1, 1],
  '8': [7, 5, 7, 5, 7],
  '9': [7, 5, 7, 1, 7],
  '>': [4, 2, 1, 2, 4],
  '.': [0, 0, 0, 0, 2],
  '%': [5, 1, 2, 4, 5],
  '-': [0, 0, 7, 0, 0],
  ' ': [0, 0, 0, 0, 0],
  S: [7, 4, 7, 1, 7],
  D: [6, 5, 5, 5, 6],
  A: [7, 5, 7, 5, 5],
  N: [5, 7, 7, 7, 5],
  M: [5, 7, 7, 5, 5],
  O: [7, 5, 5, 5, 7],
  R: [6, 5, 6, 5, 5],
  C: [7, 4, 4, 4, 7],
  E: [7, 4, 6, 4, 7],
  L: [4, 4, 4, 4, 7],
  Y: [5, 5, 2, 2, 2],
  T: [7, 2, 2, 2, 2],
  U: [5, 5, 5, 5, 7],
  I: [7, 2, 2, 2, 7],
  B: [6, 5, 6, 5, 6],
  ':': [0, 2, 0, 2, 0],
};

export class Canvas {
  readonly png: PNG;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.png = new PNG({ width, height });
    this.png.data.fill(255);
  }
  rect(x: number, y: number, w: number, h: number, [r, g, b]: Rgb): void {
    for (let j = Math.max(0, Math.floor(y)); j < Math.min(this.height, Math.floor(y + h)); j++) {
      for (let i = Math.max(0, Math.floor(x)); i < Math.min(this.width, Math.floor(x + w)); i++) {
        const o = (j * this.width + i) * 4;
        this.png.data[o] = r;
        this.png.data[o + 1] = g;
        this.png.data[o + 2] = b;
        this.png.data[o + 3] = 255;
      }
    }
  }
  text(x: number, y: number, s: string, colour: Rgb = [0, 0, 0], scale = 2): void {
    let cx = x;
    for (const ch of s.toUpperCase()) {
      const g = FONT[ch] ?? FONT[' '];
      g.forEach((row, j) => {
        for (let i = 0; i < 3; i++)
          if (row & (4 >> i)) this.rect(cx + i * scale, y + j * scale, scale, scale, colour);
      });
      cx += 4 * scale;
    }
  }
}

/** Renders the report as PNG bytes. */
export function reportChart(report: EvalReport): Buffer {
  const strategies = [...new Set(report.tasks.map((t) => t.strategy))];
  const keys = [...new Set(report.tasks.map((t) => `${t.source}|${t.target}`))];
  const short = (d: string) => d.replace(/^load/, '');
  const barW = 10;
  const groupW = strategies.length * barW + 14;
  const plotH = 240;
  const left = 50;
  const C = report.classes.length;
  const cell = Math.max(6, Math.min(18, Math.floor(220 / Math.max(1, C))));
  const width = Math.max(
    left + keys.length * groupW + 20,
    20 + strategies.length * (C * cell + 40),
    420,
  );
  const height = 30 + plotH + 40 + 30 + C * cell + 30;
  const cv = new Canvas(width, height);
  // Legend.
  strategies.forEach((s, i) => {
    cv.rect(left + i * 120, 8, 12, 12, STRATEGY_COLOURS[s] ?? [0, 0, 0]);
    cv.text(left + i * 120 + 18, 9, s);
  });
  // Axes: 50 % … 100 %, a grid line every 10 %.
  const top = 30;
  const worst = Math.min(0.5, ...report.tasks.map((t) => t.accuracy).filter(Number.isFinite));
  const floor = Math.max(0, Math.floor(worst * 10) / 10);
  const yOf = (acc: number) =>
    top + plotH - ((Math.max(floor, Math.min(1, acc)) - floor) / (1 - floor)) * plotH;
  for (let g = Math.round(floor * 100); g <= 100; g += 10) {
    const y = yOf(g / 100);
    cv.rect(left - 4, y, width - left - 10, 1, [220, 220, 220]);
    cv.text(4, y - 5, `${g}%`);
  }
  keys.forEach((k, ki) => {
    const [src, tgt] = k.split('|');
    const x0 = left + ki * groupW + 6;
    strategies.forEach((s, si) => {
      const rows = report.tasks.filter(
        (t) => t.source === src && t.target === tgt && t.strategy === s,
      );
      if (rows.length === 0) return;
      const acc = rows.reduce((a, r) => a + r.accuracy, 0) / rows.length;
      const y = yOf(acc);
      cv.rect(x0 + si * barW, y, barW - 2, top + plotH - y, STRATEGY_COLOURS[s] ?? [0, 0, 0]);
    });
    cv.text(x0, top + plotH + 8, `${short(src)}>${short(tgt)}`);
  });
  // Confusion matrices per strategy, summed over tasks and seeds.
  const cy = top + plotH + 40;
  strategies.forEach((s, si) => {
    const m = Array.from({ length: C }, () => new Array<number>(C).fill(0));
    for (const t of report.tasks) {
      if (t.strategy !== s) continue;
      t.confusion.forEach((row, i) => {
        row.forEach((v, j) => {
          m[i][j] += v;
        });
      });
    }
    const x0 = 20 + si * (C * cell + 40);
    cv.text(x0, cy, s);
    m.forEach((row, i) => {
      const total = row.reduce((a, b) => a + b, 0) || 1;
      row.forEach((v, j) => {
        const f = v / total;
        const shade = Math.round(255 * (1 - f));
        const colour: Rgb =
          i === j
            ? [shade, shade, 255]
            : v > 0
              ? [255, Math.min(shade, 200), Math.min(shade, 200)]
              : [250, 250, 250];
        cv.rect(x0 + j * cell, cy + 16 + i * cell, cell - 1, cell - 1, colour);
      });
    });
  });
  return PNG.sync.write(cv.png);
}
