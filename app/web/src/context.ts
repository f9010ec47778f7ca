/** What every view gets: the store, the API client and navigation. */
import type { GatewayApi } from './api.js';
import type { ConsoleStore } from './store.js';

export interface ViewContext {
  store: ConsoleStore;
  api: GatewayApi;
  navigate(hash: string): void;
  /** Shows a transient message in the status bar (errors in red). */
  notify(message: string, error?: boolean): void;
  /** Tells the gateway which machines are shown in detail (their diagnoses then carry spectrogram and envelope). */
  view?(machines: string[]): void;
}
