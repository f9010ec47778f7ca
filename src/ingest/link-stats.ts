/**
 * Counters of one ingest link (a serial port, an MQTT subscription), the same
 * for both so the gateway status reports them alike.
 */
import { FRAME_ERROR_CODES, type FrameErrorCode } from './frame.js';
import type { SensorSequenceStats, SequenceTracker } from './sequence.js';

/** A snapshot of a link's counters (plain data: JSON-serialisable). */
export interface LinkStats {
  /** Bytes received (serial: raw stream bytes; MQTT: payload bytes). */
  bytes: number;
  /** Packets / payloads seen, bad ones included; empty serial packets excluded. */
  packets: number;
  /** Frames that passed every check. */
  frames: number;
  /** Blocks passed on (frames minus dropped duplicates and late frames). */
  blocks: number;
  /** Packets refused, all reasons. */
  badFrames: number;
  /** Packets refused, by reason (every code present, 0 when none). */
  bad: Record<FrameErrorCode, number>;
  /** Serial packets longer than the maximum, discarded up to the next 0x00
   * (also counted in `bad.FL_ERR_FRAME_LENGTH`). */
  oversize: number;
  /** Frames dropped as duplicates (same seq again). */
  duplicates: number;
  /** Frames dropped as late (behind the last accepted seq). */
  late: number;
  /** Frames dropped because the link already keeps state for as many sensors as it may. */
  refused: number;
  /** Sequence numbers missing across all sensors. */
  missing: number;
  /** Per-sensor sequence statistics, by sensorId. */
  sensors: SensorSequenceStats[];
}

/** Mutable counters; {@link LinkCounters.snapshot} copies them out. */
export class LinkCounters {
  bytes = 0;
  packets = 0;
  frames = 0;
  blocks = 0;
  badFrames = 0;
  oversize = 0;
  duplicates = 0;
  late = 0;
  refused = 0;
  missing = 0;
  readonly bad: Record<FrameErrorCode, number> = Object.fromEntries(
    FRAME_ERROR_CODES.map((c) => [c, 0]),
  ) as Record<FrameErrorCode, number>;

  /** Count one refused packet. */
  countBad(reason: FrameErrorCode): void {
    this.badFrames++;
    this.bad[reason]++;
  }

  /** A copy of the counters, with the tracker's per-sensor view. */
  snapshot(tracker: SequenceTracker): LinkStats {
    return {
      bytes: this.bytes,
      packets: this.packets,
      frames: this.frames,
      blocks: this.blocks,
      badFrames: this.badFrames,
      bad: { ...this.bad },
      oversize: this.oversize,
      duplicates: this.duplicates,
      late: this.late,
      refused: this.refused,
      missing: this.missing,
      sensors: tracker.stats(),
    };
  }
}
