/**
 * The common shape of every sensor link (serial, MQTT), so that everything
 * downstream is link-agnostic.
 *
 * Design: a source **is** a `Readable` in object mode that yields
 * {@link IngestedBlock}s — a `SampleBlock` plus its origin — so it can be
 * piped, or consumed with `for await (const block of source)`. Link health is
 * reported through typed events (`state`, `bad-frame`, `gap`, `reconnecting`,
 * `warning`) and `stats()`; link trouble after `start()` never errors the
 * stream (it reconnects instead). The stream ends only on `close()`.
 *
 * Backpressure: when the consumer stops reading, the source stops pulling
 * from its link (serial: the port is paused; MQTT: acknowledgements are held
 * back so the broker stops sending once its in-flight window is full).
 */
import { Readable } from 'node:stream';
import type { SampleBlock } from '../contract/sample-block.js';

export type LinkKind = 'serial' | 'mqtt';

/**
 * `idle` before start, `connecting` for the first attempt, `connected`,
 * `reconnecting` while the link is down and being retried, `closed` after close().
 */
export type LinkState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Where a block entered the gateway. */
export type BlockOrigin =
  | {
      link: 'serial';
      path: string;
      /** The raw frame bytes (header to CRC), only when the source keeps them (`keepFrames`, for the bridge). */
      frame?: Uint8Array;
    }
  | {
      link: 'mqtt';
      topic: string;
      /** Topic levels of `faultline/<site>/<machine>/<sensor>/raw`. */
      site: string;
      machine: string;
      sensor: string;
    };

/**
 * A `SampleBlock` as a source yields it: every SampleBlock field, plus its
 * origin. Code that only needs a SampleBlock takes it as one.
 */
export interface IngestedBlock extends SampleBlock {
  origin: BlockOrigin;
}

/** A frame the link delivered but the decoder rejected. */
export interface BadFrameInfo {
  /** FaultlineError code, e.g. `FL_ERR_FRAME_CRC`, `FL_ERR_COBS`. */
  reason: string;
  /** What was wrong, for logs (match on `reason`). */
  message?: string;
  /** Size of the rejected frame or packet, bytes (when known). */
  bytes?: number;
  /** MQTT topic it came on. */
  topic?: string;
}

/** Counters of one source since it was created. */
export interface IngestStats {
  link: LinkKind;
  state: LinkState;
  /** Valid blocks decoded and handed to the stream (a consumer that stopped early has not read them all). */
  blocks: number;
  /** Bytes received from the link (serial bytes, MQTT payload bytes). */
  bytes: number;
  /** Frames rejected by the decoder. */
  badFrames: number;
  /** Rejected frames by reason (error code). */
  badFramesByReason: Record<string, number>;
  /** Missing frames (sequence gaps) per sensor key (`<id>` on serial, `<site>/<machine>/<id>` on MQTT). */
  gaps: Record<string, number>;
  /** Sum of `gaps`. */
  missingFrames: number;
  /** Frames dropped because their sequence number repeated (e.g. a QoS 1 redelivery). */
  duplicates: number;
  /** Frames dropped because they came behind newer ones. */
  late: number;
  /** Times a sensor's numbering restarted (node reboot); accepted, gap 0. */
  restarts: number;
  /** Successful connections after the first one. */
  reconnects: number;
  /** The last link error, for display. */
  lastError?: string;
}

/** Typed event map of a source (besides the stream's own `data`/`end`/`close`). */
export interface IngestSourceEvents {
  state: (state: LinkState) => void;
  'bad-frame': (info: BadFrameInfo) => void;
  gap: (info: { sensor: string; missing: number; seq: number }) => void;
  reconnecting: (info: { attempt: number; delayMs: number; error?: string }) => void;
  /** Non-fatal trouble worth logging (e.g. a topic that does not parse). */
  warning: (err: Error) => void;
}

/**
 * Base of the serial and MQTT sources: the start/close life cycle, stats
 * bookkeeping and the pull side of backpressure. A subclass supplies
 * {@link connectFirst}, {@link disconnect} and {@link resumeLink}.
 */
export abstract class IngestSource extends Readable {
  protected readonly counters: IngestStats;
  /** Set by close(): no reconnects, no new subscriptions from here on. */
  protected closing = false;
  private paused = false;

  constructor(link: LinkKind, highWaterMark = 64) {
    super({ objectMode: true, highWaterMark });
    this.counters = {
      link,
      state: 'idle',
      blocks: 0,
      bytes: 0,
      badFrames: 0,
      badFramesByReason: {},
      // no prototype: keys come off the wire (topic levels), so the dictionary
      // must not depend on their shape to keep `constructor` or `__proto__` out
      gaps: Object.create(null),
      missingFrames: 0,
      duplicates: 0,
      late: 0,
      restarts: 0,
      reconnects: 0,
    };
  }

  /** Connects; resolves on the first connection, rejects with a FaultlineError if it fails (the stream then ends). */
  async start(): Promise<void> {
    if (this.state !== 'idle')
      throw new Error(`${this.constructor.name}: start() called in state ${this.state}`);
    this.setState('connecting');
    try {
      await this.connectFirst();
    } catch (err) {
      this.setState('closed');
      this.push(null);
      throw err;
    }
  }

  /** Disconnects for good and ends the stream. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.disconnect();
    this.setState('closed');
    this.push(null);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.close().then(
      () => cb(err),
      (e: Error) => cb(err ?? e),
    );
  }

  /** The first connection of start(); a rejection fails start() and ends the stream. */
  protected abstract connectFirst(): Promise<void>;

  /** Releases the link for good (close() has set `closing` and ends the stream after). */
  protected abstract disconnect(): Promise<void>;

  /** A snapshot of the counters. */
  stats(): IngestStats {
    const c = this.counters;
    return { ...c, badFramesByReason: { ...c.badFramesByReason }, gaps: { ...c.gaps } };
  }

  get state(): LinkState {
    return this.counters.state;
  }

  protected setState(state: LinkState): void {
    if (this.counters.state === state) return;
    this.counters.state = state;
    this.emit('state', state);
  }

  protected countBad(info: BadFrameInfo): void {
    this.counters.badFrames++;
    this.counters.badFramesByReason[info.reason] =
      (this.counters.badFramesByReason[info.reason] ?? 0) + 1;
    this.emit('bad-frame', info);
  }

  /** Counts a sequence verdict other than in-order (gaps are counted from the blocks). */
  protected countSequence(verdict: string): void {
    if (verdict === 'duplicate') this.counters.duplicates++;
    else if (verdict === 'late') this.counters.late++;
    else if (verdict === 'restart') this.counters.restarts++;
  }

  /**
   * Yields one block; returns false when the consumer is saturated, after
   * which the subclass must stop pulling until `resumeLink()` is called.
   */
  protected deliver(block: IngestedBlock, sensorKey: string): boolean {
    this.counters.blocks++;
    if (block.gap > 0) {
      this.counters.gaps[sensorKey] = (this.counters.gaps[sensorKey] ?? 0) + block.gap;
      this.counters.missingFrames += block.gap;
      this.emit('gap', { sensor: sensorKey, missing: block.gap, seq: block.seq });
    }
    const more = this.push(block);
    if (!more) this.paused = true;
    return more;
  }

  /** Called when the consumer wants more after `deliver()` returned false. */
  protected abstract resumeLink(): void;

  override _read(): void {
    if (this.paused) {
      this.paused = false;
      this.resumeLink();
    }
  }

  // Typed events (the base signature stays last, for the stream internals).
  // Overloads, not EventEmitter<T>: Node's stream classes take no event-map parameter.
  override on<K extends keyof IngestSourceEvents>(event: K, listener: IngestSourceEvents[K]): this;
  override on(event: 'data', listener: (block: IngestedBlock) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: the signature of EventEmitter itself
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: the signature of EventEmitter itself
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  override once<K extends keyof IngestSourceEvents>(
    event: K,
    listener: IngestSourceEvents[K],
  ): this;
  override once(event: 'data', listener: (block: IngestedBlock) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: the signature of EventEmitter itself
  override once(event: string | symbol, listener: (...args: any[]) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: the signature of EventEmitter itself
  override once(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.once(event, listener);
  }

  override off<K extends keyof IngestSourceEvents>(event: K, listener: IngestSourceEvents[K]): this;
  override off(event: 'data', listener: (block: IngestedBlock) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: the signature of EventEmitter itself
  override off(event: string | symbol, listener: (...args: any[]) => void): this;
  // biome-ignore lint/suspicious/noExplicitAny: the signature of EventEmitter itself
  override off(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.off(event, listener);
  }

  override emit<K extends keyof IngestSourceEvents>(
    event: K,
    ...args: Parameters<IngestSourceEvents[K]>
  ): boolean;
  // biome-ignore lint/suspicious/noExplicitAny: the signature of EventEmitter itself
  override emit(event: string | symbol, ...args: any[]): boolean;
  // biome-ignore lint/suspicious/noExplicitAny: the signature of EventEmitter itself
  override emit(event: string | symbol, ...args: any[]): boolean {
    return super.emit(event, ...args);
  }

  override [Symbol.asyncIterator](): AsyncIterableIterator<IngestedBlock> {
    return super[Symbol.asyncIterator]() as AsyncIterableIterator<IngestedBlock>;
  }
}
