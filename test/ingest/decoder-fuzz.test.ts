/**
 * Fuzz: 100,000 frames through one SerialFrameDecoder, about half of them
 * damaged on the wire (bit flips, replaced, dropped, duplicated or inserted
 * bytes, truncation, zero bytes that split a packet, random garbage, oversize
 * runs) plus repeated whole packets. Deterministic seed. Checks: no throw, no
 * 'error', no hang; every intact frame comes out, in order, with its samples;
 * nothing else comes out; every damaged piece is counted as a bad frame;
 * gaps and duplicates add up. FAULTLINE_FUZZ_FRAMES overrides the count.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SampleFormat } from '../../src/contract/sample-block.js';
import { SerialFrameDecoder } from '../../src/ingest/decoder.js';
import { MAX_PACKET_BYTES } from '../../src/ingest/frame.js';
import { makeFrame, rng } from './stream-helpers.js';

const FRAMES = Number(process.env.FAULTLINE_FUZZ_FRAMES ?? 100_000);
const SENSORS = 4;
const FORMATS: SampleFormat[] = ['int16', 'int16', 'int32', 'float32'];

type Mutation =
  | 'intact'
  | 'bitflip'
  | 'replace'
  | 'drop'
  | 'duplicate'
  | 'insert'
  | 'truncate'
  | 'zero'
  | 'garbage'
  | 'oversize';

/** Non-empty pieces `body` splits into at 0x00 (each is one packet to the receiver). */
function pieces(body: Uint8Array): number {
  let n = 0;
  let run = 0;
  for (const b of body) {
    if (b === 0) {
      if (run > 0) n++;
      run = 0;
    } else run++;
  }
  return n + (run > 0 ? 1 : 0);
}

test(`fuzz: ${FRAMES} frames, damaged and intact, through one decoder`, {
  timeout: 120_000,
}, async (t) => {
  const r = rng(0xfa17);
  const pick = (n: number) => Math.floor(r() * n);
  const dec = new SerialFrameDecoder();
  dec.on('error', (e) => assert.fail(`decoder errored: ${e.message}`));
  const expected: { sensorId: number; seq: number; first: number; length: number }[] = [];
  const mutations: Record<Mutation, number> = {
    intact: 0,
    bitflip: 0,
    replace: 0,
    drop: 0,
    duplicate: 0,
    insert: 0,
    truncate: 0,
    zero: 0,
    garbage: 0,
    oversize: 0,
  };
  let expectBad = 0;
  let expectOversize = 0;
  let repeats = 0;
  // per sensor: index of every frame sent, and of the intact ones
  const nextSeq = Array.from({ length: SENSORS }, (_, s) => (0xffffffff - 500 * s) >>> 0);
  const intactIdx: number[][] = Array.from({ length: SENSORS }, () => []);
  const sentCount = new Array<number>(SENSORS).fill(0);

  const got: { sensorId: number; seq: number; first: number; length: number }[] = [];
  dec.on('data', (b) =>
    got.push({ sensorId: b.sensorId, seq: b.seq, first: b.samples[0], length: b.samples.length }),
  );
  let badEvents = 0;
  dec.on('bad-frame', () => badEvents++);

  const chunk: Uint8Array[] = [];
  let chunkBytes = 0;
  const flush = async () => {
    const buf = Buffer.allocUnsafe(chunkBytes);
    let at = 0;
    for (const c of chunk) {
      buf.set(c, at);
      at += c.length;
    }
    chunk.length = 0;
    chunkBytes = 0;
    // random re-chunking of the wire bytes
    for (let pos = 0; pos < buf.length; ) {
      const n = 1 + pick(3000);
      if (!dec.write(buf.subarray(pos, pos + n)))
        await new Promise((res) => dec.once('drain', res));
      pos += n;
    }
  };
  const send = (bytes: Uint8Array) => {
    chunk.push(bytes);
    chunkBytes += bytes.length;
  };
  let wireBytes = 0;
  let lastIntact: Uint8Array | undefined;

  const t0 = performance.now();
  for (let i = 0; i < FRAMES; i++) {
    const s = i % SENSORS;
    const seq = nextSeq[s];
    nextSeq[s] = (seq + 1) >>> 0;
    const idx = sentCount[s]++;
    const f = makeFrame(r, 100 + s, seq, FORMATS[pick(4)], 4 + pick(60), 1 + pick(3));
    const body = f.packet.subarray(0, -1); // COBS bytes; the delimiter is kept intact
    const roll = r();
    let m: Mutation;
    let out: Uint8Array;
    if (roll < 0.5) {
      m = 'intact';
      out = body;
    } else {
      const kinds: Mutation[] = [
        'bitflip',
        'replace',
        'drop',
        'duplicate',
        'insert',
        'truncate',
        'zero',
        'garbage',
      ];
      m = i % 2000 === 1 ? 'oversize' : kinds[pick(kinds.length)];
      const b = body.slice();
      const at = pick(b.length);
      switch (m) {
        case 'bitflip': {
          const flips = 1 + pick(3);
          for (let k = 0; k < flips; k++) b[pick(b.length)] ^= 1 << pick(8);
          out = b;
          break;
        }
        case 'replace':
          b[at] = (b[at] + 1 + pick(255)) & 0xff;
          out = b;
          break;
        case 'drop':
          out =
            b.length > 1
              ? Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + 1)])
              : Uint8Array.of(7);
          break;
        case 'duplicate':
          out = Uint8Array.from([...b.subarray(0, at + 1), ...b.subarray(at)]);
          break;
        case 'insert':
          out = Uint8Array.from([
            ...b.subarray(0, at),
            ...Array.from({ length: 1 + pick(8) }, () => pick(256)),
            ...b.subarray(at),
          ]);
          break;
        case 'truncate':
          out = b.subarray(0, 1 + pick(b.length - 1));
          break;
        case 'zero':
          b[at] = 0;
          out = b;
          break;
        case 'garbage':
          out = Uint8Array.from({ length: 1 + pick(200) }, () => pick(256));
          break;
        default: {
          // longer than any packet: non-zero bytes, discarded up to the delimiter
          out = new Uint8Array(MAX_PACKET_BYTES + 1 + pick(5000)).fill(0x55);
          expectOversize++;
        }
      }
      // a mutation can leave a byte sequence identical to the frame (e.g. a
      // replaced byte in a run): only then is it still intact
      if (out.length === body.length && out.every((v, k) => v === body[k])) m = 'intact';
    }
    mutations[m]++;
    if (m === 'intact') {
      expected.push({ sensorId: 100 + s, seq, first: 0, length: f.samples.length });
      intactIdx[s].push(idx);
      lastIntact = f.packet;
    } else {
      expectBad += pieces(out);
    }
    send(out);
    send(Uint8Array.of(0));
    wireBytes += out.length + 1;
    // now and then a packet arrives twice: a duplicate, dropped and counted
    if (lastIntact && r() < 0.01) {
      send(lastIntact);
      wireBytes += lastIntact.length;
      repeats++;
      lastIntact = undefined;
    }
    if (chunkBytes > 1 << 20) await flush();
  }
  await flush();
  dec.end();
  await new Promise((resolve) => dec.on('end', resolve));
  const ms = performance.now() - t0;

  const stats = dec.stats();
  t.diagnostic(`mutations: ${JSON.stringify(mutations)}, repeated packets: ${repeats}`);
  t.diagnostic(
    `decoded ${stats.frames} frames (${stats.blocks} blocks), bad ${stats.badFrames} ${JSON.stringify(stats.bad)}, ` +
      `oversize ${stats.oversize}, duplicates ${stats.duplicates}, missing ${stats.missing}, ` +
      `${(wireBytes / 1e6).toFixed(1)} MB in ${(ms / 1000).toFixed(1)} s`,
  );

  // every intact frame, in order, nothing else
  assert.equal(got.length, expected.length);
  for (let k = 0; k < got.length; k++) {
    assert.equal(got[k].sensorId, expected[k].sensorId, `block ${k}`);
    assert.equal(got[k].seq, expected[k].seq, `block ${k}`);
    assert.equal(got[k].length, expected[k].length, `block ${k}`);
  }
  // every damaged piece counted, once
  assert.equal(stats.badFrames, expectBad);
  assert.equal(badEvents, expectBad);
  assert.equal(stats.oversize, expectOversize);
  assert.equal(stats.frames, expected.length + repeats);
  assert.equal(stats.duplicates, repeats);
  assert.equal(stats.bytes, wireBytes);
  // gaps: frames lost between the first and last intact frame of each sensor
  let missing = 0;
  for (const idx of intactIdx) {
    if (idx.length > 0) missing += idx[idx.length - 1] - idx[0] + 1 - idx.length;
  }
  assert.equal(stats.missing, missing);
  assert.ok(FRAMES < 1000 || mutations.intact > FRAMES * 0.4);
});
