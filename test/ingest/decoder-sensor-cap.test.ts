/**
 * A serial node that sends valid frames under ever new sensor ids (a faulty
 * or hostile firmware): the decoder keeps sequence state for a bounded
 * number of sensors, counts the rest as refused, and keeps decoding the
 * sensors it knows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialFrameDecoder } from '../../src/ingest/decoder.js';
import { SequenceTracker } from '../../src/ingest/sequence.js';
import { makeFrame, rng, runDecoder } from './stream-helpers.js';

test('50,000 distinct sensor ids on one serial link: state for 64, the rest refused, sensor 1 still decoded', async () => {
  const rand = rng(7);
  const dec = new SerialFrameDecoder({ tracker: new SequenceTracker({ maxSensors: 64 }) });
  const packets: Uint8Array[] = [];
  let seq1 = 0;
  for (let i = 0; i < 50_000; i++) {
    packets.push(makeFrame(rand, 1000 + i, 0, 'int16', 8, 1).packet);
    if (i % 1000 === 0) packets.push(makeFrame(rand, 1, seq1++, 'int16', 8, 1).packet);
  }
  const out = await runDecoder(dec, packets);
  const stats = dec.stats();
  assert.equal(stats.sensors.length, 64);
  // sensor 1 (sent second) and the first 63 new ids got state
  assert.equal(stats.refused, 50_000 - 63);
  assert.equal(out.blocks.filter((b) => b.sensorId === 1).length, 50, 'the known sensor flows');
  assert.equal(out.bad.length, 0, 'valid frames are refused, not bad');
});
