/**
 * Entry of the Faultline web console (served by the gateway at `/`, and shown
 * by the Electron shell). Reads the token, checks it against the API, opens
 * the live stream and routes between the four views by URL hash:
 *
 *   #/               fleet overview
 *   #/machine/<id>   machine detail (Esc: back)
 *   #/machine/<id>/trend    its history: ranges, measures, zoom, CSV (Esc: back to the machine)
 *   #/machine/<id>/report   its printable condition report
 *   #/adapt[/<id>]   adaptation
 *   #/gateway        gateway health
 */
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import './trend.css';
import { ApiError, forgetToken, GatewayApi, LiveStream, takeToken } from './api.js';
import type { ViewContext } from './context.js';
import { frameThrottle, h, setText, type View } from './dom.js';
import { clock, timeZoneId, timeZoneName } from './format.js';
import { type ChangeKind, ConsoleStore } from './store.js';
import type { Alert, MachineInfo, StreamMessage } from './types.js';
import { adaptView } from './views/adapt.js';
import { fleetView } from './views/fleet.js';
import { gatewayView } from './views/gateway.js';
import { machineView } from './views/machine.js';
import { reportView } from './views/report.js';
import { trendView } from './views/trend.js';

const root = document.getElementById('app') as HTMLElement;

/** The token screen: shown without a token or after the gateway refused one. */
function tokenScreen(reason: string): void {
  const input = h('input', {
    type: 'password',
    id: 'token-input',
    required: true,
    minlength: 16,
    'aria-label': 'Gateway token',
    autocomplete: 'off',
  });
  const form = h(
    'form',
    { class: 'login panel', id: 'login' },
    h('h1', {}, 'Faultline console'),
    h('p', { class: 'refused', role: 'alert' }, reason),
    h(
      'p',
      { class: 'muted' },
      'The gateway prints its console URL with the token when it starts (also kept in <stateDir>/token).',
    ),
    h('label', {}, 'Token ', input),
    h('button', { type: 'submit', class: 'primary' }, 'Connect'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem('faultline.token', input.value.trim());
    location.reload();
  });
  root.replaceChildren(form);
  input.focus();
}

function header(
  store: ConsoleStore,
  site: string,
): { el: HTMLElement; tick(): void; setActive(route: string): void } {
  const conn = h('span', { class: 'conn', id: 'conn', role: 'status' });
  const time = h('span', { class: 'clock', title: `Times are shown in ${timeZoneId()}` });
  const links = [
    ['#/', 'Fleet'],
    ['#/adapt', 'Adaptation'],
    ['#/gateway', 'Gateway'],
  ].map(([href, label]) => h('a', { href, 'data-route': href }, label));
  const el = h(
    'header',
    { class: 'topbar' },
    h(
      'div',
      { class: 'brand' },
      h('span', { class: 'logo', 'aria-hidden': 'true' }, '≋'),
      ' Faultline',
      h('span', { class: 'site' }, site),
    ),
    h('nav', { 'aria-label': 'Views' }, ...links),
    h('div', { class: 'meta' }, conn, time),
  );
  const tick = () => {
    setText(time, `${clock(Date.now())} · ${timeZoneId()}`);
    const s = store.connection;
    conn.className = `conn ${s === 'open' ? 'up' : 'down'}`;
    setText(
      conn,
      s === 'open' ? '● live' : s === 'connecting' ? '◐ connecting…' : '✖ stream lost, retrying',
    );
  };
  return {
    el,
    tick,
    setActive: (route) => {
      for (const a of links) a.classList.toggle('active', a.dataset.route === route);
    },
  };
}

async function boot(): Promise<void> {
  const token = takeToken();
  const api = new GatewayApi(token);
  let machines: MachineInfo[];
  try {
    machines = await api.get<MachineInfo[]>('/api/machines');
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      forgetToken();
      return tokenScreen(
        token ? `Access refused: ${err.message}` : 'This console needs the gateway token.',
      );
    }
    root.replaceChildren(
      h(
        'p',
        { class: 'refused panel', role: 'alert' },
        `Cannot reach the gateway: ${(err as Error).message}`,
      ),
    );
    return;
  }
  const store = new ConsoleStore();
  store.setMachines(Array.isArray(machines) ? machines : []);
  const site = String(machines[0]?.site ?? '');
  document.title = `Faultline — ${site || 'console'}`;

  const main = h('main', { id: 'main', tabindex: -1 });
  const toast = h('div', { class: 'toast', role: 'status', 'aria-live': 'polite' });
  const top = header(store, site);
  const footer = h(
    'footer',
    { class: 'statusbar' },
    `Times in ${timeZoneId()} (${timeZoneName()}); hover a time for UTC. Velocity in mm/s RMS (10–1000 Hz), acceleration in g, frequencies in Hz.`,
  );
  root.replaceChildren(top.el, main, footer, toast);

  let toastTimer: ReturnType<typeof setTimeout> | undefined;
  const ctx: ViewContext = {
    store,
    api,
    navigate: (hash) => {
      if (location.hash === hash) route();
      else location.hash = hash;
    },
    notify: (message, error = false) => {
      toast.textContent = message;
      toast.className = `toast show ${error ? 'error' : ''}`;
      clearTimeout(toastTimer);
      toastTimer = setTimeout(() => (toast.className = 'toast'), error ? 8000 : 4000);
    },
  };

  let stream: LiveStream | undefined;
  ctx.view = (ids) => stream?.setView(ids);
  let view: View | undefined;
  let lastFleetFocus: string | undefined;
  function route(): void {
    const hash = location.hash || '#/';
    const [, route0, arg, sub] = hash.split('/');
    const name = route0 === 'machines' ? 'machine' : route0;
    const prev = view;
    if (prev?.el.classList.contains('machine'))
      lastFleetFocus = prev.el.querySelector('h1')?.textContent ?? undefined;
    prev?.dispose();
    if (name === 'machine' && arg && sub === 'trend')
      view = trendView(ctx, decodeURIComponent(arg));
    else if (name === 'machine' && arg && sub === 'report')
      view = reportView(ctx, decodeURIComponent(arg));
    else if (name === 'machine' && arg) view = machineView(ctx, decodeURIComponent(arg));
    else if (name === 'adapt') view = adaptView(ctx, arg ? decodeURIComponent(arg) : undefined);
    else if (name === 'gateway') view = gatewayView(ctx);
    else view = fleetView(ctx);
    main.replaceChildren(view.el);
    top.setActive(name === 'adapt' ? '#/adapt' : name === 'gateway' ? '#/gateway' : '#/');
    // Back on the fleet, focus the tile the operator came from; elsewhere the view's heading.
    const tile =
      name === 'machine' || !lastFleetFocus
        ? null
        : main.querySelector<HTMLElement>(`.tile[data-machine="${CSS.escape(lastFleetFocus)}"]`);
    if (tile) tile.focus();
    else main.focus({ preventScroll: true });
  }
  window.addEventListener('hashchange', route);
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    if (view?.escape?.()) return;
    if (location.hash.startsWith('#/machine/')) ctx.navigate('#/');
  });

  // Batch store changes into one view update per animation frame.
  const pending = new Set<string>();
  const flush = frameThrottle(() => {
    for (const key of pending) {
      const [kind, machine] = key.split('\u0000');
      view?.update(kind as ChangeKind, machine || undefined);
    }
    pending.clear();
  });
  store.onChange((kind, machine) => {
    pending.add(`${kind}\u0000${machine ?? ''}`);
    flush();
  });

  const onMessage = (m: StreamMessage) => {
    switch (m.type) {
      case 'hello':
        if (Array.isArray(m.data.machines)) store.setMachines(m.data.machines);
        break;
      case 'diagnosis':
        store.diagnosis(m.data);
        break;
      case 'health':
        store.health(m.data);
        break;
      case 'alert':
        store.upsertAlert(m.data);
        break;
      case 'ack':
        store.ack(m.data);
        break;
      case 'ingest':
        store.ingest = m.data;
        store.emitChange('gateway');
        break;
      case 'adaptation':
        store.adaptation(m.data);
        break;
      case 'shelve':
        store.shelve(m.data);
        break;
      default:
        break;
    }
  };
  stream = new LiveStream(api.streamUrl(), onMessage, (s) => {
    store.connection = s;
    top.tick();
  });
  api
    .get<Alert[]>('/api/alerts?limit=500')
    .then((a) => store.setAlerts(Array.isArray(a) ? a : []))
    .catch((err: Error) => ctx.notify(`Alerts: ${err.message}`, true));
  setInterval(top.tick, 1000);
  top.tick();
  route();
}

void boot();
