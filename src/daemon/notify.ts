/**
 * The gateway's notifiers (src/alerts/notifier.ts) from the `notify` section:
 * one per configured channel, each with its outbox in the state directory
 * (`notify-webhook-outbox.jsonl`, `notify-email-outbox.jsonl`), so what a
 * dead receiver or a restart left is sent at the next start. A channel that
 * cannot start is logged and skipped: the gateway keeps diagnosing.
 * A configuration reload does not change them (restart the gateway).
 */
import path from 'node:path';
import { EmailTransport } from '../alerts/email.js';
import { AlertNotifier, type NotifyTransport } from '../alerts/notifier.js';
import { WebhookTransport } from '../alerts/webhook.js';
import type { Severity } from '../contract/health.js';
import type { GatewayContext } from './gateway-context.js';

/** The outbox file of a channel, in the state directory. */
export const notifyOutboxFile = (stateDir: string, kind: string) =>
  path.join(stateDir, `notify-${kind}-outbox.jsonl`);

/** Starts the configured notifiers into `ctx.parts.notifiers`. */
export async function openNotifiers(ctx: GatewayContext): Promise<void> {
  const n = ctx.config.notify;
  const channels: { transport: () => NotifyTransport; minSeverity?: Severity }[] = [];
  const w = n.webhook;
  if (w) {
    channels.push({
      transport: () =>
        new WebhookTransport({ url: w.url, secret: w.secret ?? '', timeoutMs: w.timeoutMs }),
      ...(w.minSeverity ? { minSeverity: w.minSeverity } : {}),
    });
  }
  const e = n.email;
  if (e) {
    channels.push({
      transport: () =>
        new EmailTransport({
          host: e.host,
          port: e.port,
          secure: e.secure,
          requireTls: e.requireTls,
          rejectUnauthorized: e.rejectUnauthorized,
          ...(e.caPath ? { caPath: e.caPath } : {}),
          ...(e.username !== undefined ? { username: e.username, password: e.password } : {}),
          from: e.from,
          to: e.to,
          timeoutMs: e.timeoutMs,
        }),
      ...(e.minSeverity ? { minSeverity: e.minSeverity } : {}),
    });
  }
  const started: AlertNotifier[] = [];
  for (const c of channels) {
    let transport: NotifyTransport | undefined;
    try {
      transport = c.transport();
      started.push(
        await AlertNotifier.open({
          transport,
          outboxFile: notifyOutboxFile(ctx.stateDir, transport.kind),
          minSeverity: c.minSeverity ?? n.minSeverity,
          retryInitialMs: n.retryInitialMs,
          retryMaxMs: n.retryMaxMs,
          maxQueue: n.maxQueue,
          log: (m) => ctx.log.warn(m),
        }),
      );
      ctx.log.info(`faultline gateway: ${transport.kind} notifications on`);
    } catch (err) {
      await transport?.close?.().catch(() => undefined);
      ctx.log.error(
        `faultline gateway: ${transport?.kind ?? 'a'} notifier not started: ${(err as Error).message}`,
      );
    }
  }
  ctx.parts.notifiers = started;
}
