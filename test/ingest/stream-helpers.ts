/** Helpers shared by the decoder tests: deterministic frames and a collecting run. */

import type { SampleBlock, SampleFormat } from '../../src/contract/sample-block.js';
import type { BadFrameEvent, SerialFrameDecoder } from '../../src/ingest/decoder.js';
import {
  encodeSerialPacket,
  type FrameHeaderInit,
  type RawSamples,
} from '../../src/ingest/frame.js';

/** xorshift32 in [0, 1): deterministic test randomness. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

export interface TestFrame {
  header: FrameHeaderInit;
  samples: RawSamples;
  packet: Uint8Array;
}

/** A small realistic frame: int16 vibration-like values, or int32/float32. */
export function makeFrame(
  rand: () => number,
  sensorId: number,
  seq: number,
  format: SampleFormat = 'int16',
  count = 8 + Math.floor(rand() * 120),
  channels = 1 + Math.floor(rand() * 3),
): TestFrame {
  const n = count * channels;
  const samples =
    format === 'int16'
      ? Int16Array.from({ length: n }, (_, i) =>
          Math.round(800 * Math.sin(i * 0.3) + (rand() - 0.5) * 200),
        )
      : format === 'int32'
        ? Int32Array.from({ length: n }, () => Math.round((rand() - 0.5) * 2 ** 20))
        : Float32Array.from({ length: n }, () => (rand() - 0.5) * 4);
  const header: FrameHeaderInit = {
    sensorId,
    seq,
    t0Us: 1_700_000_000_000_000n + BigInt(seq) * 10_000n,
    sampleRate: 12800,
    channels,
    format,
    scale: format === 'float32' ? 1 : 0.000061,
    rpm: rand() < 0.5 ? 0 : 1480,
  };
  return { header, samples, packet: encodeSerialPacket(header, samples) };
}

export interface Collected {
  blocks: SampleBlock[];
  bad: BadFrameEvent[];
}

/** Write `chunks` into `dec`, end it and collect everything it emits. */
export async function runDecoder(
  dec: SerialFrameDecoder,
  chunks: Iterable<Uint8Array>,
): Promise<Collected> {
  const out: Collected = { blocks: [], bad: [] };
  dec.on('bad-frame', (e) => out.bad.push(e));
  dec.on('data', (b) => out.blocks.push(b));
  const ended = new Promise<void>((resolve, reject) => {
    dec.on('end', resolve);
    dec.on('error', reject);
  });
  for (const c of chunks) dec.write(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
  dec.end();
  await ended;
  return out;
}

export { concat } from '../support/bytes.js';
