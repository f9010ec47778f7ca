import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RingBuffer } from '../../src/diagnose/ring-buffer.js';
import { Windower } from '../../src/diagnose/windower.js';
import { mulberry32 } from '../../src/model/inputs.js';

/** The reference: window k = signal[k·hop, k·hop + L) for every complete k. */
function referenceWindows(x: Float32Array, L: number, hop: number): Float32Array[] {
  const out: Float32Array[] = [];
  for (let s = 0; s + L <= x.length; s += hop) out.push(x.slice(s, s + L));
  return out;
}

function ramp(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = i;
  return x;
}

describe('RingBuffer', () => {
  it('returns what was written, across the wrap, by absolute index', () => {
    const r = new RingBuffer(10);
    r.write(ramp(7));
    r.write(ramp(20).subarray(7, 16));
    assert.equal(r.written, 16);
    assert.equal(r.oldest, 6);
    assert.deepEqual(
      [...r.copyRange(6, new Float32Array(10))],
      [6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    );
    assert.deepEqual([...r.copyRange(9, new Float32Array(3))], [9, 10, 11]);
  });

  it('refuses ranges overwritten or not yet written', () => {
    const r = new RingBuffer(8);
    r.write(ramp(20));
    assert.throws(() => r.copyRange(11, new Float32Array(2)), RangeError);
    assert.throws(() => r.copyRange(19, new Float32Array(2)), RangeError);
    assert.deepEqual([...r.copyRange(12, new Float32Array(8))], [12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('de-interleaves one channel', () => {
    const r = new RingBuffer(4);
    const inter = new Float32Array([0, 100, 1, 101, 2, 102, 3, 103, 4, 104, 5, 105]);
    r.writeInterleaved(inter, 2, 1, 1, 5);
    assert.equal(r.written, 5);
    assert.deepEqual([...r.copyRange(1, new Float32Array(4))], [102, 103, 104, 105]);
  });

  it('rejects a bad capacity at construction', () => {
    assert.throws(() => new RingBuffer(0), TypeError);
    assert.throws(() => new RingBuffer(1.5), TypeError);
  });
});

describe('Windower', () => {
  const cases: [number, number][] = [
    [16, 4],
    [16, 16],
    [16, 37],
    [100, 1],
    [2048, 1024],
    [300, 299],
  ];
  for (const [L, hop] of cases) {
    it(`L=${L} hop=${hop}: the same windows as slicing, for arbitrary block sizes`, () => {
      const rand = mulberry32(L * 31 + hop);
      const x = ramp(L * 7 + 13);
      for (const maxBlock of [1, 3, L - 1, L, L + 1, 5 * L + 3]) {
        const w = new Windower({ windowLength: L, hop, capacity: L + Math.max(1, (hop % 7) + 1) });
        const got: Float32Array[] = [];
        let i = 0;
        while (i < x.length) {
          const n = Math.max(1, Math.min(x.length - i, Math.ceil(rand() * maxBlock)));
          const block = x.subarray(i, i + n);
          for (const cw of w.push(block)) {
            // the window's last sample lies in this block, at lastInBlock
            assert.equal(block[cw.lastInBlock], cw.samples[L - 1]);
            assert.equal(cw.start, cw.samples[0]);
            got.push(cw.samples);
          }
          i += n;
        }
        const ref = referenceWindows(x, L, hop);
        assert.equal(got.length, ref.length, `block ≤ ${maxBlock}`);
        for (let k = 0; k < got.length; k++) {
          assert.deepEqual(got[k], ref[k], `window ${k}, block ≤ ${maxBlock}`);
        }
      }
    });
  }

  it('cuts one channel of interleaved blocks', () => {
    const frames = 100;
    const inter = new Float32Array(frames * 3);
    for (let i = 0; i < frames; i++) {
      inter[3 * i] = -i;
      inter[3 * i + 1] = i;
      inter[3 * i + 2] = 1000 + i;
    }
    const w = new Windower({ windowLength: 10, hop: 5 });
    const got = [
      ...w.push(inter.subarray(0, 3 * 37), 3, 2),
      ...w.push(inter.subarray(3 * 37), 3, 2),
    ];
    const ref = referenceWindows(
      Float32Array.from({ length: frames }, (_, i) => 1000 + i),
      10,
      5,
    );
    assert.deepEqual(
      got.map((g) => [...g.samples]),
      ref.map((r) => [...r]),
    );
  });

  it('restart() drops the partial window and realigns on the next sample', () => {
    const w = new Windower({ windowLength: 10, hop: 10 });
    assert.equal(w.push(ramp(25)).length, 2);
    assert.equal(w.pending, 5);
    w.restart();
    assert.equal(w.pending, 10);
    const after = w.push(ramp(40).subarray(25, 40));
    assert.equal(after.length, 1);
    assert.equal(after[0].samples[0], 25);
  });

  it('never holds more than its capacity (a huge block yields every window)', () => {
    const w = new Windower({ windowLength: 64, hop: 32, capacity: 65 });
    const got = w.push(ramp(64 * 1000));
    assert.equal(got.length, (64 * 1000 - 64) / 32 + 1);
    assert.equal(got[got.length - 1].samples[63], 64 * 1000 - 1);
  });

  it('attaches the asked-for history ending with the window, never across a restart', () => {
    const w = new Windower({ windowLength: 10, hop: 10, historyLength: 35 });
    const x = ramp(200);
    const got = [
      ...w.push(x.subarray(0, 77), 1, 0, 77, (k) => k % 2 === 0),
      ...w.push(x.subarray(77, 100), 1, 0, 23, () => true),
    ];
    // windows 0, 1, 2 end before 35 samples exist; 3 is odd; 4 and up qualify (k even, or second push)
    assert.deepEqual(
      got.map((g) => (g.history ? g.history[34] : -1)),
      [-1, -1, -1, -1, 49, -1, 69, 79, 89, 99],
    );
    assert.deepEqual([...(got[4].history ?? [])], [...x.subarray(15, 50)]);
    w.restart();
    const later = w.push(x.subarray(100, 140), 1, 0, 40, () => true);
    assert.equal(later.length, 4);
    assert.equal(later[2].history, undefined);
    assert.equal(later[3].history?.[0], 105);
    assert.equal(w.push(x.subarray(140, 150), 1, 0, 10, () => true)[0].history?.[0], 115);
  });

  it('an empty block yields nothing; bad options are TypeErrors', () => {
    const w = new Windower({ windowLength: 8, hop: 4 });
    assert.deepEqual(w.push(new Float32Array(0)), []);
    assert.throws(() => new Windower({ windowLength: 0, hop: 1 }), TypeError);
    assert.throws(() => new Windower({ windowLength: 8, hop: 0 }), TypeError);
    assert.throws(() => new Windower({ windowLength: 8, hop: 4, capacity: 8 }), TypeError);
  });
});
