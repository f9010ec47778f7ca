/**
 * A real InfluxDB 1.x server (`influxd`, Debian package `influxdb`) on free
 * loopback ports with its data in a temp directory, for integration tests.
 * `stop()` kills it and removes the directory; `kill()` + `restart()` keep
 * the data (for outage tests).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import {
  haveBinary,
  launchService,
  type RestartableService,
  restartableService,
} from './service.js';

/** Where Debian installs the server; override with FAULTLINE_INFLUXD. */
export const INFLUXD_BIN = process.env.FAULTLINE_INFLUXD ?? '/usr/bin/influxd';

/** `kill()` keeps the data, `restart()` resolves when /ping answers, `stop()` removes the directory. */
export interface Influxd extends RestartableService {
  /** HTTP API port on 127.0.0.1. */
  readonly port: number;
  readonly url: string;
  readonly dir: string;
}

/** True when the influxd binary exists. */
export const haveInfluxd = (): Promise<boolean> => haveBinary(INFLUXD_BIN);

/**
 * A store suite's `skip`: false when influxd is installed, and under CI=true
 * (there the suite runs and fails without it), else why it skips.
 */
export const influxdSkip: string | false = !(await haveInfluxd())
  ? process.env.CI === 'true'
    ? false
    : 'influxd not installed (apt-get install influxdb)'
  : false;

/** True when `/ping` answers 204 (influxd is ready for writes and queries). */
async function pings(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(500) });
    return res.status === 204;
  } catch {
    return false; // not up yet
  }
}

/**
 * Starts influxd and resolves once `/ping` answers 204. With `auth`, HTTP
 * authentication is on: the first user created must be an admin
 * (`CREATE USER … WITH ALL PRIVILEGES`, which influxd allows unauthenticated
 * only while there is no user).
 */
export async function startInfluxd(o: { auth?: boolean } = {}): Promise<Influxd> {
  if (!(await haveInfluxd())) {
    throw new Error(`influxd not found at ${INFLUXD_BIN} (Debian: apt-get install influxdb)`);
  }
  const port = await freePort();
  const rpcPort = await freePort();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fl-influxd-'));
  const conf = path.join(dir, 'influxdb.conf');
  // Only HTTP and the local RPC listen; UDP, graphite, collectd, opentsdb are
  // off by default and stay off. No usage reporting, quiet logs.
  await writeFile(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${dir}/meta"`,
      '[data]',
      `  dir = "${dir}/data"`,
      `  wal-dir = "${dir}/wal"`,
      '  query-log-enabled = false',
      '[http]',
      '  enabled = true',
      `  bind-address = "127.0.0.1:${port}"`,
      `  auth-enabled = ${o.auth === true}`,
      '  log-enabled = false',
      '[logging]',
      '  level = "warn"',
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '[subscriber]',
      '  enabled = false',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;
  const service = await restartableService({
    launch: () =>
      launchService(INFLUXD_BIN, ['-config', conf], () => pings(url), {
        timeoutMs: 90_000,
        intervalMs: 50,
        what: '/ping answering 204',
      }),
    dir,
    stopSignal: 'SIGKILL',
  });
  return { port, url, dir, ...service };
}
