/**
 * Bounded time series kept per machine for trends (sparklines, probability and
 * velocity charts). Columnar, so uPlot can take the arrays as they are.
 */

export class TimeSeries {
  readonly t: number[] = [];
  readonly cols: Record<string, number[]> = {};

  /** @param cap most points kept; older ones are dropped first */
  constructor(
    readonly names: readonly string[],
    readonly cap = 900,
  ) {
    if (!(cap >= 1)) throw new TypeError(`cap must be ≥ 1, got ${cap}`);
    for (const n of names) this.cols[n] = [];
  }

  /**
   * Appends one point (t in s or ms, the caller's choice; must not go back in
   * time: an older point is dropped, a repeated time replaces the last point).
   */
  push(t: number, values: Record<string, number | undefined>): void {
    if (!Number.isFinite(t)) return;
    const last = this.t.length ? this.t[this.t.length - 1] : -Infinity;
    if (t < last) return;
    if (t === last) {
      for (const n of this.names) this.cols[n][this.cols[n].length - 1] = num(values[n]);
      return;
    }
    this.t.push(t);
    for (const n of this.names) this.cols[n].push(num(values[n]));
    if (this.t.length > this.cap) {
      const drop = this.t.length - this.cap;
      this.t.splice(0, drop);
      for (const n of this.names) this.cols[n].splice(0, drop);
    }
  }

  get length(): number {
    return this.t.length;
  }

  /** The last `n` values of one column (for sparklines). */
  tail(name: string, n: number): number[] {
    const c = this.cols[name] ?? [];
    return c.slice(Math.max(0, c.length - n));
  }
}

function num(v: number | undefined): number {
  return v === undefined || !Number.isFinite(v) ? Number.NaN : v;
}
