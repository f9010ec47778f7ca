/**
 * Notifiers against real receivers on loopback: a node:http server checking
 * the webhook signature (computed here with node:crypto, independently of
 * the module's own helper), a real smtp-server receiving the mails, a
 * receiver that is down at first, and a restart (a new notifier over the
 * same outbox file) in between.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { EmailTransport, emailSubject } from '../../src/alerts/email.js';
import { AlertNotifier, severityAtLeast } from '../../src/alerts/notifier.js';
import {
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhookSignature,
  WebhookTransport,
} from '../../src/alerts/webhook.js';
import type { Alert } from '../../src/contract/alert.js';
import { waitFor } from '../support/links.js';
import { freePort } from '../support/ports.js';
import { alertFor, exampleAlert } from './example.js';

const SECRET = 'test-secret-0123456789';

interface Received {
  body: string;
  alert: Alert;
  timestamp: string;
  signature: string;
  valid: boolean;
}

/** A webhook receiver that checks signatures the way docs/notifications.md tells receivers to. */
async function receiver(port = 0): Promise<{
  url: string;
  port: number;
  got: Received[];
  status: { code: number };
  close: () => Promise<void>;
}> {
  const got: Received[] = [];
  const status = { code: 204 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(req.headers[TIMESTAMP_HEADER] ?? '');
      const signature = String(req.headers[SIGNATURE_HEADER] ?? '');
      const want = `sha256=${createHmac('sha256', SECRET).update(`${timestamp}.${body}`).digest('hex')}`;
      const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
      const valid = signature === want && fresh;
      got.push({ body, alert: JSON.parse(body) as Alert, timestamp, signature, valid });
      res.statusCode = valid ? status.code : 401;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const p = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${p}/hooks/faultline?token=abc`,
    port: p,
    got,
    status,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server on loopback (no TLS, no auth), keeping what it accepts. */
async function smtp(
  port = 0,
): Promise<{ port: number; mails: Mail[]; close: () => Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const address = server.server.address() as AddressInfo;
  return {
    port: address.port,
    mails,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('notifiers', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fl-notify-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('severity filter: warning and alarm by default, never stream states or ok', () => {
    assert.ok(severityAtLeast('alarm', 'warning'));
    assert.ok(severityAtLeast('warning', 'warning'));
    assert.ok(!severityAtLeast('watch', 'warning'));
    assert.ok(severityAtLeast('ok', 'ok'));
    assert.ok(!severityAtLeast('silent', 'ok'));
    assert.ok(!severityAtLeast('warning', 'alarm'));
  });

  test('webhook: signed POST of the alert, verified by a real node:http receiver', async () => {
    const rx = await receiver();
    const n = await AlertNotifier.open({
      transport: new WebhookTransport({ url: rx.url, secret: SECRET }),
      outboxFile: path.join(dir, 'w1', 'webhook.jsonl'),
      log: () => undefined,
    });
    try {
      assert.equal(n.notify(alertFor('m1', 1, 'watch')), false, 'below warning: not sent');
      assert.equal(n.notify(exampleAlert), true);
      await waitFor(() => n.stats().delivered === 1, 'webhook delivery', 10_000);
      assert.equal(rx.got.length, 1);
      const r = rx.got[0];
      assert.ok(r.valid, 'signature checks out');
      assert.deepEqual(r.alert, exampleAlert);
      // the module's own check agrees, and refuses a tampered body or an old timestamp
      assert.ok(
        verifyWebhookSignature({
          secret: SECRET,
          body: r.body,
          timestamp: r.timestamp,
          signature: r.signature,
        }),
      );
      assert.ok(
        !verifyWebhookSignature({
          secret: SECRET,
          body: r.body.replace('pump3', 'pump4'),
          timestamp: r.timestamp,
          signature: r.signature,
        }),
      );
      assert.ok(
        !verifyWebhookSignature({
          secret: SECRET,
          body: r.body,
          timestamp: r.timestamp,
          signature: r.signature,
          nowMs: (Number(r.timestamp) + 3600) * 1000,
        }),
        'a replay an hour later is refused',
      );
      assert.equal(n.stats().skipped, 1);
      assert.equal(n.stats().queued, 0);
    } finally {
      await n.close();
      await rx.close();
    }
  });

  test('webhook: a wrong secret is a failure that stays queued', async () => {
    const rx = await receiver();
    const n = await AlertNotifier.open({
      transport: new WebhookTransport({ url: rx.url, secret: 'not-the-right-secret' }),
      outboxFile: path.join(dir, 'w2', 'webhook.jsonl'),
      retryInitialMs: 50,
      log: () => undefined,
    });
    try {
      n.notify(exampleAlert);
      await waitFor(() => n.stats().failures >= 2, 'retried failures', 10_000);
      assert.equal(n.stats().delivered, 0);
      assert.equal(n.stats().queued, 1);
      assert.match(n.stats().lastError ?? '', /answered 401.*secret/);
      assert.ok(!(n.stats().lastError ?? '').includes('token=abc'), 'the query is not logged');
    } finally {
      await n.close();
      await rx.close();
    }
  });

  test('webhook: receiver down at first, then up → delivered once from the outbox', async () => {
    const port = await freePort();
    const n = await AlertNotifier.open({
      transport: new WebhookTransport({ url: `http://127.0.0.1:${port}/hook`, secret: SECRET }),
      outboxFile: path.join(dir, 'w3', 'webhook.jsonl'),
      retryInitialMs: 100,
      retryMaxMs: 400,
      log: () => undefined,
    });
    let rx: Awaited<ReturnType<typeof receiver>> | undefined;
    try {
      n.notify(exampleAlert);
      await waitFor(() => n.stats().failures >= 2, 'failures while down', 10_000);
      assert.equal(n.stats().queued, 1);
      rx = await receiver(port);
      await waitFor(() => n.stats().delivered === 1, 'delivery once up', 10_000);
      // a little more than the longest backoff: no second delivery follows
      await waitFor(() => n.stats().queued === 0, 'outbox empty', 10_000);
      const deadline = Date.now() + 800;
      await waitFor(() => Date.now() > deadline, 'quiet period', 5_000);
      assert.equal(rx.got.length, 1);
      assert.ok(rx.got[0].valid);
      assert.equal(rx.got[0].alert.id, exampleAlert.id);
    } finally {
      await n.close();
      await rx?.close();
    }
  });

  test('webhook: a restart in between (new notifier, same outbox) → delivered', async () => {
    const port = await freePort();
    const file = path.join(dir, 'w4', 'webhook.jsonl');
    const first = await AlertNotifier.open({
      transport: new WebhookTransport({ url: `http://127.0.0.1:${port}/hook`, secret: SECRET }),
      outboxFile: file,
      retryInitialMs: 100,
      log: () => undefined,
    });
    const a = alertFor('m1', 5, 'alarm');
    const b = alertFor('m2', 6, 'warning');
    first.notify(a);
    first.notify(b);
    await waitFor(() => first.stats().failures >= 1, 'a failure while down', 10_000);
    await first.close();

    const rx = await receiver(port);
    const logs: string[] = [];
    const second = await AlertNotifier.open({
      transport: new WebhookTransport({ url: `http://127.0.0.1:${port}/hook`, secret: SECRET }),
      outboxFile: file,
      retryInitialMs: 100,
      log: (m) => logs.push(m),
    });
    try {
      await waitFor(() => second.stats().delivered === 2, 'delivery after restart', 10_000);
      assert.deepEqual(
        rx.got.map((r) => r.alert.id),
        [a.id, b.id],
        'in the order they were raised',
      );
      assert.ok(rx.got.every((r) => r.valid));
      assert.ok(logs.some((m) => /2 webhook notification\(s\) left/.test(m)));
    } finally {
      await second.close();
      await rx.close();
    }
    // and nothing is left for a third start
    const third = await AlertNotifier.open({
      transport: new WebhookTransport({ url: `http://127.0.0.1:${port}/hook`, secret: SECRET }),
      outboxFile: file,
      log: () => undefined,
    });
    assert.equal(third.stats().queued, 0);
    await third.close();
  });

  test('queue bound drops the oldest non-alarm alert', async () => {
    const port = await freePort(); // nobody listens
    const dropped: Alert[] = [];
    const n = await AlertNotifier.open({
      transport: new WebhookTransport({ url: `http://127.0.0.1:${port}/hook`, secret: SECRET }),
      outboxFile: path.join(dir, 'w5', 'webhook.jsonl'),
      maxQueue: 2,
      retryInitialMs: 60_000,
      log: () => undefined,
    });
    n.on('dropped', (a) => dropped.push(a));
    const alarm = alertFor('m1', 1, 'alarm');
    const warn = alertFor('m1', 2, 'warning');
    const alarm2 = alertFor('m1', 3, 'alarm');
    n.notify(alarm);
    n.notify(warn);
    n.notify(alarm2);
    assert.deepEqual(
      dropped.map((a) => a.id),
      [warn.id],
    );
    assert.equal(n.stats().queued, 2);
    await n.close();
  });

  test('e-mail: a real SMTP server receives machine, fault and severity', async () => {
    const server = await smtp();
    const n = await AlertNotifier.open({
      transport: new EmailTransport({
        host: '127.0.0.1',
        port: server.port,
        from: 'faultline@plant1.example',
        to: ['maintenance@plant1.example', 'oncall@plant1.example'],
        timeoutMs: 5000,
      }),
      outboxFile: path.join(dir, 'm1', 'email.jsonl'),
      log: () => undefined,
    });
    try {
      n.notify(exampleAlert);
      await waitFor(() => n.stats().delivered === 1, 'mail delivery', 15_000);
      assert.equal(server.mails.length, 1);
      const m = server.mails[0];
      assert.equal(m.from, 'faultline@plant1.example');
      assert.deepEqual(m.to, ['maintenance@plant1.example', 'oncall@plant1.example']);
      const subject = /^Subject: (.*)$/m.exec(m.raw)?.[1] ?? '';
      assert.equal(subject, emailSubject(exampleAlert));
      assert.match(subject, /ALARM/);
      assert.match(subject, /pump3/);
      assert.match(subject, /inner/);
      assert.match(m.raw, /Machine pump3/);
      assert.match(m.raw, /Severity: +alarm/);
      assert.match(m.raw, /Fault: +inner/);
      assert.match(m.raw, new RegExp(`X-Faultline-Alert-Id: ${exampleAlert.id}`, 'i'));
    } finally {
      await n.close();
      await server.close();
    }
  });

  test('e-mail: server down at first, a restart, then up → delivered once', async () => {
    const port = await freePort();
    const file = path.join(dir, 'm2', 'email.jsonl');
    const transport = () =>
      new EmailTransport({
        host: '127.0.0.1',
        port,
        from: 'faultline@plant1.example',
        to: ['maintenance@plant1.example'],
        timeoutMs: 3000,
      });
    const first = await AlertNotifier.open({
      transport: transport(),
      outboxFile: file,
      retryInitialMs: 100,
      log: () => undefined,
    });
    first.notify(exampleAlert);
    await waitFor(() => first.stats().failures >= 1, 'a failure while down', 15_000);
    assert.match(first.stats().lastError ?? '', /ECONNREFUSED/);
    await first.close();

    const server = await smtp(port);
    const second = await AlertNotifier.open({
      transport: transport(),
      outboxFile: file,
      retryInitialMs: 100,
      log: () => undefined,
    });
    try {
      await waitFor(() => second.stats().delivered === 1, 'mail after restart', 15_000);
      assert.equal(server.mails.length, 1);
      assert.match(server.mails[0].raw, /pump3/);
      assert.equal(second.stats().queued, 0);
    } finally {
      await second.close();
      await server.close();
    }
  });
});
