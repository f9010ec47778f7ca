import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SequenceTracker } from '../../src/ingest/sequence.js';

test('in order, gaps, duplicates, late frames and restarts, per sensor', () => {
  const t = new SequenceTracker({ reorderWindow: 8 });
  const seen = (id: number, seq: number, t0: bigint) => {
    const o = t.observe(id, seq, t0);
    return `${o.verdict}:${o.missing}:${o.accept ? 'y' : 'n'}`;
  };
  assert.equal(seen(1, 10, 100n), 'first:0:y');
  assert.equal(seen(1, 11, 200n), 'next:0:y');
  assert.equal(seen(1, 14, 500n), 'gap:2:y');
  assert.equal(seen(1, 14, 500n), 'duplicate:0:n');
  assert.equal(seen(1, 12, 300n), 'late:0:n');
  assert.equal(seen(1, 15, 600n), 'next:0:y');
  // another sensor is independent
  assert.equal(seen(2, 14, 50n), 'first:0:y');
  assert.equal(seen(2, 15, 60n), 'next:0:y');
  // seq went back but time went forward: the node rebooted
  assert.equal(seen(1, 0, 700n), 'restart:0:y');
  assert.equal(seen(1, 1, 800n), 'next:0:y');
  // far behind (beyond the window) with an unsynced clock: also a restart
  assert.equal(seen(2, 12, 1n), 'late:0:n');
  assert.equal(seen(2, 3, 1n), 'restart:0:y');
  assert.deepEqual(t.sensor(1), {
    sensorId: 1,
    lastSeq: 1,
    frames: 6,
    gaps: 1,
    missing: 2,
    duplicates: 1,
    late: 1,
    restarts: 1,
  });
  assert.deepEqual(
    t.stats().map((s) => [s.sensorId, s.frames, s.late, s.restarts]),
    [
      [1, 6, 1, 1],
      [2, 3, 1, 1],
    ],
  );
  assert.equal(t.sensor(3), undefined);
  t.reset();
  assert.deepEqual(t.stats(), []);
});

test('uint32 wrap: 0xFFFFFFFF → 0 is contiguous, gaps across the wrap are counted', () => {
  const t = new SequenceTracker();
  assert.equal(t.observe(7, 0xfffffffe, 1n).verdict, 'first');
  assert.equal(t.observe(7, 0xffffffff, 2n).verdict, 'next');
  const o = t.observe(7, 0, 3n);
  assert.deepEqual([o.verdict, o.missing], ['next', 0]);
  const g = t.observe(7, 5, 4n);
  assert.deepEqual([g.verdict, g.missing], ['gap', 4]);
  // across the wrap with a gap
  t.observe(8, 0xfffffff0, 1n);
  const w = t.observe(8, 0x0f, 2n);
  assert.deepEqual([w.verdict, w.missing], ['gap', 0x1e]);
  // a late frame from before the wrap
  assert.equal(t.observe(8, 0xfffffff5, 1n).verdict, 'late');
  assert.equal(t.sensor(8)!.missing, 0x1e);
  // the largest forward jump (2^31 − 1) is still a gap
  t.observe(9, 0, 1n);
  assert.deepEqual(t.observe(9, 0x7fffffff, 2n).missing, 0x7ffffffe);
});

test('bad options are a TypeError at construction', () => {
  assert.throws(() => new SequenceTracker({ reorderWindow: -1 }), TypeError);
  assert.throws(() => new SequenceTracker({ reorderWindow: 1.5 }), TypeError);
});

test('state for at most maxSensors sensors: frames of further ones are refused, known ones flow', () => {
  const t = new SequenceTracker({ maxSensors: 3 });
  for (const id of [1, 2, 3]) assert.equal(t.observe(id, 0, 0n).verdict, 'first');
  assert.deepEqual(t.observe(4, 0, 0n), { verdict: 'refused', missing: 0, accept: false });
  assert.equal(t.observe(4, 1, 1n).verdict, 'refused', 'still no state for it');
  assert.equal(t.observe(2, 1, 1n).verdict, 'next');
  assert.equal(t.refused, 2);
  assert.equal(t.stats().length, 3);
  assert.throws(() => new SequenceTracker({ maxSensors: 0 }), TypeError);
});
