/**
 * A real InfluxDB 1.x server (`influxd`, Debian package `influxdb`) on free
 * loopback ports with its data in a temp directory, for integration tests.
 * `stop()` kills it and removes the directory; `kill()` + `restart()` keep
 * the data (for outage tests).
 */
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';
import { type ServiceProcess, spawnService } from './service.js';

/** Where Debian installs the server; override with FAULTLINE_INFLUXD. */
export const INFLUXD_BIN = process.env.FAULTLINE_INFLUXD ?? '/usr/bin/influxd';

export interface Influxd {
  /** HTTP API port on 127.0.0.1. */
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Stops the server (SIGTERM), keeping its data. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data; resolves when /ping answers. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

/** True when the influxd binary exists. */
export async function haveInfluxd(): Promise<boolean> {
  try {
    await access(INFLUXD_BIN);
    return true;
  } catch {
    return false;
  }
}

async function waitForPing(url: string, timeoutMs: number, proc: ServiceProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited().then(() => {
    exited = true;
  });
  for (;;) {
    if (exited) throw new Error(`influxd exited at start: ${proc.stderr().slice(-2000)}`);
    try {
      const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(500) });
      if (res.status === 204) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      throw new Error(`influxd /ping not 204 after ${timeoutMs} ms: ${proc.stderr().slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts influxd and resolves once `/ping` answers 204. */
export async function startInfluxd(): Promise<Influxd> {
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
  let proc: ServiceProcess | undefined;
  const launch = async () => {
    const p = await spawnService(INFLUXD_BIN, ['-config', conf]);
    proc = p;
    try {
      await waitForPing(url, 20_000, p);
    } catch (e) {
      await p.stop('SIGKILL');
      throw e;
    }
  };
  await launch();
  return {
    port,
    url,
    dir,
    async kill() {
      await proc?.stop('SIGTERM');
    },
    async restart() {
      await proc?.stop('SIGTERM');
      await launch();
    },
    async stop() {
      await proc?.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
