/**
 * Content-Security-Policy strings for the shell's two kinds of page: the local
 * gateway launcher and the console served by a gateway. Strict by default:
 * nothing inline, nothing eval'd, no plugins, no framing, and the only network
 * peer is the gateway itself (HTTP for the API, WebSocket for the stream).
 */

/** Policy directives in the order they are written; a value of [] is written as `'none'`. */
export type CspDirectives = Record<string, readonly string[]>;

/** Parses a gateway URL and returns its origin (`http://host:port`). Throws TypeError for non-HTTP(S). */
export function gatewayOrigin(url: string): string {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new TypeError(`gateway URL ${url} must use http: or https:`);
  }
  return u.origin;
}

/** The WebSocket origin matching an HTTP origin (`http://h:p` → `ws://h:p`, https → wss). */
export function websocketOrigin(httpOrigin: string): string {
  const u = new URL(httpOrigin);
  return `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}`;
}

/** Serialises directives; rejects values that would smuggle in another directive. */
export function serializeCsp(directives: CspDirectives): string {
  return Object.entries(directives)
    .map(([name, values]) => {
      for (const v of values) {
        if (/[;,\s]/.test(v))
          throw new TypeError(`CSP source ${JSON.stringify(v)} contains ; , or space`);
      }
      return `${name} ${values.length ? values.join(' ') : "'none'"}`;
    })
    .join('; ');
}

/** Directives shared by every page: deny by default, no inline script, no base/form/frame tricks. */
function baseDirectives(): CspDirectives {
  return {
    'default-src': [],
    'script-src': ["'self'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'data:'],
    'font-src': ["'self'"],
    'connect-src': [],
    'object-src': [],
    'base-uri': [],
    'form-action': [],
    'frame-ancestors': [],
    'frame-src': [],
    'worker-src': [],
  };
}

/**
 * CSP of the console page of the gateway at `gatewayUrl`: scripts, styles and
 * API calls only from that origin, plus its WebSocket twin for `/api/stream`.
 */
export function consoleCsp(gatewayUrl: string): string {
  const origin = gatewayOrigin(gatewayUrl);
  return serializeCsp({ ...baseDirectives(), 'connect-src': [origin, websocketOrigin(origin)] });
}

/** CSP of the launcher page (a local file): it talks to the main process only, never the network. */
export function launcherCsp(): string {
  return serializeCsp(baseDirectives());
}
