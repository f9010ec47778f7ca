/**
 * `faultline simulate-sensor` — a software sensor node: streams the bearing
 * simulator (or a recorded file) as frames over a serial port or MQTT, paced
 * at real time × `--speed`, with optional link faults for tests and demos.
 */
import type { Command } from 'commander';
import { readMat } from '../../data/mat.js';
import { readSignalChannel, signalFormatOf } from '../../data/signals.js';
import { FaultlineError } from '../../errors.js';
import type { ConditionPresetName } from '../../sim/conditions.js';
import {
  LinkFaultInjector,
  parseDurationS,
  parseLinkFaultSpec,
} from '../../sim/fault-injection.js';
import type { FaultType } from '../../sim/faults.js';
import { BearingSignalGenerator } from '../../sim/generator.js';
import {
  type FrameSink,
  replaySource,
  runSensorStream,
  type StreamSensor,
} from '../../sim/sensor-stream.js';
import { openMqttSink, openSerialSink } from '../../sim/sinks.js';
import { addMqttOptions, mqttLinkFromCli, untilSignal } from './link-options.js';
import { intArg, positiveNumber } from './parse.js';

interface SimulateCliOptions {
  serial?: string;
  baud: number;
  mqtt?: string;
  site: string;
  machine: string;
  sensorId: number;
  count: number;
  fault: string;
  condition?: string;
  rpm?: number;
  replay?: string;
  channel?: string;
  rate?: number;
  frameSamples: number;
  format: string;
  speed: number;
  duration?: string;
  inject?: string;
  seed: number;
  inflight: number;
  quiet?: boolean;
}

/** `10x`, `10`, `0.5x` → 10, 10, 0.5; `max` → Infinity (as fast as the link takes). */
export function parseSpeed(v: string): number {
  if (v.trim() === 'max') return Number.POSITIVE_INFINITY;
  const m = /^(\d+(?:\.\d+)?)x?$/.exec(v.trim());
  const n = m ? Number(m[1]) : Number.NaN;
  if (!(n > 0))
    throw new FaultlineError(
      'FL_ERR_CLI_USAGE',
      `--speed ${JSON.stringify(v)} must be like 1x, 10x, 0.5x or max`,
    );
  return n;
}

export function registerSimulateSensorCommand(program: Command): void {
  const cmd = program
    .command('simulate-sensor')
    .description(
      'stream simulated (or replayed) vibration frames like a sensor node, over serial or MQTT',
    )
    .option('--serial <path>', 'serial device or pty to write COBS packets to')
    .option('--baud <n>', 'serial baud rate', intArg('--baud'), 921600)
    .option(
      '--mqtt <url>',
      'MQTT broker URL; publishes to faultline/<site>/<machine>/<sensor>/raw (QoS 1)',
    )
    .option('--site <name>', 'MQTT site', 'site1')
    .option('--machine <name>', 'MQTT machine', 'machine1')
    .option(
      '--sensor-id <n>',
      'sensor id (the first one with --count)',
      intArg('--sensor-id', 0, 2 ** 32 - 1),
      1,
    )
    .option(
      '--count <n>',
      'number of sensors, ids sensor-id … sensor-id+n−1',
      intArg('--count', 1, 1000),
      1,
    )
    .option('--fault <type>', 'simulated bearing fault: none|inner|outer|ball', 'none')
    .option(
      '--condition <preset>',
      'operating-condition preset of the simulator (default source-1797rpm)',
    )
    .option(
      '--rpm <r>',
      'shaft speed, rpm (overrides the preset; reported in frames)',
      positiveNumber('--rpm'),
    )
    .option(
      '--replay <file>',
      'stream a recording (.mat/.wav/.npy/.csv) instead of the simulator, looping',
    )
    .option(
      '--channel <sel>',
      'channel of --replay: variable name (.mat, default *_DE_time) or index',
    )
    .option(
      '--rate <hz>',
      'sample rate, Hz (default 12000, or the WAV file rate)',
      positiveNumber('--rate'),
    )
    .option('--frame-samples <n>', 'samples per frame', intArg('--frame-samples', 1, 16_000), 512)
    .option('--format <f>', 'sample format on the wire: int16|float32', 'int16')
    .option('--speed <x>', 'real-time multiple, e.g. 10x, or max', parseSpeed, 1)
    .option('--duration <s>', 'signal time to stream, e.g. 30s (default: until Ctrl-C)')
    .option(
      '--inject <spec>',
      'link faults per frame: bitflip=0.01,drop=0.001,dup=0.001,truncate=0.001,disconnect=30s',
    )
    .option(
      '--seed <n>',
      'seed of the simulator and the fault pattern',
      intArg('--seed', 0, 2 ** 32 - 1),
      1,
    )
    .option(
      '--inflight <n>',
      'MQTT: unacknowledged QoS 1 publishes allowed at once',
      intArg('--inflight'),
      64,
    )
    .option('--quiet', 'no summary line');
  addMqttOptions(cmd).action(
    async (o: SimulateCliOptions & Parameters<typeof mqttLinkFromCli>[1]) => {
      if (!o.serial === !o.mqtt)
        throw new FaultlineError(
          'FL_ERR_CLI_USAGE',
          'give exactly one of --serial <path> or --mqtt <url>',
        );
      if (o.format !== 'int16' && o.format !== 'float32') {
        throw new FaultlineError(
          'FL_ERR_CLI_USAGE',
          `--format ${JSON.stringify(o.format)} must be int16 or float32`,
        );
      }
      const faults = o.inject
        ? new LinkFaultInjector(parseLinkFaultSpec(o.inject), o.seed)
        : undefined;
      const durationS = o.duration !== undefined ? parseDurationS(o.duration) : undefined;
      const { sensors, sampleRate } = await buildSensors(o);
      const sink: FrameSink = o.serial
        ? await openSerialSink({ path: o.serial, baudRate: o.baud })
        : await openMqttSink({
            ...mqttLinkFromCli(o.mqtt as string, o),
            site: o.site,
            machine: o.machine,
            inflight: o.inflight,
          });
      const abort = new AbortController();
      try {
        const res = await untilSignal(
          () => abort.abort(),
          () =>
            runSensorStream({
              sensors,
              sampleRate,
              frameSamples: o.frameSamples,
              format: o.format as 'int16' | 'float32',
              speed: o.speed,
              durationS,
              sink,
              faults,
              signal: abort.signal,
            }),
        );
        if (!o.quiet) {
          const c = faults?.counts();
          process.stderr.write(
            `# sent ${res.frames} frames (${res.bytes} bytes) from ${sensors.length} sensor(s) in ${(res.elapsedMs / 1000).toFixed(2)} s` +
              `${c ? `; corrupted ${c.corrupted} (bitflip ${c.bitflip}, drop ${c.drop}, dup ${c.dup}, truncate ${c.truncate}), disconnects ${res.disconnects}` : ''}` +
              `; max late ${res.maxLateMs.toFixed(1)} ms\n`,
          );
        }
      } finally {
        await sink.close();
      }
    },
  );
}

async function buildSensors(
  o: SimulateCliOptions,
): Promise<{ sensors: StreamSensor[]; sampleRate: number }> {
  const ids = Array.from({ length: o.count }, (_, i) => o.sensorId + i);
  if (ids[ids.length - 1] > 2 ** 32 - 1)
    throw new FaultlineError('FL_ERR_CLI_USAGE', '--sensor-id + --count exceeds 2^32 − 1');
  if (o.replay) {
    const { samples, fileRate } = await readReplay(o.replay, o.channel);
    const sampleRate = o.rate ?? fileRate ?? 12_000;
    // every sensor replays the same file, each from its own offset, so they are not identical
    const sensors = ids.map((sensorId, i) => {
      const src = replaySource(samples);
      if (i > 0) src.next(Math.floor((i * samples.length) / o.count));
      return { sensorId, source: src, rpm: o.rpm };
    });
    return { sensors, sampleRate };
  }
  const sampleRate = o.rate ?? 12_000;
  const sensors = ids.map((sensorId, i) => {
    const gen = new BearingSignalGenerator({
      fault: o.fault as FaultType,
      condition: o.condition as ConditionPresetName | undefined,
      rpm: o.rpm,
      sampleRate,
      seed: o.seed + i,
    });
    return { sensorId, source: gen, rpm: () => gen.currentRpm };
  });
  return { sensors, sampleRate };
}

async function readReplay(
  file: string,
  channel: string | undefined,
): Promise<{ samples: Float32Array; fileRate?: number }> {
  if (signalFormatOf(file) === 'mat' && channel === undefined) {
    // CWRU files hold DE, FE, BA and RPM: default to the drive-end channel
    const vars = await readMat(file);
    const de = [...vars.keys()].find((k) => /_DE_time$/.test(k));
    if (de) channel = de;
  }
  const ch = await readSignalChannel(file, channel);
  return { samples: ch.samples, fileRate: ch.fileSampleRate };
}
