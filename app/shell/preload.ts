/**
 * Preload of the launcher window. Sandboxed preloads are CommonJS and may only
 * require a few Electron modules, so this file is bundled by app/build.ts to
 * `app/dist/preload.cjs` with `electron` left external.
 */
import { buildBridge } from './bridge.js';
import type { ElectronPreloadModule } from './electron-types.js';

declare const require: (id: 'electron') => unknown;

const { contextBridge, ipcRenderer } = require('electron') as ElectronPreloadModule;
contextBridge.exposeInMainWorld(
  'faultline',
  buildBridge((channel, ...args) => ipcRenderer.invoke(channel, ...args)),
);
