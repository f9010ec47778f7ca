/**
 * Command-line options shared by the link commands (`simulate-sensor`,
 * `ingest`, `bridge`): MQTT credentials and TLS, and stopping on a signal.
 */
import type { Command } from 'commander';
import { FaultlineError } from '../../errors.js';
import type { MqttLinkOptions } from '../../ingest/mqtt-link.js';
import { intArg } from './parse.js';

/** Adds `--username --password --ca --cert --key --insecure --client-id --session-expiry`. */
export function addMqttOptions(cmd: Command): Command {
  return cmd
    .option('--username <name>', 'MQTT user name')
    .option(
      '--password <secret>',
      'MQTT password (default: $FAULTLINE_MQTT_PASSWORD, which keeps it out of `ps`)',
    )
    .option('--ca <file>', 'PEM CA certificate that signed the broker certificate (mqtts://)')
    .option('--cert <file>', 'PEM client certificate for mutual TLS')
    .option('--key <file>', 'PEM private key of --cert')
    .option('--insecure', 'do not verify the broker certificate (lab brokers only)')
    .option('--client-id <id>', 'stable MQTT client id; the persistent session is keyed on it')
    .option(
      '--session-expiry <s>',
      'how long the broker keeps our session while away, s (default 3600)',
      intArg('--session-expiry', 0),
    );
}

interface MqttCliOptions {
  username?: string;
  password?: string;
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  clientId?: string;
  sessionExpiry?: number;
}

/** MqttLinkOptions from the parsed options of {@link addMqttOptions}. */
export function mqttLinkFromCli(url: string, o: MqttCliOptions): MqttLinkOptions {
  try {
    new URL(url);
  } catch {
    throw new FaultlineError(
      'FL_ERR_CLI_USAGE',
      `MQTT URL ${JSON.stringify(url)} is invalid: write e.g. mqtt://127.0.0.1:1883`,
    );
  }
  return {
    url,
    username: o.username,
    password: o.password ?? process.env.FAULTLINE_MQTT_PASSWORD,
    caPath: o.ca,
    certPath: o.cert,
    keyPath: o.key,
    rejectUnauthorized: !o.insecure,
    clientId: o.clientId,
    sessionExpiryS: o.sessionExpiry,
  };
}

/** Runs `body` until it finishes or SIGINT/SIGTERM calls `stop`; removes the handlers afterwards. */
export async function untilSignal<T>(stop: () => void, body: () => Promise<T>): Promise<T> {
  const onSignal = () => stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await body();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
