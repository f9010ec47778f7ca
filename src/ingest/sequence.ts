/**
 * Per-sensor sequence tracking, shared by the serial and MQTT links.
 *
 * Sequence numbers are uint32 and wrap (PROTOCOL.md, "Sequence numbers").
 * For each sensor the tracker keeps the last accepted seq and classifies the
 * next one by its forward distance d = (seq − last) mod 2^32:
 *
 * - d = 1: `next`; 2 ≤ d < 2^31: `gap`, d − 1 frames missing (counted and
 *   carried on the block as `gap`, never bridged);
 * - d = 0: `duplicate` (dropped);
 * - d ≥ 2^31, i.e. seq behind last: `late` (a reordered frame, dropped: the
 *   data path wants time order) when t0 did not move forward and it is at
 *   most `reorderWindow` behind; otherwise `restart` (the node rebooted and
 *   counts from 0 again): accepted, counted, gap 0.
 *
 * State is kept for at most `maxSensors` sensors: a link that brings more
 * (a faulty or hostile node sending valid frames under random ids) gets
 * `refused` for every new one, so its memory stays bounded.
 */

export type SequenceVerdict =
  | 'first'
  | 'next'
  | 'gap'
  | 'duplicate'
  | 'late'
  | 'restart'
  | 'refused';

/** What the tracker knows of one sensor. Counts since the tracker was made. */
export interface SensorSequenceStats {
  sensorId: number;
  /** Last accepted sequence number. */
  lastSeq: number;
  /** Frames accepted (first, next, gap, restart). */
  frames: number;
  /** Forward jumps (d ≥ 2). */
  gaps: number;
  /** Sequence numbers skipped by those jumps, in total. */
  missing: number;
  /** Repeated sequence numbers (dropped). */
  duplicates: number;
  /** Frames behind the last accepted one (dropped). */
  late: number;
  /** Restarts of the sender's numbering (accepted). */
  restarts: number;
}

export interface SequenceObservation {
  verdict: SequenceVerdict;
  /** Sequence numbers missing just before this frame (0 unless `gap`). */
  missing: number;
  /** False for `duplicate` and `late`: the block should not be passed on. */
  accept: boolean;
}

export interface SequenceTrackerOptions {
  /** How far behind (frames) a frame may be to count as late rather than a restart. Default 64. */
  reorderWindow?: number;
  /** Sensors with state at most; frames of further ones are `refused`. Default 4096. */
  maxSensors?: number;
}

interface SensorState extends SensorSequenceStats {
  lastT0Us: bigint;
}

const HALF = 0x80000000;

export class SequenceTracker {
  readonly #window: number;
  readonly #maxSensors: number;
  readonly #sensors = new Map<number, SensorState>();
  /** Frames of sensors beyond maxSensors, refused. */
  refused = 0;

  constructor(opts: SequenceTrackerOptions = {}) {
    const w = opts.reorderWindow ?? 64;
    if (!Number.isInteger(w) || w < 0 || w >= HALF) {
      throw new TypeError(`reorderWindow ${w} must be an integer in [0, 2^31)`);
    }
    this.#window = w;
    const max = opts.maxSensors ?? 4096;
    if (!Number.isInteger(max) || max < 1) {
      throw new TypeError(`maxSensors ${max} must be a positive integer`);
    }
    this.#maxSensors = max;
  }

  /**
   * Classify frame `seq` (uint32) of `sensorId`, with its first-sample time
   * `t0Us`, and update the counts. Accepted frames become the new last.
   */
  observe(sensorId: number, seq: number, t0Us: bigint): SequenceObservation {
    const s = this.#sensors.get(sensorId);
    if (s === undefined) {
      if (this.#sensors.size >= this.#maxSensors) {
        this.refused++;
        return { verdict: 'refused', missing: 0, accept: false };
      }
      this.#sensors.set(sensorId, {
        sensorId,
        lastSeq: seq,
        lastT0Us: t0Us,
        frames: 1,
        gaps: 0,
        missing: 0,
        duplicates: 0,
        late: 0,
        restarts: 0,
      });
      return { verdict: 'first', missing: 0, accept: true };
    }
    const d = (seq - s.lastSeq) >>> 0;
    let verdict: SequenceVerdict;
    let missing = 0;
    if (d === 0) {
      s.duplicates++;
      return { verdict: 'duplicate', missing: 0, accept: false };
    }
    if (d < HALF) {
      missing = d - 1;
      verdict = missing === 0 ? 'next' : 'gap';
      if (missing > 0) {
        s.gaps++;
        s.missing += missing;
      }
    } else if (t0Us <= s.lastT0Us && 0x100000000 - d <= this.#window) {
      s.late++;
      return { verdict: 'late', missing: 0, accept: false };
    } else {
      verdict = 'restart';
      s.restarts++;
    }
    s.frames++;
    s.lastSeq = seq;
    s.lastT0Us = t0Us;
    return { verdict, missing, accept: true };
  }

  /** Snapshot of every sensor seen, by ascending sensorId. */
  stats(): SensorSequenceStats[] {
    return [...this.#sensors.values()]
      .sort((a, b) => a.sensorId - b.sensorId)
      .map(({ lastT0Us: _t0, ...rest }) => rest);
  }

  /** Snapshot of one sensor, undefined when never seen. */
  sensor(sensorId: number): SensorSequenceStats | undefined {
    const s = this.#sensors.get(sensorId);
    if (s === undefined) return undefined;
    const { lastT0Us: _t0, ...rest } = s;
    return rest;
  }

  /** Forget every sensor (e.g. after the link was reopened). */
  reset(): void {
    this.#sensors.clear();
  }
}
