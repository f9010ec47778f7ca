/**
 * A reduction over the leading axes as a column sum (the wasm `Sum` and `Mean`
 * kernels call it on heap views): x viewed as `[R, C]`, one pass adding each
 * row into C float64 accumulators (more accurate than a float32 running sum).
 */

/**
 * @param x `[rows, cols]`, row-major
 * @param mean divide by `rows` (an empty reduction gives 0 either way, as on tfjs-cpu)
 * @param out `[cols]`, overwritten
 */
export function reduceLeadingImpl(
  x: Float32Array,
  split: { rows: number; cols: number },
  mean: boolean,
  out: Float32Array,
): void {
  const { rows, cols } = split;
  const acc = new Float64Array(cols);
  // Four rows per sweep: a quarter of the accumulator loads and stores.
  const c2 = 2 * cols;
  const c3 = 3 * cols;
  let r = 0;
  let i = 0;
  for (; r + 4 <= rows; r += 4, i += c3) {
    for (let c = 0; c < cols; c++, i++) acc[c] += x[i] + x[i + cols] + x[i + c2] + x[i + c3];
  }
  for (; r < rows; r++) {
    for (let c = 0; c < cols; c++, i++) acc[c] += x[i];
  }
  const scale = mean && rows > 0 ? 1 / rows : 1;
  for (let c = 0; c < cols; c++) out[c] = acc[c] * scale;
}
