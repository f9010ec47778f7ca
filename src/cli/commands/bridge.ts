/**
 * `faultline bridge` — forwards valid frames from a serial sensor to MQTT
 * (`faultline/<site>/<machine>/<sensorId>/raw`, QoS 1), counting bad frames
 * and surviving either side going away. Prints a status line every
 * `--status` seconds and a summary on exit (SIGINT/SIGTERM).
 */
import type { Command } from 'commander';
import { Bridge, type BridgeStats } from '../../ingest/bridge.js';
import { addMqttOptions, mqttLinkFromCli } from './link-options.js';
import { intArg, nonNegativeNumber } from './parse.js';

interface BridgeCliOptions {
  serial: string;
  baud: number;
  mqtt: string;
  site: string;
  machine: string;
  queue: number;
  inflight: number;
  status: number;
  wait?: boolean;
  json?: boolean;
}

function statusLine(s: BridgeStats, json: boolean): string {
  if (json) return JSON.stringify(s);
  const reasons = Object.entries(s.serial.badFramesByReason)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return (
    `# serial ${s.serial.state}: ${s.serial.blocks} frames, ${s.serial.badFrames} bad${reasons ? ` (${reasons})` : ''}, ${s.serial.missingFrames} missing, ${s.serial.reconnects} reconnects` +
    ` | mqtt ${s.mqtt.state}: ${s.mqtt.acked} acked, ${s.mqtt.queued} queued, ${s.mqtt.droppedQueueFull} dropped (queue full), ${s.mqtt.reconnects} reconnects`
  );
}

export function registerBridgeCommand(program: Command): void {
  const cmd = program
    .command('bridge')
    .description(
      'forward valid frames from a serial sensor to MQTT faultline/<site>/<machine>/<sensorId>/raw (QoS 1)',
    )
    .requiredOption('--serial <path>', 'serial device, e.g. /dev/ttyUSB0')
    .option('--baud <n>', 'serial baud rate', intArg('--baud'), 921600)
    .requiredOption('--mqtt <url>', 'MQTT broker URL, e.g. mqtt://127.0.0.1:1883')
    .requiredOption('--site <name>', 'site level of the topic')
    .requiredOption('--machine <name>', 'machine level of the topic')
    .option(
      '--queue <n>',
      'frames held while the broker is away; the oldest is dropped when full',
      intArg('--queue'),
      10_000,
    )
    .option('--inflight <n>', 'unacknowledged QoS 1 publishes at once', intArg('--inflight'), 64)
    .option(
      '--status <s>',
      'seconds between status lines on stderr (0: none)',
      nonNegativeNumber('--status'),
      10,
    )
    .option('--wait', 'keep retrying when the device or broker is not there yet')
    .option('--json', 'status lines as JSON');
  addMqttOptions(cmd).action(
    async (o: BridgeCliOptions & Parameters<typeof mqttLinkFromCli>[1]) => {
      const bridge = new Bridge({
        serial: { path: o.serial, baudRate: o.baud, waitForDevice: o.wait },
        mqtt: {
          ...mqttLinkFromCli(o.mqtt, o),
          waitForBroker: o.wait,
          clientId: o.clientId ?? undefined,
        },
        site: o.site,
        machine: o.machine,
        queueLimit: o.queue,
        inflight: o.inflight,
      });
      bridge.on('state', (side, st) => process.stderr.write(`# ${side} ${st}\n`));
      await bridge.start();
      const timer =
        o.status > 0
          ? setInterval(
              () => process.stderr.write(`${statusLine(bridge.stats(), o.json ?? false)}\n`),
              o.status * 1000,
            )
          : undefined;
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      clearInterval(timer);
      await bridge.close();
      process.stdout.write(`${statusLine(bridge.stats(), o.json ?? false)}\n`);
    },
  );
}
