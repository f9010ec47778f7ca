/**
 * Tiling as block copies (the wasm `Tile` kernel calls it on heap views):
 * write each innermost run once, then replicate every finished block by
 * doubling `copyWithin` (memmove), so the cost is a few passes of memory
 * traffic instead of an index computation per output element.
 */

/** The element types a tensor's values come in (float32, int32, bool). */
export type TileArray = Float32Array | Int32Array | Uint8Array;

/** Innermost blocks at most this long are written with a plain loop (fewer native calls). */
const SMALL_RUN = 64;

/** Row-major strides of `shape`: strides[d] is the size of one block of axis d (1 for the last). */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let size = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = size;
    size *= shape[d];
  }
  return strides;
}

/**
 * @param x values of shape `shape`, row-major
 * @param reps how many times to repeat along each axis (same rank as `shape`)
 * @param out `shape[d]·reps[d]` along each axis d, every value written; same element type as x
 */
export function tileImpl(
  x: TileArray,
  shape: readonly number[],
  reps: readonly number[],
  out: TileArray,
): void {
  const rank = shape.length;
  if (out.length === 0) return;
  if (rank === 0) {
    out[0] = x[0];
    return;
  }
  const outShape = shape.map((s, d) => s * reps[d]);
  const inStride = stridesOf(shape);
  const outStride = stridesOf(outShape);

  /** Replicates out[at, at+len) until it spans len·times elements. */
  const replicate = (at: number, len: number, times: number): void => {
    const total = len * times;
    for (let filled = len; filled < total; ) {
      const n = Math.min(filled, total - filled);
      out.copyWithin(at + filled, at, at + n);
      filled += n;
    }
  };
  /** Writes the output block of axis d whose input block starts at inAt. */
  const fill = (d: number, inAt: number, outAt: number): void => {
    const len = shape[d] * outStride[d];
    if (d === rank - 1) {
      if (len * reps[d] <= SMALL_RUN) {
        let o = outAt;
        for (let r = 0; r < reps[d]; r++) for (let i = 0; i < shape[d]; i++) out[o++] = x[inAt + i];
        return;
      }
      out.set(x.subarray(inAt, inAt + shape[d]), outAt);
    } else {
      for (let i = 0; i < shape[d]; i++)
        fill(d + 1, inAt + i * inStride[d], outAt + i * outStride[d]);
    }
    replicate(outAt, len, reps[d]);
  };
  fill(0, 0, 0);
}
