/**
 * The clients of `/api/stream` and what each may cost the gateway.
 *
 * - **Client cap.** At most `maxClients` sockets; one more is closed at once
 *   with 1013 (Try Again Later) and a reason naming the limit. A browser sees
 *   both in its `CloseEvent`, and the console reconnects with backoff.
 * - **Serialised once.** A broadcast event is turned into JSON and encoded to
 *   bytes once; the same Buffer is queued on every socket (`ws` does not copy
 *   an unmasked Buffer), so N consoles cost one encoding and one copy, not N.
 * - **Buffer cap, every event kind.** Above half of `maxBufferedBytes`
 *   unsent, a socket skips diagnoses (the bulk: a console on a thin link
 *   loses windows, not alerts). An event of any kind that would take it past
 *   `maxBufferedBytes` drops it with `terminate()`: a close frame would queue
 *   behind the bytes the client does not read. So one socket holds at most
 *   max(maxBufferedBytes, one event) in the gateway.
 * - **Half-open sockets.** Every `pingIntervalMs` each socket is pinged; one
 *   that has not answered the previous ping is terminated (a peer gone
 *   without FIN, a frozen or paused client), so it cannot hold its slot,
 *   its views and its buffer for the hours TCP keep-alive would take.
 */
import type { WebSocket } from 'ws';

export interface StreamLimits {
  /** Sockets served at once. */
  maxClients: number;
  /** Unsent bytes one socket may hold before it is dropped. */
  maxBufferedBytes: number;
  /** Ping period, ms; a socket is dropped when a ping goes unanswered for one period. */
  pingIntervalMs: number;
}

/** Counters since start (`GET /api/gateway` → `stream`). */
export interface StreamStats {
  clients: number;
  /** Sockets closed with 1013 because `maxClients` were connected. */
  refused: number;
  /** Sockets terminated because their unsent bytes would pass the cap. */
  droppedSlow: number;
  /** Sockets terminated because a ping went unanswered. */
  droppedUnresponsive: number;
  /** Diagnoses not sent to a socket above half the cap. */
  skippedDiagnoses: number;
}

/** RFC 6455 §7.4.1 "Try Again Later": the server is at its limit for now. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** One event as the bytes of its JSON text; typed arrays as plain arrays, bigints as numbers. */
export function encodeEvent(type: string, data: unknown): Buffer {
  const text = JSON.stringify({ type, data }, (_k, v) => {
    if (v instanceof Float32Array || v instanceof Float64Array) return Array.from(v);
    if (typeof v === 'bigint') return Number(v);
    return v;
  });
  return Buffer.from(text);
}

export class StreamHub {
  private readonly limits: StreamLimits;
  /** Socket → whether it answered the last ping. */
  private readonly clients = new Map<WebSocket, { alive: boolean }>();
  private readonly timer: NodeJS.Timeout;
  private readonly counts = { refused: 0, droppedSlow: 0, droppedUnresponsive: 0, skipped: 0 };

  /** @throws TypeError when a limit is not a positive integer */
  constructor(limits: StreamLimits) {
    for (const [k, v] of Object.entries(limits)) {
      if (!Number.isInteger(v) || v <= 0)
        throw new TypeError(`StreamHub: ${k} must be a positive integer, got ${v}`);
    }
    this.limits = { ...limits };
    // setImmediate: after an event-loop stall the timer fires before the
    // pongs that arrived meanwhile are read; judging after the poll phase
    // keeps a stall of the gateway from condemning live clients.
    // unref: the sweep alone must not keep a closing process alive
    this.timer = setInterval(() => setImmediate(() => this.sweep()), limits.pingIntervalMs).unref();
  }

  /**
   * Takes a newly opened socket, or refuses it (close 1013) when `maxClients`
   * are connected. Returns whether it was admitted.
   */
  admit(socket: WebSocket): boolean {
    if (this.clients.size >= this.limits.maxClients) {
      this.counts.refused++;
      socket.close(
        CLOSE_TRY_AGAIN_LATER,
        `faultline: the stream serves at most ${this.limits.maxClients} clients (http.stream.maxClients); close another console or retry`,
      );
      return false;
    }
    const state = { alive: true };
    this.clients.set(socket, state);
    socket.on('pong', () => {
      state.alive = true;
    });
    socket.once('close', () => this.clients.delete(socket));
    return true;
  }

  /** Sends one event to every client, serialised once. `bulk`: skipped for lagging sockets. */
  broadcast(type: string, data: unknown, bulk = false): void {
    if (this.clients.size === 0) return;
    const frame = encodeEvent(type, data);
    for (const socket of [...this.clients.keys()]) this.deliver(socket, frame, bulk);
  }

  /** Sends one event to one admitted client (its hello, its `viewing` answer). */
  sendTo(socket: WebSocket, type: string, data: unknown): void {
    if (this.clients.has(socket)) this.deliver(socket, encodeEvent(type, data), false);
  }

  stats(): StreamStats {
    const c = this.counts;
    return {
      clients: this.clients.size,
      refused: c.refused,
      droppedSlow: c.droppedSlow,
      droppedUnresponsive: c.droppedUnresponsive,
      skippedDiagnoses: c.skipped,
    };
  }

  /** Stops the ping sweep (the server closes the sockets themselves). */
  close(): void {
    clearInterval(this.timer);
  }

  private deliver(socket: WebSocket, frame: Buffer, bulk: boolean): void {
    if (socket.readyState !== socket.OPEN) return;
    const queued = socket.bufferedAmount;
    if (bulk && queued > this.limits.maxBufferedBytes / 2) {
      this.counts.skipped++;
      return;
    }
    // an empty buffer always takes one event, however large: the cap bounds
    // a backlog, it does not forbid a big spectrogram
    if (queued > 0 && queued + frame.length > this.limits.maxBufferedBytes) {
      this.counts.droppedSlow++;
      this.drop(socket);
      return;
    }
    socket.send(frame, { binary: false });
  }

  private sweep(): void {
    for (const [socket, state] of [...this.clients]) {
      if (!state.alive) {
        this.counts.droppedUnresponsive++;
        this.drop(socket);
        continue;
      }
      state.alive = false;
      socket.ping();
    }
  }

  /** Forgets the socket now (its 'close' comes later) and destroys it with its buffer. */
  private drop(socket: WebSocket): void {
    this.clients.delete(socket);
    socket.terminate();
  }
}
