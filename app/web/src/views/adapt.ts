/**
 * Adaptation: pick a machine, collect its unlabelled live signal for a chosen
 * time, align the model to it (DANN or MMD) with live progress, read the
 * promotion guards, and roll back if the new model is not wanted. The gateway
 * promotes a candidate by itself when every guard passes.
 */
import type uPlot from 'uplot';
import { adaptationChart, fitWidth } from '../charts/plots.js';
import type { ViewContext } from '../context.js';
import { h, setText, type View } from '../dom.js';
import { dateTime, toMs, utc } from '../format.js';
import { guardRows } from '../guards.js';
import type { AdaptationStatus } from '../types.js';

const CURVES = ['loss', 'classLoss', 'domainLoss', 'discriminatorAccuracy'] as const;
const CURVE_LABELS: Record<(typeof CURVES)[number], string> = {
  loss: 'total loss',
  classLoss: 'class loss',
  domainLoss: 'domain loss',
  discriminatorAccuracy: 'discriminator accuracy',
};

/** The phases shown in the stepper, with the job states that mean each is current/done. */
const PHASES = [
  { key: 'collecting', label: 'Collect signal' },
  { key: 'adapting', label: 'Align model' },
  { key: 'guards', label: 'Check guards' },
  { key: 'result', label: 'Promote / keep' },
] as const;

function phaseIndex(state: string | undefined): number {
  switch (state) {
    case 'collecting':
      return 0;
    case 'adapting':
      return 1;
    case 'done':
    case 'rejected':
      return 4;
    default:
      return -1;
  }
}

export function adaptView(ctx: ViewContext, initialMachine?: string): View {
  const { store } = ctx;
  const machineSel = h('select', { id: 'adapt-machine', 'aria-label': 'Machine to adapt' });
  const seconds = h('input', {
    id: 'adapt-seconds',
    type: 'number',
    min: 1,
    max: 3600,
    step: 1,
    value: 30,
    'aria-label': 'Collection time in seconds',
  });
  const strategy = h(
    'select',
    { id: 'adapt-strategy', 'aria-label': 'Adaptation strategy' },
    h('option', { value: 'dann' }, 'DANN (domain-adversarial)'),
    h('option', { value: 'mmd' }, 'MMD (kernel mean matching)'),
  );
  const start = h(
    'button',
    { type: 'submit', class: 'primary', id: 'adapt-start' },
    'Collect and adapt',
  );
  const rollback = h(
    'button',
    { type: 'button', id: 'adapt-rollback', class: 'danger' },
    'Roll back to previous model',
  );
  const modelInfo = h('p', { class: 'model-info' });
  const form = h(
    'form',
    { class: 'adapt-form panel' },
    h('h2', {}, 'New adaptation'),
    h('label', {}, 'Machine', machineSel),
    h('label', {}, 'Collect (s)', seconds),
    h('label', {}, 'Strategy', strategy),
    h(
      'p',
      { class: 'muted small' },
      'The machine keeps being diagnosed with its current model while its unlabelled signal is collected and the model is aligned to it.',
    ),
    start,
    h('h2', {}, 'Model in use'),
    modelInfo,
    rollback,
  );
  const stepper = h('ol', { class: 'stepper', 'aria-label': 'Adaptation phases' });
  const collectBar = h('progress', { max: 1, value: 0, id: 'collect-progress' });
  const collectText = h('span', { class: 'small' });
  const stepBar = h('progress', { max: 1, value: 0, id: 'step-progress' });
  const stepText = h('span', { class: 'small' });
  const status = h('p', {
    class: 'job-status',
    id: 'adapt-status',
    role: 'status',
    'aria-live': 'polite',
  });
  const curveHost = h('div', { class: 'chart' });
  const curveNote = h('p', { class: 'muted small' });
  const guardsHost = h('div', { class: 'guards' });
  const history = h('table', { class: 'jobs' });
  const el = h(
    'section',
    { class: 'view adapt', 'aria-labelledby': 'adapt-title' },
    h('div', { class: 'toolbar' }, h('h1', { id: 'adapt-title' }, 'Adaptation')),
    h(
      'div',
      { class: 'adapt-grid' },
      form,
      h(
        'div',
        { class: 'adapt-main' },
        h(
          'section',
          { class: 'panel' },
          h('h2', {}, 'Progress'),
          stepper,
          status,
          h(
            'div',
            { class: 'bars' },
            h('label', {}, 'Signal collected ', collectBar, collectText),
            h('label', {}, 'Alignment steps ', stepBar, stepText),
          ),
          curveHost,
          curveNote,
        ),
        h('section', { class: 'panel' }, h('h2', {}, 'Promotion guards'), guardsHost),
        h('section', { class: 'panel' }, h('h2', {}, 'Earlier runs on this machine'), history),
      ),
    ),
  );

  let chart: uPlot | undefined;
  const curve: { step: number[] } & Record<string, number[]> = {
    step: [],
    ...Object.fromEntries(CURVES.map((c) => [c, []])),
  };
  let curveJob = '';
  let jobs: AdaptationStatus[] = [];
  const cleanups: (() => void)[] = [];

  const current = () => machineSel.value;

  function fillMachines(): void {
    const ids = [...store.machines.keys()].sort();
    const have = Array.from(machineSel.options).map((o) => o.value);
    if (ids.join() !== have.join()) {
      const keep = machineSel.value || initialMachine;
      machineSel.replaceChildren(...ids.map((id) => h('option', { value: id }, id)));
      if (keep && ids.includes(keep)) machineSel.value = keep;
    }
  }

  function loadJobs(): void {
    const id = current();
    if (!id) return;
    ctx.api
      .get<AdaptationStatus[]>(`/api/machines/${encodeURIComponent(id)}/adapt`)
      .then((list) => {
        jobs = Array.isArray(list) ? list : [];
        if (jobs[0] && !store.adaptations.has(id)) store.adaptation(jobs[0]);
        render();
      })
      .catch((err: Error) => ctx.notify(`Adaptation jobs: ${err.message}`, true));
  }

  function renderCurves(job: AdaptationStatus | undefined): void {
    if (job && job.id !== curveJob) {
      curveJob = job.id ?? '';
      for (const k of Object.keys(curve)) curve[k].length = 0;
    }
    const hasCurve = job !== undefined && CURVES.some((c) => typeof job[c] === 'number');
    if (
      job &&
      hasCurve &&
      typeof job.step === 'number' &&
      job.step !== curve.step[curve.step.length - 1]
    ) {
      curve.step.push(job.step);
      for (const c of CURVES)
        curve[c].push(typeof job[c] === 'number' ? (job[c] as number) : Number.NaN);
    }
    if (!chart) {
      chart = adaptationChart(
        curveHost,
        CURVES.map((c) => CURVE_LABELS[c]),
        Math.max(300, curveHost.clientWidth || 600),
        170,
      );
      cleanups.push(fitWidth(chart, curveHost, 170));
    }
    chart.setData([curve.step, ...CURVES.map((c) => curve[c])] as uPlot.AlignedData);
    // An empty plot is a large blank box: show it only once there is a curve.
    curveHost.hidden = curve.step.length === 0;
    setText(
      curveNote,
      curve.step.length
        ? 'Discriminator accuracy near 50 % means the model no longer tells the two domains apart.'
        : 'This gateway reports step progress only: loss and discriminator-accuracy curves appear here once it sends them.',
    );
  }

  function render(): void {
    fillMachines();
    const id = current();
    const m = store.machines.get(id);
    const job = store.adaptations.get(id) ?? jobs[0];
    const model = (m?.info.model as { version?: string; origin?: string } | undefined) ?? {};
    setText(
      modelInfo,
      model.version
        ? `${model.version}${model.origin ? ` — ${model.origin}` : ''}`
        : (m?.last?.modelVersion ?? 'unknown'),
    );
    const running = job?.state === 'collecting' || job?.state === 'adapting';
    start.disabled = !id || running;
    const pi = phaseIndex(job?.state);
    stepper.replaceChildren(
      ...PHASES.map((p, i) => {
        const st = i < pi ? 'done' : i === pi ? 'current' : 'todo';
        const icon = st === 'done' ? '✓' : st === 'current' ? '▶' : '○';
        return h(
          'li',
          { class: `phase ${st}`, 'aria-current': st === 'current' ? 'step' : undefined },
          h('span', { 'aria-hidden': 'true' }, icon),
          ` ${p.label}`,
        );
      }),
    );
    const secs = job?.seconds ?? Number(seconds.value);
    collectBar.max = secs || 1;
    collectBar.value = Math.min(job?.collectedS ?? 0, secs);
    setText(collectText, job ? `${(job.collectedS ?? 0).toFixed(0)} / ${secs} s` : '');
    stepBar.max = job?.steps || 1;
    stepBar.value = job?.step ?? 0;
    setText(stepText, job ? `${job.step ?? 0} / ${job.steps ?? '?'} steps` : '');
    let text = 'No adaptation has run on this machine yet.';
    if (job) {
      const s = job.state;
      text =
        s === 'collecting'
          ? `Collecting ${secs} s of unlabelled signal from ${job.machine}…`
          : s === 'adapting'
            ? `Aligning the model (${job.strategy ?? ''}) to ${job.machine}'s conditions…`
            : s === 'done'
              ? `✓ Promoted: ${job.machine} now runs ${job.version} (was ${job.fromVersion ?? '—'}).`
              : s === 'rejected'
                ? `✖ Not promoted: a guard failed; ${job.machine} keeps ${job.fromVersion ?? 'its model'} (candidate ${job.version ?? '—'} kept in the registry).`
                : s === 'failed'
                  ? `✖ Failed: ${job.error ?? 'unknown error'}`
                  : `${s ?? 'unknown state'}`;
    }
    setText(status, text);
    status.className = `job-status ${job?.state ?? ''}`;
    renderCurves(job);
    const rows = guardRows(job?.guards);
    guardsHost.replaceChildren(
      rows.length
        ? h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', {}, 'Guard'),
                h('th', {}, 'Before'),
                h('th', {}, 'After'),
                h('th', {}, 'Limit'),
                h('th', {}, 'Result'),
              ),
            ),
            h(
              'tbody',
              {},
              ...rows.map((r) =>
                h(
                  'tr',
                  { class: r.passed ? 'pass' : 'fail', title: r.detail },
                  h('td', {}, h('div', {}, r.title), h('div', { class: 'muted small' }, r.measure)),
                  h('td', {}, r.before ?? '—'),
                  h('td', {}, r.after ?? '—'),
                  h('td', {}, r.limit ?? '—'),
                  h('td', { class: 'result' }, r.passed ? '✓ passed' : '✖ failed'),
                ),
              ),
            ),
          )
        : h(
            'p',
            { class: 'muted' },
            running ? 'Guards are checked when the alignment finishes.' : 'No guard results yet.',
          ),
    );
    history.replaceChildren(
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'Started'),
          h('th', {}, 'Strategy'),
          h('th', {}, 'Signal'),
          h('th', {}, 'Outcome'),
          h('th', {}, 'Version'),
        ),
      ),
      h(
        'tbody',
        {},
        ...(jobs.length ? [] : [h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'None yet.'))]),
        ...jobs.slice(0, 8).map((j) => {
          const t = toMs(j.startedAt as string);
          return h(
            'tr',
            {},
            h('td', { title: utc(t) }, dateTime(t)),
            h('td', {}, String(j.strategy ?? '—')),
            h('td', {}, `${j.seconds ?? '—'} s`),
            h(
              'td',
              {},
              j.state === 'done'
                ? '✓ promoted'
                : j.state === 'rejected'
                  ? '✖ rejected'
                  : String(j.state ?? '—'),
            ),
            h('td', {}, j.version ?? '—'),
          );
        }),
      ),
    );
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const id = current();
    const body = { seconds: Number(seconds.value), strategy: strategy.value };
    start.disabled = true;
    ctx.api
      .post<AdaptationStatus>(`/api/machines/${encodeURIComponent(id)}/adapt`, body)
      .then((job) => {
        store.adaptation(job);
        jobs = [job, ...jobs.filter((j) => j.id !== job.id)];
        ctx.notify(`Adaptation of ${id} started`);
      })
      .catch((err: Error) => {
        start.disabled = false;
        ctx.notify(`Adaptation refused: ${err.message}`, true);
      });
  });
  rollback.addEventListener('click', () => {
    const id = current();
    if (!window.confirm(`Roll ${id} back to its previous model version?`)) return;
    ctx.api
      .post<{ from: string; to: string }>(`/api/machines/${encodeURIComponent(id)}/rollback`, {})
      .then((r) => {
        ctx.notify(`${id} rolled back from ${r.from} to ${r.to}`);
        return ctx.api
          .get(`/api/machines/${encodeURIComponent(id)}`)
          .then((info) => store.setMachines([info as never]));
      })
      .catch((err: Error) => ctx.notify(`Rollback refused: ${err.message}`, true));
  });
  machineSel.addEventListener('change', () => {
    jobs = [];
    loadJobs();
    render();
  });

  fillMachines();
  loadJobs();
  queueMicrotask(render);
  return {
    el,
    update: (kind, machine) => {
      if (kind === 'adaptation' && machine === current()) {
        const j = store.adaptations.get(machine);
        if (j?.id) jobs = [j, ...jobs.filter((x) => x.id !== j.id)];
        if (j && (j.state === 'done' || j.state === 'rejected')) loadJobs();
      }
      if (
        kind === 'adaptation' ||
        kind === 'machines' ||
        (kind === 'machine' && machine === current())
      )
        render();
    },
    dispose: () => {
      for (const c of cleanups) c();
      chart?.destroy();
    },
  };
}
