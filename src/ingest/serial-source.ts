/**
 * Serial link: a sensor node (or USB adapter) streaming COBS-framed packets.
 *
 *   port (bytes) ──► SerialFrameDecoder ──► IngestedBlock { …SampleBlock, origin: { link: 'serial', path } }
 *
 * One decoder lives for the whole source, across reconnects, so sequence gaps
 * over an unplug are counted (a packet cut by the unplug is one bad frame).
 * After the first open, a closed or failing port is reopened with exponential
 * backoff + jitter until the device reappears; `close()` stops that.
 */
import { existsSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import type { SampleBlock } from '../contract/sample-block.js';
import { FaultlineError } from '../errors.js';
import { Backoff, type BackoffOptions } from './backoff.js';
import {
  type BadFrameEvent,
  type BlockWithFrame,
  type SequenceEvent,
  SerialFrameDecoder,
} from './decoder.js';
import type { LinkStats } from './link-stats.js';
import { type BlockOrigin, IngestSource } from './source.js';

/** What the source needs of a port: `serialport`'s SerialPort and SerialPortMock both fit. */

/** How often an open port's device node is checked for removal, ms. */
const PRESENCE_CHECK_MS = 1000;

export interface SerialPortLike extends Duplex {
  readonly isOpen: boolean;
  open(cb?: (err: Error | null) => void): void;
  close(cb?: (err: Error | null) => void): void;
  drain(cb?: (err: Error | null) => void): void;
}

/** Creates a port that is not open yet (`autoOpen: false`): the injectable I/O of the serial link. */
export type SerialPortFactory = (o: { path: string; baudRate: number }) => SerialPortLike;

/** The system serial port (serialport's auto-detected native binding). */
export const systemSerialPort: SerialPortFactory = (o) =>
  new SerialPort({ path: o.path, baudRate: o.baudRate, autoOpen: false });

/** Maps an open failure to the catalogue: missing device, missing permission, or other. */
export function serialOpenError(path: string, err: Error): FaultlineError {
  const msg = err.message;
  if (/permission denied|EACCES|EPERM/i.test(msg)) {
    return new FaultlineError(
      'FL_ERR_SERIAL_PERMISSION',
      `no permission to open serial device ${path} (${msg}): add your user to the 'dialout' group (sudo usermod -aG dialout $USER, then log in again) or fix the device's udev rule`,
      { cause: err },
    );
  }
  const hint = /no such file|ENOENT|ENODEV|ENXIO/i.test(msg)
    ? 'the device does not exist'
    : /lock|busy|EBUSY|EAGAIN|temporarily unavailable/i.test(msg)
      ? 'another program holds the port'
      : 'the open failed';
  return new FaultlineError(
    'FL_ERR_SERIAL_OPEN',
    `cannot open serial device ${path}: ${hint} (${msg}); list the ports with \`faultline ingest --list\` (SerialPort.list()) and check the cable`,
    { cause: err },
  );
}

/** Creates and opens a port; rejects with FL_ERR_SERIAL_OPEN / FL_ERR_SERIAL_PERMISSION. */
export async function openSerialPort(
  create: SerialPortFactory,
  path: string,
  baudRate: number,
): Promise<SerialPortLike> {
  let port: SerialPortLike;
  try {
    port = create({ path, baudRate });
  } catch (err) {
    throw serialOpenError(path, err as Error);
  }
  await new Promise<void>((resolve, reject) =>
    port.open((err) => (err ? reject(serialOpenError(path, err)) : resolve())),
  );
  return port;
}

export interface SerialSourceOptions {
  /** Device path, e.g. `/dev/ttyUSB0` or a pty link. */
  path: string;
  /** Baud rate. Default 921600 (a 12 kHz int16 sensor needs ~250 kbit/s with framing). */
  baudRate?: number;
  /** Port factory (injectable I/O). Default {@link systemSerialPort}. */
  createPort?: SerialPortFactory;
  /** Reopen delays. Default 200 ms doubling to 5 s, 50 % jitter. */
  backoff?: BackoffOptions;
  /** When the first open fails, keep retrying instead of rejecting `start()`. Default false. */
  waitForDevice?: boolean;
  /** Blocks buffered for a slow consumer before the port is paused. Default 64. */
  highWaterMark?: number;
  /** Attach each block's raw frame bytes as `origin.frame` (the bridge forwards them). Default false. */
  keepFrames?: boolean;
}

/** Serial ingestion source. See the module comment and {@link IngestSource}. */
export class SerialSource extends IngestSource {
  readonly path: string;
  readonly baudRate: number;
  private readonly create: SerialPortFactory;
  private readonly backoff: Backoff;
  private readonly waitForDevice: boolean;
  private readonly decoder: SerialFrameDecoder;
  private port: SerialPortLike | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private connectedOnce = false;
  private linkPaused = false;
  private presenceTimer: NodeJS.Timeout | undefined;

  constructor(opts: SerialSourceOptions) {
    super('serial', opts.highWaterMark);
    if (typeof opts.path !== 'string' || opts.path === '')
      throw new TypeError('SerialSource: path is required');
    this.path = opts.path;
    this.baudRate = opts.baudRate ?? 921600;
    if (!(Number.isInteger(this.baudRate) && this.baudRate > 0)) {
      throw new TypeError(
        `SerialSource: baudRate must be a positive integer, got ${opts.baudRate}`,
      );
    }
    this.create = opts.createPort ?? systemSerialPort;
    this.backoff = new Backoff(opts.backoff);
    this.waitForDevice = opts.waitForDevice ?? false;
    this.decoder = new SerialFrameDecoder({ keepFrames: opts.keepFrames ?? false });
    this.decoder.on('bad-frame', (ev: BadFrameEvent) =>
      this.countBad({ reason: ev.reason, bytes: ev.bytes, message: ev.message }),
    );
    this.decoder.on('sequence', (ev: SequenceEvent) => this.countSequence(ev.verdict));
    this.decoder.on('data', (block: SampleBlock | BlockWithFrame) => {
      const { frame, ...rest } = block as BlockWithFrame;
      const origin: BlockOrigin = frame
        ? { link: 'serial', path: this.path, frame }
        : { link: 'serial', path: this.path };
      const more = this.deliver({ ...rest, origin }, String(block.sensorId));
      if (!more) this.pauseLink();
    });
  }

  protected override async connectFirst(): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      if (!this.waitForDevice || this.closing) throw err;
      this.scheduleRetry((err as Error).message);
    }
  }

  protected override async disconnect(): Promise<void> {
    clearTimeout(this.retryTimer);
    clearInterval(this.presenceTimer);
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    // not end(): that would count the packet cut off by the close as a bad frame
    this.decoder.destroy();
  }

  /** The decoder's own counters (frames, bad frames by reason…), for diagnostics. */
  decoderStats(): LinkStats {
    return this.decoder.stats();
  }

  protected override resumeLink(): void {
    this.linkPaused = false;
    this.port?.resume();
  }

  private pauseLink(): void {
    this.linkPaused = true;
    this.port?.pause();
  }

  private async connect(): Promise<void> {
    const port = await openSerialPort(this.create, this.path, this.baudRate);
    if (this.closing) {
      port.close();
      return;
    }
    this.port = port;
    port.on('data', (chunk: Buffer) => {
      this.counters.bytes += chunk.length;
      this.decoder.write(chunk);
    });
    // errors also arrive as 'close' with a disconnect error; keep the last for stats
    port.on('error', (err: Error) => {
      this.counters.lastError = err.message;
    });
    port.on('close', (err?: Error | null) => {
      if (this.port !== port || this.closing) return;
      this.port = undefined;
      this.scheduleRetry(err?.message ?? 'port closed');
    });
    if (this.linkPaused) port.pause();
    this.watchPresence(port);
    if (this.connectedOnce) this.counters.reconnects++;
    this.connectedOnce = true;
    this.backoff.reset();
    this.setState('connected');
  }

  /**
   * Polls the device node while the port is open. A port learns that its
   * device is gone from a failed read, and a port paused by backpressure
   * reads nothing: a USB adapter pulled then would go unnoticed until the
   * consumer caught up. The node vanishing (udev removes it, as socat
   * removes its link) is the same news, without a read. A port whose path
   * is not a file (a test's fake) is not watched.
   */
  private watchPresence(port: SerialPortLike): void {
    clearInterval(this.presenceTimer);
    if (!existsSync(this.path)) return;
    this.presenceTimer = setInterval(() => {
      if (this.port !== port || this.closing) {
        clearInterval(this.presenceTimer);
        return;
      }
      if (existsSync(this.path)) return;
      clearInterval(this.presenceTimer);
      this.port = undefined;
      if (port.isOpen) port.close();
      this.scheduleRetry(`${this.path} is gone (device removed)`);
    }, PRESENCE_CHECK_MS);
    this.presenceTimer.unref();
  }

  private scheduleRetry(error: string): void {
    if (this.closing) return;
    this.counters.lastError = error;
    this.setState('reconnecting');
    const delayMs = this.backoff.next();
    this.emit('reconnecting', { attempt: this.backoff.attempts, delayMs, error });
    this.retryTimer = setTimeout(() => {
      this.connect().catch((err: Error) => this.scheduleRetry(err.message));
    }, delayMs);
  }
}
