/**
 * The launcher page: lists saved gateways, adds and removes them, opens one
 * in a console window. It only talks to `window.faultline` (the preload bridge).
 */
import type { FaultlineBridge } from '../shell/bridge.js';

const bridge = (window as unknown as { faultline: FaultlineBridge }).faultline;
const list = document.getElementById('gateways') as HTMLUListElement;
const form = document.getElementById('add') as HTMLFormElement;
const error = document.getElementById('error') as HTMLParagraphElement;

function button(text: string, onClick: () => void, secondary = false): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  if (secondary) b.className = 'secondary';
  b.addEventListener('click', onClick);
  return b;
}

async function render(): Promise<void> {
  const gateways = await bridge.listGateways();
  list.replaceChildren();
  if (gateways.length === 0) {
    const li = document.createElement('li');
    li.textContent = 'No gateway yet: add one below.';
    list.append(li);
  }
  for (const g of gateways) {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = g.name;
    const url = document.createElement('span');
    url.className = 'url';
    url.textContent = g.url;
    li.append(
      name,
      url,
      button('Open', () => void bridge.openGateway(g.id).catch(showError)),
      button('Remove', () => void bridge.removeGateway(g.id).then(render).catch(showError), true),
    );
    list.append(li);
  }
}

function showError(err: unknown): void {
  // Electron prefixes handler errors with "Error invoking remote method …: "; keep our message.
  error.textContent = String((err as Error)?.message ?? err).replace(
    /^Error invoking remote method '[^']+': (\w*Error: )?/,
    '',
  );
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  error.textContent = '';
  const data = new FormData(form);
  bridge
    .addGateway({
      name: String(data.get('name')),
      url: String(data.get('url')),
      token: String(data.get('token')),
    })
    .then(() => {
      form.reset();
      return render();
    })
    .catch(showError);
});

void render().catch(showError);
