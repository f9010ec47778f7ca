/**
 * A tile's trend line on a small canvas (uPlot would be one instance per tile;
 * a 2D path is all a sparkline needs). Non-finite values break the line.
 */

/** Maps values to canvas points; y is flipped (larger values higher). Returns [] for < 2 finite points. */
export function sparkPoints(
  values: readonly number[],
  width: number,
  height: number,
  pad = 2,
): [number, number][][] {
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2 || values.length < 2) return [];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi - lo < 1e-9) {
    lo -= 1;
    hi += 1;
  }
  const segs: [number, number][][] = [];
  let cur: [number, number][] = [];
  values.forEach((v, i) => {
    if (!Number.isFinite(v)) {
      if (cur.length) segs.push(cur);
      cur = [];
      return;
    }
    const x = pad + (i / (values.length - 1)) * (width - 2 * pad);
    const y = pad + (1 - (v - lo) / (hi - lo)) * (height - 2 * pad);
    cur.push([x, y]);
  });
  if (cur.length) segs.push(cur);
  return segs;
}

/** Draws the sparkline into `canvas` (device-pixel aware) in `color`. */
export function drawSparkline(
  canvas: HTMLCanvasElement,
  values: readonly number[],
  color: string,
): void {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 120;
  const h = canvas.clientHeight || 28;
  if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
  if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr);
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.lineJoin = 'round';
  for (const seg of sparkPoints(values, w, h)) {
    ctx.beginPath();
    seg.forEach(([x, y], i) => {
      if (i) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
    });
    ctx.stroke();
  }
}
