/**
 * `faultline gateway [--config gateway.yaml]` — runs the factory gateway
 * daemon (src/daemon): with no file, on the embedded defaults (embedded
 * broker, simulated fleet, simulator model, SQLite store, dashboard on
 * :8080). SIGHUP reloads the file; SIGINT/SIGTERM stop cleanly.
 *
 * `faultline gateway adapt|rollback|status` talk to a running gateway over
 * its API (thin clients: the daemon does the work).
 */
import path from 'node:path';
import { type Command, Option } from 'commander';
import { type GatewayConfig, loadConfigFile, parseConfig } from '../../daemon/config.js';
import { DEFAULT_GATEWAY_CONFIG } from '../../daemon/defaults.js';
import { Gateway } from '../../daemon/gateway.js';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../daemon/log.js';
import { redactConfig, redactUrl } from '../../daemon/secrets.js';
import { FaultlineError } from '../../errors.js';

interface RunOptions {
  config?: string;
  stateDir?: string;
  port?: string;
  brokerPort?: string;
  fleet: boolean;
  check?: boolean;
  logLevel?: LogLevel;
}

interface ClientOptions {
  url: string;
  token?: string;
}

function intOption(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new FaultlineError(
      'FL_ERR_CLI_USAGE',
      `${name} must be a port number 0–65535, got '${v}'`,
    );
  return n;
}

/** The configuration with command-line overrides applied (validated again). */
async function effectiveConfig(o: RunOptions): Promise<Readonly<GatewayConfig>> {
  const base = o.config
    ? await loadConfigFile(o.config)
    : parseConfig(DEFAULT_GATEWAY_CONFIG, 'embedded defaults');
  const port = intOption(o.port, '--port');
  const brokerPort = intOption(o.brokerPort, '--broker-port');
  if (
    port === undefined &&
    brokerPort === undefined &&
    o.stateDir === undefined &&
    o.logLevel === undefined
  )
    return base;
  return parseConfig(
    {
      ...base,
      ...(o.stateDir !== undefined ? { stateDir: o.stateDir } : {}),
      http: { ...base.http, ...(port !== undefined ? { port } : {}) },
      broker: { ...base.broker, ...(brokerPort !== undefined ? { port: brokerPort } : {}) },
      log: { ...base.log, ...(o.logLevel !== undefined ? { level: o.logLevel } : {}) },
    },
    o.config ?? 'embedded defaults',
  );
}

async function call(
  o: ClientOptions,
  method: 'GET' | 'POST',
  route: string,
  body?: unknown,
): Promise<unknown> {
  const token = o.token ?? process.env.FAULTLINE_TOKEN;
  if (!token)
    throw new FaultlineError(
      'FL_ERR_CLI_USAGE',
      'give --token (printed by `faultline gateway` at start, kept in <stateDir>/token) or set FAULTLINE_TOKEN',
    );
  let res: Response;
  try {
    res = await fetch(new URL(route, o.url), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new FaultlineError(
      'FL_ERR_CLI_GATEWAY',
      `cannot reach the gateway at ${o.url} (${(err as Error).message}); check --url`,
    );
  }
  const data = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
  if (!res.ok)
    throw new FaultlineError(
      'FL_ERR_CLI_GATEWAY',
      `gateway answered ${res.status}: ${data.error ?? ''} ${data.message ?? ''}`.trim(),
    );
  return data;
}

/**
 * How the start banner shows the token. On a terminal, the dashboard link
 * carries it (one click). Anywhere else (a service manager's journal, a pipe,
 * a log file) it names where the token is, never the token itself:
 * `$(cat <stateDir>/token)`, or `<http.token>` when the configuration holds it.
 */
export function accessLines(
  gateway: Pick<Gateway, 'dashboardUrl' | 'apiUrl' | 'token' | 'stateDir'>,
  config: Pick<GatewayConfig, 'http'>,
  tty: boolean,
): { dashboard: string; bearer: string } {
  if (tty) return { dashboard: gateway.dashboardUrl, bearer: gateway.token };
  if (config.http.token !== undefined)
    return {
      dashboard: `${gateway.apiUrl}/  (token: http.token of the configuration)`,
      bearer: '<http.token>',
    };
  const file = path.join(gateway.stateDir, 'token');
  return { dashboard: `${gateway.apiUrl}/  (token in ${file})`, bearer: `$(cat ${file})` };
}

const print = (v: unknown): void => {
  process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
};

export function registerGatewayCommand(program: Command): void {
  const gw = program
    .command('gateway')
    .description(
      'run the factory gateway daemon: MQTT/serial ingest → live diagnosis → alerts, history and the dashboard API',
    )
    .option(
      '--config <file>',
      'YAML configuration (default: embedded defaults with a simulated fleet); see examples/gateway.yaml',
    )
    .option(
      '--state-dir <dir>',
      'state directory: token, model registry, history (default ~/.faultline or $FAULTLINE_STATE_DIR)',
    )
    .option('--port <n>', 'dashboard API port (overrides http.port)')
    .option('--broker-port <n>', 'embedded broker port (overrides broker.port)')
    .option('--no-fleet', 'do not run the simulated sensors of machines with `simulate`')
    .option('--check', 'validate the configuration, print it with defaults filled in, and exit')
    .addOption(
      new Option('--log-level <level>', 'least severe level logged (overrides log.level)').choices(
        LOG_LEVELS,
      ),
    )
    .action(async (o: RunOptions) => {
      // Signals are ours from the first line: a SIGHUP that a service manager
      // sends while the gateway starts would otherwise kill it (the default
      // action), and a stop request would cut a half-written start.
      let hupWhileStarting = false;
      let stop!: () => void;
      const stopped = new Promise<void>((resolve) => {
        stop = resolve;
      });
      const earlyHup = () => {
        hupWhileStarting = true;
      };
      process.on('SIGHUP', earlyHup);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const config = await effectiveConfig(o).catch((err: unknown) => {
        process.off('SIGHUP', earlyHup);
        throw err;
      });
      if (o.check) {
        process.off('SIGHUP', earlyHup);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        print(redactConfig(config));
        return;
      }
      // the logger's level comes from the configuration: the start line follows it
      const log = createLogger({ level: config.log.level });
      log.info('faultline gateway: starting…');
      const gateway = await Gateway.start({ config, configFile: o.config, fleet: o.fleet, log });
      process.off('SIGHUP', earlyHup);
      const access = accessLines(gateway, config, process.stdout.isTTY === true);
      // One record, its parts as fields: a log reader (jq, journalctl -o json)
      // picks out the address or the token file without parsing prose.
      log.info(
        {
          dashboard: access.dashboard,
          api: `${gateway.apiUrl}/api/machines`,
          authorization: `Bearer ${access.bearer}`,
          broker: `${redactUrl(gateway.brokerUrl)}${config.broker.embedded ? ' (embedded, MQTT 3.1.1)' : ''}`,
          state: gateway.stateDir,
          machines: config.machines.map((m) => m.id),
        },
        `faultline gateway ${gateway.gatewayId} (site ${config.site}) running`,
      );
      const onHup = () => void gateway.reload();
      process.on('SIGHUP', onHup);
      if (hupWhileStarting) onHup(); // the file may have changed after it was read
      await stopped;
      process.off('SIGHUP', onHup);
      log.info('faultline gateway: stopping…');
      await gateway.close();
    });

  const client = (c: Command) =>
    c
      .option('--url <url>', 'gateway API base URL', 'http://localhost:8080')
      .option('--token <token>', 'API token (default $FAULTLINE_TOKEN)');

  client(
    gw
      .command('adapt')
      .description(
        "adapt a machine's model to its live signal on a running gateway (or, with --from-verdicts, teach it its operators' verdicts), wait, and print the guards",
      )
      .requiredOption('--machine <id>', 'machine to adapt')
      .option('--seconds <s>', 'live signal to collect, s', '60')
      .option(
        '--strategy <name>',
        'dann or mmd; with --from-verdicts finetune or features (default dann; finetune with --from-verdicts)',
      )
      .option(
        '--from-verdicts',
        "learn from the machine's verdict windows (docs/verdicts.md); the collected signal is its unlabelled stream",
      )
      .option('--no-wait', 'return once the job started'),
  ).action(
    async (
      o: ClientOptions & {
        machine: string;
        seconds: string;
        strategy?: string;
        fromVerdicts?: boolean;
        wait: boolean;
      },
    ) => {
      const seconds = Number(o.seconds);
      if (!(seconds >= 1))
        throw new FaultlineError('FL_ERR_CLI_USAGE', `--seconds must be ≥ 1, got '${o.seconds}'`);
      let job = (await call(o, 'POST', `/api/machines/${encodeURIComponent(o.machine)}/adapt`, {
        seconds,
        strategy: o.strategy ?? (o.fromVerdicts ? 'finetune' : 'dann'),
        ...(o.fromVerdicts ? { fromVerdicts: true } : {}),
      })) as {
        id: string;
        state: string;
        collectedS: number;
        step: number;
        steps: number;
      };
      while (o.wait && (job.state === 'collecting' || job.state === 'adapting')) {
        process.stderr.write(
          `\r${job.state} ${job.collectedS.toFixed(0)}/${seconds} s, step ${job.step}/${job.steps}\x1b[K`,
        );
        await new Promise((r) => setTimeout(r, 1000));
        job = (await call(o, 'GET', `/api/adaptations/${job.id}`)) as typeof job;
      }
      if (o.wait) process.stderr.write('\n');
      print(job);
    },
  );

  client(
    gw
      .command('rollback')
      .description('roll a machine back to its previous model version')
      .requiredOption('--machine <id>', 'machine'),
  ).action(async (o: ClientOptions & { machine: string }) =>
    print(await call(o, 'POST', `/api/machines/${encodeURIComponent(o.machine)}/rollback`)),
  );

  client(
    gw.command('status').description("print a running gateway's machines (GET /api/machines)"),
  ).action(async (o: ClientOptions) => print(await call(o, 'GET', '/api/machines')));
}
