/**
 * Machine detail: live spectrogram waterfall, class probabilities over time,
 * velocity RMS over the ISO 20816 zones, the envelope spectrum (or, without
 * one from the gateway, the evidence peak) against the bearing's defect
 * frequencies, the alert history with acknowledgement and the model in use.
 * Esc goes back to the fleet.
 */
import type uPlot from 'uplot';
import { headsText } from '../../../../src/contract/heads-text.js';
import { freshnessLabel, shelvedBadge, stateBadge, zoneBadge } from '../badges.js';
import { envelopeChart, fitWidth, probabilityChart, velocityChart } from '../charts/plots.js';
import { Waterfall } from '../charts/waterfall.js';
import type { ViewContext } from '../context.js';
import { bearingOf, defectMarkers, isoBoundaries } from '../defects.js';
import { h, setText, tableHead, type View } from '../dom.js';
import { clock, dateTime, faultLabel, percent, timeZoneName, utc, withUnit } from '../format.js';
import { CLASS_ORDER, type MachineLive } from '../store.js';
import type { Alert, EnvelopePayload, MachineInfo, SpectrogramPayload } from '../types.js';
import { renderAlerts } from './alerts.js';
import { renderLearnControl } from './learn.js';
import { renderShelveControl } from './shelve.js';

const CHART_H = 190;

function fact(
  label: string,
  value: HTMLElement | string,
  title?: string,
  wide = false,
): HTMLElement {
  return h(
    'div',
    { class: wide ? 'fact fact-wide' : 'fact', title },
    h('dt', {}, label),
    h('dd', {}, value),
  );
}

/** A sensor's stream: its rate, whether it is resampled, and why its blocks are dropped if they are. */
function sensorLine(s: NonNullable<MachineInfo['sensors']>[number]): string {
  const rate = s.streamRate ?? s.sampleRate;
  const parts = [rate !== undefined ? `${Math.round(rate)} Hz` : 'rate unknown'];
  if (s.resampling) parts.push('resampled to the model rate');
  if (s.misfit?.reason) parts.push(`blocks dropped: ${s.misfit.reason}`);
  return parts.join(', ');
}

/** `outer 12 · normal 8`, most first; a dash when there are none. */
function verdictCounts(v: Record<string, number> | undefined): string {
  const rows = Object.entries(v ?? {}).filter(([, n]) => n > 0);
  if (!rows.length) return '—';
  return rows
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${faultLabel(c)} ${n}`)
    .join(' · ');
}

function panel(title: string, ...body: (HTMLElement | string)[]): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...body);
}

export function machineView(ctx: ViewContext, id: string): View {
  const { store } = ctx;
  const tz = timeZoneName();
  const title = h('h1', {}, id);
  const badge = h('span');
  const desc = h('p', { class: 'desc' });
  const shelveHost = h('div', { class: 'shelve-host' });
  const learnHost = h('div', { class: 'learn-host' });
  const facts = h('dl', { class: 'facts' });
  const wf = new Waterfall(240);
  const wfAxis = h('div', { class: 'wf-axis' });
  const wfNote = h('p', { class: 'muted small' });
  const probHost = h('div', { class: 'chart' });
  const velHost = h('div', { class: 'chart' });
  const velNote = h('p', { class: 'muted small' });
  const envHost = h('div', { class: 'chart' });
  const envNote = h('p', { class: 'muted small' });
  const defectTable = h('table', { class: 'defects' });
  const alertsHost = h('div', { class: 'alerts-host' });
  const changesHost = h('ol', { class: 'changes' });
  const back = h(
    'button',
    {
      class: 'back',
      type: 'button',
      title: 'Back to the fleet (Esc)',
      onclick: () => ctx.navigate('#/'),
    },
    '← Fleet',
  );
  const el = h(
    'section',
    { class: 'view machine', 'aria-labelledby': 'machine-title' },
    h(
      'div',
      { class: 'machine-head' },
      back,
      h('div', { class: 'title', id: 'machine-title' }, title, badge),
      h(
        'nav',
        { class: 'machine-links', 'aria-label': 'History' },
        h('a', { href: `#/machine/${encodeURIComponent(id)}/trend`, class: 'trend-link' }, 'Trend'),
        h(
          'a',
          { href: `#/machine/${encodeURIComponent(id)}/report`, class: 'report-link' },
          'Report',
        ),
      ),
      desc,
      shelveHost,
    ),
    facts,
    learnHost,
    h(
      'div',
      { class: 'panels' },
      panel('Spectrogram waterfall', h('div', { class: 'wf-box' }, wfAxis, wf.canvas), wfNote),
      panel(`Class probabilities`, probHost),
      panel('Velocity RMS and ISO 20816 zones', velHost, velNote),
      panel('Envelope spectrum and bearing defect frequencies', envHost, defectTable, envNote),
      panel('Alerts', alertsHost),
      panel('Health changes', changesHost),
    ),
  );

  const machine = (): MachineLive | undefined => store.machines.get(id);
  let markers = defectMarkers(bearingOf({ id }).geometry, undefined);
  let probChart: uPlot | undefined;
  let velChart: uPlot | undefined;
  let envChart: uPlot | undefined;
  let boundariesKey = '';
  const cleanups: (() => void)[] = [];
  let lastPushed: SpectrogramPayload | undefined;
  /** The latest envelope spectrum (only windows that computed evidence carry one). */
  let lastEnv: EnvelopePayload | undefined;
  // Ask the gateway for this machine's spectrogram and envelope while the view is open.
  ctx.view?.([id]);

  function ensureCharts(info: MachineInfo): void {
    const width = Math.max(300, probHost.clientWidth || 600);
    if (!probChart) {
      probChart = probabilityChart(probHost, CLASS_ORDER, width, CHART_H, tz);
      cleanups.push(fitWidth(probChart, probHost, CHART_H));
    }
    const iso = isoBoundaries(info);
    const key = iso.values.join(',');
    if (key !== boundariesKey) {
      velChart?.destroy();
      velHost.replaceChildren();
      velChart = velocityChart(velHost, iso.values, width, CHART_H, tz);
      cleanups.push(fitWidth(velChart, velHost, CHART_H));
      boundariesKey = key;
      setText(
        velNote,
        `Zone boundaries ${iso.values.join(' / ')} mm/s: ${iso.label}. Band 10–1000 Hz.`,
      );
    }
    if (!envChart) {
      envChart = envelopeChart(envHost, () => markers, width, CHART_H, 'amplitude / score');
      cleanups.push(fitWidth(envChart, envHost, CHART_H));
    }
  }

  function renderFacts(m: MachineLive): void {
    const d = m.last;
    const model = (m.info.model as { version?: string; origin?: string } | undefined) ?? {};
    const version = d?.modelVersion ?? model.version ?? m.info.modelVersion;
    facts.replaceChildren(
      fact(
        'Diagnosis',
        d ? `${faultLabel(d.faultClass)}${d.severity ? ` (${d.severity})` : ''}` : '—',
      ),
      fact('Confidence', percent(d?.confidence)),
      // A multi-task model's other heads: "inner race (0.91), size 0.014 in (0.88)".
      ...(d?.heads
        ? [
            fact(
              'Heads',
              h('span', { class: 'heads' }, headsText(d.heads)),
              headsText(d.heads),
              true,
            ),
          ]
        : []),
      fact('State since', m.since ? clock(m.since) : '—', m.since ? utc(m.since) : undefined),
      ...(m.reason
        ? [fact('Why', h('span', { class: 'state-reason' }, m.reason), undefined, true)]
        : []),
      ...(m.info.sensors ?? []).map((s) =>
        fact(
          `Sensor ${s.id}`,
          sensorLine(s),
          [sensorLine(s), s.resampling && `resampler: ${s.resampling}`].filter(Boolean).join('; '),
          Boolean(s.misfit),
        ),
      ),
      fact(
        'Shaft speed',
        d?.rpm ? `${d.rpm.toFixed(0)} rpm${d.rpmSource ? ` (${d.rpmSource})` : ''}` : '—',
      ),
      fact(
        'Velocity RMS',
        h('span', {}, withUnit(d?.velocityRmsMmS, 'mm/s', 2), ' ', zoneBadge(d?.isoZone)),
      ),
      fact('Acceleration RMS', withUnit(d?.rmsG, 'g', 3)),
      fact('Crest factor', withUnit(d?.crestFactor, '', 2).trim()),
      fact('Kurtosis', withUnit(d?.kurtosis, '', 2).trim()),
      fact('Model version', version ?? '—', model.origin),
      fact(
        'Verdict windows',
        h('span', { class: 'verdict-counts' }, verdictCounts(m.info.verdicts)),
        'Windows labelled by operators’ verdicts on alerts, per class: target data for this machine',
      ),
      fact('Inference latency', withUnit(d?.latencyMs, 'ms', 0)),
      fact('Last data', freshnessLabel(m.receivedAt, Date.now())),
    );
  }

  function renderEnvelope(m: MachineLive): void {
    const d = m.last;
    const { geometry, assumed } = bearingOf(m.info);
    const rpm = d?.rpm ?? m.info.nominalRpm ?? m.info.simulated?.rpm;
    markers = defectMarkers(geometry, rpm);
    const raw = d?.evidence ?? m.info.evidence ?? undefined;
    // The gateway sends {defect: null} when no defect line stands out.
    const ev =
      raw?.defect && Number.isFinite(raw.frequencyHz)
        ? {
            defect: raw.defect,
            frequencyHz: raw.frequencyHz as number,
            score: raw.score ?? raw.prominence ?? 1,
          }
        : undefined;
    if (d?.envelope) lastEnv = d.envelope;
    const env = lastEnv;
    let xs: number[] = [];
    let ys: number[] = [];
    const amp = env?.amplitude ?? env?.data;
    if (amp?.length) {
      ys = amp;
      xs = env?.freqHz?.length === amp.length ? env.freqHz : amp.map((_, i) => i * (env?.df ?? 1));
      setText(
        envNote,
        `Envelope spectrum of the last second of signal (amplitude in g), ${amp.length} bins of ${(env?.df ?? 0).toFixed(2)} Hz, each the peak of the bins it pools${ev ? `; evidence: ${ev.defect} at ${ev.frequencyHz.toFixed(1)} Hz (score ${ev.score.toFixed(2)})` : '; no defect line stands out'}. Dashed lines: defect frequencies; dotted: their 2nd harmonics.`,
      );
    } else {
      // The gateway sends no envelope spectrum: plot the evidence peak as a stem over the marker range.
      const top = Math.max(...markers.map((x) => x.hz * 2.2), ev ? ev.frequencyHz * 1.2 : 0, 50);
      const score = ev ? ev.score : 0;
      xs = [0];
      ys = [0];
      if (ev) {
        xs.push(ev.frequencyHz - 1e-6, ev.frequencyHz, ev.frequencyHz + 1e-6);
        ys.push(0, score, 0);
      }
      xs.push(top);
      ys.push(0);
      setText(
        envNote,
        `This gateway sends no envelope spectrum: the stem is the evidence peak${ev ? ` (${ev.defect} at ${ev.frequencyHz.toFixed(1)} Hz, score ${score.toFixed(2)})` : ': no defect line stands out'}; dashed lines are the defect frequencies, dotted their 2nd harmonics.`,
      );
    }
    envChart?.setData([xs, ys]);
    defectTable.replaceChildren(
      h(
        'caption',
        {},
        `Bearing ${geometry.balls} balls, d/D ${(geometry.ballDiameter / geometry.pitchDiameter).toFixed(3)}${assumed ? (m.info.bearingSource === 'default' ? ' (gateway default: CWRU 6205, none configured)' : ' (assumed: CWRU 6205, the gateway reports none)') : ' (configured)'}, at ${rpm ? `${rpm.toFixed(0)} rpm` : 'unknown speed'}`,
      ),
      tableHead(['Defect', 'Frequency', 'Evidence']),
      h(
        'tbody',
        {},
        ...markers.map((mk) =>
          h(
            'tr',
            { class: ev?.defect === mk.name ? 'hit' : '' },
            h('td', {}, mk.name),
            h('td', {}, `${mk.hz.toFixed(1)} Hz`),
            h('td', {}, ev?.defect === mk.name ? `◆ peak at ${ev.frequencyHz.toFixed(1)} Hz` : '—'),
          ),
        ),
      ),
    );
  }

  function renderChanges(m: MachineLive): void {
    // Changes seen live, else the ones the alert history records (each alert is a state change).
    const fromAlerts = store.alerts
      .filter((a) => a.machine === id && a.previousState)
      .map((a) => ({
        t: Date.parse(a.time),
        from: a.previousState as string,
        to: a.state as string,
        reason: a.reason,
      }))
      .reverse();
    const changes = m.changes.length ? m.changes : fromAlerts;
    changesHost.replaceChildren(
      ...[...changes]
        .reverse()
        .slice(0, 20)
        .map((c) =>
          h(
            'li',
            {},
            h('time', { title: utc(c.t) }, dateTime(c.t)),
            ' ',
            stateBadge(c.from),
            ' → ',
            stateBadge(c.to),
            h('span', { class: 'reason' }, ` ${c.reason}`),
          ),
        ),
    );
    if (!changes.length)
      changesHost.replaceChildren(h('li', { class: 'muted' }, 'No state change recorded yet.'));
  }

  function renderWaterfall(m: MachineLive): void {
    // Push only payloads not drawn yet (the store's list is a bounded FIFO, so find the last one by identity).
    const i = lastPushed ? m.spectra.lastIndexOf(lastPushed) : -1;
    for (const s of m.spectra.slice(i + 1)) wf.push(s);
    lastPushed = m.spectra[m.spectra.length - 1];
    wf.draw();
    const sensor = m.info.sensors?.[0];
    const last = m.spectra[m.spectra.length - 1];
    // A resampled stream reaches the model at the model's rate, not the sensor's.
    const maxHz =
      last?.maxFreqHz ??
      (sensor?.sampleRate && !sensor.resampling ? sensor.sampleRate / 2 : undefined);
    wfAxis.replaceChildren(
      h('span', {}, maxHz ? `${Math.round(maxHz)} Hz` : 'max'),
      h('span', {}, maxHz ? `${Math.round(maxHz / 2)} Hz` : ''),
      h('span', {}, '0 Hz'),
    );
    setText(
      wfNote,
      m.spectra.length
        ? `Newest at the right; ${wf.frames().length} ${last?.newFrames ? 'windows' : 'frames'} of ${last?.freqBins} bins, colour = level (dark low, bright high).`
        : m.trend.length >= 5
          ? 'The gateway sends no spectrogram with its diagnoses yet: the waterfall fills when it does.'
          : 'Waiting for spectrogram frames from the gateway…',
    );
  }

  function update(kind?: string): void {
    const m = machine();
    if (!m) {
      setText(title, `${id} (unknown machine)`);
      return;
    }
    ensureCharts(m.info);
    badge.replaceChildren(stateBadge(m.state), ' ', shelvedBadge(m.info.shelved));
    renderShelveControl(ctx, shelveHost, id, m.info.shelved);
    renderLearnControl(ctx, learnHost, id, m.info);
    setText(desc, m.info.description ?? '');
    renderFacts(m);
    if (!kind || kind === 'machine' || kind === 'machines') {
      const t = m.trend;
      probChart?.setData([t.t, ...CLASS_ORDER.map((c) => t.cols[`p:${c}`])] as uPlot.AlignedData);
      velChart?.setData([t.t, t.cols.velocity] as uPlot.AlignedData);
      renderEnvelope(m);
      renderWaterfall(m);
      renderChanges(m);
    }
    if (!kind || kind === 'alerts') {
      renderAlerts(ctx, alertsHost, id, loadAlerts);
      renderChanges(m);
    }
  }

  function loadAlerts(): void {
    ctx.api
      .get<Alert[] | { alerts: Alert[] }>(`/api/alerts?machine=${encodeURIComponent(id)}`)
      .then((r) => {
        const list = Array.isArray(r) ? r : (r?.alerts ?? []);
        const others = store.alerts.filter((a) => a.machine !== id);
        store.setAlerts([...others, ...list]);
      })
      .catch((err: Error) => ctx.notify(`Alerts: ${err.message}`, true));
  }

  ctx.api
    .get<MachineInfo>(`/api/machines/${encodeURIComponent(id)}`)
    .then((info) => {
      if (info?.id) store.setMachines([info]);
    })
    .catch((err: Error) => ctx.notify(`Machine ${id}: ${err.message}`, true));
  loadAlerts();
  const timer = setInterval(() => {
    const m = machine();
    if (m) renderFacts(m);
  }, 1000);
  queueMicrotask(() => update());
  return {
    el,
    update: (kind, m) => {
      if (m === undefined || m === id) update(kind);
    },
    dispose: () => {
      ctx.view?.([]);
      clearInterval(timer);
      for (const c of cleanups) c();
      probChart?.destroy();
      velChart?.destroy();
      envChart?.destroy();
    },
  };
}
