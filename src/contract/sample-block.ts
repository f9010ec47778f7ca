/**
 * The hand-off from ingestion to the pipeline: a block of samples, whatever
 * link it came over (serial or MQTT; firmware-bridge/PROTOCOL.md).
 */
import { z } from 'zod';

/** Sample encodings a sensor node may send (see firmware-bridge/PROTOCOL.md). */
export const sampleFormatSchema = z.enum(['int16', 'int32', 'float32']);
export type SampleFormat = z.infer<typeof sampleFormatSchema>;

/**
 * A block of samples as it leaves ingestion: link-agnostic (serial or MQTT).
 * `samples` are in g, channel-interleaved: `[s0c0, s0c1, …, s1c0, …]`.
 * In-process only (bigint and Float32Array have no JSON form).
 */
export const sampleBlockSchema = z.object({
  /** Sensor id from the frame header (unique within a site). */
  sensorId: z.number().int().min(0),
  /** Frame sequence number (uint32, wraps). */
  seq: z.number().int().min(0),
  /** Timestamp of the first sample, µs since the Unix epoch (sensor clock). */
  t0Us: z.bigint(),
  /** Samples per second per channel, Hz. */
  sampleRate: z.number().positive(),
  /** Number of interleaved channels (≥ 1). */
  channels: z.number().int().min(1),
  /** Samples in g, channel-interleaved, length = frames × channels. */
  samples: z.custom<Float32Array>((v) => v instanceof Float32Array, 'must be a Float32Array'),
  /** Shaft speed in rpm reported by the node, or undefined when unknown. */
  rpm: z.number().optional(),
  /** Sequence numbers missing just before this block (0 when contiguous). */
  gap: z.number().int().min(0),
});
export type SampleBlock = z.infer<typeof sampleBlockSchema>;
