/**
 * Adaptation: pick a machine, collect its unlabelled live signal for a chosen
 * time, align the model to it (DANN or MMD) with live progress, read the
 * promotion guards, and roll back if the new model is not wanted. The gateway
 * promotes a candidate by itself when every guard passes.
 *
 * The same view runs learning from verdicts (finetune or features on the
 * machine's labelled windows; started here or from the machine view): one
 * more guard, on the held-out verdict windows, shown with the others.
 */
import type uPlot from 'uplot';
import { adaptationChart, fitWidth } from '../charts/plots.js';
import type { ViewContext } from '../context.js';
import { h, setText, tableHead, type View } from '../dom.js';
import { dateTime, toMs, utc } from '../format.js';
import { guardRows } from '../guards.js';
import type { AdaptationStatus } from '../types.js';

const LOSSES = ['loss', 'classLoss', 'domainLoss'] as const;
const LOSS_LABELS = ['total loss', 'class loss', 'domain loss'];
const CHECKPOINT_LABELS = [
  'discriminator accuracy',
  'source val. accuracy',
  'label-free IM (target)',
];

/** A registry version as `GET /api/models` lists it. */
interface VersionInfo {
  id: string;
  origin?: string;
  machine?: string;
  registeredAt?: string;
  adaptation?: {
    strategy?: string;
    promoted?: boolean;
    guards?: { name: string; passed: boolean }[];
  };
}

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
    h('option', { value: 'finetune' }, 'Fine-tune on verdicts (labelled)'),
    h('option', { value: 'features' }, 'New head on verdicts (labelled)'),
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
  const lossHost = h('div', { class: 'chart', id: 'adapt-losses' });
  const cpHost = h('div', { class: 'chart', id: 'adapt-checkpoints' });
  const curveHost = h('div', { class: 'curves' }, lossHost, cpHost);
  const curveNote = h('p', { class: 'muted small' });
  const versionsTable = h('table', { class: 'versions' });
  const guardsHost = h('div', { class: 'guards' });
  const heldOutNote = h('p', { class: 'held-out small', id: 'adapt-held-out' });
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
        h('section', { class: 'panel' }, h('h2', {}, 'Promotion guards'), heldOutNote, guardsHost),
        h('section', { class: 'panel' }, h('h2', {}, 'Earlier runs on this machine'), history),
        h(
          'section',
          { class: 'panel' },
          h('h2', {}, 'Model versions'),
          h(
            'p',
            { class: 'muted small' },
            'Activate a registered version by hand. A candidate that failed a guard needs a reason; every promotion is recorded in the registry.',
          ),
          versionsTable,
        ),
      ),
    ),
  );

  let lossChart: uPlot | undefined;
  let cpChart: uPlot | undefined;
  /** Points gathered from flat progress fields, for a gateway that sends no `losses` array. */
  const live: { step: number[]; loss: number[]; classLoss: number[]; domainLoss: number[] } = {
    step: [],
    loss: [],
    classLoss: [],
    domainLoss: [],
  };
  let curveJob = '';
  let versions: VersionInfo[] = [];
  let activeVersion: string | null = null;
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
      for (const k of Object.keys(live) as (keyof typeof live)[]) live[k].length = 0;
    }
    if (
      job &&
      typeof job.step === 'number' &&
      LOSSES.some((c) => typeof job[c] === 'number') &&
      job.step !== live.step[live.step.length - 1]
    ) {
      live.step.push(job.step);
      for (const c of LOSSES)
        live[c].push(typeof job[c] === 'number' ? (job[c] as number) : Number.NaN);
    }
    const pts = job?.losses?.length ? job.losses : undefined;
    const num = (v: number | undefined) => (typeof v === 'number' ? v : Number.NaN);
    const lossData = pts
      ? [pts.map((p) => p.step), ...LOSSES.map((c) => pts.map((p) => num(p[c])))]
      : [live.step, ...LOSSES.map((c) => live[c])];
    const cps = job?.checkpoints ?? [];
    const cpData = [
      cps.map((c) => c.step),
      cps.map((c) => num(c.discriminatorAccuracy)),
      cps.map((c) => num(c.sourceValAccuracy)),
      cps.map((c) => num(c.im)),
    ];
    const width = Math.max(300, curveHost.clientWidth || 600);
    if (!lossChart) {
      lossChart = adaptationChart(lossHost, LOSS_LABELS, width, 170);
      cleanups.push(fitWidth(lossChart, lossHost, 170));
    }
    if (!cpChart) {
      cpChart = adaptationChart(cpHost, CHECKPOINT_LABELS, width, 170);
      cleanups.push(fitWidth(cpChart, cpHost, 170));
    }
    lossChart.setData(lossData as uPlot.AlignedData);
    cpChart.setData(cpData as uPlot.AlignedData);
    // An empty plot is a large blank box: show each only once it has a point.
    lossHost.hidden = lossData[0].length === 0;
    cpHost.hidden = cps.length === 0;
    const notes: string[] = [];
    if (lossData[0].length === 0)
      notes.push(
        job?.state === 'adapting' || job?.state === 'collecting'
          ? 'Loss curves appear as the gateway reports step losses.'
          : 'This run reported no step losses.',
      );
    if (cps.length)
      notes.push(
        'Checkpoints: discriminator accuracy near 50 % means the model no longer tells the two domains apart; the label-free IM score (confident and diverse target predictions) picks the kept checkpoint among those within 1 point of the best source accuracy.',
      );
    else notes.push('Label-free checkpoints appear here when the gateway reports them.');
    setText(
      curveNote,
      job?.fromVerdicts
        ? 'Learning from verdicts trains for a fixed number of epochs and reports its phases (prepare, statistics, train, guards), not step losses.'
        : notes.join(' '),
    );
  }

  function loadVersions(): void {
    ctx.api
      .get<{ versions?: VersionInfo[]; active?: Record<string, string | null> }>('/api/models')
      .then((r) => {
        versions = Array.isArray(r?.versions) ? r.versions : [];
        activeVersion = r?.active?.[current()] ?? null;
        renderVersions();
      })
      .catch((err: Error) => ctx.notify(`Model versions: ${err.message}`, true));
  }

  function promote(v: VersionInfo, by: string, reason: string): void {
    const id = current();
    const failed = (v.adaptation?.guards ?? []).filter((g) => !g.passed).map((g) => g.name);
    const forced = v.adaptation?.promoted === false;
    const question = forced
      ? `Activate ${v.id} on ${id} although guard(s) ${failed.join(', ') || '?'} failed? Your reason is recorded.`
      : `Activate ${v.id} on ${id}?`;
    if (!window.confirm(question)) return;
    ctx.api
      .post<{ from?: string; to: string }>(`/api/machines/${encodeURIComponent(id)}/promote`, {
        version: v.id,
        by,
        ...(reason ? { reason } : {}),
        ...(forced ? { force: true } : {}),
      })
      .then((r) => {
        ctx.notify(`${id} now runs ${r.to}${r.from ? ` (was ${r.from})` : ''}`);
        loadVersions();
        return ctx.api
          .get(`/api/machines/${encodeURIComponent(id)}`)
          .then((info) => store.setMachines([info as never]));
      })
      .catch((err: Error) => ctx.notify(`Promotion refused: ${err.message}`, true));
  }

  function renderVersions(): void {
    const id = current();
    const mine = versions.filter((v) => !v.machine || v.machine === id).reverse();
    const rows = mine.slice(0, 10).map((v) => {
      const active = v.id === activeVersion;
      const failed = v.adaptation?.promoted === false;
      const by = h('input', {
        name: 'by',
        required: true,
        placeholder: 'Your name',
        'aria-label': `Who promotes ${v.id}`,
        maxlength: 200,
      });
      const reason = h('input', {
        name: 'reason',
        required: failed,
        placeholder: failed ? 'Reason (required: a guard failed)' : 'Reason (optional)',
        'aria-label': `Why promote ${v.id}`,
        maxlength: 1000,
      });
      const form = h(
        'form',
        { class: 'promote-form', 'data-version': v.id },
        by,
        reason,
        h(
          'button',
          { type: 'submit', class: failed ? 'danger' : 'primary' },
          failed ? 'Promote anyway' : 'Promote',
        ),
      );
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        promote(v, by.value.trim(), reason.value.trim());
      });
      return h(
        'tr',
        { class: active ? 'active' : '', 'data-version': v.id },
        h('td', {}, v.id, active ? h('span', { class: 'muted small' }, ' ● active') : ''),
        h('td', { class: 'small' }, v.origin ?? '—'),
        h(
          'td',
          {},
          v.adaptation
            ? v.adaptation.promoted
              ? '✓ guards passed'
              : `✖ failed: ${(v.adaptation.guards ?? [])
                  .filter((g) => !g.passed)
                  .map((g) => g.name)
                  .join(', ')}`
            : '—',
        ),
        h('td', {}, active ? '' : form),
      );
    });
    versionsTable.replaceChildren(
      tableHead(['Version', 'Origin', 'Guards', '']),
      h(
        'tbody',
        {},
        ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'None.'))]),
      ),
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
        const label = p.key === 'adapting' && job?.fromVerdicts ? 'Learn from verdicts' : p.label;
        const st = i < pi ? 'done' : i === pi ? 'current' : 'todo';
        const icon = st === 'done' ? '✓' : st === 'current' ? '▶' : '○';
        return h(
          'li',
          { class: `phase ${st}`, 'aria-current': st === 'current' ? 'step' : undefined },
          h('span', { 'aria-hidden': 'true' }, icon),
          ` ${label}`,
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
            ? job.fromVerdicts
              ? `Learning from ${job.machine}'s verdicts (${job.strategy ?? ''})…`
              : `Aligning the model (${job.strategy ?? ''}) to ${job.machine}'s conditions…`
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
    const ho = job?.heldOut;
    const pc = (v: number) => `${(v * 100).toFixed(1)} %`;
    setText(
      heldOutNote,
      job?.fromVerdicts
        ? ho
          ? `Learned from ${Object.entries(job.trained ?? {})
              .map(([c, n]) => `${n} ${c}`)
              .join(
                ', ',
              )} verdict windows; ${ho.windows} held out: accuracy ${pc(ho.before)} with the current model, ${pc(ho.after)} with the new one.`
          : 'Verdict windows are held out from training to check the new model on them.'
        : '',
    );
    heldOutNote.hidden = !job?.fromVerdicts;
    const rows = guardRows(job?.guards);
    guardsHost.replaceChildren(
      rows.length
        ? h(
            'table',
            {},
            tableHead(['Guard', 'Before', 'After', 'Limit', 'Result']),
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
      tableHead(['Started', 'Strategy', 'Signal', 'Outcome', 'Version']),
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
            h('td', {}, `${j.strategy ?? '—'}${j.fromVerdicts ? ' (verdicts)' : ''}`),
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
    const labelled = strategy.value === 'finetune' || strategy.value === 'features';
    const body = {
      seconds: Number(seconds.value),
      strategy: strategy.value,
      ...(labelled ? { fromVerdicts: true } : {}),
    };
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
        loadVersions();
        return ctx.api
          .get(`/api/machines/${encodeURIComponent(id)}`)
          .then((info) => store.setMachines([info as never]));
      })
      .catch((err: Error) => ctx.notify(`Rollback refused: ${err.message}`, true));
  });
  machineSel.addEventListener('change', () => {
    jobs = [];
    loadJobs();
    loadVersions();
    render();
  });

  fillMachines();
  loadJobs();
  loadVersions();
  queueMicrotask(render);
  return {
    el,
    update: (kind, machine) => {
      if (kind === 'adaptation' && machine === current()) {
        const j = store.adaptations.get(machine);
        if (j?.id) jobs = [j, ...jobs.filter((x) => x.id !== j.id)];
        if (j && (j.state === 'done' || j.state === 'rejected')) {
          loadJobs();
          loadVersions();
        }
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
      lossChart?.destroy();
      cpChart?.destroy();
    },
  };
}
