/**
 * The dashboard API: fastify 5 on `http.host:http.port`.
 *
 * Auth: everything under `/api` (REST and the `/api/stream` WebSocket) needs
 * the gateway's token, as
 * `Authorization: Bearer <token>`, as `?token=<token>` (only on `/` and
 * `/api/stream`: browsers and WebSockets; anywhere else it would end up in
 * logs and histories, and is ignored), or as the `faultline_token` cookie a
 * browser gets when it opened `/?token=…` (so the console's own asset
 * requests need no token in the URL). A malformed cookie is a 401. Because a
 * browser sends the cookie whichever site asks, state-changing requests and
 * the WebSocket upgrade also pass the Origin/Host check of ./origin.ts (403).
 * Tokens are compared in constant time. `GET /healthz` and the static
 * console (`/`, its scripts and styles) are open: they hold no data, and the
 * console shows its own token screen when the API refuses it. Whether a
 * request is protected is decided from the ROUTE it matched, not its raw URL,
 * so percent-encoded paths (`/%61pi/machines`) cannot slip past.
 *
 * The web console is served from `webDir` when it exists; otherwise `/` is a
 * small placeholder page linking the API.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { listenError } from './broker.js';
import { isLoopbackHost, STREAM_DEFAULTS } from './config.js';
import type { GatewayApi } from './gateway-api.js';
import { httpStatusOfCode } from './http-errors.js';
import type { GatewayLogger } from './log.js';
import { crossSiteRefusal } from './origin.js';
import { readPem } from './pem.js';
import { registerRoutes } from './routes.js';
import type { StreamLimits, StreamStats } from './stream-hub.js';
import { registerStream } from './websocket.js';

export interface ApiOptions {
  host: string;
  port: number;
  token: string;
  /** Static console directory, if any. */
  webDir?: string;
  /** Config key named in a port-in-use error. Default `http.port`. */
  portSetting?: string;
  /** Serve HTTPS with these PEM files (http.tls). Default: plain HTTP. */
  tls?: { certPath: string; keyPath: string };
  /** Origins allowed besides the gateway's own (http.allowedOrigins). Default none. */
  allowedOrigins?: readonly string[];
  /** Warnings (plain HTTP off loopback). Default none. */
  log?: (message: string) => void;
  /** Limits of the `/api/stream` WebSocket (http.stream). Default: the config's defaults. */
  stream?: Partial<StreamLimits>;
  /** fastify's logger (a child of it, `component: "api"`): requests at debug, 5xx at error. Default: fastify logs nothing. */
  logger?: GatewayLogger;
}

export interface ApiServer {
  readonly app: FastifyInstance;
  /** `http[s]://<host>:<port>` (a wildcard host is given as localhost). */
  readonly url: string;
  /** Counters of the `/api/stream` WebSocket. */
  streamStats(): StreamStats;
  close(): Promise<void>;
}

const COOKIE = 'faultline_token';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time token check (hashing first makes the lengths equal). */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(given), digest(token));
}

function cookieToken(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k !== COOKIE) continue;
    try {
      return decodeURIComponent(v.join('='));
    } catch {
      return ''; // not percent-decodable: presented, and wrong (401, not a 500)
    }
  }
  return undefined;
}

/** Routes where `?token=` is taken: the console's entry page and the WebSocket. */
const QUERY_TOKEN_ROUTES = new Set(['/', '/api/stream']);

/** The token a request presents, from header, query (where allowed) or cookie. */
function presented(req: FastifyRequest): {
  token?: string;
  via: 'header' | 'query' | 'cookie' | 'none';
} {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { token: auth.slice(7).trim(), via: 'header' };
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  if (typeof q === 'string' && QUERY_TOKEN_ROUTES.has(req.url.split('?')[0]))
    return { token: q, via: 'query' };
  const c = cookieToken(req);
  if (c !== undefined) return { token: c, via: 'cookie' };
  return { via: 'none' };
}

function setCookie(reply: FastifyReply, token: string): void {
  reply.header(
    'set-cookie',
    `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
  );
}

/** Decoded path, or null when it does not decode (then it is treated as protected). */
function decodedPath(url: string): string | null {
  try {
    return decodeURIComponent(url.split('?')[0]);
  } catch {
    return null;
  }
}

/**
 * Open without a token: `GET|HEAD /healthz`, and GET/HEAD of anything that
 * is not an API route (the static console, its placeholder page, 404s)
 * unless its decoded path lies under `/api`.
 */
function isPublic(req: FastifyRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const route = req.routeOptions.url;
  if (route === '/healthz') return true;
  if (route?.startsWith('/api')) return false;
  const p = decodedPath(req.url);
  return p !== null && !p.startsWith('/api') && !p.startsWith('//');
}

/**
 * A request as the log shows it: the path without the query, because
 * `?token=` (on `/` and `/api/stream`) must never reach a log.
 */
function requestForLog(req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: req.url.split('?')[0],
    remoteAddress: req.ip,
  };
}

/**
 * fastify's request lines, one per request: at debug, because fastify's own
 * two lines per request at info would fill the journal with the console's
 * polling; a 5xx answer (or a response that broke off) at error.
 */
class ApiLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    req: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = { req, res: reply, responseTime: Math.round(reply.elapsedTime * 10) / 10 };
    if (error || reply.statusCode >= 500)
      reply.log.error({ ...line, ...(error ? { err: error } : {}) }, 'request failed');
    else reply.log.debug(line, 'request completed');
  }
}

/** Builds the fastify app (not listening): used by startApi and by tests with inject(). */
export async function buildApi(
  gw: GatewayApi,
  o: Omit<ApiOptions, 'host' | 'port' | 'log'>,
): Promise<FastifyInstance> {
  return (await build(gw, o)).app;
}

async function build(
  gw: GatewayApi,
  o: Omit<ApiOptions, 'host' | 'port' | 'log'>,
): Promise<{ app: FastifyInstance; streamStats: () => StreamStats }> {
  const app = Fastify({
    ...(o.logger
      ? {
          loggerInstance: o.logger.child(
            { component: 'api' },
            { serializers: { req: requestForLog } },
          ) as FastifyBaseLogger,
          logController: new ApiLogController(),
        }
      : { logger: false }),
    bodyLimit: 64 * 1024,
    ...(o.tls
      ? {
          https: {
            cert: readPem(o.tls.certPath, 'http.tls.certPath'),
            key: readPem(o.tls.keyPath, 'http.tls.keyPath'),
          },
        }
      : {}),
  });
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const url = req.url.split('?')[0];
    const crossSite = crossSiteRefusal(
      {
        method: req.method,
        host: req.headers.host,
        origin: req.headers.origin,
        upgrade: req.headers.upgrade,
      },
      o.allowedOrigins,
    );
    if (crossSite !== undefined) {
      reply
        .code(httpStatusOfCode('FL_ERR_API_ORIGIN'))
        .send({ error: 'FL_ERR_API_ORIGIN', message: crossSite });
      return reply;
    }
    const p = presented(req);
    if (isPublic(req)) {
      // a browser opened the console with ?token=: remember it for the console's own requests
      if (p.via === 'query' && tokenMatches(p.token, o.token)) setCookie(reply, p.token as string);
      return;
    }
    if (!tokenMatches(p.token, o.token)) {
      reply
        .code(httpStatusOfCode('FL_ERR_API_AUTH'))
        .header('www-authenticate', 'Bearer realm="faultline"')
        .send({
          error: 'FL_ERR_API_AUTH',
          message:
            p.via === 'none'
              ? 'this API needs the gateway token: send Authorization: Bearer <token> (?token=<token> only on / and /api/stream); it is kept in <stateDir>/token'
              : 'the token does not match this gateway; use the one printed at start (kept in <stateDir>/token)',
        });
      return reply;
    }
    if (p.via === 'query' && !url.startsWith('/api/')) setCookie(reply, p.token as string);
  });

  registerRoutes(app, gw);
  const hub = registerStream(app, gw, { ...STREAM_DEFAULTS, ...o.stream });

  if (o.webDir) {
    await app.register(fastifyStatic, { root: o.webDir, prefix: '/', index: ['index.html'] });
  } else {
    app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(PLACEHOLDER));
  }
  return { app, streamStats: () => hub.stats() };
}

/**
 * Builds the app and listens.
 * @throws FaultlineError FL_ERR_CONFIG when the port is taken (names `http.port`)
 */
export async function startApi(gw: GatewayApi, o: ApiOptions): Promise<ApiServer> {
  const { app, streamStats } = await build(gw, o);
  if (!o.tls && !isLoopbackHost(o.host))
    o.log?.(
      `faultline gateway: the dashboard API serves plain HTTP on ${o.host}: the token and every request cross the network readable; set http.tls (certPath, keyPath) or put a TLS proxy in front`,
    );
  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (err) {
    await app.close();
    throw listenError(err as NodeJS.ErrnoException, o.host, o.port, o.portSetting ?? 'http.port');
  }
  const addr = app.server.address() as AddressInfo;
  const host =
    o.host === '0.0.0.0' || o.host === '::' || o.host === '127.0.0.1' ? 'localhost' : o.host;
  return {
    app,
    url: `${o.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${addr.port}`,
    streamStats,
    close: () => app.close(),
  };
}

const PLACEHOLDER = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Faultline gateway</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; style-src 'unsafe-inline'">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#222}code{background:#f2f2f2;padding:0 .3em}</style>
</head><body>
<h1>Faultline gateway</h1>
<p>The web console is not installed (build it into <code>app/web/dist</code>, or set <code>http.webDir</code>). The API:</p>
<ul>
<li><a href="/api/machines">/api/machines</a> — every machine's state, diagnosis and evidence</li>
<li><a href="/api/alerts">/api/alerts</a> — alerts, most recent first (<code>?machine=&amp;since=</code>)</li>
<li><a href="/api/gateway">/api/gateway</a> — ingest rates, broker and database state, inference latency</li>
<li><a href="/api/models">/api/models</a> — the model registry</li>
<li><a href="/api/openapi.json">/api/openapi.json</a> — the OpenAPI document</li>
<li><code>/api/stream</code> — WebSocket of live diagnoses, health changes and ingest statistics</li>
</ul>
</body></html>
`;
