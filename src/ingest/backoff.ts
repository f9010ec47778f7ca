/**
 * Reconnect delays: exponential backoff with jitter, shared by the serial and
 * MQTT links. Jitter spreads the retries of many gateways that lost the same
 * broker at the same moment, so they do not all knock at once when it returns.
 */

export interface BackoffOptions {
  /** First delay, ms. Default 200. */
  initialMs?: number;
  /** Upper bound of the delay, ms. Default 5000. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
  /** Fraction of the delay that is random, 0…1 ("equal jitter" at 0.5). Default 0.5. */
  jitter?: number;
  /** Uniform random numbers in [0, 1); injectable for deterministic tests. Default Math.random. */
  random?: () => number;
}

/** Stateful backoff: `next()` grows the delay, `reset()` after a success. */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 200;
    this.maxMs = opts.maxMs ?? 5000;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0.5;
    this.random = opts.random ?? Math.random;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs)) {
      throw new TypeError(
        `backoff: need 0 < initialMs ≤ maxMs, got ${this.initialMs}, ${this.maxMs}`,
      );
    }
    if (!(this.factor >= 1)) throw new TypeError(`backoff: factor must be ≥ 1, got ${this.factor}`);
    if (!(this.jitter >= 0 && this.jitter <= 1))
      throw new TypeError(`backoff: jitter must be in 0…1, got ${this.jitter}`);
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** Delay before the next attempt, ms, in [(1 − jitter)·d, d] with d = min(max, initial·factorⁿ). */
  next(): number {
    const d = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt++;
    return Math.round(d * (1 - this.jitter * this.random()));
  }

  reset(): void {
    this.attempt = 0;
  }
}
