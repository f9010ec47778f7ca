/**
 * Rate-limited logging for messages that outside input can trigger at will
 * (malformed acks, refused broker clients, bad frames): a flood must not fill
 * the journal or cost the gateway a write per message. Per cause, the first
 * message of an interval is logged; the ones after it within the interval
 * are counted, and the next one logged says how many were held back. The
 * parts keep their own exact counters (`/api/gateway`), so nothing is lost
 * but the repetition.
 *
 * The cause is the message's constant head: the text up to its first
 * character that is not a letter, a space or a colon (`faultline broker:
 * disconnected 10.0.0.7: …` → `faultline broker: disconnected `), so
 * messages that differ only in an address, a topic or a number share one.
 */

export interface RateLimitOptions {
  /** Interval per cause, ms. Default 10 000. */
  intervalMs?: number;
  /** Causes tracked at most (the oldest is forgotten beyond). Default 256. */
  maxCauses?: number;
  /** Clock, ms. Default Date.now. */
  now?: () => number;
}

/** The constant head of a message (see the module comment). */
export function causeOf(message: string): string {
  const m = /^[A-Za-z :]*/.exec(message);
  return m?.[0] ?? '';
}

/** Wraps `log` so that each cause is written at most once per interval. */
export function rateLimited(
  log: (message: string) => void,
  o: RateLimitOptions = {},
): (message: string) => void {
  const intervalMs = o.intervalMs ?? 10_000;
  const maxCauses = o.maxCauses ?? 256;
  const now = o.now ?? Date.now;
  const causes = new Map<string, { at: number; held: number }>();
  return (message) => {
    const key = causeOf(message);
    const t = now();
    const c = causes.get(key);
    if (c && t - c.at < intervalMs) {
      c.held++;
      return;
    }
    const held = c?.held ?? 0;
    causes.delete(key); // re-inserted: the map's order is by last write
    causes.set(key, { at: t, held: 0 });
    if (causes.size > maxCauses) causes.delete(causes.keys().next().value as string);
    log(
      held > 0
        ? `${message} (${held} more like it in the last ${Math.round((t - (c?.at ?? t)) / 1000)} s not logged)`
        : message,
    );
  };
}
