/**
 * A real mosquitto (v2) broker on a free loopback port, for integration tests
 * and the MQTT benchmark. Anonymous access, persistence in a temp directory
 * (so a persistent session survives `restart()`), killed on `stop()`.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { canConnect, freePort } from './ports.js';
import {
  haveBinary,
  launchService,
  type RestartableService,
  restartableService,
} from './service.js';

/** Where Debian installs the broker; override with FAULTLINE_MOSQUITTO. */
export const MOSQUITTO_BIN = process.env.FAULTLINE_MOSQUITTO ?? '/usr/sbin/mosquitto';

export interface MosquittoOptions {
  /** TCP port on 127.0.0.1; default a free one. */
  port?: number;
  /** Keep sessions and queued QoS 1 messages on disk across restarts; default true. */
  persistence?: boolean;
  /** Extra config lines appended verbatim. */
  extraConfig?: string[];
}

/** `kill()` sends SIGTERM, so the broker writes its persistence file; `restart()` reuses port and config. */
export interface Mosquitto extends RestartableService {
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
  /** Temp directory holding the config and the persistence file. */
  readonly dir: string;
}

/** True when the mosquitto binary exists (tests skip with a message otherwise). */
export const haveMosquitto = (): Promise<boolean> => haveBinary(MOSQUITTO_BIN);

/** Starts mosquitto and resolves once it accepts TCP connections. */
export async function startMosquitto(opts: MosquittoOptions = {}): Promise<Mosquitto> {
  if (!(await haveMosquitto())) {
    throw new Error(`mosquitto not found at ${MOSQUITTO_BIN} (Debian: apt-get install mosquitto)`);
  }
  const port = opts.port ?? (await freePort());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-mosquitto-'));
  const conf = path.join(dir, 'mosquitto.conf');
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    // run as whoever runs the tests: as root mosquitto would otherwise switch
    // to the `mosquitto` user, which cannot write our temp directory
    `user ${os.userInfo().username}`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    // room for the offline queue of a persistent session under test load
    'max_queued_messages 100000',
    ...(opts.persistence === false
      ? ['persistence false']
      : ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 1']),
    ...(opts.extraConfig ?? []),
  ];
  await writeFile(conf, `${lines.join('\n')}\n`);

  const service = await restartableService({
    launch: () =>
      launchService(MOSQUITTO_BIN, ['-c', conf], () => canConnect(port), {
        // starts in milliseconds on a quiet machine; a busy CI runner can take seconds
        timeoutMs: 30_000,
        intervalMs: 25,
        what: `listener on 127.0.0.1:${port}`,
      }),
    dir,
  });
  return { port, url: `mqtt://127.0.0.1:${port}`, dir, ...service };
}
