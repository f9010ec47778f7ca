import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SampleBlock } from '../../src/contract/sample-block.js';
import {
  type BadFrameEvent,
  type BlockWithFrame,
  decodePayload,
  type SequenceEvent,
  SerialFrameDecoder,
} from '../../src/ingest/decoder.js';
import { encodeFrame, MAX_PACKET_BYTES } from '../../src/ingest/frame.js';
import { LinkCounters } from '../../src/ingest/link-stats.js';
import { SequenceTracker } from '../../src/ingest/sequence.js';
import { concat, makeFrame, rng, runDecoder, type TestFrame } from './stream-helpers.js';

const key = (b: SampleBlock) => `${b.sensorId}/${b.seq}/${b.samples.length}/${b.samples[0]}`;

function sampleStream(): { frames: TestFrame[]; bytes: Uint8Array } {
  const r = rng(42);
  const frames = [
    makeFrame(r, 1, 0, 'int16', 20, 1),
    makeFrame(r, 2, 7, 'int32', 6, 2),
    makeFrame(r, 1, 1, 'float32', 5, 3),
    makeFrame(r, 3, 0xffffffff, 'int16', 300, 1), // COBS blocks of 254
  ];
  return { frames, bytes: concat([Uint8Array.of(0), ...frames.map((f) => f.packet)]) };
}

test('split at every byte offset: the same blocks come out', async () => {
  const { frames, bytes } = sampleStream();
  const whole = await runDecoder(new SerialFrameDecoder(), [bytes]);
  assert.equal(whole.blocks.length, frames.length);
  assert.equal(whole.bad.length, 0);
  const want = whole.blocks.map(key);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const got = await runDecoder(new SerialFrameDecoder(), [
      bytes.subarray(0, cut),
      bytes.subarray(cut),
    ]);
    assert.deepEqual(got.blocks.map(key), want, `cut at ${cut}`);
    assert.equal(got.bad.length, 0);
  }
  // one byte per write
  const bytewise = await runDecoder(
    new SerialFrameDecoder(),
    Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)),
  );
  assert.deepEqual(bytewise.blocks.map(key), want);
});

test('blocks carry the decoded samples in g and the header fields', async () => {
  const { frames, bytes } = sampleStream();
  const { blocks } = await runDecoder(new SerialFrameDecoder(), [bytes]);
  const f = frames[1];
  const b = blocks[1];
  assert.equal(b.sensorId, 2);
  assert.equal(b.seq, 7);
  assert.equal(b.channels, 2);
  assert.equal(b.sampleRate, 12800);
  assert.equal(b.t0Us, f.header.t0Us);
  assert.equal(b.gap, 0);
  for (let i = 0; i < f.samples.length; i++) {
    assert.equal(b.samples[i], Math.fround(f.samples[i] * Math.fround(0.000061)));
  }
});

test('keepFrames: each block carries a copy of the exact frame bytes it came from', async () => {
  const { frames, bytes } = sampleStream();
  const expected = frames.map((f) => encodeFrame(f.header, f.samples));
  for (const chunks of [[bytes], Array.from(bytes, (b) => Uint8Array.of(b))]) {
    const kept = await runDecoder(new SerialFrameDecoder({ keepFrames: true }), chunks);
    assert.equal(kept.blocks.length, frames.length);
    kept.blocks.forEach((b, i) => {
      const frame = (b as BlockWithFrame).frame;
      assert.ok(frame instanceof Uint8Array, `block ${i} has no frame`);
      // a copy, not a view of the decoder's scratch buffer that the next packet overwrites
      assert.deepEqual(frame, expected[i]);
      assert.equal(frame.byteOffset, 0);
      assert.equal(frame.buffer.byteLength, frame.byteLength);
    });
  }
  const plain = await runDecoder(new SerialFrameDecoder(), [bytes]);
  assert.ok(plain.blocks.every((b) => !('frame' in b)));
});

test('garbage before, between and after frames: every frame recovered, garbage counted', async () => {
  const r = rng(5);
  const parts: Uint8Array[] = [Uint8Array.from('noise at start', (c) => c.charCodeAt(0))];
  const frames: TestFrame[] = [];
  let garbagePackets = 0;
  for (let i = 0; i < 200; i++) {
    const glen = Math.floor(r() * 40);
    const g = Uint8Array.from({ length: glen }, () => Math.floor(r() * 256));
    // count the non-empty pieces the garbage will be split into
    const pieces = (i === 0 ? [...parts[0], 0, ...g] : [...g]).reduce(
      (acc, byte) => {
        if (byte === 0) {
          if (acc.cur > 0) acc.n++;
          acc.cur = 0;
        } else acc.cur++;
        return acc;
      },
      { n: 0, cur: 0 },
    );
    garbagePackets += pieces.n + (pieces.cur > 0 ? 1 : 0);
    parts.push(Uint8Array.of(0), g, Uint8Array.of(0));
    const f = makeFrame(r, 1 + (i % 3), i, i % 2 ? 'int16' : 'float32');
    frames.push(f);
    parts.push(f.packet);
  }
  const stream = concat(parts);
  const dec = new SerialFrameDecoder();
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < stream.length; ) {
    const n = 1 + Math.floor(r() * 700);
    chunks.push(stream.subarray(at, at + n));
    at += n;
  }
  const got = await runDecoder(dec, chunks);
  assert.deepEqual(
    got.blocks.map((b) => b.seq),
    frames.map((f) => f.header.seq),
  );
  const s = dec.stats();
  assert.equal(s.frames, 200);
  assert.equal(s.badFrames, garbagePackets);
  assert.equal(got.bad.length, garbagePackets);
  assert.equal(s.bytes, stream.length);
  for (const e of got.bad) {
    assert.ok(e.bytes > 0);
    assert.ok(e.message.length > 10);
  }
});

test('an oversize packet is discarded up to the next delimiter, buffer capped', async () => {
  const r = rng(9);
  const a = makeFrame(r, 1, 1);
  const b = makeFrame(r, 1, 2);
  const huge = new Uint8Array(MAX_PACKET_BYTES + 5000).fill(0x41);
  const dec = new SerialFrameDecoder();
  // the oversize run arrives in pieces, and whole in one chunk
  const got = await runDecoder(dec, [
    a.packet,
    huge.subarray(0, 1000),
    huge.subarray(1000),
    Uint8Array.of(0),
    huge,
    Uint8Array.of(0),
    b.packet,
  ]);
  assert.deepEqual(
    got.blocks.map((x) => x.seq),
    [1, 2],
  );
  const s = dec.stats();
  assert.equal(s.oversize, 2);
  assert.equal(s.bad.FL_ERR_FRAME_LENGTH, 2);
  assert.deepEqual(
    got.bad.map((e) => [e.reason, e.bytes]),
    [
      ['FL_ERR_FRAME_LENGTH', huge.length],
      ['FL_ERR_FRAME_LENGTH', huge.length],
    ],
  );
});

test('maxFrameBytes caps what is accepted', async () => {
  const r = rng(3);
  const small = makeFrame(r, 1, 1, 'int16', 10, 1); // 64 bytes
  const big = makeFrame(r, 1, 2, 'int16', 100, 1); // 244 bytes
  const dec = new SerialFrameDecoder({ maxFrameBytes: 128 });
  const got = await runDecoder(dec, [small.packet, big.packet, small.packet]);
  assert.deepEqual(
    got.blocks.map((x) => x.seq),
    [1],
  );
  assert.equal(dec.stats().bad.FL_ERR_FRAME_LENGTH, 1);
  assert.equal(dec.stats().duplicates, 1);
});

test('sequence gaps, duplicates and wrap are counted, reported and carried', async () => {
  const r = rng(11);
  const seqs = [0xfffffffd, 0xfffffffe, 0xffffffff, 0, 3, 3, 2, 4];
  const frames = seqs.map((s) => makeFrame(r, 5, s));
  const dec = new SerialFrameDecoder();
  const events: SequenceEvent[] = [];
  dec.on('sequence', (e) => events.push(e));
  const got = await runDecoder(
    dec,
    frames.map((f) => f.packet),
  );
  assert.deepEqual(
    got.blocks.map((b) => [b.seq, b.gap]),
    [
      [0xfffffffd, 0],
      [0xfffffffe, 0],
      [0xffffffff, 0],
      [0, 0],
      [3, 2],
      [4, 0],
    ],
  );
  assert.deepEqual(
    events.map((e) => [e.verdict, e.seq, e.missing]),
    [
      ['gap', 3, 2],
      ['duplicate', 3, 0],
      ['late', 2, 0],
    ],
  );
  const s = dec.stats();
  assert.equal(s.frames, 8);
  assert.equal(s.blocks, 6);
  assert.equal(s.duplicates, 1);
  assert.equal(s.late, 1);
  assert.equal(s.missing, 2);
  assert.deepEqual(s.sensors, [
    {
      sensorId: 5,
      lastSeq: 4,
      frames: 6,
      gaps: 1,
      missing: 2,
      duplicates: 1,
      late: 1,
      restarts: 0,
    },
  ]);
});

test('backpressure: a full readable side holds the rest of the chunk and the write callback', async () => {
  const r = rng(13);
  const frames = Array.from({ length: 50 }, (_, i) => makeFrame(r, 1, i));
  const dec = new SerialFrameDecoder({ highWaterMark: 2 });
  let written = false;
  dec.write(Buffer.from(concat(frames.map((f) => f.packet))), () => {
    written = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(written, false, 'write callback held while nobody reads');
  assert.ok(dec.readableLength <= 3, `readable buffer ${dec.readableLength} blocks`);
  const seqs: number[] = [];
  dec.end();
  for await (const b of dec) seqs.push(b.seq);
  assert.equal(written, true);
  assert.deepEqual(
    seqs,
    frames.map((_, i) => i),
  );
});

test('bad input never errors or destroys the stream', async () => {
  const dec = new SerialFrameDecoder();
  const bad: BadFrameEvent[] = [];
  dec.on('bad-frame', (e) => bad.push(e));
  dec.on('error', () => assert.fail('no error event for bad input'));
  const frame = encodeFrame(
    {
      sensorId: 1,
      seq: 1,
      t0Us: 0n,
      sampleRate: 100,
      channels: 1,
      format: 'int16',
      scale: 1,
      rpm: 0,
    },
    Int16Array.of(1, 2),
  );
  const r = rng(1);
  for (let i = 0; i < 200; i++)
    dec.write(Buffer.from(Array.from({ length: 50 }, () => Math.floor(r() * 256))));
  dec.write(Buffer.from([0]));
  dec.write(Buffer.from(frame)); // a raw frame without COBS: holds 0x00, splits into bad packets
  dec.write(Buffer.from([0]));
  dec.write('a string is bytes too\0');
  dec.end();
  const blocks: SampleBlock[] = [];
  for await (const b of dec) blocks.push(b);
  assert.ok(bad.length > 3);
  assert.equal(dec.destroyed, true); // ended normally, after 'end'
  assert.equal(dec.errored, null);
});

test('decodePayload: one MQTT payload, the same verdicts and counters', () => {
  const r = rng(17);
  const tracker = new SequenceTracker();
  const counters = new LinkCounters();
  const f0 = makeFrame(r, 4, 10);
  const f2 = makeFrame(r, 4, 12);
  const raw0 = encodeFrame(f0.header, f0.samples);
  const raw2 = encodeFrame(f2.header, f2.samples);
  const a = decodePayload(raw0, tracker, counters);
  assert.equal(a.kind, 'block');
  assert.equal(a.kind === 'block' && a.block.seq, 10);
  const b = decodePayload(raw2, tracker, counters);
  assert.ok(b.kind === 'block' && b.block.gap === 1 && b.verdict === 'gap');
  const c = decodePayload(raw2, tracker, counters);
  assert.deepEqual(c, { kind: 'dropped', verdict: 'duplicate', sensorId: 4, seq: 12 });
  const damaged = raw0.slice();
  damaged[45] ^= 1;
  const d = decodePayload(damaged, tracker, counters);
  assert.ok(d.kind === 'bad' && d.reason === 'FL_ERR_FRAME_CRC' && d.bytes === raw0.length);
  const e = decodePayload(f0.packet, tracker, counters); // a COBS packet is not a payload
  assert.ok(e.kind === 'bad');
  const s = counters.snapshot(tracker);
  assert.equal(s.packets, 5);
  assert.equal(s.frames, 3);
  assert.equal(s.blocks, 2);
  assert.equal(s.duplicates, 1);
  assert.equal(s.missing, 1);
  assert.equal(s.badFrames, 2);
  assert.equal(s.bad.FL_ERR_FRAME_CRC, 1);
  assert.equal(s.bytes, 2 * raw0.length + 2 * raw2.length + f0.packet.length);
  // without counters it still decodes
  assert.equal(decodePayload(raw0, new SequenceTracker()).kind, 'block');
});

test('bad options are a TypeError at construction', () => {
  assert.throws(() => new SerialFrameDecoder({ maxFrameBytes: 70000 }), TypeError);
  assert.throws(() => new SerialFrameDecoder({ maxFrameBytes: 4 }), TypeError);
  assert.throws(() => new SerialFrameDecoder({ highWaterMark: 0 }), TypeError);
});

test('a shared tracker counts one sensor across two links', async () => {
  const r = rng(19);
  const tracker = new SequenceTracker();
  const d1 = new SerialFrameDecoder({ tracker });
  const d2 = new SerialFrameDecoder({ tracker });
  await runDecoder(d1, [makeFrame(r, 8, 1).packet]);
  await runDecoder(d2, [makeFrame(r, 8, 3).packet]);
  assert.equal(tracker.sensor(8)!.missing, 1);
  assert.equal(d1.stats().sensors[0].missing, 1);
});
