/**
 * The geometry a window op over NHWC data needs (convolution, pooling): sizes,
 * strides and the top/left padding, in elements. The field names are those of
 * tfjs's `Conv2DInfo`, so a kernel passes its computed info as is, while the
 * pure loops of this folder (and their tests) need no tfjs at all.
 */
export interface WindowGeometry {
  /** N. */
  batchSize: number;
  /** H, W, C of the input `[N, H, W, C]`. */
  inHeight: number;
  inWidth: number;
  inChannels: number;
  /** Ho, Wo: windows per column and per row. */
  outHeight: number;
  outWidth: number;
  /** kh, kw: the window (filter) size. */
  filterHeight: number;
  filterWidth: number;
  /** sh, sw: window step. */
  strideHeight: number;
  strideWidth: number;
  /** Rows above and columns left of the input the first window starts at (bottom/right follow). */
  padInfo: { top: number; left: number };
}
