/**
 * "Learn from verdicts" on the machine view (issue #16, docs/verdicts.md):
 * once a class has the gateway's `verdictsMinPerClass` labelled windows, the
 * operator can start a learning run (finetune or features on the machine's
 * verdict windows, a short live stream for its statistics). The run is an
 * adaptation job: the console opens the adaptation view, which shows its
 * progress, its guards and the promote/rollback controls.
 */
import type { ViewContext } from '../context.js';
import { h } from '../dom.js';
import type { AdaptationStatus, MachineInfo } from '../types.js';

/** The gateway's default `verdicts.minPerClass`, for a gateway that does not report it. */
const DEFAULT_MIN_PER_CLASS = 10;

/** Live signal a run collects for its batch-norm statistics, s (short: it carries no label). */
export const LEARN_SECONDS = 10;

/** Renders the control into `host` (kept as is while its readiness does not change). */
export function renderLearnControl(
  ctx: ViewContext,
  host: HTMLElement,
  id: string,
  info: MachineInfo,
): void {
  const min =
    typeof info.verdictsMinPerClass === 'number' ? info.verdictsMinPerClass : DEFAULT_MIN_PER_CLASS;
  const ready = Object.values(info.verdicts ?? {}).some((n) => n >= min);
  // a gateway without verdicts (older) cannot learn from them: nothing to offer
  const key = info.verdicts === undefined ? 'none' : `${ready}|${min}`;
  if (host.dataset.key === key) return; // keep the operator's choice of strategy
  host.dataset.key = key;
  if (key === 'none') {
    host.replaceChildren();
    return;
  }
  if (!ready) {
    host.replaceChildren(
      h(
        'p',
        { class: 'muted small learn-note' },
        `Learn from verdicts: a class needs ${min} labelled windows (acknowledge alerts with a verdict).`,
      ),
    );
    return;
  }
  const strategy = h(
    'select',
    { name: 'strategy', 'aria-label': 'How to learn from the verdicts' },
    h('option', { value: 'finetune' }, 'Fine-tune the upper layers'),
    h('option', { value: 'features' }, 'New head on the frozen features'),
  );
  const start = h(
    'button',
    { type: 'submit', class: 'primary learn-start' },
    'Learn from verdicts',
  );
  const form = h(
    'form',
    { class: 'learn-form' },
    strategy,
    start,
    h(
      'span',
      { class: 'muted small' },
      `Trains on the labelled windows, holds some out to check the result, and uses ${LEARN_SECONDS} s of live signal; the new model is used only if every guard passes.`,
    ),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    start.disabled = true;
    ctx.api
      .post<AdaptationStatus>(`/api/machines/${encodeURIComponent(id)}/adapt`, {
        fromVerdicts: true,
        strategy: strategy.value,
        seconds: LEARN_SECONDS,
      })
      .then((job) => {
        ctx.store.adaptation(job);
        ctx.notify(`Learning from ${id}'s verdicts started`);
        ctx.navigate(`#/adapt/${encodeURIComponent(id)}`);
      })
      .catch((err: Error) => {
        start.disabled = false;
        ctx.notify(`Learning refused: ${err.message}`, true);
      });
  });
  host.replaceChildren(form);
}
