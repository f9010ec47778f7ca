/**
 * Webhook notifications: each alert is POSTed as JSON (the alert exactly as
 * on MQTT, src/contract/alert.ts) with two headers a receiver checks:
 *
 *   X-Faultline-Timestamp: <unix time, s, of this attempt>
 *   X-Faultline-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * The timestamp is inside the signed text, so it cannot be changed without
 * the secret; a receiver that refuses timestamps older than a few minutes
 * (and remembers the `Alert.id`s it saw, since delivery is at-least-once)
 * cannot be fed a recorded request again. Each retry is signed afresh.
 * docs/notifications.md shows the check in a few languages; {@link
 * verifyWebhookSignature} is the same check in TypeScript.
 *
 * Any 2xx answer is a delivery; anything else, a timeout or a refused
 * connection is a failure the notifier retries (./notifier.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Alert } from '../contract/alert.js';
import { FaultlineError } from '../errors.js';
import type { NotifyTransport } from './notifier.js';

export const SIGNATURE_HEADER = 'x-faultline-signature';
export const TIMESTAMP_HEADER = 'x-faultline-timestamp';
export const ALERT_ID_HEADER = 'x-faultline-alert-id';

export interface WebhookOptions {
  /** Receiver URL (http or https). */
  url: string;
  /** Shared secret of the HMAC (≥ 16 characters). */
  secret: string;
  /** Longest wait for an answer, ms. Default 10000. */
  timeoutMs?: number;
  /** Clock, ms since the epoch (the timestamp header). Default Date.now. */
  now?: () => number;
}

/** `sha256=<hex>` of `<timestamp>.<body>`: the value of the signature header. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * The receiver's check: the signature matches the raw body and timestamp,
 * and the timestamp is within `toleranceS` of now (default 300 s).
 */
export function verifyWebhookSignature(o: {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  toleranceS?: number;
  nowMs?: number;
}): boolean {
  if (!o.timestamp || !o.signature || !/^\d{1,12}$/.test(o.timestamp)) return false;
  const age = Math.abs((o.nowMs ?? Date.now()) / 1000 - Number(o.timestamp));
  if (!(age <= (o.toleranceS ?? 300))) return false;
  const want = Buffer.from(signWebhook(o.secret, o.timestamp, o.body));
  const got = Buffer.from(o.signature);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** The URL without credentials or query (it may carry a token): what logs show. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(bad url)';
  }
}

/** POSTs alerts to one URL (see the module comment). */
export class WebhookTransport implements NotifyTransport {
  readonly kind = 'webhook';
  private readonly url: string;
  private readonly secret: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;

  /** @throws TypeError for a URL that is not http(s) or a short secret */
  constructor(o: WebhookOptions) {
    let u: URL;
    try {
      u = new URL(o?.url);
    } catch {
      throw new TypeError(`webhook url ${JSON.stringify(o?.url)} is not a URL`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      throw new TypeError(`webhook url must be http:// or https://, got ${u.protocol}`);
    }
    if (typeof o.secret !== 'string' || o.secret.length < 16) {
      throw new TypeError('a webhook secret needs at least 16 characters');
    }
    this.url = o.url;
    this.secret = o.secret;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  /** @throws FaultlineError FL_ERR_NOTIFY_DELIVERY for a non-2xx answer, a timeout or no connection */
  async send(alert: Alert): Promise<void> {
    const body = JSON.stringify(alert);
    const timestamp = String(Math.floor(this.now() / 1000));
    let res: Response;
    try {
      res = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'faultline-gateway',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signWebhook(this.secret, timestamp, body),
          [ALERT_ID_HEADER]: alert.id,
        },
        body,
        // a redirect would resend the signed alert somewhere not configured
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new FaultlineError(
        'FL_ERR_NOTIFY_DELIVERY',
        `webhook ${redactedUrl(this.url)} not reached (${cause?.code ?? cause?.message ?? (err as Error).message})`,
        { cause: err },
      );
    }
    // drain the answer so the connection can be reused
    await res.arrayBuffer().catch(() => undefined);
    if (res.status < 200 || res.status > 299) {
      throw new FaultlineError(
        'FL_ERR_NOTIFY_DELIVERY',
        `webhook ${redactedUrl(this.url)} answered ${res.status}${res.status === 401 || res.status === 403 ? ' (does the receiver have the same secret?)' : ''}`,
      );
    }
  }
}
