/**
 * The Modbus register map of the gateway's Modbus TCP server (docs/modbus.md
 * is the table PLC programmers script against; a test checks the two agree).
 * Holding registers (FC 3) and input registers (FC 4) carry the same words, so
 * a PLC reads whichever its function blocks support. All values are unsigned
 * 16-bit words; "none" is 0xFFFF where a value can be absent.
 *
 *   address  0 … 9                     gateway header (HEADER)
 *   address  BLOCK_BASE + i·BLOCK_SIZE  block of the i-th configured machine (BLOCK),
 *            … + BLOCK_SIZE − 1         in the configuration's order
 *
 * Any other address (10 … 99, past the last block) is illegal: a read that
 * touches one is answered with exception 02 (illegal data address). The map
 * is read-only: writes are answered with exception 01 (illegal function).
 */
import type { HealthState, IsoZone, MachineState } from './health.js';
import type { MachineMetrics } from './metrics.js';

/** Bumped when a register moves or changes meaning (header word 0). */
export const MAP_VERSION = 1;
/** Words of the gateway header, from address 0. */
export const HEADER_SIZE = 10;
/** Address of the first machine block. */
export const BLOCK_BASE = 100;
/** Words per machine block. */
export const BLOCK_SIZE = 20;
/** Most machines the map can address (the last block ends at 65535). */
export const MAX_MACHINES = Math.floor((65536 - BLOCK_BASE) / BLOCK_SIZE);
/** A value that is absent (before the first window, or not known). */
export const NONE = 0xffff;

/** Header word offsets (from address 0). */
export const HEADER = {
  /** MAP_VERSION. */
  mapVersion: 0,
  /** +1 every second while the gateway runs, wrapping 65535 → 0: a PLC's watchdog. */
  heartbeat: 1,
  /** Machines configured (blocks served). */
  machineCount: 2,
  /** BLOCK_BASE. */
  blockBase: 3,
  /** BLOCK_SIZE. */
  blockSize: 4,
  /** Bit 0: the gateway's MQTT client is connected to the broker. */
  gatewayStatus: 5,
} as const;

/** Machine block word offsets (from BLOCK_BASE + i·BLOCK_SIZE). */
export const BLOCK = {
  /** STATE_CODES index. */
  state: 0,
  /** FAULT_CLASS_CODES index; OTHER_FAULT_CLASS for a model's own label; NONE before the first window. */
  faultClass: 1,
  /** Confidence × 1000 (0–1000); NONE before the first window. */
  confidence: 2,
  /** Velocity RMS × 100, mm/s (0–65534, saturating at 655.34 mm/s); NONE before the first window. */
  velocityRms: 3,
  /** ISO_ZONE_CODES index (0: none yet). */
  isoZone: 4,
  /** ALARM_BITS. */
  alarmBits: 5,
  /** Frames received for the machine, modulo 65536: a stalled sensor stops it. */
  frames: 6,
  /** Machine id in ASCII, 2 characters per word (high byte first), NUL padded, the first 20 characters. */
  machineId: 10,
} as const;
/** Words of BLOCK.machineId. */
export const MACHINE_ID_WORDS = 10;

/** State codes (BLOCK.state): the index in this list. */
export const STATE_CODES: readonly MachineState[] = [
  'starting',
  'ok',
  'watch',
  'warning',
  'alarm',
  'silent',
  'stream-errors',
  'saturated',
  'stream-mismatch',
];
/** Fault class codes (BLOCK.faultClass): the index in this list (operator names, ./fault-names.ts). */
export const FAULT_CLASS_CODES = ['normal', 'inner race', 'outer race', 'ball'] as const;
/** BLOCK.faultClass of a class outside FAULT_CLASS_CODES (a bring-your-own model's label). */
export const OTHER_FAULT_CLASS = 0xfffe;
/** ISO zone codes (BLOCK.isoZone): the index in this list; 0 = none yet. */
export const ISO_ZONE_CODES: readonly (IsoZone | null)[] = [null, 'A', 'B', 'C', 'D'];

/** Bits of BLOCK.alarmBits (bit number → meaning). */
export const ALARM_BITS = {
  /** State watch, warning or alarm. */
  watchOrWorse: 0,
  /** State warning or alarm. */
  warningOrWorse: 1,
  /** State alarm. */
  alarm: 2,
  /** A stream problem (silent, stream-errors, saturated, stream-mismatch): the data, not the machine. */
  streamProblem: 3,
  /** ISO 20816 zone C or D. */
  isoCOrWorse: 4,
  /** ISO 20816 zone D. */
  isoD: 5,
  /** No diagnosis yet (starting). */
  noData: 6,
  /** Another gateway of the cluster diagnoses the machine: this block's values are not current. */
  notOwned: 7,
} as const;

const SEVERITY_RANK: Partial<Record<HealthState, number>> = {
  watch: 1,
  warning: 2,
  alarm: 3,
};
const STREAM: ReadonlySet<string> = new Set([
  'silent',
  'stream-errors',
  'saturated',
  'stream-mismatch',
]);

const word = (v: number): number => Math.min(0xfffe, Math.max(0, Math.round(v)));
const bit = (n: number, on: boolean): number => (on ? 1 << n : 0);

/** What a machine block holds besides the reading. */
export interface BlockExtras {
  /** Frames received for the machine (any size; taken modulo 65536). */
  frames: number;
  /** This gateway diagnoses the machine. */
  owned: boolean;
}

/**
 * One machine's block (BLOCK_SIZE words) from its reading.
 */
export function encodeMachineBlock(m: MachineMetrics, x: BlockExtras): number[] {
  const regs = new Array<number>(BLOCK_SIZE).fill(0);
  regs[BLOCK.state] = Math.max(0, STATE_CODES.indexOf(m.state));
  regs[BLOCK.faultClass] =
    m.faultClass === null
      ? NONE
      : (FAULT_CLASS_CODES as readonly string[]).includes(m.faultClass)
        ? (FAULT_CLASS_CODES as readonly string[]).indexOf(m.faultClass)
        : OTHER_FAULT_CLASS;
  regs[BLOCK.confidence] = m.confidence === null ? NONE : word(m.confidence * 1000);
  regs[BLOCK.velocityRms] = m.velocityRmsMmS === null ? NONE : word(m.velocityRmsMmS * 100);
  regs[BLOCK.isoZone] = Math.max(0, ISO_ZONE_CODES.indexOf(m.isoZone));
  const rank = m.state === 'starting' ? 0 : (SEVERITY_RANK[m.state] ?? 0);
  regs[BLOCK.alarmBits] =
    bit(ALARM_BITS.watchOrWorse, rank >= 1) |
    bit(ALARM_BITS.warningOrWorse, rank >= 2) |
    bit(ALARM_BITS.alarm, rank >= 3) |
    bit(ALARM_BITS.streamProblem, STREAM.has(m.state)) |
    bit(ALARM_BITS.isoCOrWorse, m.isoZone === 'C' || m.isoZone === 'D') |
    bit(ALARM_BITS.isoD, m.isoZone === 'D') |
    bit(ALARM_BITS.noData, m.state === 'starting') |
    bit(ALARM_BITS.notOwned, !x.owned);
  regs[BLOCK.frames] = (Number.isFinite(x.frames) ? Math.max(0, Math.floor(x.frames)) : 0) % 65536;
  // plain code, no Buffer: the console shares this file; a non-ASCII character keeps its low byte
  const byte = (i: number): number => (i < m.machine.length ? m.machine.charCodeAt(i) & 0xff : 0);
  for (let w = 0; w < MACHINE_ID_WORDS; w++) {
    regs[BLOCK.machineId + w] = (byte(2 * w) << 8) | byte(2 * w + 1);
  }
  return regs;
}

/** A machine block read back: what a PLC (or a test) makes of the words. */
export interface DecodedBlock {
  state: MachineState | undefined;
  /** Operator fault class, 'other', or null (NONE). */
  faultClass: string | null;
  confidence: number | null;
  velocityRmsMmS: number | null;
  isoZone: IsoZone | null;
  alarmBits: number;
  frames: number;
  machine: string;
}

/** Decodes a block of BLOCK_SIZE words (the inverse of encodeMachineBlock, to its resolution). */
export function decodeMachineBlock(regs: readonly number[]): DecodedBlock {
  const fc = regs[BLOCK.faultClass];
  let machine = '';
  for (let w = 0; w < MACHINE_ID_WORDS; w++) {
    const v = regs[BLOCK.machineId + w];
    machine += String.fromCharCode(v >> 8, v & 0xff);
  }
  return {
    state: STATE_CODES[regs[BLOCK.state]],
    faultClass:
      fc === NONE ? null : fc === OTHER_FAULT_CLASS ? 'other' : (FAULT_CLASS_CODES[fc] ?? 'other'),
    confidence: regs[BLOCK.confidence] === NONE ? null : regs[BLOCK.confidence] / 1000,
    velocityRmsMmS: regs[BLOCK.velocityRms] === NONE ? null : regs[BLOCK.velocityRms] / 100,
    isoZone: ISO_ZONE_CODES[regs[BLOCK.isoZone]] ?? null,
    alarmBits: regs[BLOCK.alarmBits],
    frames: regs[BLOCK.frames],
    machine: machine.split('\u0000')[0], // NUL padded
  };
}

/** The gateway header (HEADER_SIZE words). */
export function encodeHeader(h: {
  heartbeat: number;
  machineCount: number;
  brokerConnected: boolean;
}): number[] {
  const regs = new Array<number>(HEADER_SIZE).fill(0);
  regs[HEADER.mapVersion] = MAP_VERSION;
  regs[HEADER.heartbeat] = h.heartbeat % 65536;
  regs[HEADER.machineCount] = h.machineCount;
  regs[HEADER.blockBase] = BLOCK_BASE;
  regs[HEADER.blockSize] = BLOCK_SIZE;
  regs[HEADER.gatewayStatus] = bit(0, h.brokerConnected);
  return regs;
}

/** Where a register address falls: the header, a machine block, or nowhere (illegal). */
export function locateRegister(
  address: number,
  machineCount: number,
): { in: 'header'; offset: number } | { in: 'block'; machine: number; offset: number } | null {
  if (address >= 0 && address < HEADER_SIZE) return { in: 'header', offset: address };
  const rel = address - BLOCK_BASE;
  if (rel < 0 || rel >= machineCount * BLOCK_SIZE) return null;
  return { in: 'block', machine: Math.floor(rel / BLOCK_SIZE), offset: rel % BLOCK_SIZE };
}
