/**
 * Outboxes: on-disk journals of what has not been delivered yet, so
 * something queued during an outage of its receiver survives a crash or a
 * power cut of the gateway and goes out after restart. Two users:
 * - the alert outbox (`AlertOutbox`): alerts the publisher has not yet
 *   handed to the broker;
 * - the notifiers' outboxes (./notifier.ts): alerts a webhook or a mail
 *   server has not accepted yet.
 * One journal class, {@link Outbox}, generic in its entry; the entry's
 * schema and id come in as options.
 *
 * Layout: one file of JSON lines, each an entry
 *
 *   {"add":{…entry…}}      an entry was queued
 *   {"done":"<entry id>"}  it was delivered (PUBACK, 2xx…), or a queue bound dropped it
 *
 * Why a journal and not a FIFO of alerts: the publisher's bound drops the
 * oldest non-alarm alert, which may sit in the middle of the queue; a `done`
 * line removes any entry, a FIFO cursor could not.
 *
 * - Order: `open()` keeps the pending entries in the order they were added.
 * - Durability: each write is fsynced before the next one starts (entries
 *   are written one after another, in call order), so a power cut loses at
 *   most the entry being written. A torn last line is skipped at open.
 * - Size: when nothing is pending the file is truncated; when it grows past
 *   `compactBytes` the pending entries are rewritten to a temporary file,
 *   fsynced and renamed over it (then the directory is fsynced), so a crash
 *   leaves either the old journal or the new one, never a mix.
 * - Delivery stays at-least-once: a crash between the delivery and the `done`
 *   line sends that entry again; receivers dedup on `Alert.id`.
 */
import { type FileHandle, mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import type { Alert } from '../contract/alert.js';
import { FaultlineError } from '../errors.js';
import { parseAlert } from './schema.js';

export interface AlertOutboxOptions {
  /** The journal file (its directory is created if missing). */
  file: string;
  /** Journal size that triggers a rewrite of the pending entries, bytes. Default 1 MiB. */
  compactBytes?: number;
  /** Where problems are reported (a failed write: the entry stays in memory). */
  log?: (message: string) => void;
}

export interface OutboxOptions<T> extends AlertOutboxOptions {
  /** Validates an entry read back from the journal; throws on a bad one (counted corrupt). */
  parse: (value: unknown) => T;
  /** The entry's stable id (what `done` lines name). */
  key: (entry: T) => string;
  /** What messages call the journal, e.g. `webhook outbox`. Default `outbox`. */
  what?: string;
}

export interface AlertOutboxStats {
  /** Entries added and not yet done. */
  pending: number;
  /** Journal size, bytes. */
  bytes: number;
  /** Lines skipped at open (torn or corrupt). */
  corrupt: number;
  /** Writes that failed (disk full, read-only file system…). */
  writeErrors: number;
}

type Entry<T> = { add: T } | { done: string };

/** See the module comment for the file's layout and guarantees. */
export class Outbox<T> {
  private readonly file: string;
  private readonly compactBytes: number;
  private readonly log: (m: string) => void;
  private readonly parse: (value: unknown) => T;
  private readonly key: (entry: T) => string;
  private readonly what: string;
  /** Pending entries by id, in insertion order (Map keeps it). */
  private readonly pendingById = new Map<string, T>();
  private fh: FileHandle | null = null;
  private size = 0;
  private corrupt = 0;
  private writeErrors = 0;
  /** Every write waits for the one before: the journal's order is the call order. */
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(o: OutboxOptions<T>) {
    this.file = o.file;
    this.compactBytes = o.compactBytes ?? 1024 * 1024;
    this.log = o.log ?? ((m) => console.warn(m));
    this.parse = o.parse;
    this.key = o.key;
    this.what = o.what ?? 'outbox';
  }

  /**
   * Opens (or creates) the journal and reads what a previous process left.
   * @throws FaultlineError FL_ERR_ALERT_OUTBOX when the file cannot be read or created
   */
  static async open<T>(o: OutboxOptions<T>): Promise<Outbox<T>> {
    if (!o?.file) throw new TypeError('an outbox needs a file');
    if (o.compactBytes !== undefined && !(o.compactBytes >= 4096)) {
      throw new TypeError(`compactBytes must be ≥ 4096, got ${o.compactBytes}`);
    }
    const box = new Outbox(o);
    try {
      await mkdir(path.dirname(o.file), { recursive: true });
      let text = '';
      try {
        text = await readFile(o.file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      box.replay(text);
      // Start from a clean journal holding only what is pending: drops the
      // done entries and a torn last line before anything is appended.
      await box.rewrite();
    } catch (e) {
      if (e instanceof FaultlineError) throw e;
      throw new FaultlineError(
        'FL_ERR_ALERT_OUTBOX',
        `${o.what ?? 'outbox'} ${o.file}: ${(e as Error).message}; check the state directory's permissions and free space`,
        { cause: e },
      );
    }
    return box;
  }

  /** Entries added and not done, oldest first (what to send after a restart). */
  pending(): T[] {
    return [...this.pendingById.values()];
  }

  stats(): AlertOutboxStats {
    return {
      pending: this.pendingById.size,
      bytes: this.size,
      corrupt: this.corrupt,
      writeErrors: this.writeErrors,
    };
  }

  /** Journals a queued entry. Resolves when it is on disk (a failed write is logged and counted, not thrown). */
  add(entry: T): Promise<void> {
    const id = this.key(entry);
    if (this.closed || this.pendingById.has(id)) return this.chain;
    this.pendingById.set(id, entry);
    return this.write({ add: entry });
  }

  /** The oldest pending entry (the next to deliver), without copying the queue. */
  oldest(): T | undefined {
    for (const v of this.pendingById.values()) return v;
    return undefined;
  }

  /** Whether an entry of this id is pending. */
  has(id: string): boolean {
    return this.pendingById.has(id);
  }

  /** Journals that an entry left the queue (delivered, or dropped by a bound). */
  done(id: string): Promise<void> {
    if (this.closed || !this.pendingById.delete(id)) return this.chain;
    return this.write({ done: id });
  }

  /** Resolves when every entry written so far is on disk. */
  flushed(): Promise<void> {
    return this.chain;
  }

  /** Waits for the writes in progress and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    await this.fh?.close().catch(() => undefined);
    this.fh = null;
  }

  private replay(text: string): void {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let e: Entry<unknown>;
      try {
        e = JSON.parse(line) as Entry<unknown>;
      } catch {
        this.corrupt++; // a torn last line after a crash mid-write
        continue;
      }
      if (e && typeof e === 'object' && 'add' in e) {
        try {
          const a = this.parse(e.add);
          this.pendingById.set(this.key(a), a);
        } catch {
          this.corrupt++;
        }
      } else if (e && typeof e === 'object' && 'done' in e && typeof e.done === 'string') {
        this.pendingById.delete(e.done);
      } else {
        this.corrupt++;
      }
    }
  }

  private write(entry: Entry<T>): Promise<void> {
    const line = `${JSON.stringify(entry)}\n`;
    this.chain = this.chain.then(async () => {
      try {
        if (this.pendingById.size === 0 || this.size + line.length > this.compactBytes) {
          // Nothing pending (then the journal is empty), or too long: rewrite
          // instead of appending; the entry is already reflected in the map.
          await this.rewrite();
          return;
        }
        const fh = (this.fh ??= await open(this.file, 'a'));
        await fh.appendFile(line);
        await fh.sync();
        this.size += Buffer.byteLength(line);
      } catch (e) {
        this.writeErrors++;
        this.log(
          `faultline alerts: ${this.what} ${this.file} not written (${(e as Error).message}); the entry is kept in memory only`,
        );
      }
    });
    return this.chain;
  }

  /** Replaces the journal with the pending entries, whole or not at all (../atomic-file.ts). */
  private async rewrite(): Promise<void> {
    const body = [...this.pendingById.values()]
      .map((a) => `${JSON.stringify({ add: a })}\n`)
      .join('');
    await this.fh?.close().catch(() => undefined);
    this.fh = null;
    await writeFileAtomic(this.file, body, { backup: false });
    this.size = Buffer.byteLength(body);
  }
}

/** The publisher's journal of alerts not yet handed to the broker. */
export type AlertOutbox = Outbox<Alert>;

export const AlertOutbox = {
  /**
   * Opens (or creates) the alert journal and reads what a previous process left.
   * @throws FaultlineError FL_ERR_ALERT_OUTBOX when the file cannot be read or created
   */
  open(o: AlertOutboxOptions): Promise<AlertOutbox> {
    return Outbox.open<Alert>({ ...o, parse: parseAlert, key: (a) => a.id, what: 'alert outbox' });
  },
};
