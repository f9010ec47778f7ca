/**
 * Link faults for tests and demos: what a noisy cable, a flaky radio or a
 * rebooting sensor does to the byte stream.
 *
 * Rates are **per frame** (not per byte, so a rate means the same thing for a
 * 100-byte and a 4 kB frame): `bitflip=0.01` flips one random bit in 1 % of the
 * frames. Each fault kind is drawn independently per frame, so one frame may
 * get several. A protected tail (the serial packet's 0x00 delimiter) is never
 * touched, so a corrupted serial packet stays one packet and never merges with
 * its neighbour — every corrupted frame is lost, no intact one is.
 */
import { FaultlineError } from '../errors.js';
import { Rng } from './rng.js';

export type LinkByteFault = 'bitflip' | 'drop' | 'dup' | 'truncate';
export const LINK_BYTE_FAULTS: readonly LinkByteFault[] = ['bitflip', 'drop', 'dup', 'truncate'];

/** Per-frame fault probabilities (0…1) and the link-drop period. */
export interface LinkFaultSpec {
  /** Flip one random bit. */
  bitflip: number;
  /** Delete one random byte. */
  drop: number;
  /** Repeat one random byte. */
  dup: number;
  /** Cut the frame short at a random point (the delimiter still follows). */
  truncate: number;
  /** Drop the link every this many seconds of wall time (undefined: never). */
  disconnectEveryS?: number;
}

export const NO_LINK_FAULTS: LinkFaultSpec = { bitflip: 0, drop: 0, dup: 0, truncate: 0 };

/** Parses a duration `30s`, `500ms`, `2m` or a bare number of seconds → seconds. */
export function parseDurationS(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) {
    throw new FaultlineError(
      'FL_ERR_SIM_LINK_FAULT',
      `duration ${JSON.stringify(text)} is invalid: write e.g. 30s, 500ms or 2m`,
    );
  }
  const v = Number(m[1]);
  return m[2] === 'ms' ? v / 1000 : m[2] === 'm' ? v * 60 : v;
}

/**
 * Parses `bitflip=0.01,drop=0.001,dup=0.001,truncate=0.001,disconnect=30s`.
 * Unnamed kinds are 0; an empty string means no faults.
 */
export function parseLinkFaultSpec(text: string): LinkFaultSpec {
  const spec: LinkFaultSpec = { ...NO_LINK_FAULTS };
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue;
    const [key, value, extra] = part.split('=');
    if (value === undefined || extra !== undefined) {
      throw new FaultlineError(
        'FL_ERR_SIM_LINK_FAULT',
        `fault ${JSON.stringify(part)} is not key=value (e.g. bitflip=0.01)`,
      );
    }
    if (key === 'disconnect') {
      spec.disconnectEveryS = parseDurationS(value);
      if (!(spec.disconnectEveryS > 0)) {
        throw new FaultlineError('FL_ERR_SIM_LINK_FAULT', `disconnect period ${value} must be > 0`);
      }
      continue;
    }
    if (!(LINK_BYTE_FAULTS as readonly string[]).includes(key)) {
      throw new FaultlineError(
        'FL_ERR_SIM_LINK_FAULT',
        `unknown fault ${JSON.stringify(key)}: use bitflip, drop, dup, truncate or disconnect`,
      );
    }
    const p = Number(value);
    if (!(p >= 0 && p <= 1)) {
      throw new FaultlineError(
        'FL_ERR_SIM_LINK_FAULT',
        `fault rate ${key}=${value} must be a probability in 0…1`,
      );
    }
    spec[key as LinkByteFault] = p;
  }
  return spec;
}

/** Counts of what an injector did. */
export interface LinkFaultCounts {
  /** Frames seen. */
  frames: number;
  /** Frames that got at least one byte fault (all of them are lost downstream). */
  corrupted: number;
  bitflip: number;
  drop: number;
  dup: number;
  truncate: number;
}

/** Seeded byte-fault injector; deterministic for a given seed and frame sequence. */
export class LinkFaultInjector {
  readonly spec: LinkFaultSpec;
  private readonly rng: Rng;
  private readonly c: LinkFaultCounts = {
    frames: 0,
    corrupted: 0,
    bitflip: 0,
    drop: 0,
    dup: 0,
    truncate: 0,
  };

  constructor(spec: LinkFaultSpec, seed = 1) {
    for (const k of LINK_BYTE_FAULTS) {
      if (!(spec[k] >= 0 && spec[k] <= 1))
        throw new TypeError(`fault rate ${k}=${spec[k]} is not in 0…1`);
    }
    this.spec = spec;
    // its own sub-stream: the fault pattern must not shift the signal's noise
    this.rng = new Rng(seed, 0xfa17);
  }

  counts(): LinkFaultCounts {
    return { ...this.c };
  }

  /**
   * Applies this frame's faults. Returns `bytes` itself when nothing happened
   * (no copy in the common case), else a new array.
   * @param protectTail bytes at the end that stay intact (1 for a serial packet's delimiter)
   * @returns the bytes to send and the faults applied
   */
  apply(bytes: Uint8Array, protectTail = 0): { bytes: Uint8Array; faults: LinkByteFault[] } {
    this.c.frames++;
    const faults: LinkByteFault[] = [];
    for (const k of LINK_BYTE_FAULTS)
      if (this.spec[k] > 0 && this.rng.uniform() < this.spec[k]) faults.push(k);
    const bodyLen = bytes.length - protectTail;
    if (faults.length === 0 || bodyLen < 2) return { bytes, faults: [] };
    let body = Array.from(bytes.subarray(0, bodyLen));
    const tail = bytes.subarray(bodyLen);
    const pick = () => Math.floor(this.rng.uniform() * body.length);
    for (const f of faults) {
      this.c[f]++;
      if (f === 'bitflip') {
        const i = pick();
        body[i] ^= 1 << Math.floor(this.rng.uniform() * 8);
      } else if (f === 'drop') {
        body.splice(pick(), 1);
      } else if (f === 'dup') {
        const i = pick();
        body.splice(i, 0, body[i]);
      } else {
        // keep at least one byte so the packet is not simply absent
        body = body.slice(0, 1 + Math.floor(this.rng.uniform() * (body.length - 1)));
      }
    }
    this.c.corrupted++;
    const out = new Uint8Array(body.length + tail.length);
    out.set(body);
    out.set(tail, body.length);
    return { bytes: out, faults };
  }
}
