/**
 * Spectrogram → PNG image for people to look at (`faultline spectrogram`,
 * the console). Frequency runs up, time to the right; values map through a
 * perceptually uniform colour map (viridis or inferno, from matplotlib's
 * published anchor colours at steps of 0.1, linearly interpolated).
 */
import { PNG } from 'pngjs';
import { FaultlineError } from '../errors.js';
import type { Spectrogram } from '../types.js';

export type ColorMapName = 'viridis' | 'inferno' | 'gray';
export const COLOR_MAPS: readonly ColorMapName[] = ['viridis', 'inferno', 'gray'];

// Anchor colours at 0, 0.1, …, 1 (matplotlib).
const ANCHORS: Record<Exclude<ColorMapName, 'gray'>, string[]> = {
  viridis: [
    '440154',
    '482475',
    '414487',
    '355f8d',
    '2a788e',
    '21918c',
    '22a884',
    '44bf70',
    '7ad151',
    'bddf26',
    'fde725',
  ],
  inferno: [
    '000004',
    '160b39',
    '420a68',
    '6a176e',
    '932667',
    'bc3754',
    'dd513a',
    'f37819',
    'fca50a',
    'f6d746',
    'fcffa4',
  ],
};

/** 256-entry RGB lookup table of `name`. */
export function colorMapLut(name: ColorMapName): Uint8Array {
  const lut = new Uint8Array(256 * 3);
  if (name === 'gray') {
    for (let i = 0; i < 256; i++) lut.fill(i, 3 * i, 3 * i + 3);
    return lut;
  }
  const anchors = ANCHORS[name];
  if (!anchors)
    throw new FaultlineError(
      'FL_ERR_REPORT_OPTIONS',
      `unknown colour map "${name}"; use ${COLOR_MAPS.join(', ')}`,
    );
  const rgb = anchors.map((h) => [0, 2, 4].map((o) => Number.parseInt(h.slice(o, o + 2), 16)));
  for (let i = 0; i < 256; i++) {
    const pos = (i / 255) * (rgb.length - 1);
    const j = Math.min(rgb.length - 2, Math.floor(pos));
    const t = pos - j;
    for (let c = 0; c < 3; c++)
      lut[3 * i + c] = Math.round(rgb[j][c] + t * (rgb[j + 1][c] - rgb[j][c]));
  }
  return lut;
}

export interface SpectrogramImageOptions {
  /** Colour map; default 'viridis'. */
  colormap?: ColorMapName;
  /** Values mapped to the ends of the colour map; default [min, max] of the data. */
  range?: [number, number];
  /** Pixels per spectrogram cell (integer ≥ 1); default 1. */
  pixelScale?: number;
  /** Band indices to mark with a tick on the left axis (drawn when `ticks` is set). */
  freqTicks?: number[];
  /** Frame indices to mark with a tick on the bottom axis. */
  timeTicks?: number[];
}

/** Margin (pixels) holding the tick marks when any ticks are asked for. */
const MARGIN = 8;

/**
 * Renders `spec` (`data[f * frames + t]`) as a PNG: row 0 of the image is the
 * highest band. Returns the encoded file.
 */
export function spectrogramPng(spec: Spectrogram, options: SpectrogramImageOptions = {}): Buffer {
  const { data, freqBins, frames } = spec;
  const scale = options.pixelScale ?? 1;
  if (!(Number.isInteger(scale) && scale >= 1 && scale <= 64)) {
    throw new FaultlineError(
      'FL_ERR_REPORT_OPTIONS',
      `pixel scale must be an integer in 1…64, got ${scale}`,
    );
  }
  if (freqBins * frames * scale * scale > 64e6) {
    throw new FaultlineError(
      'FL_ERR_REPORT_OPTIONS',
      `image of ${frames * scale} × ${freqBins * scale} pixels is too large; lower the scale`,
    );
  }
  const lut = colorMapLut(options.colormap ?? 'viridis');
  let [lo, hi] = options.range ?? [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
  if (!options.range) {
    for (const v of data) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const span = hi > lo ? hi - lo : 1;
  const ticks = options.freqTicks !== undefined || options.timeTicks !== undefined;
  const left = ticks ? MARGIN : 0;
  const bottom = ticks ? MARGIN : 0;
  const width = frames * scale + left;
  const height = freqBins * scale + bottom;
  const png = new PNG({ width, height });
  png.data.fill(0);
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  for (let f = 0; f < freqBins; f++) {
    const row0 = (freqBins - 1 - f) * scale;
    for (let t = 0; t < frames; t++) {
      const v = data[f * frames + t];
      const idx = Math.max(0, Math.min(255, Math.round(((v - lo) / span) * 255))) * 3;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const p = ((row0 + dy) * width + left + t * scale + dx) * 4;
          png.data[p] = lut[idx];
          png.data[p + 1] = lut[idx + 1];
          png.data[p + 2] = lut[idx + 2];
        }
      }
    }
  }
  const white = (x: number, y: number) => {
    if (x < 0 || y < 0 || x >= width || y >= height) return;
    const p = (y * width + x) * 4;
    png.data[p] = png.data[p + 1] = png.data[p + 2] = 255;
  };
  for (const f of options.freqTicks ?? []) {
    const y = Math.round((freqBins - f) * scale) - 1;
    for (let x = 2; x < left; x++) white(x, y);
  }
  for (const t of options.timeTicks ?? []) {
    const x = left + Math.round(t * scale);
    for (let y = freqBins * scale; y < height - 2; y++) white(x, y);
  }
  return PNG.sync.write(png);
}
