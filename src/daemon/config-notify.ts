/**
 * The `notify` section of the configuration: people told of alerts by
 * webhook and e-mail (src/alerts/notifier.ts, docs/notifications.md). Off
 * unless a channel is configured.
 */
import { z } from 'zod';
import { SEVERITIES } from '../contract/health.js';
import { port, secret, withPasswordFile } from './config-fields.js';
import { readSecretFile } from './secrets.js';

const severity = z.enum(SEVERITIES, { error: `expected one of ${SEVERITIES.join(', ')}` });

/** A signed HTTP POST of each alert. */
const webhookSchema = z
  .strictObject({
    /** Receiver URL, http:// or https:// (a token in its query is never logged). */
    url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
    /** HMAC-SHA256 secret shared with the receiver, ≥ 16 characters (`${NAME}`: from the environment). Give it or secretFile. */
    secret: secret().optional(),
    /** File holding the secret (wins over secret). Default none. */
    secretFile: z.string().min(1).optional(),
    /** Least severity sent (ok, watch, warning, alarm). Default notify.minSeverity. */
    minSeverity: severity.optional(),
    /** Longest wait for the receiver's answer, ms. Default 10000. */
    timeoutMs: z.int().min(100).max(120_000).default(10_000),
  })
  .transform((w, ctx) => {
    if (w.secretFile === undefined) return w;
    const r = readSecretFile(w.secretFile);
    if (r.ok) return { ...w, secret: r.value };
    ctx.addIssue({ code: 'custom', path: ['secretFile'], message: r.message });
    return z.NEVER;
  })
  .refine((w) => (w.secret ?? '').length >= 16, {
    error: 'give a secret of at least 16 characters (secret or secretFile)',
    path: ['secret'],
  });

/** A plain-text mail of each alert over SMTP. */
const emailSchema = z
  .strictObject({
    /** SMTP server. */
    host: z.string().min(1),
    /** SMTP port: 587 submission (STARTTLS), 465 implicit TLS (set secure), 25. Default 587. */
    port: port().default(587),
    /** TLS from the first byte (port 465). Default false (STARTTLS when the server offers it). */
    secure: z.boolean().default(false),
    /** Refuse to send unless the server offers STARTTLS. Default false. */
    requireTls: z.boolean().default(false),
    /** Verify the server's certificate. Default true. */
    rejectUnauthorized: z.boolean().default(true),
    /** PEM file of the CA of the server's certificate. Default: the system's CAs. */
    caPath: z.string().min(1).optional(),
    /** SMTP user name. Default none (no AUTH). */
    username: z.string().min(1).optional(),
    /** SMTP password (`${NAME}`: from the environment). Default none. */
    password: secret().optional(),
    /** File holding the password (wins over password). Default none. */
    passwordFile: z.string().min(1).optional(),
    /** Sender address. */
    from: z.email({ error: 'expected an e-mail address' }),
    /** Recipients (at least one). */
    to: z.array(z.email({ error: 'expected an e-mail address' })).min(1),
    /** Least severity sent (ok, watch, warning, alarm). Default notify.minSeverity. */
    minSeverity: severity.optional(),
    /** Longest wait for the server at each step, ms. Default 15000. */
    timeoutMs: z.int().min(100).max(120_000).default(15_000),
  })
  .transform(withPasswordFile);

/** Webhook and e-mail notifications of alerts; off unless a channel is given. */
export const notifySchema = z
  .strictObject({
    /** Least severity notified, for the channels without their own: ok, watch, warning or alarm. Default warning. */
    minSeverity: severity.default('warning'),
    /** First retry delay after a failed delivery, ms (doubles per failure). Default 1000. */
    retryInitialMs: z.int().min(10).max(3_600_000).default(1000),
    /** Longest retry delay, ms. Default 300000 (5 min). */
    retryMaxMs: z.int().min(10).max(86_400_000).default(300_000),
    /** Notifications kept per channel while its receiver is away (then the oldest non-alarm is dropped). Default 10000. */
    maxQueue: z.int().min(2).max(1_000_000).default(10_000),
    /** Signed HTTP POST of each alert. Default none. */
    webhook: webhookSchema.optional(),
    /** Mail of each alert. Default none. */
    email: emailSchema.optional(),
  })
  .refine((n) => n.retryMaxMs >= n.retryInitialMs, {
    error: 'retryMaxMs must be at least retryInitialMs',
    path: ['retryMaxMs'],
  })
  .prefault({});

export type NotifyConfig = z.output<typeof notifySchema>;
