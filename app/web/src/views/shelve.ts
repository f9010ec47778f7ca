/**
 * The shelve control of the machine view: a machine not shelved gets a form
 * (who, why, for how long) to shelve it — still diagnosed, but no alerts or
 * notifications until the time runs out (docs/notifications.md); a shelved
 * one shows who shelved it, why and until when, with an Unshelve button.
 */
import type { ViewContext } from '../context.js';
import { h } from '../dom.js';
import { dateTime } from '../format.js';
import type { Shelf } from '../types.js';

const OPERATOR_KEY = 'faultline.operator';

/** Durations offered, s (the gateway takes up to 30 days). */
const DURATIONS: [string, number][] = [
  ['1 hour', 3600],
  ['4 hours', 4 * 3600],
  ['8 hours', 8 * 3600],
  ['24 hours', 86_400],
  ['3 days', 3 * 86_400],
  ['7 days', 7 * 86_400],
];

interface ShelveAnswer {
  machine: string;
  shelved: Shelf | null;
}

/** Renders the control for `shelf` (the machine's current one, or none) into `host`. */
export function renderShelveControl(
  ctx: ViewContext,
  host: HTMLElement,
  id: string,
  shelf: Shelf | null | undefined,
): void {
  const key = shelf ? `${shelf.by}|${shelf.until}` : 'none';
  if (host.dataset.key === key) return; // keep what the operator is typing
  host.dataset.key = key;
  const by = h('input', {
    name: 'by',
    required: true,
    maxlength: 200,
    placeholder: 'Your name',
    'aria-label': shelf ? 'Unshelved by' : 'Shelved by',
    value: localStorage.getItem(OPERATOR_KEY) ?? '',
  });
  const send = (path: string, body: object, done: (r: ShelveAnswer) => string) => {
    const name = by.value.trim();
    if (!name) {
      by.focus();
      return;
    }
    localStorage.setItem(OPERATOR_KEY, name);
    ctx.api
      .post<ShelveAnswer>(`/api/machines/${encodeURIComponent(id)}/${path}`, { by: name, ...body })
      .then((r) => {
        ctx.store.shelve({ machine: id, shelved: r?.shelved ?? null });
        ctx.notify(done(r));
      })
      .catch((err: Error) => ctx.notify(`${path} failed: ${err.message}`, true));
  };

  if (shelf) {
    const submit = h('button', { type: 'submit' }, 'Unshelve');
    const form = h(
      'form',
      { class: 'shelve-form shelved', 'data-shelved': 'true' },
      h(
        'p',
        { class: 'shelf-note' },
        `Shelved by ${shelf.by} until ${dateTime(Date.parse(shelf.until))}: ${shelf.reason}. Still diagnosed; no alerts or notifications.`,
      ),
      by,
      submit,
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      send('unshelve', {}, () => `${id} unshelved: it alerts again`);
    });
    host.replaceChildren(form);
    return;
  }
  const reason = h('input', {
    name: 'reason',
    required: true,
    maxlength: 1000,
    placeholder: 'Why (maintenance, known fault…)',
    'aria-label': 'Reason',
  });
  const duration = h(
    'select',
    { name: 'duration', 'aria-label': 'For' },
    ...DURATIONS.map(([label, s]) => h('option', { value: String(s) }, label)),
  );
  const submit = h('button', { type: 'submit' }, 'Shelve');
  const form = h(
    'form',
    {
      class: 'shelve-form',
      title: 'Shelve: the machine is still diagnosed, but raises no alerts or notifications',
    },
    by,
    reason,
    duration,
    submit,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!reason.value.trim()) {
      reason.focus();
      return;
    }
    send('shelve', { reason: reason.value.trim(), durationS: Number(duration.value) }, (r) =>
      r?.shelved ? `${id} shelved until ${dateTime(Date.parse(r.shelved.until))}` : `${id} shelved`,
    );
  });
  host.replaceChildren(form);
}
