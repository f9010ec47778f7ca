/**
 * The narrow API the preload exposes to the launcher page as `window.faultline`.
 * Four functions, each a single `ipcRenderer.invoke` on its own channel; the
 * page never gets ipcRenderer itself (Electron's ipc.md: do not expose it).
 */
import type { GatewaySummary, NewGateway } from './gateway-store.js';
import { CHANNELS } from './ipc.js';

export interface FaultlineBridge {
  listGateways(): Promise<GatewaySummary[]>;
  addGateway(gateway: NewGateway): Promise<GatewaySummary>;
  removeGateway(id: string): Promise<boolean>;
  openGateway(id: string): Promise<void>;
}

/** `ipcRenderer.invoke`'s shape. */
export type Invoke = (channel: string, ...args: unknown[]) => Promise<unknown>;

/** Builds the bridge over an invoke function; arguments are copied so the page cannot pass live objects. */
export function buildBridge(invoke: Invoke): FaultlineBridge {
  return Object.freeze({
    listGateways: () => invoke(CHANNELS.list) as Promise<GatewaySummary[]>,
    addGateway: (g: NewGateway) =>
      invoke(CHANNELS.add, {
        name: String(g?.name ?? ''),
        url: String(g?.url ?? ''),
        token: String(g?.token ?? ''),
      }) as Promise<GatewaySummary>,
    removeGateway: (id: string) => invoke(CHANNELS.remove, String(id)) as Promise<boolean>,
    openGateway: (id: string) => invoke(CHANNELS.open, String(id)) as Promise<void>,
  });
}
