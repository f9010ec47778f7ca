/**
 * A machine's alert history with acknowledgement: each alert shows when
 * (local time, UTC on hover), the state entered, the fault and why; an
 * unacknowledged one has a form for the operator's name, a comment and a
 * verdict (confirmed with one of the model's classes, false alarm,
 * unknown): confirmed and false alarms label the windows around the alert as
 * the machine's target data (docs/verdicts.md).
 */
import { headsText } from '../../../../src/contract/heads-text.js';
import { stateBadge } from '../badges.js';
import type { ViewContext } from '../context.js';
import { h } from '../dom.js';
import { dateTime, faultLabel, percent, toMs, utc } from '../format.js';
import type { Alert, MachineInfo, Verdict } from '../types.js';

const OPERATOR_KEY = 'faultline.operator';

/** How a verdict reads in the alert list. */
function verdictText(v: Verdict | undefined): string {
  if (!v) return '';
  if (v.kind === 'confirmed') return ` · confirmed: ${faultLabel(v.faultClass)}`;
  return v.kind === 'false-alarm' ? ' · false alarm' : ' · verdict unknown';
}

/**
 * The verdict part of the ack form: what the operator found, and for a
 * confirmed fault the class, from the machine's model (the gateway refuses
 * any other).
 */
function verdictFields(classes: string[], alerted: string) {
  const kind = h(
    'select',
    { name: 'verdict', 'aria-label': 'Verdict' },
    h('option', { value: '' }, 'No verdict'),
    h('option', { value: 'confirmed' }, 'Confirmed fault'),
    h('option', { value: 'false-alarm' }, 'False alarm'),
    h('option', { value: 'unknown' }, 'Unknown'),
  );
  const faultClass = h(
    'select',
    { name: 'faultClass', 'aria-label': 'Confirmed fault class', hidden: true },
    ...classes.map((c) =>
      h('option', { value: c, ...(c === alerted ? { selected: true } : {}) }, faultLabel(c)),
    ),
  );
  kind.addEventListener('change', () => {
    faultClass.hidden = kind.value !== 'confirmed';
  });
  const value = (): Verdict | undefined => {
    if (kind.value === 'confirmed') return { kind: 'confirmed', faultClass: faultClass.value };
    if (kind.value === 'false-alarm') return { kind: 'false-alarm' };
    if (kind.value === 'unknown') return { kind: 'unknown' };
    return undefined;
  };
  // no classes (no model loaded): nothing can be confirmed
  if (!classes.length) kind.querySelector('option[value="confirmed"]')?.remove();
  return { kind, faultClass, value };
}

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
  const classes = ctx.store.machines.get(a.machine)?.info.model?.classes ?? [];
  const verdict = verdictFields(classes, a.faultClass);
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Acknowledge');
  const form = h(
    'form',
    { class: 'ack-form', 'data-alert': a.id },
    by,
    comment,
    verdict.kind,
    verdict.faultClass,
    submit,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = by.value.trim();
    if (!name) return by.focus();
    localStorage.setItem(OPERATOR_KEY, name);
    submit.disabled = true;
    const body: { by: string; comment?: string; verdict?: Verdict } = { by: name };
    if (comment.value.trim()) body.comment = comment.value.trim();
    const v = verdict.value();
    if (v) body.verdict = v;
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
        ctx.notify(`Alert acknowledged by ${name}${verdictText(v)}`);
        onDone();
        // a verdict changed the machine's counts of labelled windows
        if (v) refreshMachine(ctx, a.machine);
      })
      .catch((err: Error) => {
        submit.disabled = false;
        ctx.notify(`Acknowledge failed: ${err.message}`, true);
      });
  });
  return form;
}

/** Reads the machine again (its verdict counts) into the store. */
function refreshMachine(ctx: ViewContext, machine: string): void {
  ctx.api
    .get<MachineInfo>(`/api/machines/${encodeURIComponent(machine)}`)
    .then((info) => {
      if (info?.id) ctx.store.setMachines([info]);
    })
    .catch((err: Error) => ctx.notify(`Machine ${machine}: ${err.message}`, true));
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
            ...(a.heads
              ? [h('span', { class: 'alert-heads' }, `heads: ${headsText(a.heads)}`)]
              : []),
          ),
          h('p', { class: 'reason' }, a.reason),
          ack
            ? h(
                'p',
                { class: 'ack-note' },
                h('span', { 'aria-hidden': 'true' }, '✓ '),
                `Acknowledged by ${ack.by} at ${dateTime(toMs(ack.time))}${verdictText(ack.verdict)}${ack.comment ? ` — “${ack.comment}”` : ''}`,
              )
            : ackForm(ctx, a, refresh),
        );
      }),
    ),
  );
}
