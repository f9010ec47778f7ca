/**
 * Ingest decoding throughput on one core: a long serial capture of realistic
 * frames (12.8 kHz int16, one channel, 256–1024 samples a frame: a vibration
 * tone plus noise at ~0.5 g) through SerialFrameDecoder in 64 KiB chunks
 * (COBS split and decode, CRC-32C, sample conversion, sequence tracking,
 * objectMode push), and the same frames through decodeFrame alone.
 * MB are 10^6 bytes of wire data.
 */
import { SerialFrameDecoder } from '../../src/ingest/decoder.js';
import { decodeFrame, encodeFrame, encodeSerialPacket } from '../../src/ingest/frame.js';

export const name = 'decoder';

const TARGET_BYTES = 24e6;
const CHUNK = 64 * 1024;

function makeCapture(): { frames: Uint8Array[]; stream: Buffer } {
  let x = 12345;
  const noise = () => {
    x = (x * 1664525 + 1013904223) >>> 0;
    return x / 2 ** 32 - 0.5;
  };
  const frames: Uint8Array[] = [];
  const packets: Uint8Array[] = [];
  let bytes = 0;
  let t = 0;
  for (let seq = 0; bytes < TARGET_BYTES; seq++) {
    const count = 256 + ((seq * 97) % 769);
    const s = new Int16Array(count);
    for (let i = 0; i < count; i++, t++) {
      const g =
        0.4 * Math.sin((2 * Math.PI * 29.6 * t) / 12800) +
        0.1 * Math.sin((2 * Math.PI * 162 * t) / 12800) +
        0.05 * noise();
      s[i] = Math.round(g / 0.000061);
    }
    const h = {
      sensorId: 1,
      seq,
      t0Us: 1_700_000_000_000_000n + BigInt(Math.round((t - count) * 78.125)),
      sampleRate: 12800,
      channels: 1,
      format: 'int16' as const,
      scale: 0.000061,
      rpm: 1776,
    };
    frames.push(encodeFrame(h, s));
    const p = encodeSerialPacket(h, s);
    packets.push(p);
    bytes += p.length;
  }
  return { frames, stream: Buffer.concat(packets) };
}

async function decodeStream(stream: Buffer): Promise<number> {
  const dec = new SerialFrameDecoder();
  let blocks = 0;
  dec.on('data', () => blocks++);
  const done = new Promise<void>((resolve) => dec.on('end', resolve));
  for (let at = 0; at < stream.length; at += CHUNK) {
    if (!dec.write(stream.subarray(at, at + CHUNK))) {
      await new Promise((resolve) => dec.once('drain', resolve));
    }
  }
  dec.end();
  await done;
  if (dec.stats().badFrames !== 0) throw new Error('bench capture decoded with errors');
  return blocks;
}

export async function run(): Promise<Record<string, number>> {
  const { frames, stream } = makeCapture();
  const rawBytes = frames.reduce((n, f) => n + f.length, 0);

  await decodeStream(stream.subarray(0, stream.indexOf(0, 2e6) + 1)); // warm-up, whole packets
  let best = 0;
  let blocks = 0;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    blocks = await decodeStream(stream);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, stream.length / 1e6 / s);
  }

  for (let i = 0; i < 200; i++) decodeFrame(frames[i]);
  let bestFrame = 0;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    for (const f of frames) decodeFrame(f);
    const s = (performance.now() - t0) / 1000;
    bestFrame = Math.max(bestFrame, rawBytes / 1e6 / s);
  }

  return {
    decoder_mb_per_s: best,
    decoder_frames_per_s: (best * 1e6 * blocks) / stream.length,
    decode_frame_mb_per_s: bestFrame,
    capture_mb: stream.length / 1e6,
  };
}
