import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCwru } from '../../src/data/cwru.js';
import {
  countWindows,
  iterateWindows,
  type RecordingSplit,
  SPLIT_NAMES,
  sliceWindows,
  splitRanges,
  splitRecording,
  splitRecordings,
  windowStarts,
} from '../../src/data/windows.js';
import { isFaultlineError } from '../../src/errors.js';
import type { Recording } from '../../src/types.js';
import { requireCwru } from '../support/cwru.js';

/** A recording whose sample i holds the value i, so a window's content names its indices. */
function ramp(n: number, id = 'ramp'): Recording {
  return {
    id,
    label: 'normal',
    domain: 'load0',
    sampleRate: 1000,
    samples: Float32Array.from({ length: n }, (_, i) => i),
    rpm: 1797,
    meta: {},
  };
}

/** Checks that no sample index appears in two splits and that each window lies inside its range. */
function assertDisjoint(split: RecordingSplit, windowLen: number): void {
  const owner = new Map<number, string>();
  for (const name of SPLIT_NAMES) {
    const r = split.ranges[name];
    for (const w of split[name]) {
      assert.equal(w.samples.length, windowLen);
      assert.ok(
        w.start >= r.start && w.start + windowLen <= r.end,
        `${name} window at ${w.start} leaves ${r.start}–${r.end}`,
      );
      for (let i = w.start; i < w.start + windowLen; i++) {
        const prev = owner.get(i);
        assert.ok(prev === undefined || prev === name, `sample ${i} is in ${prev} and ${name}`);
        owner.set(i, name);
      }
    }
  }
  // Time order: every train index < every val index < every test index.
  const maxOf = (n: keyof RecordingSplit['ranges']) =>
    Math.max(...split[n].map((w) => w.start + windowLen - 1));
  const minOf = (n: keyof RecordingSplit['ranges']) => Math.min(...split[n].map((w) => w.start));
  if (split.val.length) assert.ok(maxOf('train') < minOf('val'));
  if (split.test.length) assert.ok(maxOf('val') < minOf('test'));
}

test('windows cover [start, start + len) stepping hop and drop the partial tail', () => {
  const rec = ramp(1000);
  const ws = sliceWindows(rec, 256, 100);
  assert.deepEqual(
    ws.map((w) => w.start),
    [0, 100, 200, 300, 400, 500, 600, 700],
  );
  assert.equal(ws.length, countWindows({ start: 0, end: 1000 }, 256, 100));
  for (const w of ws) {
    assert.equal(w.samples[0], w.start);
    assert.equal(w.samples[255], w.start + 255);
    assert.equal(w.recordingId, 'ramp');
    assert.equal(w.label, 'normal');
    assert.equal(w.domain, 'load0');
    assert.equal(w.rpm, 1797);
    assert.equal(w.sampleRate, 1000);
    assert.equal(w.samples.buffer, rec.samples.buffer, 'windows are views, not copies');
  }
  assert.deepEqual(windowStarts({ start: 10, end: 30 }, 10, 5), [10, 15, 20]);
  assert.equal(countWindows({ start: 0, end: 9 }, 10, 5), 0);
  assert.equal(sliceWindows(ramp(0), 4, 4).length, 0);
});

test('iterateWindows is lazy', () => {
  const it = iterateWindows(ramp(1_000_000), 1024, 1);
  const first = it.next();
  assert.equal(first.done, false);
  assert.equal(first.value?.start, 0);
  assert.equal(it.next().value?.start, 1);
});

test('bad window parameters are rejected', () => {
  for (const [len, hop] of [
    [0, 1],
    [10, 0],
    [2.5, 1],
    [10, Number.NaN],
  ]) {
    assert.throws(
      () => sliceWindows(ramp(100), len, hop),
      (e) => isFaultlineError(e, 'FL_ERR_DSP_PARAMS'),
    );
  }
});

test('splitRecording: contiguous time-ordered segments, no sample index shared between splits', () => {
  for (const [n, len, hop] of [
    [10007, 256, 64],
    [10007, 256, 256],
    [5000, 100, 7],
    [120000, 2048, 512],
  ]) {
    const rec = ramp(n);
    const split = splitRecording(rec, { train: 0.7, val: 0.15, test: 0.15 }, len, hop);
    assertDisjoint(split, len);
    const { train, val, test: te } = split.ranges;
    assert.deepEqual(
      [train.start, train.end, val.end, te.end],
      [0, Math.round(n * 0.7), Math.round(n * 0.85), n],
    );
    assert.equal(val.start, train.end);
    assert.equal(te.start, val.end);
    for (const name of SPLIT_NAMES) {
      assert.equal(split[name].length, countWindows(split.ranges[name], len, hop));
      // Sample values are indices, so content confirms the window is where it says.
      for (const w of split[name]) assert.equal(w.samples[0], w.start);
    }
  }
});

test('splitRecording: too-short segments, zero fractions, bad fractions', () => {
  assert.throws(
    () => splitRecording(ramp(1000), { train: 0.7, val: 0.15, test: 0.15 }, 200, 200),
    (e) =>
      isFaultlineError(e, 'FL_ERR_SPLIT') && /val segment \[700, 850\)/.test((e as Error).message),
  );
  const noVal = splitRecording(ramp(1000), { train: 0.8, val: 0, test: 0.2 }, 100, 50);
  assert.equal(noVal.val.length, 0);
  assertDisjoint(noVal, 100);
  for (const f of [
    { train: 0.7, val: 0.2, test: 0.2 },
    { train: -0.1, val: 0.6, test: 0.5 },
    { train: Number.NaN, val: 0.5, test: 0.5 },
  ]) {
    assert.throws(
      () => splitRanges(100, f),
      (e) => isFaultlineError(e, 'FL_ERR_DSP_PARAMS'),
    );
  }
});

test('splitRecordings pools per-recording splits', () => {
  const recs = [ramp(5000, 'a'), ramp(8000, 'b')];
  const pooled = splitRecordings(recs, undefined, 256, 128);
  for (const name of SPLIT_NAMES) {
    const expected = recs.reduce(
      (s, r) => s + splitRecording(r, undefined, 256, 128)[name].length,
      0,
    );
    assert.equal(pooled[name].length, expected);
  }
  assert.deepEqual(new Set(pooled.test.map((w) => w.recordingId)), new Set(['a', 'b']));
});

test('splitting real CWRU recordings keeps splits disjoint (97 decimated, 105)', async (t) => {
  const dir = requireCwru(t);
  if (!dir) return;
  const recs = await loadCwru(dir, { classes: ['normal', 'IR007'], loads: [0] });
  assert.equal(recs.length, 2);
  for (const rec of recs) {
    const split = splitRecording(rec, undefined, 2048, 512);
    assertDisjoint(split, 2048);
    assert.ok(split.test.length >= 4, `${rec.id}: ${split.test.length} test windows`);
  }
});
