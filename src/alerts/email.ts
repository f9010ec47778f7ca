/**
 * E-mail notifications over SMTP (nodemailer): one plain-text mail per
 * alert, to a fixed list of recipients. The subject names the severity, the
 * site and machine and the fault, so a phone's notification alone says what
 * happened; the body carries the rest of the alert and its id (header
 * `X-Faultline-Alert-Id` too, for mail filters). The SMTP server's accepting
 * the message is the delivery; a refusal or no connection is a failure the
 * notifier retries (./notifier.ts).
 */
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Alert } from '../contract/alert.js';
import { FaultlineError } from '../errors.js';
import type { NotifyTransport } from './notifier.js';

export interface EmailOptions {
  /** SMTP server host. */
  host: string;
  /** SMTP port (25, 465 implicit TLS, 587 submission). */
  port: number;
  /** TLS from the first byte (port 465). Default false (STARTTLS when offered). */
  secure?: boolean;
  /** Refuse to send without STARTTLS. Default false. */
  requireTls?: boolean;
  /** Verify the server's certificate. Default true. */
  rejectUnauthorized?: boolean;
  /** PEM file of the CA that signed the server's certificate. Default: the system's. */
  caPath?: string;
  username?: string;
  password?: string;
  /** Sender address. */
  from: string;
  /** Recipients (at least one). */
  to: string[];
  /** Longest wait for the server at each step (connect, greeting, each command), ms. Default 15000. */
  timeoutMs?: number;
}

/** Subject line: `[Faultline ALARM] site/machine: outer race (87 %)`. */
export function emailSubject(a: Alert): string {
  const fault = a.faultClass === 'normal' ? '' : `: ${a.faultClass}`;
  return `[Faultline ${a.state.toUpperCase()}] ${a.site}/${a.machine}${fault} (${Math.round(a.confidence * 100)} %)`;
}

/** Plain-text body: every field an operator needs, one per line. */
export function emailText(a: Alert): string {
  const lines = [
    `Machine ${a.machine} (site ${a.site}, sensor ${a.sensor}) is in state ${a.state.toUpperCase()} (was ${a.previousState}).`,
    '',
    `Severity:   ${a.state}`,
    `Fault:      ${a.faultClass}`,
    `Confidence: ${Math.round(a.confidence * 100)} %`,
    `Vibration:  ${a.velocityRmsMmS.toFixed(2)} mm/s RMS, ISO 20816 zone ${a.isoZone}`,
    ...(a.evidence
      ? [
          `Evidence:   ${a.evidence.defect} line at ${a.evidence.frequencyHz.toFixed(1)} Hz, ${a.evidence.prominence.toFixed(1)}× the floor`,
        ]
      : []),
    `Why:        ${a.reason}`,
    `When:       ${a.time}`,
    `Model:      ${a.modelVersion}`,
    `Alert id:   ${a.id}`,
    '',
    'Acknowledge it on the Faultline console (or POST /api/alerts/<id>/ack).',
  ];
  return `${lines.join('\n')}\n`;
}

/** Sends alerts as mails (see the module comment). */
export class EmailTransport implements NotifyTransport {
  readonly kind = 'email';
  private readonly transporter: Transporter;
  private readonly from: string;
  private readonly to: string[];

  /** @throws TypeError without a host, sender or recipient */
  constructor(o: EmailOptions) {
    if (!o?.host) throw new TypeError('e-mail notifications need an SMTP host');
    if (!o.from) throw new TypeError('e-mail notifications need a from address');
    if (!Array.isArray(o.to) || o.to.length === 0) {
      throw new TypeError('e-mail notifications need at least one recipient');
    }
    const timeout = o.timeoutMs ?? 15_000;
    this.from = o.from;
    this.to = [...o.to];
    this.transporter = nodemailer.createTransport({
      host: o.host,
      port: o.port,
      secure: o.secure ?? false,
      requireTLS: o.requireTls ?? false,
      ...(o.username !== undefined ? { auth: { user: o.username, pass: o.password ?? '' } } : {}),
      tls: {
        rejectUnauthorized: o.rejectUnauthorized ?? true,
        ...(o.caPath ? { ca: readFileSync(o.caPath) } : {}),
      },
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
  }

  /** @throws FaultlineError FL_ERR_NOTIFY_DELIVERY when the server cannot be reached or refuses */
  async send(alert: Alert): Promise<void> {
    try {
      await this.transporter.sendMail({
        from: this.from,
        to: this.to,
        subject: emailSubject(alert),
        text: emailText(alert),
        headers: { 'X-Faultline-Alert-Id': alert.id },
      });
    } catch (err) {
      const e = err as Error & { code?: string; responseCode?: number };
      throw new FaultlineError(
        'FL_ERR_NOTIFY_DELIVERY',
        `mail to ${this.to.join(', ')} not sent (${e.responseCode ? `${e.responseCode} ` : ''}${e.code ?? ''} ${e.message})`.replace(
          /\s+/g,
          ' ',
        ),
        { cause: err },
      );
    }
  }

  async close(): Promise<void> {
    this.transporter.close();
  }
}
