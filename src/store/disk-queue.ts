/**
 * Bounded, append-only, on-disk FIFO of JSON records: the store-and-forward
 * queue that holds history points while the database is unreachable.
 *
 * Layout of `dir`:
 *
 *   seg-0000000000000001.jsonl   one JSON record per line, oldest segment first
 *   seg-0000000000000002.jsonl   (the last one is being appended to)
 *   cursor.json                  {"seq":1,"offset":4096,"consumed":37} — how far
 *                                 the head segment has been delivered
 *
 * - Order: records leave in the order they were appended, across restarts
 *   (`open()` re-reads the segments and the cursor).
 * - Durability (`fsync`): `batch` (default) fsyncs the segment after every
 *   append() and the cursor after every commit(), so a power cut loses at most
 *   the batch being written; `none` leaves it to the page cache (a process
 *   crash still loses nothing). A torn last line (crash mid-append) is cut off
 *   at open.
 * - Delivery is at-least-once: a crash between the database write and
 *   commit() replays that batch. InfluxDB overwrites a point with the same
 *   measurement, tags and time, so a replay changes nothing.
 * - Bound: at most `maxPoints` records and `maxBytes` bytes. Room is made by
 *   deleting the oldest whole segment (≤ `segmentPoints` records), counted in
 *   `dropped`; a batch larger than the bound keeps only its newest records.
 */
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import { FaultlineError } from '../errors.js';

export interface DiskQueueOptions {
  /** Directory of the queue (created if missing). */
  dir: string;
  /** Most records kept. Default 1 000 000. */
  maxPoints?: number;
  /** Most bytes kept on disk. Default 64 MiB. */
  maxBytes?: number;
  /** Records per segment file (the drop granularity). Default 10 000, at most maxPoints / 8. */
  segmentPoints?: number;
  /** Bytes after which a new segment is started. Default 1 MiB, at most maxBytes / 8. */
  segmentBytes?: number;
  /** `batch` (fsync each append/commit, default) or `none`. */
  fsync?: 'batch' | 'none';
}

interface Segment {
  seq: number;
  file: string;
  bytes: number;
  records: number;
}

/** What peek() handed out, to be passed back to commit(). */
export interface QueueBatch<T> {
  items: T[];
  seq: number;
  startOffset: number;
  endOffset: number;
}

const SEG_RE = /^seg-(\d{16})\.jsonl$/;
const segName = (seq: number) => `seg-${String(seq).padStart(16, '0')}.jsonl`;

export class DiskQueue<T> {
  private readonly dir: string;
  private readonly maxPoints: number;
  private readonly maxBytes: number;
  private readonly segmentPoints: number;
  private readonly segmentBytes: number;
  private readonly sync: boolean;
  private segments: Segment[] = [];
  /** Delivered position in the head segment. */
  private cursor = { offset: 0, consumed: 0 };
  private fh: FileHandle | null = null;
  private fhSeq = -1;
  /** Sequence number of the next segment; only ever grows, across restarts too. */
  private nextSeq = 1;
  /** Records lost to the bound since open. */
  dropped = 0;
  /** Lines that did not parse (torn or corrupt), skipped. */
  corrupt = 0;

  private constructor(o: Required<DiskQueueOptions>) {
    this.dir = o.dir;
    this.maxPoints = o.maxPoints;
    this.maxBytes = o.maxBytes;
    this.segmentPoints = o.segmentPoints;
    this.segmentBytes = o.segmentBytes;
    this.sync = o.fsync === 'batch';
  }

  /**
   * Opens (or creates) the queue in `opts.dir`, re-reading what a previous
   * process left.
   * @throws FaultlineError FL_ERR_STORE_QUEUE when the directory is unusable
   */
  static async open<T>(opts: DiskQueueOptions): Promise<DiskQueue<T>> {
    const maxPoints = opts.maxPoints ?? 1_000_000;
    const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    // A full queue drops whole segments, so a segment as large as the bound
    // would drop everything queued at once: by default a segment is at most
    // an eighth of either bound, and a full queue drops about an eighth.
    const o: Required<DiskQueueOptions> = {
      maxPoints,
      maxBytes,
      segmentPoints: Math.max(1, Math.min(10_000, Math.floor(maxPoints / 8))),
      segmentBytes: Math.max(1, Math.min(1024 * 1024, Math.floor(maxBytes / 8))),
      fsync: 'batch',
      ...opts,
    };
    for (const k of ['maxPoints', 'maxBytes', 'segmentPoints', 'segmentBytes'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 1) {
        throw new TypeError(`disk queue ${k} must be a positive integer, got ${o[k]}`);
      }
    }
    const q = new DiskQueue<T>(o);
    try {
      await mkdir(o.dir, { recursive: true });
      await q.load();
    } catch (e) {
      if (e instanceof FaultlineError) throw e;
      throw new FaultlineError(
        'FL_ERR_STORE_QUEUE',
        `cannot use queue directory ${o.dir}: ${(e as Error).message}; check it exists and is writable`,
        { cause: e },
      );
    }
    return q;
  }

  /** Records waiting. */
  get size(): number {
    return this.segments.reduce((a, s) => a + s.records, 0) - this.cursor.consumed;
  }

  /** Bytes on disk (including delivered records of the head segment). */
  get bytes(): number {
    return this.segments.reduce((a, s) => a + s.bytes, 0);
  }

  private async load(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => SEG_RE.test(n)).sort();
    for (const name of names) {
      const file = path.join(this.dir, name);
      const buf = await readFile(file);
      let end = buf.length;
      if (end > 0 && buf[end - 1] !== 0x0a) {
        // torn append: cut back to the last whole line
        end = buf.lastIndexOf(0x0a) + 1;
        const fh = await open(file, 'r+');
        await fh.truncate(end);
        await fh.close();
      }
      let records = 0;
      for (let i = 0; i < end; i++) if (buf[i] === 0x0a) records++;
      this.segments.push({ seq: Number(SEG_RE.exec(name)![1]), file, bytes: end, records });
    }
    let cur: { seq?: unknown; offset?: unknown; consumed?: unknown } = {};
    try {
      cur = JSON.parse(await readFile(path.join(this.dir, 'cursor.json'), 'utf8'));
    } catch {
      // no cursor yet, or a torn one: start at the oldest record (at-least-once)
    }
    // Segments before the cursor's were delivered but not yet deleted.
    while (this.segments.length > 0 && this.segments[0].seq < Number(cur.seq)) {
      await rm(this.segments.shift()!.file, { force: true });
    }
    // A new segment must sort after both the last segment and the cursor's,
    // or the next open() would take it for an already-delivered one.
    this.nextSeq = Math.max(
      (this.segments.at(-1)?.seq ?? 0) + 1,
      Number.isSafeInteger(cur.seq) ? (cur.seq as number) : 1,
    );
    const head = this.segments[0];
    if (
      head &&
      head.seq === cur.seq &&
      Number.isInteger(cur.offset) &&
      Number.isInteger(cur.consumed) &&
      (cur.offset as number) <= head.bytes &&
      (cur.consumed as number) <= head.records
    ) {
      this.cursor = { offset: cur.offset as number, consumed: cur.consumed as number };
    }
  }

  /**
   * Appends records at the tail, making room by the bound first.
   * @returns how many records the bound dropped for this append
   * @throws the file-system error (e.g. ENOSPC) — nothing of the batch is kept then
   */
  async append(items: T[]): Promise<number> {
    if (items.length === 0) return 0;
    let dropped = 0;
    if (items.length > this.maxPoints) {
      dropped += items.length - this.maxPoints;
      items = items.slice(items.length - this.maxPoints);
    }
    const lines = items.map((it) => `${JSON.stringify(it)}\n`);
    const total = lines.reduce((a, l) => a + Buffer.byteLength(l), 0);
    while (
      this.segments.length > 0 &&
      (this.size + items.length > this.maxPoints || this.bytes + total > this.maxBytes)
    ) {
      dropped += await this.dropHead();
    }
    // Even alone the batch exceeds maxBytes: keep its newest records that fit.
    let from = 0;
    let bytes = total;
    while (bytes > this.maxBytes && from < lines.length) {
      bytes -= Buffer.byteLength(lines[from++]);
      dropped++;
    }
    for (let i = from; i < lines.length; ) {
      const seg = await this.tail();
      const room = this.segmentPoints - seg.records;
      const chunk = lines.slice(i, i + room);
      const data = chunk.join('');
      const fh = await this.handle(seg);
      try {
        await fh.appendFile(data);
        if (this.sync) await fh.sync();
      } catch (e) {
        // Leave no partial line behind: cut the file back to its last good size.
        await fh.truncate(seg.bytes).catch(() => {});
        throw e;
      }
      seg.bytes += Buffer.byteLength(data);
      seg.records += chunk.length;
      i += chunk.length;
    }
    this.dropped += dropped;
    return dropped;
  }

  /** Up to `max` records from the head (one segment at most), without removing them. */
  async peek(max: number): Promise<QueueBatch<T> | null> {
    for (;;) {
      const head = this.segments[0];
      if (!head) return null;
      if (this.cursor.consumed >= head.records) {
        if (!(await this.retireHead())) return null;
        continue;
      }
      const fh = await open(head.file, 'r');
      let buf: Buffer;
      try {
        const len = head.bytes - this.cursor.offset;
        buf = Buffer.alloc(len);
        await fh.read(buf, 0, len, this.cursor.offset);
      } finally {
        await fh.close();
      }
      const items: T[] = [];
      let pos = 0;
      while (items.length < max && pos < buf.length) {
        const nl = buf.indexOf(0x0a, pos);
        if (nl < 0) break;
        try {
          items.push(JSON.parse(buf.toString('utf8', pos, nl)) as T);
        } catch {
          this.corrupt++;
        }
        pos = nl + 1;
      }
      return {
        items,
        seq: head.seq,
        startOffset: this.cursor.offset,
        endOffset: this.cursor.offset + pos,
      };
    }
  }

  /**
   * Marks a peeked batch delivered. A batch whose segment was dropped by the
   * bound meanwhile is ignored.
   */
  async commit(b: QueueBatch<T>): Promise<void> {
    const head = this.segments[0];
    if (!head || head.seq !== b.seq || this.cursor.offset !== b.startOffset) return;
    const buf = b.endOffset - b.startOffset;
    if (buf <= 0) return;
    // Count lines, not items: corrupt lines were skipped but are consumed.
    const consumed = await this.countLines(head.file, b.startOffset, b.endOffset);
    this.cursor = { offset: b.endOffset, consumed: this.cursor.consumed + consumed };
    if (this.cursor.consumed >= head.records) await this.retireHead();
    else await this.saveCursor(head.seq);
  }

  /** Closes the tail file handle. */
  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = null;
  }

  private async countLines(file: string, from: number, to: number): Promise<number> {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.alloc(to - from);
      await fh.read(buf, 0, buf.length, from);
      let n = 0;
      for (const b of buf) if (b === 0x0a) n++;
      return n;
    } finally {
      await fh.close();
    }
  }

  /** The segment to append to, starting a new one when the last is full. */
  private async tail(): Promise<Segment> {
    const last = this.segments.at(-1);
    const fullyDelivered =
      last && this.segments.length === 1 && this.cursor.consumed >= last.records;
    if (
      last &&
      !fullyDelivered &&
      last.records < this.segmentPoints &&
      last.bytes < this.segmentBytes
    ) {
      return last;
    }
    if (fullyDelivered) await this.retireHead();
    const seq = this.nextSeq++;
    const seg: Segment = { seq, file: path.join(this.dir, segName(seq)), bytes: 0, records: 0 };
    this.segments.push(seg);
    return seg;
  }

  private async handle(seg: Segment): Promise<FileHandle> {
    if (this.fh && this.fhSeq === seg.seq) return this.fh;
    await this.fh?.close();
    this.fh = await open(seg.file, 'a');
    this.fhSeq = seg.seq;
    return this.fh;
  }

  /** Deletes the head segment and moves the cursor to the next; false when none left. */
  private async retireHead(): Promise<boolean> {
    const head = this.segments.shift();
    if (!head) return false;
    if (this.fhSeq === head.seq) {
      await this.fh?.close();
      this.fh = null;
      this.fhSeq = -1;
    }
    this.cursor = { offset: 0, consumed: 0 };
    const next = this.segments[0];
    // Cursor first: if we crash after it, the old segment is deleted at open.
    await this.saveCursor(next ? next.seq : head.seq + 1);
    await rm(head.file, { force: true });
    return this.segments.length > 0;
  }

  /** Drops the oldest segment's undelivered records; returns how many. */
  private async dropHead(): Promise<number> {
    const head = this.segments[0];
    const lost = head.records - this.cursor.consumed;
    await this.retireHead();
    return lost;
  }

  private async saveCursor(seq: number): Promise<void> {
    const file = path.join(this.dir, 'cursor.json');
    const data = JSON.stringify({ seq, ...this.cursor });
    if (this.sync) {
      // temp, fsync, rename, fsync of the directory: the rename itself survives a power cut
      await writeFileAtomic(file, data, { backup: false });
      return;
    }
    await writeFile(`${file}.tmp`, data);
    await rename(`${file}.tmp`, file);
  }
}
