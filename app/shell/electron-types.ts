/**
 * The few Electron APIs the shell uses, typed structurally. `electron` is a
 * dev dependency of app/package.json only (the desktop install; the gateway's
 * root install has no desktop runtime, and it downloads a binary), so the shell
 * imports it dynamically and relies on these declarations, which keeps `tsc`
 * green without the package. Names follow Electron 45's API.
 */
import type { InvokeEventLike, IpcMainLike } from './ipc.js';
import type { PreventableEvent } from './navigation.js';
import type { ShellWindowOptions } from './window-options.js';

export interface WebContentsLike {
  id: number;
  on(
    event: 'will-navigate' | 'will-redirect',
    listener: (event: PreventableEvent, url: string) => void,
  ): void;
  on(event: 'will-attach-webview', listener: (event: PreventableEvent) => void): void;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' | 'allow' }): void;
}

export interface BrowserWindowLike {
  webContents: WebContentsLike;
  loadURL(url: string): Promise<void>;
  loadFile(file: string): Promise<void>;
  once(event: 'ready-to-show', listener: () => void): void;
  show(): void;
}

export interface HeadersDetails {
  url: string;
  responseHeaders?: Record<string, string[]>;
}

export interface SessionLike {
  setPermissionRequestHandler(
    handler: (
      webContents: unknown,
      permission: string,
      callback: (granted: boolean) => void,
    ) => void,
  ): void;
  setPermissionCheckHandler(handler: () => boolean): void;
  webRequest: {
    onHeadersReceived(
      listener: (
        details: HeadersDetails,
        callback: (response: { responseHeaders?: Record<string, string[]> }) => void,
      ) => void,
    ): void;
  };
}

export interface ElectronMainModule {
  app: {
    whenReady(): Promise<void>;
    enableSandbox(): void;
    getPath(name: 'userData'): string;
    on(
      event: 'web-contents-created',
      listener: (event: unknown, contents: WebContentsLike) => void,
    ): void;
    on(event: 'window-all-closed' | 'activate', listener: () => void): void;
    quit(): void;
  };
  BrowserWindow: new (options: ShellWindowOptions) => BrowserWindowLike;
  ipcMain: IpcMainLike;
  session: { defaultSession: SessionLike };
  safeStorage: {
    isEncryptionAvailable(): boolean;
    encryptString(plain: string): Buffer;
    decryptString(encrypted: Buffer): string;
    getSelectedStorageBackend?(): string;
  };
}

export interface ElectronPreloadModule {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  ipcRenderer: { invoke(channel: string, ...args: unknown[]): Promise<unknown> };
}

export type { InvokeEventLike };
