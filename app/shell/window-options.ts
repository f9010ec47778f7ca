/**
 * BrowserWindow options of the shell, kept apart from Electron so the security
 * checklist (docs/tutorial/security.md) is tested without it: context
 * isolation, a sandboxed renderer without Node, web security on, no mixed
 * content, no <webview>, no experimental features.
 */

/** The subset of Electron's WebPreferences the shell sets. */
export interface SecureWebPreferences {
  contextIsolation: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  nodeIntegrationInSubFrames: false;
  sandbox: true;
  webSecurity: true;
  allowRunningInsecureContent: false;
  webviewTag: false;
  experimentalFeatures: false;
  navigateOnDragDrop: false;
  safeDialogs: true;
  spellcheck: false;
  /** Absolute path of the preload script; only the launcher has one. */
  preload?: string;
}

export interface ShellWindowOptions {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  title: string;
  backgroundColor: string;
  show: boolean;
  autoHideMenuBar: boolean;
  webPreferences: SecureWebPreferences;
}

/** Secure web preferences; `preload` only where a page needs the narrow bridge. */
export function secureWebPreferences(preload?: string): SecureWebPreferences {
  const prefs: SecureWebPreferences = {
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    sandbox: true,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
    spellcheck: false,
  };
  if (preload !== undefined) prefs.preload = preload;
  return prefs;
}

/** The gateway list window (local page with the preload bridge). Sizes in CSS px. */
export function launcherWindowOptions(preloadPath: string): ShellWindowOptions {
  return {
    width: 760,
    height: 560,
    minWidth: 560,
    minHeight: 420,
    title: 'Faultline — gateways',
    backgroundColor: '#0f1720',
    show: false,
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(preloadPath),
  };
}

/**
 * A console window showing one gateway's web console. No preload: the console
 * is the same page a browser gets and needs nothing from the shell.
 * Defaults fit a 1366×768 screen with the task bar.
 */
export function consoleWindowOptions(gatewayName: string): ShellWindowOptions {
  return {
    width: 1366,
    height: 740,
    minWidth: 1024,
    minHeight: 600,
    title: `Faultline — ${gatewayName}`,
    backgroundColor: '#0f1720',
    show: false,
    autoHideMenuBar: true,
    webPreferences: secureWebPreferences(),
  };
}
