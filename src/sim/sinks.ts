/**
 * Frame sinks of the simulated sensor: a serial port (COBS packets) and an
 * MQTT client (one raw frame per message). Both honour backpressure — the
 * serial sink waits for `drain`, the MQTT sink keeps at most `inflight` QoS 1
 * publishes unacknowledged — so a simulator faster than its link slows down
 * instead of buffering without bound.
 */
import { once } from 'node:events';
import type { MqttClient } from 'mqtt';
import { SerialPort } from 'serialport';
import { rawTopic } from '../contract/topics.js';
import { encodeFrame, encodeSerialPacket } from '../ingest/frame.js';
import { connectMqttLink, endMqttLink, type MqttLinkOptions } from '../ingest/mqtt-link.js';
import {
  openSerialPort,
  type SerialPortFactory,
  type SerialPortLike,
} from '../ingest/serial-source.js';
import type { FrameSink } from './sensor-stream.js';

export interface SerialSinkOptions {
  path: string;
  /** Default 921600 baud. */
  baudRate?: number;
  /** Opens the port (injectable I/O). Default: the system serial port. */
  createPort?: SerialPortFactory;
  /** How long a `drop()` keeps the port closed, ms. Default 200. */
  dropPauseMs?: number;
}

/** A sink writing COBS-framed packets to a serial port. */
export async function openSerialSink(o: SerialSinkOptions): Promise<FrameSink> {
  const baudRate = o.baudRate ?? 921600;
  const create: SerialPortFactory =
    o.createPort ??
    ((p) => new SerialPort({ path: p.path, baudRate: p.baudRate, autoOpen: false }));
  // A vanished device (EIO on write) is reported on the port's 'error' event;
  // unheard, it would crash the process. Keep it and fail the next send instead.
  let failure: Error | undefined;
  const watch = (p: SerialPortLike): SerialPortLike => {
    p.on('error', (err: Error) => {
      failure = err;
    });
    return p;
  };
  let port: SerialPortLike = watch(await openSerialPort(create, o.path, baudRate));
  return {
    protectTail: 1,
    encode: (h, samples) => encodeSerialPacket(h, samples),
    async send(_sensorId, bytes) {
      if (failure) throw failure;
      if (!port.write(bytes)) {
        // 'close' as well: a vanished device must not leave us waiting forever
        await Promise.race([once(port, 'drain'), once(port, 'close')]);
      }
    },
    async drop() {
      await closePort(port);
      await new Promise((r) => setTimeout(r, o.dropPauseMs ?? 200));
      failure = undefined;
      port = watch(await openSerialPort(create, o.path, baudRate));
    },
    async close() {
      await new Promise<void>((resolve) => port.drain(() => resolve()));
      await closePort(port);
    },
  };
}

async function closePort(port: SerialPortLike): Promise<void> {
  if (!port.isOpen) return;
  await new Promise<void>((resolve) => port.close(() => resolve()));
}

export interface MqttSinkOptions extends MqttLinkOptions {
  site: string;
  machine: string;
  /** Unacknowledged QoS 1 publishes allowed at once. Default 64. */
  inflight?: number;
}

/** A sink publishing raw frames to `faultline/<site>/<machine>/<sensorId>/raw`, QoS 1. */
export async function openMqttSink(o: MqttSinkOptions): Promise<FrameSink & { errors(): number }> {
  const window = o.inflight ?? 64;
  if (!(Number.isInteger(window) && window >= 1))
    throw new TypeError(`inflight must be an integer ≥ 1, got ${window}`);
  rawTopic(o.site, o.machine, 0); // validates the topic levels up front
  const client: MqttClient = await connectMqttLink(o, `sim-${o.site}-${o.machine}`);
  let inflight = 0;
  let errors = 0;
  const waiters: Array<() => void> = [];
  const release = () => {
    inflight--;
    waiters.shift()?.();
  };
  const idle = async () => {
    while (inflight > 0) await new Promise<void>((r) => waiters.push(r));
  };
  return {
    protectTail: 0,
    encode: (h, samples) => encodeFrame(h, samples),
    async send(sensorId, bytes) {
      while (inflight >= window) await new Promise<void>((r) => waiters.push(r));
      inflight++;
      client.publish(
        rawTopic(o.site, o.machine, sensorId),
        Buffer.from(bytes),
        { qos: 1 },
        (err) => {
          if (err) errors++;
          release();
        },
      );
    },
    async drop() {
      // cut the socket as a network outage would; MQTT.js reconnects and
      // resends what was not acknowledged
      client.stream?.destroy();
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    },
    async close() {
      if (client.connected) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([idle(), new Promise((r) => (timer = setTimeout(r, 5000)))]);
        clearTimeout(timer);
      }
      await endMqttLink(client);
    },
    errors: () => errors,
  };
}
