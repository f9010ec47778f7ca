/**
 * Shared bits of the link tests: record what a simulated sensor sent and
 * compare it with what a source delivered.
 */
import assert from 'node:assert/strict';
import type { IngestedBlock, IngestSource } from '../../src/ingest/source.js';
import type { SampleSource, SentFrame } from '../../src/sim/sensor-stream.js';

/** A deterministic, non-trivial test signal: a sine plus a seeded ramp, in g. */
export function testSignal(seed: number, amplitudeG = 2): SampleSource {
  let n = 0;
  return {
    next(k: number): Float32Array {
      const out = new Float32Array(k);
      for (let i = 0; i < k; i++, n++) {
        out[i] =
          amplitudeG * Math.sin(2 * Math.PI * 0.0137 * n + seed) + 0.001 * ((n * 7 + seed) % 101);
      }
      return out;
    },
  };
}

/** Key of a frame: sensor and sequence number. */
export const frameKey = (sensorId: number, seq: number) => `${sensorId}:${seq}`;

/** Collects `n` blocks from a source (or rejects after `timeoutMs`, default 60 s, naming what did arrive). */
export async function collect(
  source: IngestSource,
  n: number,
  timeoutMs = 60_000,
): Promise<IngestedBlock[]> {
  const got: IngestedBlock[] = [];
  if (n === 0) return got;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      source.off('data', onData);
      reject(
        new Error(
          `timed out after ${timeoutMs} ms with ${got.length}/${n} blocks; stats ${JSON.stringify(source.stats())}`,
        ),
      );
    }, timeoutMs);
    const onData = (b: IngestedBlock) => {
      got.push(b);
      if (got.length >= n) {
        clearTimeout(timer);
        source.off('data', onData);
        resolve(got);
      }
    };
    source.on('data', onData);
  });
}

/** Asserts a received block equals what was sent: header fields and every sample, exactly. */
export function assertSameFrame(got: IngestedBlock, sent: SentFrame): void {
  assert.equal(got.sensorId, sent.header.sensorId);
  assert.equal(got.seq, sent.header.seq);
  assert.equal(got.t0Us, sent.header.t0Us);
  assert.equal(got.sampleRate, Math.fround(sent.header.sampleRate));
  assert.equal(got.channels, 1);
  if (sent.header.rpm > 0)
    assert.ok(Math.abs((got.rpm ?? Number.NaN) - sent.header.rpm) <= 1e-3 * sent.header.rpm);
  assert.equal(got.samples.length, sent.samples.length);
  // the decoded value is q·scale in float32: compare bit-exact with what we encoded
  for (let i = 0; i < sent.samples.length; i++) {
    if (got.samples[i] !== sent.samples[i]) {
      assert.fail(
        `sensor ${got.sensorId} seq ${got.seq} sample ${i}: got ${got.samples[i]}, sent ${sent.samples[i]}`,
      );
    }
  }
}

/** Waits until `pred()` holds, polling every 10 ms; rejects after `timeoutMs` (default 60 s). */
export async function waitFor(
  pred: () => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
