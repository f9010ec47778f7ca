/**
 * Notifies people of alerts through one channel (a webhook, e-mail: the
 * transport), with the alert publisher's durability:
 *
 *   notify(alert) ─► severity filter ─► Outbox (<file>, ./outbox.ts) ─► transport.send
 *                                           ▲                          │ rejected
 *                                           └── retry after backoff ◄──┘
 *
 * - Only alerts entering a fault severity at or above `minSeverity` are
 *   notified (default `warning`: warnings and alarms); stream states
 *   (`silent`, `saturated`…) and the return to `ok` are not.
 * - Every accepted alert is journalled before it is sent and marked done
 *   once the receiver accepted it, so an alert queued while the receiver is
 *   down, or while the gateway restarts, is delivered later. Delivery is
 *   at-least-once; receivers dedup on `Alert.id`.
 * - One alert at a time, in order. A failed send is retried after an
 *   exponential backoff (`initialMs` × 2ⁿ, capped at `maxMs`, minus up to
 *   20 % jitter so that gateways restarted together do not retry in step);
 *   a delivery resets it. There is no give-up: an alert waits for its
 *   receiver for as long as it takes, bounded only by `maxQueue`.
 * - When `maxQueue` alerts wait, the oldest non-alarm one is dropped (the
 *   oldest alarm only when all are alarms), counted and logged.
 */
import { EventEmitter } from 'node:events';
import type { Alert } from '../contract/alert.js';
import { SEVERITIES, type Severity } from '../contract/health.js';
import { Outbox } from './outbox.js';
import { parseAlert } from './schema.js';

/** One way of reaching people: delivers one alert or rejects. */
export interface NotifyTransport {
  /** Names the channel in logs and statistics, e.g. `webhook`. */
  readonly kind: string;
  /** Resolves once the receiver accepted the alert; rejects otherwise (it is retried). */
  send(alert: Alert): Promise<void>;
  /** Releases connections. */
  close?(): Promise<void>;
}

export interface AlertNotifierOptions {
  transport: NotifyTransport;
  /** The outbox journal (its directory is created if missing). */
  outboxFile: string;
  /** Least severity notified. Default `warning`. */
  minSeverity?: Severity;
  /** First retry delay, ms. Default 1000. */
  retryInitialMs?: number;
  /** Longest retry delay, ms. Default 300000 (5 min). */
  retryMaxMs?: number;
  /** Alerts kept waiting (≥ 2). Default 10000. */
  maxQueue?: number;
  /** Where problems are reported. Default console.warn. */
  log?: (message: string) => void;
}

export interface NotifierEvents {
  /** The receiver accepted an alert. */
  delivered: [Alert];
  /** A send failed; it is retried after `retryInMs`. */
  failed: [{ alert: Alert; error: Error; retryInMs: number }];
  /** An alert was dropped because `maxQueue` alerts waited. */
  dropped: [Alert];
}

/** Counters for `GET /api/gateway`. */
export interface NotifierStats {
  kind: string;
  /** Alerts the receiver accepted. */
  delivered: number;
  /** Alerts waiting, the one being sent included. */
  queued: number;
  /** Sends that failed (each retry counts). */
  failures: number;
  /** Alerts dropped by the queue bound. */
  dropped: number;
  /** Alerts below `minSeverity` (or stream states), not notified. */
  skipped: number;
  /** The latest failure's message, null after a delivery. */
  lastError: string | null;
  lastDeliveredAt: string | null;
}

/** Whether an alert's state is a fault severity at or above `min`. */
export function severityAtLeast(state: Alert['state'], min: Severity): boolean {
  const rank = SEVERITIES.indexOf(state as Severity);
  return rank >= 0 && rank >= SEVERITIES.indexOf(min);
}

/** See the module comment. Create with {@link AlertNotifier.open}. */
export class AlertNotifier extends EventEmitter<NotifierEvents> {
  readonly kind: string;
  private readonly transport: NotifyTransport;
  private readonly outbox: Outbox<Alert>;
  private readonly minSeverity: Severity;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly maxQueue: number;
  private readonly log: (m: string) => void;
  private delivered = 0;
  private failures = 0;
  private dropped = 0;
  private skipped = 0;
  /** Consecutive failures of the alert at the head (the backoff's exponent). */
  private streak = 0;
  private lastError: string | null = null;
  private lastDeliveredAt: string | null = null;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private closed = false;

  private constructor(o: AlertNotifierOptions, outbox: Outbox<Alert>) {
    super();
    this.transport = o.transport;
    this.kind = o.transport.kind;
    this.outbox = outbox;
    this.minSeverity = o.minSeverity ?? 'warning';
    this.initialMs = o.retryInitialMs ?? 1000;
    this.maxMs = o.retryMaxMs ?? 300_000;
    this.maxQueue = o.maxQueue ?? 10_000;
    this.log = o.log ?? ((m) => console.warn(m));
  }

  /**
   * Opens the outbox and starts sending what a previous process left in it.
   * @throws TypeError for bad options; FaultlineError FL_ERR_ALERT_OUTBOX when the outbox cannot be opened
   */
  static async open(o: AlertNotifierOptions): Promise<AlertNotifier> {
    if (!o?.transport) throw new TypeError('AlertNotifier needs a transport');
    if (o.minSeverity !== undefined && !SEVERITIES.includes(o.minSeverity)) {
      throw new TypeError(
        `minSeverity must be one of ${SEVERITIES.join(', ')}, got ${o.minSeverity}`,
      );
    }
    for (const k of ['retryInitialMs', 'retryMaxMs'] as const) {
      if (o[k] !== undefined && !(o[k] > 0)) throw new TypeError(`${k} must be > 0, got ${o[k]}`);
    }
    if (o.maxQueue !== undefined && !(Number.isInteger(o.maxQueue) && o.maxQueue >= 2)) {
      throw new TypeError(`maxQueue must be an integer ≥ 2, got ${o.maxQueue}`);
    }
    const outbox = await Outbox.open<Alert>({
      file: o.outboxFile,
      parse: parseAlert,
      key: (a) => a.id,
      what: `${o.transport.kind} outbox`,
      ...(o.log ? { log: o.log } : {}),
    });
    const n = new AlertNotifier(o, outbox);
    const left = outbox.stats().pending;
    if (left > 0)
      n.log(`faultline notify: ${left} ${n.kind} notification(s) left from before, sending`);
    n.kick();
    return n;
  }

  /** Whether `alert` is one this notifier sends (severity at or above its minimum). */
  wants(alert: Alert): boolean {
    return severityAtLeast(alert.state, this.minSeverity);
  }

  /**
   * Queues an alert for delivery (journalled first). Returns false when it
   * is not notified (below the minimum severity, or closed).
   */
  notify(alert: Alert): boolean {
    if (this.closed) return false;
    if (!this.wants(alert)) {
      this.skipped++;
      return false;
    }
    if (this.outbox.stats().pending >= this.maxQueue) this.dropOne();
    void this.outbox.add(alert);
    this.kick();
    return true;
  }

  stats(): NotifierStats {
    return {
      kind: this.kind,
      delivered: this.delivered,
      queued: this.outbox.stats().pending,
      failures: this.failures,
      dropped: this.dropped,
      skipped: this.skipped,
      lastError: this.lastError,
      lastDeliveredAt: this.lastDeliveredAt,
    };
  }

  /** Retries the waiting alerts now rather than after the backoff (a receiver came back). */
  retryNow(): void {
    this.streak = 0;
    this.wake?.();
  }

  /**
   * Stops sending: waits up to `waitMs` for a send in progress (one that
   * ends later is sent again after restart), then closes the outbox and the
   * transport. What waits stays in the outbox for the next start.
   */
  async close(waitMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    if (this.loop) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([this.loop, new Promise<void>((r) => (t = setTimeout(r, waitMs)))]);
      clearTimeout(t);
    }
    await this.outbox.close();
    await this.transport.close?.().catch(() => undefined);
  }

  /** Starts the send loop unless it runs. */
  private kick(): void {
    if (this.loop || this.closed) return;
    this.loop = this.run().finally(() => {
      this.loop = null;
      // an alert queued while the loop was finishing
      if (!this.closed && this.outbox.stats().pending > 0) this.kick();
    });
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const alert = this.outbox.oldest();
      if (!alert) return;
      try {
        await this.transport.send(alert);
      } catch (err) {
        if (this.closed) return;
        const error = err instanceof Error ? err : new Error(String(err));
        this.failures++;
        this.streak++;
        const retryInMs = this.backoff(this.streak);
        // one line when the receiver goes away, not one per retry
        if (this.lastError === null) {
          this.log(
            `faultline notify: ${this.kind}: ${error.message}; ${this.outbox.stats().pending} notification(s) kept in the outbox, retrying with backoff`,
          );
        }
        this.lastError = error.message;
        this.emit('failed', { alert, error, retryInMs });
        await this.pause(retryInMs);
        continue;
      }
      if (this.lastError !== null) this.log(`faultline notify: ${this.kind}: delivering again`);
      this.streak = 0;
      this.lastError = null;
      this.delivered++;
      this.lastDeliveredAt = new Date().toISOString();
      await this.outbox.done(alert.id);
      this.emit('delivered', alert);
    }
  }

  /** Delay before retry number `n` (1-based), ms. */
  private backoff(n: number): number {
    const full = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(n - 1, 30));
    return Math.round(full * (1 - 0.2 * Math.random()));
  }

  /** Waits `ms`, or less when retryNow() or close() wakes it. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      const self = this;
      function done(): void {
        clearTimeout(t);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  /** Frees a place: the oldest non-alarm alert, else the oldest alarm. */
  private dropOne(): void {
    const pending = this.outbox.pending();
    const victim = pending.find((a) => a.state !== 'alarm') ?? pending[0];
    if (!victim) return;
    this.dropped++;
    void this.outbox.done(victim.id);
    this.log(
      `faultline notify: ${this.kind} outbox full (${this.maxQueue}): dropped the ${victim.state} alert ${victim.id} of ${victim.machine}`,
    );
    this.emit('dropped', victim);
  }
}
