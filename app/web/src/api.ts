/**
 * The gateway API client: bearer-token fetches and the `/api/stream`
 * WebSocket with reconnection. The token arrives once as `?token=` (the URL the
 * gateway prints), is kept in sessionStorage for this tab and removed from the
 * address bar so it does not end up in screenshots or bookmarks.
 */
import type { StreamMessage } from './types.js';

const TOKEN_KEY = 'faultline.token';

/** Takes `?token=` from the location (and strips it), else the tab's stored token. */
export function takeToken(
  loc: Location = window.location,
  storage: Storage = sessionStorage,
): string | null {
  const url = new URL(loc.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    storage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(null, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return storage.getItem(TOKEN_KEY);
}

/** Forgets the tab's token (after a 401). */
export function forgetToken(storage: Storage = sessionStorage): void {
  storage.removeItem(TOKEN_KEY);
}

/** An API call that failed; `status` is the HTTP status (0 for network errors). */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

export class GatewayApi {
  /**
   * @param token the gateway token, or null to rely on the HttpOnly cookie the
   *   gateway set when the console was first opened with `?token=` (a new tab
   *   of the same browser then works without the token in its URL)
   */
  constructor(
    private readonly token: string | null,
    private readonly base = '',
  ) {}

  /** JSON request; throws ApiError with the gateway's message on a non-2xx answer. */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(`gateway unreachable: ${(err as Error).message}`, 0);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const j = (json ?? {}) as { message?: string; error?: string; code?: string };
      throw new ApiError(
        j.message ?? j.error ?? `${res.status} ${res.statusText}`,
        res.status,
        j.code,
      );
    }
    return json as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  /** ws(s)://host/api/stream?token=… (browsers cannot set headers on a WebSocket; without a token the cookie goes along). */
  streamUrl(loc: Location = window.location): string {
    const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
    const q = this.token ? `?token=${encodeURIComponent(this.token)}` : '';
    return `${proto}//${loc.host}${this.base}/api/stream${q}`;
  }
}

/**
 * Turns one raw stream message into a typed one. Accepts `{type, data}`,
 * `{type, payload}`, `{kind, …fields}` and bare objects recognised by shape,
 * so the console follows small changes of the gateway's envelope.
 */
export function normalizeStreamMessage(raw: unknown): StreamMessage {
  if (!raw || typeof raw !== 'object') return { type: 'other', data: raw };
  const m = raw as Record<string, unknown>;
  const tag = String(m.type ?? m.kind ?? m.event ?? '').toLowerCase();
  const inner = (m.data ?? m.payload ?? m.job ?? m) as Record<string, unknown>;
  if (tag === 'hello') return { type: 'hello', data: inner as never };
  if (tag === 'ack') return { type: 'ack', data: inner as never };
  if (tag === 'shelve') return { type: 'shelve', data: inner as never };
  if (/diag/.test(tag)) return { type: 'diagnosis', data: inner as never };
  if (/health|state/.test(tag)) return { type: 'health', data: inner as never };
  if (/ingest|stat|gateway/.test(tag)) return { type: 'ingest', data: inner };
  if (/adapt/.test(tag)) return { type: 'adaptation', data: inner as never };
  if (/alert/.test(tag)) return { type: 'alert', data: inner as never };
  if (inner && typeof inner === 'object') {
    if ('from' in inner && 'to' in inner && 'machine' in inner)
      return { type: 'health', data: inner as never };
    if ('faultClass' in inner && 'machine' in inner && 't' in inner)
      return { type: 'diagnosis', data: inner as never };
  }
  return { type: 'other', data: raw };
}

export type StreamStatus = 'connecting' | 'open' | 'closed';

/**
 * A WebSocket that reconnects with capped backoff (0.5 s doubling to 10 s)
 * and hands parsed messages to `onMessage`.
 */
export class LiveStream {
  #ws: WebSocket | null = null;
  #delay = 500;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #view: string[] = [];

  constructor(
    private readonly url: string,
    private readonly onMessage: (m: StreamMessage) => void,
    private readonly onStatus: (s: StreamStatus) => void,
  ) {
    this.#connect();
  }

  #connect(): void {
    if (this.#stopped) return;
    this.onStatus('connecting');
    const ws = new WebSocket(this.url);
    this.#ws = ws;
    ws.onopen = () => {
      this.#delay = 500;
      this.onStatus('open');
      // A new connection starts with nothing viewed: tell the gateway again.
      if (this.#view.length) this.#sendView();
    };
    ws.onmessage = (ev) => {
      let raw: unknown;
      try {
        raw = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      // A gateway may batch several messages into one array.
      for (const one of Array.isArray(raw) ? raw : [raw])
        this.onMessage(normalizeStreamMessage(one));
    };
    ws.onclose = () => {
      this.onStatus('closed');
      if (this.#stopped) return;
      this.#timer = setTimeout(() => this.#connect(), this.#delay);
      this.#delay = Math.min(this.#delay * 2, 10_000);
    };
    ws.onerror = () => ws.close();
  }

  /**
   * Names the machines shown in detail; the gateway then adds the
   * spectrogram and envelope spectrum to their diagnoses (and stops when
   * they are no longer viewed). Kept and re-sent after a reconnection.
   */
  setView(machines: string[]): void {
    this.#view = [...machines];
    this.#sendView();
  }

  #sendView(): void {
    if (this.#ws?.readyState === WebSocket.OPEN)
      this.#ws.send(JSON.stringify({ type: 'view', machines: this.#view }));
  }

  close(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#ws?.close();
  }
}
