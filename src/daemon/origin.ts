/**
 * Cross-site request checks of the dashboard API.
 *
 * A browser sends the `faultline_token` cookie with any request to the
 * gateway, whichever page made it; so a page on another site could post an
 * acknowledgement or a promotion, or open the live stream, in the operator's
 * name (CSRF, cross-site WebSocket hijacking). Browsers always say where such
 * a request comes from (`Origin`), so state-changing requests (anything but
 * GET/HEAD/OPTIONS) and the WebSocket upgrade are refused when:
 *   - the Host header is missing or malformed, or
 *   - an Origin is given and is neither the gateway's own (`Origin`'s host
 *     equals `Host`) nor one of `http.allowedOrigins`.
 * Requests without an Origin (curl, the CLI, scripts with a bearer token)
 * are not browsers acting for someone else and pass.
 */

/** The headers the check reads. */
export interface OriginHeaders {
  method: string;
  host?: string;
  origin?: string;
  upgrade?: string;
}

/** Lower-case `host[:port]` of an origin, or undefined when it is not one. */
function originHost(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.host.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** `host[:port]` as a Host header may carry it (a name, IPv4, or [IPv6]). */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i;

/**
 * Why a request must be refused as cross-site, or undefined when it may go on.
 * @param allowedOrigins extra origins, e.g. `https://console.plant:8443` (http.allowedOrigins)
 */
export function crossSiteRefusal(
  h: OriginHeaders,
  allowedOrigins: readonly string[] = [],
): string | undefined {
  const upgrade = h.upgrade?.toLowerCase() === 'websocket';
  if (!upgrade && (h.method === 'GET' || h.method === 'HEAD' || h.method === 'OPTIONS'))
    return undefined;
  const host = h.host?.toLowerCase();
  if (host === undefined || !HOST_HEADER.test(host))
    return `the Host header ${JSON.stringify(h.host ?? null)} is missing or malformed`;
  if (h.origin === undefined) return undefined;
  const from = originHost(h.origin);
  if (from === host) return undefined;
  if (allowedOrigins.some((o) => originHost(o) === from && from !== undefined)) return undefined;
  return `requests from ${JSON.stringify(h.origin)} are not accepted by this gateway (${host}); open the console from the gateway itself, or add the origin to http.allowedOrigins`;
}
