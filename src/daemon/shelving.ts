/**
 * Shelved machines (ISA-18.2 shelving, also used for maintenance): a shelved
 * machine is still diagnosed and stored, but raises no alerts and no
 * notifications (./outputs.ts asks {@link Shelving.get}) until its `until`,
 * when it unshelves by itself.
 *
 * Kept in `<stateDir>/shelved.json` (../atomic-file.ts: replaced whole, the
 * previous version as `.bak`), so a shelf outlives a restart; one that ran
 * out while the gateway was down is ended at start, as an expiry. Every
 * change is announced as a `change` event, which the gateway logs and stores
 * (the audit trail).
 */
import { EventEmitter } from 'node:events';
import { z } from 'zod';
import { readWithBackup, writeFileAtomic } from '../atomic-file.js';
import { type Shelf, shelfSchema } from '../contract/alert.js';

/** The shelves' file, in the state directory. */
export const SHELVED_FILE = 'shelved.json';

const fileSchema = z.object({
  version: z.literal(1),
  machines: z.record(z.string(), shelfSchema),
});

/** One change of a machine's shelf. */
export interface ShelfChange {
  machine: string;
  kind: 'shelve' | 'unshelve';
  /** Who: the operator, or `expiry` when the shelf ran out. */
  by: string;
  /** The shelf set (shelve) or ended (unshelve). */
  shelf: Shelf;
  /** ms since the epoch. */
  at: number;
}

export interface ShelvingOptions {
  file: string;
  /** Clock, ms since the epoch. Default Date.now. */
  now?: () => number;
}

/** Longest single wait of the expiry timer, ms (setTimeout holds 2³¹ − 1 at most). */
const MAX_TIMER_MS = 3_600_000;

/** See the module comment. Create with {@link Shelving.open}. */
export class Shelving extends EventEmitter<{ change: [ShelfChange] }> {
  private readonly file: string;
  private readonly now: () => number;
  private readonly shelves = new Map<string, Shelf>();
  private timer: NodeJS.Timeout | undefined;
  /** Writes one after another: the file's last version is the last change. */
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** Shelves that ran out while the gateway was down, ended at open (for the audit). */
  readonly expiredAtOpen: ShelfChange[] = [];
  /** What went wrong reading the file, when the backup was used. */
  problem: string | undefined;

  private constructor(o: ShelvingOptions) {
    super();
    this.file = o.file;
    this.now = o.now ?? Date.now;
  }

  /**
   * Reads the shelves a previous run left and starts their expiry timer.
   * When neither the file nor its backup can be read, it starts with no
   * shelf and says so in `problem`: machines alerting again is the safe
   * side, and a gateway that refused to start would call nobody at all.
   */
  static async open(o: ShelvingOptions): Promise<Shelving> {
    const s = new Shelving(o);
    let read: Awaited<ReturnType<typeof readWithBackup<z.infer<typeof fileSchema>>>>;
    try {
      read = await readWithBackup(o.file, (t) => fileSchema.parse(JSON.parse(t)));
    } catch (err) {
      s.problem = `${o.file} and its backup cannot be read (${(err as Error).message.split('\n')[0]}); every machine starts unshelved`;
      read = { from: 'none' };
    }
    if (read.from === 'backup')
      s.problem = `${read.problem}; the shelves were read from the backup`;
    if (read.from !== 'none') {
      const now = s.now();
      for (const [machine, shelf] of Object.entries(read.value.machines)) {
        if (Date.parse(shelf.until) <= now) {
          s.expiredAtOpen.push({ machine, kind: 'unshelve', by: 'expiry', shelf, at: now });
        } else {
          s.shelves.set(machine, shelf);
        }
      }
      if (s.expiredAtOpen.length > 0 || read.from === 'backup') await s.save();
    }
    s.arm();
    return s;
  }

  /** The machine's shelf, or undefined when it is not shelved (an expired one counts as not). */
  get(machine: string): Shelf | undefined {
    const shelf = this.shelves.get(machine);
    return shelf && Date.parse(shelf.until) > this.now() ? shelf : undefined;
  }

  /** Every shelved machine and its shelf. */
  all(): [string, Shelf][] {
    return [...this.shelves].filter(([m]) => this.get(m) !== undefined);
  }

  /**
   * Shelves a machine until `untilMs` (replacing a shelf it had), on disk
   * before it resolves.
   */
  async shelve(
    machine: string,
    o: { by: string; reason: string; untilMs: number },
  ): Promise<Shelf> {
    const at = this.now();
    const shelf: Shelf = {
      by: o.by,
      reason: o.reason,
      since: new Date(at).toISOString(),
      until: new Date(o.untilMs).toISOString(),
    };
    this.shelves.set(machine, shelf);
    await this.save();
    this.arm();
    this.emit('change', { machine, kind: 'shelve', by: o.by, shelf, at });
    return shelf;
  }

  /** Ends a machine's shelf now; false when it had none. */
  async unshelve(machine: string, by: string): Promise<boolean> {
    const shelf = this.shelves.get(machine);
    if (!shelf) return false;
    this.shelves.delete(machine);
    await this.save();
    this.arm();
    this.emit('change', { machine, kind: 'unshelve', by, shelf, at: this.now() });
    return true;
  }

  /** Stops the expiry timer and waits for the last write. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.chain;
  }

  /** Ends the shelves that ran out, then waits for the next one to. */
  private async expire(): Promise<void> {
    const now = this.now();
    const ended = [...this.shelves].filter(([, s]) => Date.parse(s.until) <= now);
    for (const [m] of ended) this.shelves.delete(m);
    if (ended.length > 0) await this.save();
    for (const [machine, shelf] of ended) {
      this.emit('change', { machine, kind: 'unshelve', by: 'expiry', shelf, at: now });
    }
    this.arm();
  }

  private arm(): void {
    clearTimeout(this.timer);
    if (this.closed || this.shelves.size === 0) return;
    const next = Math.min(...[...this.shelves.values()].map((s) => Date.parse(s.until)));
    const wait = Math.max(0, Math.min(MAX_TIMER_MS, next - this.now()));
    this.timer = setTimeout(() => void this.expire(), wait);
    this.timer.unref();
  }

  private save(): Promise<void> {
    const body = `${JSON.stringify({ version: 1, machines: Object.fromEntries(this.shelves) }, null, 2)}\n`;
    const written = this.chain.then(() => writeFileAtomic(this.file, body));
    // a failed write fails its caller (the API answers 5xx), not every later one
    this.chain = written.catch(() => undefined);
    return written;
  }
}
