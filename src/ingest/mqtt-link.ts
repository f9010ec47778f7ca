/**
 * One MQTT connection as every Faultline link uses it: MQTT 5, a stable
 * client id with a persistent session (clean start off + session expiry, so
 * QoS 1 messages published while we were away are kept by the broker), and
 * reconnects with exponential backoff + jitter.
 *
 * MQTT.js only knows a fixed `reconnectPeriod`; we keep its own reconnect
 * machinery (it resends unacknowledged QoS 1 packets and restores
 * subscriptions) and only change the period before each retry.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { FaultlineError } from '../errors.js';
import { Backoff, type BackoffOptions } from './backoff.js';

/** Connection options shared by the MQTT source, the bridge and the simulator. */
export interface MqttLinkOptions {
  /** Broker URL: `mqtt://host:1883`, `mqtts://host:8883`, `ws://…`. */
  url: string;
  /** Stable client id: the broker keys the persistent session on it. Default `faultline-<role>-<hostname>`. */
  clientId?: string;
  username?: string;
  password?: string;
  /** PEM file of the CA that signed the broker's certificate (TLS). */
  caPath?: string;
  /** PEM client certificate for mutual TLS. */
  certPath?: string;
  /** PEM private key of `certPath`. */
  keyPath?: string;
  /** Verify the broker's certificate; default true (turn off only for a lab broker). */
  rejectUnauthorized?: boolean;
  /** Start a fresh session (drops queued messages); default false. */
  clean?: boolean;
  /** How long the broker keeps the session while we are away, s. Default 3600. */
  sessionExpiryS?: number;
  /** Keep-alive interval, s. Default 30. */
  keepaliveS?: number;
  /** Give up a connection attempt after this long, ms. Default 5000. */
  connectTimeoutMs?: number;
  /** Reconnect delays. Default 200 ms doubling to 5 s, 50 % jitter. */
  backoff?: BackoffOptions;
  /** Keep retrying when the very first connection fails instead of rejecting. Default false. */
  waitForBroker?: boolean;
  /** The connect function (injectable I/O). Default `mqtt.connect`. */
  connect?: (url: string, opts: IClientOptions) => MqttClient;
}

/**
 * The credential and TLS part of MQTT.js options from ours (reads the PEM
 * files), for clients that keep their own session settings — the gateway's
 * alert/presence client uses it so it reaches the same broker as ingest.
 * @throws FaultlineError FL_ERR_CONFIG for an unreadable TLS file
 */
export function mqttAuthOptions(
  opts: Pick<
    MqttLinkOptions,
    'username' | 'password' | 'caPath' | 'certPath' | 'keyPath' | 'rejectUnauthorized'
  >,
): Pick<IClientOptions, 'username' | 'password' | 'ca' | 'cert' | 'key' | 'rejectUnauthorized'> {
  const read = (what: string, p: string | undefined) => {
    if (p === undefined) return undefined;
    try {
      return readFileSync(p);
    } catch (err) {
      throw new FaultlineError(
        'FL_ERR_CONFIG',
        `cannot read the MQTT TLS ${what} file ${p}: ${(err as Error).message}`,
      );
    }
  };
  return {
    username: opts.username,
    password: opts.password,
    ca: read('CA', opts.caPath),
    cert: read('certificate', opts.certPath),
    key: read('key', opts.keyPath),
    rejectUnauthorized: opts.rejectUnauthorized ?? true,
  };
}

/** Builds MQTT.js options from ours: reads TLS files, fixes the protocol to v5. */
export function mqttClientOptions(opts: MqttLinkOptions, role: string): IClientOptions {
  const sessionExpiryS = opts.sessionExpiryS ?? 3600;
  return {
    protocolVersion: 5,
    clientId: opts.clientId ?? `faultline-${role}-${os.hostname()}`,
    clean: opts.clean ?? false,
    properties: { sessionExpiryInterval: sessionExpiryS },
    keepalive: opts.keepaliveS ?? 30,
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    ...mqttAuthOptions(opts),
    reconnectPeriod: new Backoff(opts.backoff).next(),
    // QoS 0 is never used by links; keep nothing for it while offline
    queueQoSZero: false,
    resubscribe: true,
  };
}

/** Callbacks a link gets about its connection. */
export interface MqttLinkHooks {
  /** The client exists but is not connected yet: install message handlers here (a persistent session may deliver right after CONNACK). */
  onCreate?(client: MqttClient): void;
  /** Each successful connection (first and later); `sessionPresent` from the CONNACK. */
  onConnect?(sessionPresent: boolean, first: boolean): void;
  /** The connection dropped (or an attempt failed); a retry follows after `delayMs`. */
  onRetry?(attempt: number, delayMs: number, error?: string): void;
}

/** Removes credentials from a URL before it goes into a message. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Connects and resolves once the broker accepted us. Rejects with
 * FL_ERR_MQTT_CONNECT when the first attempt fails (unless `waitForBroker`);
 * afterwards the returned client reconnects on its own with backoff.
 */
export async function connectMqttLink(
  opts: MqttLinkOptions,
  role: string,
  hooks: MqttLinkHooks = {},
): Promise<MqttClient> {
  const backoff = new Backoff(opts.backoff);
  const options = mqttClientOptions(opts, role);
  options.reconnectPeriod = backoff.next();
  const client = (opts.connect ?? mqtt.connect)(opts.url, options);
  hooks.onCreate?.(client);
  let lastError: string | undefined;
  let connects = 0;
  client.on('error', (err) => {
    lastError = err.message;
  });
  // Runs before MQTT.js's own 'close' handler (prepend), which arms the retry
  // timer with `options.reconnectPeriod`: set the next backoff delay first and
  // drop the timer of the previous period, which MQTT.js would otherwise reuse.
  client.prependListener('close', () => {
    if (client.disconnecting) return;
    const delay = backoff.next();
    client.options.reconnectPeriod = delay;
    const timer = (client as unknown as { reconnectTimer: NodeJS.Timeout | null }).reconnectTimer;
    if (timer) {
      clearInterval(timer);
      (client as unknown as { reconnectTimer: NodeJS.Timeout | null }).reconnectTimer = null;
    }
    hooks.onRetry?.(backoff.attempts, delay, lastError);
  });
  client.on('connect', (connack) => {
    connects++;
    backoff.reset();
    lastError = undefined;
    hooks.onConnect?.(connack.sessionPresent, connects === 1);
  });
  await new Promise<void>((resolve, reject) => {
    const onConnect = () => {
      client.off('close', onFail);
      resolve();
    };
    const onFail = () => {
      if (opts.waitForBroker) return;
      client.off('connect', onConnect);
      client.end(true);
      reject(
        new FaultlineError(
          'FL_ERR_MQTT_CONNECT',
          `cannot connect to the MQTT broker at ${redactUrl(opts.url)}: ${lastError ?? 'connection closed'}; check the URL, that the broker runs, and credentials/TLS options`,
        ),
      );
    };
    client.once('connect', onConnect);
    client.once('close', onFail);
  });
  return client;
}

/**
 * Ends the client. `graceful` first waits up to `timeoutMs` for in-flight QoS 1
 * acknowledgements (they never come while the broker is away), then forces.
 */
export async function endMqttLink(
  client: MqttClient,
  graceful = true,
  timeoutMs = 2000,
): Promise<void> {
  if (graceful && client.connected) {
    const ended = new Promise<boolean>((resolve) => client.end(false, {}, () => resolve(true)));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const ok = await Promise.race([ended, timeout]);
    clearTimeout(timer);
    if (!ok) client.stream?.destroy(); // end() is already under way; cut the socket under it
    return;
  }
  await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
}
