import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isFaultlineError } from '../../src/errors.js';
import { DiskQueue } from '../../src/store/disk-queue.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-dq-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => a + i);

async function drainAll(q: DiskQueue<number>, batch = 37): Promise<number[]> {
  const out: number[] = [];
  for (;;) {
    const b = await q.peek(batch);
    if (!b) return out;
    out.push(...b.items);
    await q.commit(b);
  }
}

test('FIFO across segments, partial delivery resumes at the cursor after reopen', async () => {
  const d = path.join(dir, 'fifo');
  const q = await DiskQueue.open<number>({ dir: d, segmentPoints: 50 });
  for (let b = 0; b < 10; b++) await q.append(range(b * 30, 30));
  assert.equal(q.size, 300);
  const first = await q.peek(20);
  assert.deepEqual(first?.items, range(0, 20));
  await q.commit(first!);
  await q.close();

  const q2 = await DiskQueue.open<number>({ dir: d, segmentPoints: 50 });
  assert.equal(q2.size, 280);
  await q2.append(range(300, 5));
  assert.deepEqual(await drainAll(q2), range(20, 285));
  assert.equal(q2.size, 0);
  assert.deepEqual(
    (await readdir(d)).filter((f) => f.startsWith('seg-')),
    [],
    'delivered segments are deleted',
  );
  // Appends after a full drain sort after the old cursor, across a reopen.
  await q2.append([1, 2, 3]);
  await q2.close();
  const q3 = await DiskQueue.open<number>({ dir: d, segmentPoints: 50 });
  assert.deepEqual(await drainAll(q3), [1, 2, 3]);
  await q3.close();
});

test('a torn last line and a corrupt line are skipped, the rest kept', async () => {
  const d = path.join(dir, 'torn');
  const q = await DiskQueue.open<number>({ dir: d });
  await q.append([1, 2, 3]);
  await q.close();
  const seg = (await readdir(d)).find((f) => f.startsWith('seg-'))!;
  await appendFile(path.join(d, seg), '{garbage\n4\n{"half":'); // crash mid-append
  const q2 = await DiskQueue.open<number>({ dir: d });
  assert.equal(q2.size, 5, 'the torn tail is cut; the corrupt line still counts until read');
  assert.deepEqual(await drainAll(q2), [1, 2, 3, 4]);
  assert.equal(q2.corrupt, 1);
  assert.equal(q2.size, 0);
  await q2.close();
});

test('default segments follow the bound: a full queue drops its oldest eighth, not all it holds', async () => {
  const q = await DiskQueue.open<number>({
    dir: path.join(dir, 'small-bound'),
    maxBytes: 6000, // "12345\n" is 6 bytes: 1000 records fit
    fsync: 'none',
  });
  for (let i = 0; i < 1000; i++) await q.append([10000 + i]);
  assert.equal(q.dropped, 0);
  await q.append([11000]);
  assert.ok(q.dropped > 0 && q.dropped <= 1000 / 8 + 1, `dropped ${q.dropped} of 1000`);
  const kept = await drainAll(q);
  assert.equal(kept.length, 1001 - q.dropped);
  assert.equal(kept[0], 10000 + q.dropped, 'the oldest went first');
  assert.equal(kept.at(-1), 11000);
  await q.close();
});

test('byte and point bounds drop the oldest whole segments; a huge batch keeps its newest', async () => {
  const q = await DiskQueue.open<number>({
    dir: path.join(dir, 'bound'),
    maxPoints: 100,
    segmentPoints: 10,
    fsync: 'none',
  });
  assert.equal(await q.append(range(0, 95)), 0);
  assert.equal(await q.append(range(95, 10)), 10); // oldest segment 0–9 goes
  assert.equal(q.size, 95);
  assert.equal(await q.append(range(105, 250)), 95 + 150);
  assert.equal(q.dropped, 255);
  assert.deepEqual(await drainAll(q), range(255, 100));
  await q.close();

  const qb = await DiskQueue.open<number>({
    dir: path.join(dir, 'bytes'),
    maxBytes: 100, // "12345\n" is 6 bytes: 16 records fit
    segmentPoints: 4,
  });
  await qb.append(range(10000, 30));
  assert.ok(qb.bytes <= 100);
  const kept = await drainAll(qb);
  assert.equal(kept.at(-1), 10029);
  assert.equal(kept.length + qb.dropped, 30);
  await qb.close();
});

test('options and unusable directories are reported, not crashes', async () => {
  await assert.rejects(DiskQueue.open({ dir: path.join(dir, 'x'), maxPoints: 0 }), TypeError);
  const file = path.join(dir, 'plainfile');
  await appendFile(file, 'x');
  await assert.rejects(DiskQueue.open({ dir: path.join(file, 'q') }), (e) =>
    isFaultlineError(e, 'FL_ERR_STORE_QUEUE'),
  );
});

test('a full disk (ENOSPC) fails the append cleanly and keeps the queue consistent', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to mount a tiny tmpfs');
    return;
  }
  const mnt = path.join(dir, 'tiny');
  await mkdir(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (e) {
    t.skip(`cannot mount tmpfs here: ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  try {
    const q = await DiskQueue.open<string>({ dir: mnt, segmentPoints: 1_000_000 });
    await q.append(['a', 'b']);
    const big = Array.from({ length: 2000 }, (_, i) => `${i}`.padStart(60, 'x'));
    await assert.rejects(q.append(big), (e: NodeJS.ErrnoException) => e.code === 'ENOSPC');
    assert.equal(q.size, 2, 'the failed batch is not half-kept');
    await q.append(['c']);
    assert.deepEqual(await drainAll(q as unknown as DiskQueue<number>), ['a', 'b', 'c']);
    await q.close();
  } finally {
    execFileSync('umount', [mnt]);
  }
});
