/**
 * The sensor side of a link, in software: turns sample sources (the synthetic
 * generator or a replayed recording) into frames, paced like a real sensor,
 * and hands them to a sink (a serial port or an MQTT client).
 *
 * Pacing is drift-free: frame k of every sensor is due at
 * `start + k · frameSamples / sampleRate / speed` on the clock, computed from
 * k rather than by adding up sleeps, so timer jitter never accumulates. When
 * the sink is slower than the schedule (backpressure), the stream waits for
 * it and then catches up without sleeping — it never drops frames to keep
 * time. Sensor timestamps (`t0Us`) advance in signal time, independent of
 * `speed`, as a real sensor's clock would.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SampleFormat } from '../contract/sample-block.js';
import type { FrameHeaderInit } from '../ingest/frame.js';
import type { LinkByteFault, LinkFaultInjector } from './fault-injection.js';

/** Anything that yields consecutive samples (g) of one channel. */
export interface SampleSource {
  next(nSamples: number): Float32Array;
}

/** A milliseconds clock; injectable so pacing can be tested without waiting. */
export interface Clock {
  /** Monotonic time, ms. */
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: async (ms, signal) => {
    try {
      await sleep(ms, undefined, { signal });
    } catch {
      // aborted: the stream loop checks the signal itself
    }
  },
};

/** Where frames go. */
export interface FrameSink {
  /** Bytes at the end of each unit that faults must not touch (the serial delimiter: 1). */
  readonly protectTail: number;
  /** Encodes one frame as this link carries it (COBS packet or raw frame). */
  encode(header: FrameHeaderInit, samples: Int16Array | Float32Array): Uint8Array;
  /** Sends one unit; resolves when the sink can take the next (backpressure). */
  send(sensorId: number, bytes: Uint8Array): Promise<void>;
  /** Drops the link and brings it back (the `disconnect` fault). */
  drop?(): Promise<void>;
  close(): Promise<void>;
}

export interface StreamSensor {
  sensorId: number;
  source: SampleSource;
  /** Shaft speed reported in the frame header, rpm (0 or undefined: unknown); a function is asked once per frame. */
  rpm?: number | (() => number);
}

/** What was sent, as a perfect receiver would decode it. */
export interface SentFrame {
  header: FrameHeaderInit;
  /** Samples in g after quantisation — exactly what the decoder must return. */
  samples: Float32Array;
  /** Faults injected into this frame's bytes (a non-empty list means it is lost). */
  faults: LinkByteFault[];
  bytes: number;
}

export interface SensorStreamOptions {
  sensors: StreamSensor[];
  /** Samples per second per sensor, Hz. */
  sampleRate: number;
  /** Samples per frame. Default 512. */
  frameSamples?: number;
  /** Wire format of samples. Default int16. */
  format?: Extract<SampleFormat, 'int16' | 'float32'>;
  /** int16 full scale, g: scale = fullScaleG / 32768 g/LSB. Default 16 (a power of two keeps the scale exact). */
  fullScaleG?: number;
  /** Real-time multiple; Infinity streams as fast as the sink takes it. Default 1. */
  speed?: number;
  /** Stop after this much signal time per sensor, s (wall time = durationS / speed). */
  durationS?: number;
  /** Stop after this many frames per sensor. */
  maxFrames?: number;
  sink: FrameSink;
  faults?: LinkFaultInjector;
  clock?: Clock;
  signal?: AbortSignal;
  /** Sensor clock at the first sample, µs since the epoch. Default: now. */
  t0Us?: bigint;
  /** Sequence number of the first frame. Default 0. */
  firstSeq?: number;
  /** Called for every frame sent (tests record these to compare with what arrives). */
  onFrame?(frame: SentFrame): void;
}

export interface SensorStreamResult {
  /** Frames sent over all sensors. */
  frames: number;
  bytes: number;
  /** Frames that left with injected byte faults. */
  corrupted: number;
  /** Link drops injected. */
  disconnects: number;
  elapsedMs: number;
  /** Worst lateness behind the schedule, ms (backpressure or a slow machine). */
  maxLateMs: number;
}

/** Scale for a format: g per LSB (int16) or 1 (float32). */
export function formatScale(format: 'int16' | 'float32', fullScaleG = 16): number {
  return format === 'int16' ? fullScaleG / 32768 : 1;
}

/**
 * Quantises g values to the wire format into `out` and writes the values a
 * decoder will reconstruct into `decoded` (float32 of q · scale, as PROTOCOL.md
 * defines). int16 saturates at ±full scale.
 */
export function quantise(
  x: Float32Array,
  out: Int16Array | Float32Array,
  scale: number,
  decoded?: Float32Array,
): void {
  if (out instanceof Float32Array) {
    out.set(x);
    decoded?.set(x);
    return;
  }
  const s = Math.fround(scale);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const q = Number.isNaN(v) ? 0 : Math.max(-32768, Math.min(32767, Math.round(v / s)));
    out[i] = q;
    if (decoded) decoded[i] = q * s;
  }
}

/** Loops over a recorded signal forever (for `--replay`). */
export function replaySource(samples: Float32Array): SampleSource {
  if (samples.length === 0) throw new TypeError('replaySource: the recording has no samples');
  let pos = 0;
  return {
    next(n: number): Float32Array {
      const out = new Float32Array(n);
      for (let i = 0; i < n; ) {
        const take = Math.min(n - i, samples.length - pos);
        out.set(samples.subarray(pos, pos + take), i);
        i += take;
        pos = (pos + take) % samples.length;
      }
      return out;
    },
  };
}

/** Streams frames from all sensors into the sink until duration, frame limit or abort. */
export async function runSensorStream(o: SensorStreamOptions): Promise<SensorStreamResult> {
  const frameSamples = o.frameSamples ?? 512;
  const format = o.format ?? 'int16';
  const speed = o.speed ?? 1;
  const clock = o.clock ?? systemClock;
  if (o.sensors.length === 0) throw new TypeError('runSensorStream: no sensors');
  if (!(o.sampleRate > 0))
    throw new TypeError(`runSensorStream: sampleRate must be > 0 Hz, got ${o.sampleRate}`);
  if (!(Number.isInteger(frameSamples) && frameSamples >= 1)) {
    throw new TypeError(
      `runSensorStream: frameSamples must be an integer ≥ 1, got ${frameSamples}`,
    );
  }
  if (!(speed > 0)) throw new TypeError(`runSensorStream: speed must be > 0, got ${speed}`);
  const scale = formatScale(format, o.fullScaleG);
  const framePeriodUs = (frameSamples * 1e6) / o.sampleRate;
  const framePeriodMs = framePeriodUs / 1000 / speed;
  let limit = o.maxFrames ?? Number.POSITIVE_INFINITY;
  if (o.durationS !== undefined)
    limit = Math.min(limit, Math.ceil((o.durationS * o.sampleRate) / frameSamples));
  const t0Us = o.t0Us ?? BigInt(Date.now()) * 1000n;
  const firstSeq = o.firstSeq ?? 0;
  // one wire buffer per stream, reused: encode() copies it into the frame
  const wire = format === 'int16' ? new Int16Array(frameSamples) : new Float32Array(frameSamples);

  const res: SensorStreamResult = {
    frames: 0,
    bytes: 0,
    corrupted: 0,
    disconnects: 0,
    elapsedMs: 0,
    maxLateMs: 0,
  };
  const start = clock.now();
  const dropEveryMs =
    o.faults?.spec.disconnectEveryS !== undefined
      ? o.faults.spec.disconnectEveryS * 1000
      : undefined;
  let nextDrop = dropEveryMs !== undefined ? start + dropEveryMs : Number.POSITIVE_INFINITY;

  for (let k = 0; k < limit && !o.signal?.aborted; k++) {
    if (Number.isFinite(speed)) {
      const due = start + k * framePeriodMs;
      const wait = due - clock.now();
      if (wait > 0) await clock.sleep(wait, o.signal);
      else res.maxLateMs = Math.max(res.maxLateMs, -wait);
      if (o.signal?.aborted) break;
    }
    if (clock.now() >= nextDrop && o.sink.drop) {
      await o.sink.drop();
      res.disconnects++;
      nextDrop = clock.now() + (dropEveryMs ?? 0);
    }
    const seq = (firstSeq + k) >>> 0;
    const frameT0 = t0Us + BigInt(Math.round(k * framePeriodUs));
    for (const s of o.sensors) {
      const x = s.source.next(frameSamples);
      if (x.length !== frameSamples) {
        throw new TypeError(
          `runSensorStream: sensor ${s.sensorId} source gave ${x.length} samples, wanted ${frameSamples}`,
        );
      }
      const decoded = o.onFrame ? new Float32Array(frameSamples) : undefined;
      quantise(x, wire, scale, decoded);
      const header: FrameHeaderInit = {
        sensorId: s.sensorId,
        seq,
        t0Us: frameT0,
        sampleRate: o.sampleRate,
        channels: 1,
        format,
        scale,
        sampleCount: frameSamples,
        rpm: typeof s.rpm === 'function' ? s.rpm() : (s.rpm ?? 0),
      };
      let bytes = o.sink.encode(header, wire);
      let faults: LinkByteFault[] = [];
      if (o.faults) ({ bytes, faults } = o.faults.apply(bytes, o.sink.protectTail));
      if (faults.length > 0) res.corrupted++;
      await o.sink.send(s.sensorId, bytes);
      res.frames++;
      res.bytes += bytes.length;
      if (o.onFrame && decoded)
        o.onFrame({ header, samples: decoded, faults, bytes: bytes.length });
    }
  }
  res.elapsedMs = clock.now() - start;
  return res;
}
