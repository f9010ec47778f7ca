/**
 * A size cap on inbound MQTT packets, in front of the embedded broker.
 *
 * aedes (1.x) parses whatever length a client announces, so one client can
 * make the broker buffer hundreds of MiB before anything else looks at it.
 * {@link PacketSizeGuard} wraps a client socket, reads every packet's fixed
 * header as the bytes go by and disconnects the client as soon as a header
 * announces more than the cap, before the body arrives:
 *
 *   byte 0         type and flags
 *   bytes 1..4     Remaining Length, 7 bits per byte, low group first,
 *                  bit 7 set on every byte but the last (at most 4 bytes)
 *   …              Remaining Length bytes of variable header and payload
 *
 * Bytes pass through unchanged; the broker still does all the parsing.
 */
import { Duplex } from 'node:stream';

/** Walks MQTT fixed headers across chunk boundaries. */
export class PacketScanner {
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;

  /** @param maxBytes largest whole packet (header included) accepted, bytes */
  constructor(private readonly maxBytes: number) {}

  /** Scans the next chunk; returns why the stream must be cut, or undefined when it may go on. */
  feed(chunk: Uint8Array): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const n = Math.min(this.remaining, chunk.length - i);
        this.remaining -= n;
        i += n;
        if (this.remaining === 0) this.state = 'type';
        continue;
      }
      const b = chunk[i++];
      if (this.state === 'type') {
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (b & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes++;
      if (b & 0x80) {
        if (this.lengthBytes === 4) return 'malformed remaining length (more than 4 bytes)';
        continue;
      }
      const total = 1 + this.lengthBytes + this.length;
      if (total > this.maxBytes)
        return `packet of ${total} bytes exceeds the ${this.maxBytes}-byte limit (broker.maxPacketBytes)`;
      this.remaining = this.length;
      this.state = this.remaining === 0 ? 'type' : 'body';
    }
    return undefined;
  }
}

/**
 * The client socket as the broker sees it, cut (destroyed) when a packet
 * over `maxBytes` is announced; `onRefused` hears why.
 */
export class PacketSizeGuard extends Duplex {
  private readonly scanner: PacketScanner;

  constructor(
    private readonly socket: Duplex,
    maxBytes: number,
    onRefused: (why: string) => void,
  ) {
    super({ allowHalfOpen: false });
    this.scanner = new PacketScanner(maxBytes);
    socket.on('data', (chunk: Buffer) => {
      const why = this.scanner.feed(chunk);
      if (why !== undefined) {
        onRefused(why);
        this.destroy();
        return;
      }
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.socket.destroyed) cb();
    else this.socket.write(chunk, (err) => cb(err ?? null));
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}
