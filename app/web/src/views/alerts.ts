/**
 * A machine's alert history with acknowledgement: each alert shows when
 * (local time, UTC on hover), the state entered, the fault and why; an
 * unacknowledged one has a form for the operator's name and a comment.
 */
import { stateBadge } from '../badges.js';
import type { ViewContext } from '../context.js';
import { h } from '../dom.js';
import { dateTime, faultLabel, percent, toMs, utc } from '../format.js';
import type { Alert } from '../types.js';

const OPERATOR_KEY = 'faultline.operator';

function ackForm(ctx: ViewContext, a: Alert, onDone: () => void): HTMLFormElement {
  const by = h('input', {
    name: 'by',
    required: true,
    maxlength: 200,
    placeholder: 'Your name',
    'aria-label': 'Acknowledged by',
    value: localStorage.getItem(OPERATOR_KEY) ?? '',
  });
  const comment = h('input', {
    name: 'comment',
    maxlength: 1000,
    placeholder: 'Comment (optional)',
    'aria-label': 'Comment',
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Acknowledge');
  const form = h('form', { class: 'ack-form', 'data-alert': a.id }, by, comment, submit);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = by.value.trim();
    if (!name) return by.focus();
    localStorage.setItem(OPERATOR_KEY, name);
    submit.disabled = true;
    const body: { by: string; comment?: string } = { by: name };
    if (comment.value.trim()) body.comment = comment.value.trim();
    ctx.api
      .post<Alert | { alert?: Alert }>(`/api/alerts/${encodeURIComponent(a.id)}/ack`, body)
      .then((res) => {
        const updated = (res && 'id' in (res as Alert) ? res : (res as { alert?: Alert })?.alert) as
          | Alert
          | undefined;
        ctx.store.upsertAlert(
          updated?.id
            ? updated
            : { ...a, acknowledged: { time: new Date().toISOString(), ...body } },
        );
        ctx.notify(`Alert acknowledged by ${name}`);
        onDone();
      })
      .catch((err: Error) => {
        submit.disabled = false;
        ctx.notify(`Acknowledge failed: ${err.message}`, true);
      });
  });
  return form;
}

/** Renders the alert list of `machine` into `host` (replacing its content). */
export function renderAlerts(
  ctx: ViewContext,
  host: HTMLElement,
  machine: string,
  refresh: () => void,
): void {
  const alerts = ctx.store.alerts.filter((a) => a.machine === machine).slice(0, 50);
  if (!alerts.length) {
    host.replaceChildren(h('p', { class: 'muted' }, 'No alerts for this machine.'));
    return;
  }
  host.replaceChildren(
    h(
      'ol',
      { class: 'alerts' },
      ...alerts.map((a) => {
        const t = toMs(a.time);
        const ack = a.acknowledged;
        return h(
          'li',
          { class: `alert ${ack ? 'acked' : 'open'}`, 'data-alert': a.id },
          h(
            'div',
            { class: 'alert-head' },
            h('time', { datetime: a.time, title: utc(t) }, dateTime(t)),
            stateBadge(a.state),
            h(
              'span',
              { class: 'alert-fault' },
              `${faultLabel(a.faultClass)} · ${percent(a.confidence)}`,
            ),
          ),
          h('p', { class: 'reason' }, a.reason),
          ack
            ? h(
                'p',
                { class: 'ack-note' },
                h('span', { 'aria-hidden': 'true' }, '✓ '),
                `Acknowledged by ${ack.by} at ${dateTime(toMs(ack.time))}${ack.comment ? ` — “${ack.comment}”` : ''}`,
              )
            : ackForm(ctx, a, refresh),
        );
      }),
    ),
  );
}
