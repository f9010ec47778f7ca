/**
 * The embedded MQTT broker: aedes in-process, listening on loopback by
 * default, so a gateway runs with no broker installed. Sensor nodes (or the
 * simulated fleet) publish raw frames to it; the gateway's own clients
 * subscribe to them and publish alerts and presence on it.
 *
 * aedes 1.x speaks MQTT 3.1.1, not 5: it refuses a v5 CONNECT. Our links ask
 * for v5 (persistent sessions with an expiry), so clients of the embedded
 * broker go through {@link mqtt311Connect}, which downgrades the options:
 * `clean: false` alone gives the persistent session on 3.1.1 (no expiry: the
 * embedded broker forgets sessions on restart anyway), and the Last Will,
 * retained messages and QoS 1 work as on v5.
 */
import type { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type Client } from 'aedes';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { FaultlineError } from '../errors.js';
import { BrokerAccess, type BrokerAccessStats, type BrokerAccount } from './broker-auth.js';
import { PacketSizeGuard } from './mqtt-packet-guard.js';
import { readPem } from './pem.js';

export interface EmbeddedBrokerOptions {
  /** Listen address. Default 127.0.0.1. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 1883. */
  port?: number;
  /** When set (and `accounts` is not), clients must present these credentials. */
  username?: string;
  password?: string;
  /** Accounts with roles (src/daemon/broker-auth.ts); wins over username/password. Default none. */
  accounts?: readonly BrokerAccount[];
  /** Most simultaneous connections; more are refused. Default 1000. */
  maxConnections?: number;
  /** Largest inbound packet, bytes; a client announcing more is disconnected. Default 128 KiB. */
  maxPacketBytes?: number;
  /** Listen with TLS (mqtts) using these PEM files. Default none. */
  tls?: { certPath: string; keyPath: string };
  /** Warnings (oversize packets, server errors). Default: none. */
  log?: (message: string) => void;
  /** Config key named in a port-in-use error. Default `broker.port`. */
  portSetting?: string;
}

export interface EmbeddedBrokerStats {
  clients: number;
  /** Messages published through the broker (all clients). */
  published: number;
  /** Refused CONNECTs, denied publishes and subscriptions, oversize packets. */
  access: BrokerAccessStats & { oversizePackets: number };
}

/** A running embedded broker. */
export class EmbeddedBroker {
  readonly host: string;
  readonly port: number;
  private readonly aedes: Aedes;
  private readonly server: net.Server;
  readonly tls: boolean;
  private published = 0;
  private closed = false;
  private readonly access: BrokerAccess;
  private readonly oversize: { count: number };

  private constructor(
    aedes: Aedes,
    server: net.Server,
    host: string,
    port: number,
    access: BrokerAccess,
    oversize: { count: number },
    useTls: boolean,
  ) {
    this.aedes = aedes;
    this.server = server;
    this.host = host;
    this.port = port;
    this.access = access;
    this.oversize = oversize;
    this.tls = useTls;
    aedes.on('publish', (_p, client) => {
      if (client) this.published++;
    });
  }

  /**
   * Starts the broker.
   * @throws FaultlineError FL_ERR_CONFIG when the port is taken (names `portSetting`)
   */
  static async start(o: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
    const host = o.host ?? '127.0.0.1';
    const wanted = o.port ?? 1883;
    const tlsFiles = o.tls && {
      cert: readPem(o.tls.certPath, 'broker.tls.certPath'),
      key: readPem(o.tls.keyPath, 'broker.tls.keyPath'),
    };
    const aedes = await Aedes.createBroker({
      // a slow subscriber must not stall every publisher for the 60 s default
      drainTimeout: 5000,
    });
    // aedes emits 'error' for persistence and will-clearing failures; an
    // EventEmitter without a listener would throw it and end the gateway
    // (its typings list no 'error' event: listen through the EventEmitter base)
    (aedes as EventEmitter).on('error', (err: Error) =>
      o.log?.(`faultline broker: ${err.message}`),
    );
    const access = new BrokerAccess(
      o.accounts ??
        (o.username !== undefined
          ? [{ username: o.username, password: o.password ?? '', role: 'gateway' }]
          : []),
    );
    const who = new WeakMap<Client, BrokerAccount>();
    aedes.authenticate = (client, username, password, done) => {
      const a = access.authenticate(username, password);
      if (a) {
        who.set(client, a);
        done(null, true);
      } else
        done(
          Object.assign(new Error('bad username or password'), { returnCode: 4 as const }),
          false,
        );
    };
    aedes.authorizePublish = (client, packet, done) => {
      // client null: the broker's own messages (e.g. $SYS)
      if (client === null || access.mayPublish(who.get(client), packet.topic)) done(null);
      else done(new Error(`not authorised to publish on ${packet.topic}`));
    };
    aedes.authorizeSubscribe = (client, sub, done) => {
      done(null, access.maySubscribe(who.get(client), sub.topic) ? sub : null);
    };
    const oversize = { count: 0 };
    const maxPacket = o.maxPacketBytes ?? 128 * 1024;
    const onSocket = (socket: net.Socket) => {
      const guarded = new PacketSizeGuard(socket, maxPacket, (why) => {
        oversize.count++;
        o.log?.(`faultline broker: disconnected ${socket.remoteAddress ?? 'a client'}: ${why}`);
      });
      aedes.handle(guarded as unknown as net.Socket);
    };
    const server = tlsFiles ? tls.createServer(tlsFiles, onSocket) : net.createServer(onSocket);
    server.maxConnections = o.maxConnections ?? 1000;
    // EMFILE and friends on accept: Node emits them on the server, and an
    // 'error' without a listener would crash the gateway. The refused
    // clients retry; the broker goes on with the connections it has.
    server.on('error', serverErrorReporter(o.log));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(wanted, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await new Promise<void>((r) => aedes.close(() => r()));
      throw listenError(err as NodeJS.ErrnoException, host, wanted, o.portSetting ?? 'broker.port');
    }
    const port = (server.address() as net.AddressInfo).port;
    return new EmbeddedBroker(aedes, server, host, port, access, oversize, o.tls !== undefined);
  }

  /** `mqtt[s]://<host>:<port>` (a wildcard listen address is given as 127.0.0.1). */
  get url(): string {
    const h = this.host === '0.0.0.0' || this.host === '::' ? '127.0.0.1' : this.host;
    return `${this.tls ? 'mqtts' : 'mqtt'}://${h.includes(':') ? `[${h}]` : h}:${this.port}`;
  }

  stats(): EmbeddedBrokerStats {
    return {
      clients: this.aedes.connectedClients,
      published: this.published,
      access: { ...this.access.stats, oversizePackets: this.oversize.count },
    };
  }

  /** Disconnects every client and stops listening. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((r) => this.aedes.close(() => r()));
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** Least time between two log lines about server errors, ms (a flood of refused accepts is one line). */
const SERVER_ERROR_LOG_MS = 10_000;

/**
 * The broker server's 'error' listener: accept failures (EMFILE, ENFILE…)
 * are logged with what to do, at most once per SERVER_ERROR_LOG_MS with the
 * number seen since, and never rethrown. (libuv absorbs most EMFILEs itself:
 * it accepts and closes the pending connections with a reserved descriptor;
 * Node sees the error only when that reserve is gone too.)
 * @param now clock, ms (tests)
 */
export function serverErrorReporter(
  log: ((message: string) => void) | undefined,
  now: () => number = Date.now,
): (err: NodeJS.ErrnoException) => void {
  let last = Number.NEGATIVE_INFINITY;
  let since = 0;
  return (err) => {
    since++;
    const t = now();
    if (t - last < SERVER_ERROR_LOG_MS) return;
    last = t;
    const hint =
      err.code === 'EMFILE' || err.code === 'ENFILE'
        ? ': out of file descriptors, new MQTT connections are refused until some close; raise the limit (LimitNOFILE= in the systemd unit, ulimit -n) or lower broker.maxConnections'
        : '';
    log?.(`faultline broker: ${err.message}${hint} (${since} since the last report)`);
    since = 0;
  };
}

/** Maps a listen failure to FL_ERR_CONFIG naming the setting to change. */
export function listenError(
  err: NodeJS.ErrnoException,
  host: string,
  port: number,
  setting: string,
): FaultlineError {
  const why =
    err.code === 'EADDRINUSE'
      ? `port ${port} on ${host} is already in use (another gateway or broker?)`
      : err.code === 'EACCES'
        ? `no permission to listen on ${host}:${port} (ports below 1024 need privileges)`
        : err.code === 'EADDRNOTAVAIL'
          ? `address ${host} is not an address of this machine`
          : `cannot listen on ${host}:${port} (${err.code ?? err.message})`;
  return new FaultlineError(
    'FL_ERR_CONFIG',
    `${why}; change \`${setting}\` in the configuration (0 picks a free port)`,
    {
      cause: err,
    },
  );
}

/**
 * `mqtt.connect` for MQTT 3.1.1 brokers (the embedded aedes): drops the v5-only
 * options (session expiry and other properties) and keeps everything else.
 * Pass it as the `connect` option of a link, or call it directly.
 */
export function mqtt311Connect(url: string, opts: IClientOptions): MqttClient {
  const { properties: _p, ...rest } = opts;
  const will = rest.will ? { ...rest.will, properties: undefined } : undefined;
  return mqtt.connect(url, { ...rest, ...(will ? { will } : {}), protocolVersion: 4 });
}
