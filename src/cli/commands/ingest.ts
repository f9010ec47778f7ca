/**
 * `faultline ingest` — prints what arrives on a serial or MQTT link, one line
 * per block (or JSON lines), like `mosquitto_sub` does for a topic. Link
 * events (bad frames, reconnects) go to stderr; a stats line ends the run.
 */
import type { Command } from 'commander';
import { SerialPort } from 'serialport';
import { FaultlineError } from '../../errors.js';
import { MqttSource } from '../../ingest/mqtt-source.js';
import { SerialSource } from '../../ingest/serial-source.js';
import type { IngestedBlock, IngestSource, IngestStats } from '../../ingest/source.js';
import { addMqttOptions, mqttLinkFromCli, untilSignal } from './link-options.js';
import { intArg } from './parse.js';

interface IngestCliOptions {
  serial?: string;
  mqtt?: string;
  baud: number;
  topic?: string[];
  site?: string;
  machine?: string;
  share?: string;
  json?: boolean;
  limit?: number;
  list?: boolean;
  wait?: boolean;
}

export function registerIngestCommand(program: Command): void {
  const cmd = program
    .command('ingest')
    .description(
      'print the sample blocks arriving on a serial port or MQTT broker (one line per block, stats at the end)',
    )
    .option('--serial <path>', 'serial device, e.g. /dev/ttyUSB0')
    .option('--baud <n>', 'serial baud rate', intArg('--baud'), 921600)
    .option('--mqtt <url>', 'MQTT broker URL, e.g. mqtt://127.0.0.1:1883')
    .option(
      '--topic <filter...>',
      'MQTT subscription filter(s) (default faultline/<site|+>/<machine|+>/+/raw)',
    )
    .option('--site <name>', 'MQTT: only this site')
    .option('--machine <name>', 'MQTT: only this machine')
    .option('--share <group>', 'MQTT 5 shared subscription group ($share/<group>/…)')
    .option('--json', 'one JSON object per line')
    .option('--limit <n>', 'exit after n blocks', intArg('--limit'))
    .option('--wait', 'keep retrying when the device/broker is not there yet')
    .option('--list', 'list serial ports and exit');
  addMqttOptions(cmd).action(
    async (o: IngestCliOptions & Parameters<typeof mqttLinkFromCli>[1]) => {
      if (o.list) {
        await listPorts(o.json ?? false);
        return;
      }
      if (!o.serial === !o.mqtt) {
        throw new FaultlineError(
          'FL_ERR_CLI_USAGE',
          'give exactly one of --serial <path> or --mqtt <url> (or --list)',
        );
      }
      const source: IngestSource = o.serial
        ? new SerialSource({ path: o.serial, baudRate: o.baud, waitForDevice: o.wait })
        : new MqttSource({
            ...mqttLinkFromCli(o.mqtt as string, o),
            topics: o.topic,
            site: o.site,
            machine: o.machine,
            shareGroup: o.share,
            waitForBroker: o.wait,
          });
      await runIngest(source, { json: o.json ?? false, limit: o.limit });
    },
  );
}

async function listPorts(json: boolean): Promise<void> {
  const ports = await SerialPort.list();
  if (json) {
    for (const p of ports) process.stdout.write(`${JSON.stringify(p)}\n`);
    return;
  }
  if (ports.length === 0) process.stdout.write('no serial ports found\n');
  for (const p of ports) {
    const extra = [
      p.manufacturer,
      p.serialNumber,
      p.vendorId && `${p.vendorId}:${p.productId}`,
    ].filter(Boolean);
    process.stdout.write(`${p.path}${extra.length ? `  ${extra.join('  ')}` : ''}\n`);
  }
}

/** Root mean square of a block, g: a quick sanity value for the eye. */
function rms(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return x.length ? Math.sqrt(s / x.length) : 0;
}

function where(b: IngestedBlock): string {
  return b.origin.link === 'serial' ? `serial:${b.origin.path}` : b.origin.topic;
}

function blockLine(b: IngestedBlock, json: boolean): string {
  if (json) {
    return JSON.stringify({
      at: where(b),
      sensor: b.sensorId,
      seq: b.seq,
      t0Us: b.t0Us.toString(),
      sampleRate: b.sampleRate,
      channels: b.channels,
      samples: b.samples.length / b.channels,
      rpm: b.rpm ?? null,
      gap: b.gap,
      rmsG: Number(rms(b.samples).toFixed(6)),
    });
  }
  const rpm = b.rpm !== undefined ? `${b.rpm.toFixed(0)} rpm` : 'rpm ?';
  const gap = b.gap > 0 ? `  GAP ${b.gap}` : '';
  return `${where(b)}  sensor ${b.sensorId}  seq ${b.seq}  ${b.sampleRate} Hz  ${b.samples.length / b.channels}×${b.channels}  ${rpm}  rms ${rms(b.samples).toFixed(4)} g${gap}`;
}

function statsLine(s: IngestStats, json: boolean): string {
  if (json) return JSON.stringify({ stats: s });
  const reasons = Object.entries(s.badFramesByReason)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `# ${s.link}: ${s.blocks} blocks, ${s.bytes} bytes, ${s.badFrames} bad frames${reasons ? ` (${reasons})` : ''}, ${s.missingFrames} missing, ${s.reconnects} reconnects`;
}

/** Prints blocks until `limit`, SIGINT/SIGTERM, or the source ends; then the stats line. */
export async function runIngest(
  source: IngestSource,
  o: { json: boolean; limit?: number; out?: NodeJS.WritableStream; err?: NodeJS.WritableStream },
): Promise<IngestStats> {
  const out = o.out ?? process.stdout;
  const err = o.err ?? process.stderr;
  source.on('bad-frame', (b) =>
    err.write(
      `# bad frame: ${b.reason}${b.bytes !== undefined ? ` (${b.bytes} bytes)` : ''}${b.topic ? ` on ${b.topic}` : ''}\n`,
    ),
  );
  source.on('reconnecting', (r) =>
    err.write(`# link down (${r.error ?? 'closed'}); retry ${r.attempt} in ${r.delayMs} ms\n`),
  );
  source.on('state', (st) => {
    if (st === 'connected') err.write('# connected\n');
  });
  source.on('warning', (w) => err.write(`# warning: ${w.message}\n`));
  await source.start();
  let n = 0;
  await untilSignal(
    () => void source.close(),
    async () => {
      for await (const block of source) {
        out.write(`${blockLine(block, o.json)}\n`);
        if (o.limit !== undefined && ++n >= o.limit) break;
      }
    },
  );
  await source.close();
  const stats = source.stats();
  out.write(`${statsLine(stats, o.json)}\n`);
  return stats;
}
