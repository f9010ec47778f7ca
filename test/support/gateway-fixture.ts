/**
 * Shared parts of the fault-injection tests (and of the security, load and
 * gateway-rate tests and the soak benchmark): the gateway as a real child
 * process (`faultline gateway --config <file>`, exactly as systemd runs it),
 * a simulator-trained model cached across test files, a second distinct
 * model, a serial sensor driven by this process, and small polling helpers.
 *
 * Nothing is mocked: the child is the CLI, the broker is mosquitto, the
 * database influxd, the serial link a socat pty pair.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { access, cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { mqtt311Connect } from '../../src/daemon/broker.js';
import type { GatewayConfig, GatewayConfigInput } from '../../src/daemon/config.js';
import { silentLogger } from '../../src/daemon/log.js';
import { contentHash } from '../../src/model/artifact.js';
import { resolveCondition } from '../../src/sim/conditions.js';
import { SimulatedFleet } from '../../src/sim/fleet.js';
import { BearingSignalGenerator } from '../../src/sim/generator.js';
import { runSensorStream } from '../../src/sim/sensor-stream.js';
import { trainSimModel } from '../../src/sim/sim-model.js';
import { openSerialSink } from '../../src/sim/sinks.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Logger that keeps the test output clean. */
export const quiet = silentLogger();

/** Outage length of the InfluxDB fault, s: $FAULTLINE_FAULT_OUTAGE_S, default 15 (the issue asks for a minute; CI uses this shorter default). */
export const OUTAGE_S = Number(process.env.FAULTLINE_FAULT_OUTAGE_S ?? 15);

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * The simulator-trained model (≈ 20 s to train), cached in the OS temp
 * directory so every fault test file after the first reuses it. Trained
 * into a scratch folder and renamed into place, so a concurrent or killed
 * run never leaves a half-written cache.
 */
export async function simModelDir(): Promise<string> {
  const dir = path.join(os.tmpdir(), 'faultline-test-cache', 'sim-model-v2');
  if (await exists(path.join(dir, 'faultline.json'))) return dir;
  const scratch = `${dir}.${process.pid}.tmp`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  await trainSimModel(scratch);
  try {
    await rename(scratch, dir);
  } catch {
    // another test file won the race: use its copy
    await rm(scratch, { recursive: true, force: true });
  }
  return dir;
}

/**
 * A copy of model `src` with one weight nudged (and the content hash redone),
 * so the registry sees a second, different model that still loads and behaves
 * the same for diagnosis.
 */
export async function variantModel(src: string, dest: string): Promise<string> {
  await rm(dest, { recursive: true, force: true });
  await cp(src, dest, { recursive: true });
  const weights = await readFile(path.join(dest, 'weights.bin'));
  const f = new Float32Array(weights.buffer, weights.byteOffset, weights.length >> 2);
  f[f.length - 1] += 1e-6;
  await writeFile(path.join(dest, 'weights.bin'), weights);
  const modelJson = await readFile(path.join(dest, 'model.json'));
  const metaFile = path.join(dest, 'faultline.json');
  const meta = JSON.parse(await readFile(metaFile, 'utf8')) as { contentHash: string };
  meta.contentHash = contentHash(modelJson, weights);
  await writeFile(metaFile, JSON.stringify(meta, null, 2));
  return dest;
}

/** Health policy that reacts within seconds (tests cannot wait minutes). */
export const FAST_ALERTS: NonNullable<GatewayConfigInput['alerts']> = { silentAfterMs: 2000 };

// ── the gateway child process ────────────────────────────────────────────

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface GatewayProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** `http://localhost:<port>` */
  readonly apiUrl: string;
  readonly token: string;
  /** stdout + stderr so far (tail), for failure messages. */
  output(): string;
  /** Authenticated JSON GET/POST; throws on a non-2xx answer, naming it. */
  get<T>(route: string): Promise<T>;
  post<T>(route: string, body: unknown): Promise<T>;
  /** Resolves with the exit code (or signal) once the process ended. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (clean stop), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL, no goodbye: the crash the restart test needs. */
  kill(): Promise<void>;
}

/** Writes `config` as a JSON (YAML subset) file and returns its path. */
export async function writeConfig(dir: string, config: GatewayConfigInput): Promise<string> {
  const file = path.join(dir, 'gateway.yaml');
  await writeFile(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** Runs `faultline <args>` to completion (for commands that must exit, e.g. a bad config); SIGKILL after `timeoutMs` (default 120 s). */
export async function runCli(
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number | null; out: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), ...args],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  live.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  live.delete(child);
  return { code, out };
}

/**
 * Starts `faultline gateway --config <configFile>` and resolves once it
 * printed its API address and token (it is then fully started); gives up
 * after `readyTimeoutMs` (default 120 s: the child compiles the sources and
 * loads a model, which takes long on a busy machine).
 */
export async function startGatewayProcess(
  configFile: string,
  o: { readyTimeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<GatewayProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), 'gateway', '--config', configFile],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...o.env } },
  );
  live.add(child);
  let out = '';
  const append = (d: Buffer) => {
    out = (out + d.toString()).slice(-32_768);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exit = once(child, 'exit').then(([code, signal]) => {
    live.delete(child);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  let ended = false;
  void exit.then(() => {
    ended = true;
  });
  const readyMs = o.readyTimeoutMs ?? 120_000;
  const deadline = Date.now() + readyMs;
  let banner: StartRecord | undefined;
  while (!(banner = startRecord(out))) {
    if (ended) throw new Error(`gateway exited at start:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not start within ${readyMs} ms:\n${out}`);
    }
    await sleep(50);
  }
  const apiUrl = banner.api.replace(/\/api\/machines$/, '');
  const token = await bannerToken(banner.authorization.replace(/^Bearer /, ''), configFile);
  const call = async <T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${apiUrl}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      // a request that hangs this long is a failure; a busy gateway answers in far less
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const stopWith = async (signal: NodeJS.Signals, graceMs: number) => {
    if (ended) return;
    child.kill(signal);
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exit;
    clearTimeout(t);
  };
  return {
    child,
    pid: child.pid as number,
    apiUrl,
    token,
    output: () => out,
    get: (route) => call('GET', route),
    post: (route, body) => call('POST', route, body),
    exited: () => exit,
    stop: (graceMs = 10_000) => stopWith('SIGTERM', graceMs),
    kill: () => stopWith('SIGKILL', 1000),
  };
}

/**
 * The token a gateway's start banner points at: without a terminal it never
 * prints the token, only `$(cat <file>)` or `<http.token>` (the config's).
 */
/** The gateway's start record (a JSON log line): where its API is and how to authorize. */
export interface StartRecord {
  msg: string;
  dashboard: string;
  /** `http://<host>:<port>/api/machines` */
  api: string;
  /** `Bearer <token | $(cat <file>) | <http.token>>` */
  authorization: string;
  broker: string;
  state: string;
  machines: string[];
}

/** The start record among the gateway's output lines, once it was written. */
export function startRecord(output: string): StartRecord | undefined {
  for (const line of output.split('\n')) {
    if (!line.includes('"authorization"')) continue;
    try {
      const r = JSON.parse(line.replace(/^<\d>/, '')) as Partial<StartRecord>;
      if (typeof r.api === 'string' && typeof r.authorization === 'string') return r as StartRecord;
    } catch {
      // a line cut at the tail window's start, or still being written
    }
  }
  return undefined;
}

export async function bannerToken(shown: string, configFile: string): Promise<string> {
  const file = /^\$\(cat (.+)\)$/.exec(shown)?.[1];
  if (file !== undefined) return (await readFile(file, 'utf8')).trim();
  if (shown === '<http.token>') {
    const c = JSON.parse(await readFile(configFile, 'utf8')) as { http?: { token?: string } };
    if (c.http?.token) return c.http.token;
  }
  throw new Error(`the start banner shows no token reference: ${shown}`);
}

// ── a serial sensor driven from the test ───────────────────────────────────

export interface SerialSensor {
  /** Frames written so far. */
  frames(): number;
  /** Stops writing and closes the port. */
  stop(): Promise<void>;
}

/**
 * Streams a simulated bearing signal as COBS frames into `ptyPath` (the far
 * end of a socat pair the gateway reads), paced in real time × `speed`.
 */
export async function startSerialSensor(o: {
  path: string;
  sensorId: number;
  fault: 'none' | 'inner' | 'outer' | 'ball';
  seed?: number;
  speed?: number;
}): Promise<SerialSensor> {
  const gen = new BearingSignalGenerator({
    condition: resolveCondition('source-1797rpm'),
    fault: { type: o.fault, severity: 0.8 },
    sampleRate: 12_000,
    seed: o.seed ?? 5,
  });
  const sink = await openSerialSink({ path: o.path });
  const abort = new AbortController();
  let frames = 0;
  const run = runSensorStream({
    sensors: [{ sensorId: o.sensorId, source: gen, rpm: gen.config.condition.rpm }],
    sampleRate: 12_000,
    speed: o.speed ?? 1,
    sink,
    signal: abort.signal,
    onFrame: () => {
      frames++;
    },
  }).catch(() => undefined); // the device vanishing ends the stream: expected in these tests
  return {
    frames: () => frames,
    async stop() {
      abort.abort();
      await run;
      await Promise.race([sink.close().catch(() => undefined), sleep(2000)]);
    },
  };
}

// ── polling ────────────────────────────────────────────────────────────────

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls `fn` every `everyMs` until it returns a value other than
 * undefined/false; rejects after `timeoutMs` (default 60 s). Give work that
 * a child process or service must do a generous deadline: CI machines are
 * busy, and a deadline is only reached when something is wrong.
 */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await sleep(everyMs);
  }
}

/** Resident set size of a process, MiB (Linux /proc). */
export async function rssMiB(pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = s.match(/VmRSS:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/**
 * Streams the simulated fleet of a gateway's machines into its broker (MQTT
 * 3.1.1, twice real time) for `durationS` of signal, and resolves when all of
 * it is sent.
 */
export async function streamFleet(
  gw: { config: Pick<GatewayConfig, 'machines'>; brokerUrl: string },
  site: string,
  durationS: number,
): Promise<void> {
  const fleet = await SimulatedFleet.start({
    site,
    machines: gw.config.machines,
    link: { url: gw.brokerUrl, connect: mqtt311Connect },
    speed: 2,
    durationS,
    log: () => {},
  });
  await fleet.done();
}

/** One message an {@link observeSite} client received. */
export interface ObservedMessage {
  topic: string;
  payload: unknown;
  retain: boolean;
}

/**
 * An MQTT 3.1.1 client subscribed (QoS 1) to every topic of `site` on the
 * gateway's broker, pushing each JSON message into `received` as it comes.
 * Sensor frames (`…/raw`) are binary and left out. Resolves once subscribed,
 * so nothing published afterwards is missed.
 */
export async function observeSite(
  gw: { brokerUrl: string },
  site: string,
  received: ObservedMessage[],
): Promise<MqttClient> {
  const sub = mqtt311Connect(gw.brokerUrl, { clientId: 'observer', reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    sub.once('connect', () => resolve());
    sub.once('error', reject);
  });
  sub.on('message', (topic, payload, packet) => {
    if (topic.endsWith('/raw')) return;
    received.push({ topic, payload: JSON.parse(payload.toString()), retain: packet.retain });
  });
  await sub.subscribeAsync(`faultline/${site}/#`, { qos: 1 });
  return sub;
}
