/** A small valid int16 frame for MQTT tests: 12 kHz, one channel, ±16 g full scale. */
import { encodeFrame } from '../../src/ingest/frame.js';

export interface TestFrameOptions {
  /** Samples in the frame (default 64). */
  samples?: number;
  /** Start time step per sequence number, µs (default 1000). */
  t0StepUs?: bigint;
  /** Value every sample holds (default 0). */
  fill?: number;
}

export function testFrame(sensorId: number, seq: number, o: TestFrameOptions = {}): Buffer {
  return Buffer.from(
    encodeFrame(
      {
        sensorId,
        seq,
        t0Us: BigInt(seq) * (o.t0StepUs ?? 1000n),
        sampleRate: 12_000,
        channels: 1,
        format: 'int16',
        scale: 16 / 32768,
        rpm: 0,
      },
      new Int16Array(o.samples ?? 64).fill(o.fill ?? 0),
    ),
  );
}
