/**
 * The shell's IPC surface: four namespaced `ipcMain.handle` channels, each
 * checking who sent the message (only the launcher page may ask) and what it
 * carries (zod) before touching the gateway store.
 *
 *   faultline:gateways:list    ()                      → GatewaySummary[]
 *   faultline:gateways:add     ({name, url, token})    → GatewaySummary
 *   faultline:gateways:remove  (id)                    → boolean
 *   faultline:gateways:open    (id)                    → void (opens a console window)
 */
import { z } from 'zod';
import {
  type GatewayEntry,
  type GatewayStore,
  type GatewaySummary,
  gatewayIdSchema,
  newGatewaySchema,
} from './gateway-store.js';

export const CHANNELS = {
  list: 'faultline:gateways:list',
  add: 'faultline:gateways:add',
  remove: 'faultline:gateways:remove',
  open: 'faultline:gateways:open',
} as const;

/** Argument tuples per channel (what `ipcRenderer.invoke` passes after the channel). */
export const channelArgs = {
  [CHANNELS.list]: z.tuple([]),
  [CHANNELS.add]: z.tuple([newGatewaySchema]),
  [CHANNELS.remove]: z.tuple([gatewayIdSchema]),
  [CHANNELS.open]: z.tuple([gatewayIdSchema]),
} as const;

/** The parts of Electron's IpcMainInvokeEvent the checks read. */
export interface InvokeEventLike {
  senderFrame: { url: string } | null;
}

/** The part of Electron's ipcMain the shell uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

/**
 * True when a frame URL is the launcher page itself (same file, any query or
 * hash). A console page from a gateway, a redirected frame or a destroyed
 * frame (null) never passes.
 */
export function isTrustedSender(frameUrl: string | undefined | null, launcherUrl: string): boolean {
  if (!frameUrl) return false;
  let a: URL;
  let b: URL;
  try {
    a = new URL(frameUrl);
    b = new URL(launcherUrl);
  } catch {
    return false;
  }
  return a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname;
}

/** An IPC request refused before reaching the store; the message is what the renderer sees. */
export class IpcRefusedError extends Error {
  override name = 'IpcRefusedError';
}

/**
 * Validates one request: sender first (an untrusted frame learns nothing about
 * argument rules), then the arguments. Returns the parsed tuple.
 */
export function validateRequest<C extends keyof typeof channelArgs>(
  channel: C,
  event: InvokeEventLike,
  args: unknown[],
  launcherUrl: string,
): z.output<(typeof channelArgs)[C]> {
  if (!isTrustedSender(event.senderFrame?.url, launcherUrl)) {
    throw new IpcRefusedError(
      `${channel}: refused, the request did not come from the gateway list page`,
    );
  }
  const r = channelArgs[channel].safeParse(args);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new IpcRefusedError(
      `${channel}: invalid argument ${i.path.join('.') || ''}: ${i.message}`.trim(),
    );
  }
  return r.data as z.output<(typeof channelArgs)[C]>;
}

export interface GatewayIpcOptions {
  store: GatewayStore;
  /** URL of the launcher page (file://…/launcher/index.html). */
  launcherUrl: string;
  /** Opens a console window for a stored gateway. */
  openGateway: (entry: GatewayEntry) => void | Promise<void>;
}

/** Registers the four handlers; returns a function removing them. */
export function registerGatewayIpc(ipc: IpcMainLike, o: GatewayIpcOptions): () => void {
  ipc.handle(CHANNELS.list, (e, ...args): GatewaySummary[] => {
    validateRequest(CHANNELS.list, e, args, o.launcherUrl);
    return o.store.list();
  });
  ipc.handle(CHANNELS.add, async (e, ...args): Promise<GatewaySummary> => {
    const [input] = validateRequest(CHANNELS.add, e, args, o.launcherUrl);
    return o.store.add(input);
  });
  ipc.handle(CHANNELS.remove, async (e, ...args): Promise<boolean> => {
    const [id] = validateRequest(CHANNELS.remove, e, args, o.launcherUrl);
    return o.store.remove(id);
  });
  ipc.handle(CHANNELS.open, async (e, ...args): Promise<void> => {
    const [id] = validateRequest(CHANNELS.open, e, args, o.launcherUrl);
    const entry = o.store.get(id);
    if (!entry) throw new IpcRefusedError(`${CHANNELS.open}: no gateway with id ${id}`);
    await o.openGateway(entry);
  });
  return () => {
    for (const c of Object.values(CHANNELS)) ipc.removeHandler(c);
  };
}
