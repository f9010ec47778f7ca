/**
 * Electron main process of the Faultline console. Wiring only: every decision
 * (window options, CSP, navigation, IPC validation, the gateway list) lives in
 * ./shell and is tested without Electron. Build with `npm run build:web`, run
 * with `cd app && npm start` (Electron is app/package.json's dev dependency).
 *
 * Windows: one launcher (local page, preload bridge) listing gateways; one
 * console window per opened gateway, showing the page that gateway serves
 * (the same console a browser gets), with no preload and no Node.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gatewayOrigin } from './shell/csp.js';
import { withConsoleCsp } from './shell/csp-headers.js';
import type { ElectronMainModule, WebContentsLike } from './shell/electron-types.js';
import { type GatewayEntry, GatewayStore } from './shell/gateway-store.js';
import { registerGatewayIpc } from './shell/ipc.js';
import {
  denyPermissionCheck,
  denyPermissionRequest,
  denyWindowOpen,
  fileFolderOrigin,
  navigationGuard,
} from './shell/navigation.js';
import { safeStorageCodec } from './shell/token-codec.js';
import { consoleWindowOptions, launcherWindowOptions } from './shell/window-options.js';

// A variable specifier keeps tsc from resolving `electron`, which only app/ installs.
const ELECTRON = 'electron';
const electron = (await import(ELECTRON)) as ElectronMainModule;
const { app, BrowserWindow, ipcMain, session, safeStorage } = electron;

const here = path.dirname(fileURLToPath(import.meta.url));
const launcherFile = path.join(here, 'launcher', 'index.html');
const launcherUrl = pathToFileURL(launcherFile).href;
const preloadFile = path.join(here, 'preload.cjs');

/** Origins a web contents may show, by web-contents id. */
const allowed = new Map<number, string[]>();
/** Gateway origins with open console windows (their responses get our CSP). */
const gatewayOrigins = new Set<string>();

app.enableSandbox();

app.on('web-contents-created', (_e, contents: WebContentsLike) => {
  const guard = (event: { preventDefault(): void }, url: string) =>
    navigationGuard(allowed.get(contents.id) ?? [], (u) =>
      console.warn(`faultline: blocked navigation to ${u}`),
    )(event, url);
  contents.on('will-navigate', guard);
  contents.on('will-redirect', guard);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(denyWindowOpen);
});

async function openLauncher(): Promise<void> {
  const win = new BrowserWindow(launcherWindowOptions(preloadFile));
  // only the launcher's own folder, not any file:// page
  allowed.set(win.webContents.id, [fileFolderOrigin(path.dirname(launcherFile))]);
  win.once('ready-to-show', () => win.show());
  await win.loadFile(launcherFile);
}

async function openConsole(entry: GatewayEntry): Promise<void> {
  const origin = gatewayOrigin(entry.url);
  gatewayOrigins.add(origin);
  const win = new BrowserWindow(consoleWindowOptions(entry.name));
  allowed.set(win.webContents.id, [origin]);
  win.once('ready-to-show', () => win.show());
  // The console reads the token from ?token= once, keeps it in sessionStorage and strips it from the URL.
  await win.loadURL(`${origin}/?token=${encodeURIComponent(entry.token)}`);
}

await app.whenReady();
const ses = session.defaultSession;
ses.setPermissionRequestHandler(denyPermissionRequest);
ses.setPermissionCheckHandler(denyPermissionCheck);
ses.webRequest.onHeadersReceived((details, callback) => {
  callback({
    responseHeaders: withConsoleCsp(details.url, details.responseHeaders, gatewayOrigins),
  });
});

const store = new GatewayStore({
  file: path.join(app.getPath('userData'), 'gateways.json'),
  codec: safeStorageCodec(safeStorage),
});
await store.load();
registerGatewayIpc(ipcMain, { store, launcherUrl, openGateway: openConsole });
await openLauncher();

app.on('window-all-closed', () => app.quit());
