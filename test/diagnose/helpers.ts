/** Blocks as a source would yield them, cut from a signal. */
import type { IngestedBlock } from '../../src/ingest/source.js';

export interface BlockOptions {
  fs?: number;
  /** Frames per block; default 512. */
  frames?: number;
  rpm?: number;
  /** µs of the first sample; default 1.7e15 (2023). */
  t0Us?: bigint;
  /** First sequence number; default 0. */
  seq?: number;
}

export function toBlocks(x: Float32Array, o: BlockOptions = {}): IngestedBlock[] {
  const fs = o.fs ?? 12000;
  const frames = o.frames ?? 512;
  const t0 = o.t0Us ?? 1_700_000_000_000_000n;
  const out: IngestedBlock[] = [];
  for (let i = 0, k = 0; i < x.length; i += frames, k++) {
    out.push({
      sensorId: 1,
      seq: (o.seq ?? 0) + k,
      t0Us: t0 + BigInt(Math.round((i * 1e6) / fs)),
      sampleRate: fs,
      channels: 1,
      samples: x.slice(i, Math.min(x.length, i + frames)),
      ...(o.rpm !== undefined ? { rpm: o.rpm } : {}),
      gap: 0,
      origin: { link: 'serial', path: '/dev/null' },
    });
  }
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
