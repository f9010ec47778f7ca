/**
 * Live spectrogram waterfall on a canvas: time runs left → right (newest at
 * the right edge), frequency bottom → top. Frames arrive in chunks (one
 * window's spectrogram per diagnosis) and are kept in a fixed ring of
 * `columns` frames, so memory does not grow with uptime.
 */
import type { SpectrogramPayload } from '../types.js';
import { buildLut, lutIndex } from './colormap.js';

/**
 * Splits a payload into per-frame columns. Layout follows src/types.ts
 * `Spectrogram`: `data[f * frames + t]` (frequency-major). Returns [] when the
 * payload is inconsistent (wrong length, non-positive sizes).
 */
export function payloadColumns(p: SpectrogramPayload): Float32Array[] {
  const { freqBins, frames, data } = p;
  if (!(freqBins > 0 && frames > 0) || !data || data.length !== freqBins * frames) return [];
  const cols: Float32Array[] = [];
  for (let t = 0; t < frames; t++) {
    const col = new Float32Array(freqBins);
    for (let f = 0; f < freqBins; f++) col[f] = data[f * frames + t];
    cols.push(col);
  }
  return cols;
}

/**
 * The columns a payload adds to the waterfall. Consecutive windows overlap, so
 * when the gateway says how many frames are new (`newFrames`), only those
 * count, averaged into ONE column per window: the display then spans
 * `columns` windows (≈ 10 s at 24 windows/s) instead of repeating each stretch
 * of signal windowLength / hop times. Without `newFrames`, every frame.
 */
export function waterfallColumns(p: SpectrogramPayload): Float32Array[] {
  const cols = payloadColumns(p);
  const n = p.newFrames;
  if (cols.length === 0 || n === undefined || !(n >= 1) || n > cols.length) return cols;
  const fresh = cols.slice(cols.length - Math.floor(n));
  const mean = new Float32Array(cols[0].length);
  for (const c of fresh) for (let f = 0; f < mean.length; f++) mean[f] += c[f] / fresh.length;
  return [mean];
}

/**
 * Level range for the colour scale: the 5th and 99.5th percentiles of the
 * values (ignoring NaN), so a single spike does not darken everything.
 */
export function levelRange(cols: readonly Float32Array[]): [number, number] {
  const all: number[] = [];
  for (const c of cols) for (const v of c) if (Number.isFinite(v)) all.push(v);
  if (all.length === 0) return [0, 1];
  all.sort((a, b) => a - b);
  const lo = all[Math.floor(0.05 * (all.length - 1))];
  let hi = all[Math.floor(0.995 * (all.length - 1))];
  if (!(hi > lo)) hi = lo + 1;
  return [lo, hi];
}

export class Waterfall {
  readonly canvas: HTMLCanvasElement;
  #ring: (Float32Array | undefined)[];
  #head = 0;
  #bins = 0;
  readonly #lut = buildLut();

  /** @param columns frames kept and shown across the width */
  constructor(readonly columns = 240) {
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'waterfall';
    this.#ring = new Array(columns);
  }

  /** Adds a window's new frames (a payload of a different bin count restarts the display). */
  push(p: SpectrogramPayload): void {
    const cols = waterfallColumns(p);
    if (cols.length === 0) return;
    if (cols[0].length !== this.#bins) {
      this.#bins = cols[0].length;
      this.#ring = new Array(this.columns);
      this.#head = 0;
    }
    for (const c of cols) {
      this.#ring[this.#head] = c;
      this.#head = (this.#head + 1) % this.columns;
    }
  }

  /** Frames in display order, oldest first. */
  frames(): Float32Array[] {
    const out: Float32Array[] = [];
    for (let i = 0; i < this.columns; i++) {
      const c = this.#ring[(this.#head + i) % this.columns];
      if (c) out.push(c);
    }
    return out;
  }

  /** Paints the ring at one pixel per frame and bin; CSS scales the canvas to its box. */
  draw(): void {
    const frames = this.frames();
    const w = this.columns;
    const h = Math.max(1, this.#bins);
    if (this.canvas.width !== w) this.canvas.width = w;
    if (this.canvas.height !== h) this.canvas.height = h;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(w, h);
    const [lo, hi] = levelRange(frames);
    const x0 = w - frames.length;
    for (let x = 0; x < frames.length; x++) {
      const col = frames[x];
      for (let f = 0; f < h; f++) {
        const li = lutIndex(col[f], lo, hi) * 4;
        const o = ((h - 1 - f) * w + x0 + x) * 4;
        img.data[o] = this.#lut[li];
        img.data[o + 1] = this.#lut[li + 1];
        img.data[o + 2] = this.#lut[li + 2];
        img.data[o + 3] = 255;
      }
    }
    // Empty columns (before enough data arrived) stay the map's darkest colour.
    for (let x = 0; x < x0; x++) {
      for (let f = 0; f < h; f++) {
        const o = (f * w + x) * 4;
        img.data[o] = this.#lut[0];
        img.data[o + 1] = this.#lut[1];
        img.data[o + 2] = this.#lut[2];
        img.data[o + 3] = 255;
      }
    }
    ctx.putImageData(img, 0, 0);
  }
}
