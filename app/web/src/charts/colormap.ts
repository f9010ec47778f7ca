/**
 * A perceptually ordered dark-to-bright colour map for the waterfall (after
 * matplotlib's "inferno" control points), as a 256-entry RGBA lookup table.
 */

const STOPS: [number, number, number][] = [
  [0, 0, 4],
  [40, 11, 84],
  [101, 21, 110],
  [159, 42, 99],
  [212, 72, 66],
  [245, 125, 21],
  [250, 193, 39],
  [252, 255, 164],
];

/** 256 × RGBA, opaque. */
export function buildLut(stops: readonly [number, number, number][] = STOPS): Uint8ClampedArray {
  if (stops.length < 2) throw new TypeError('a colour map needs at least two stops');
  const lut = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    const x = (i / 255) * (stops.length - 1);
    const k = Math.min(Math.floor(x), stops.length - 2);
    const f = x - k;
    for (let c = 0; c < 3; c++)
      lut[i * 4 + c] = Math.round(stops[k][c] + (stops[k + 1][c] - stops[k][c]) * f);
    lut[i * 4 + 3] = 255;
  }
  return lut;
}

/** Maps v in [lo, hi] to a LUT index 0–255 (clamped; NaN → 0). */
export function lutIndex(v: number, lo: number, hi: number): number {
  if (!Number.isFinite(v) || !(hi > lo)) return 0;
  const i = Math.round(((v - lo) / (hi - lo)) * 255);
  return Math.max(0, Math.min(255, i));
}
