/**
 * The Modbus register map (src/contract/modbus-map.ts): encoding and decoding
 * of a machine block at its edges, the address map, and agreement with the
 * tables of docs/modbus.md that PLC programs are written against.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { MachineMetrics } from '../../src/contract/metrics.js';
import {
  ALARM_BITS,
  BLOCK,
  BLOCK_BASE,
  BLOCK_SIZE,
  decodeMachineBlock,
  encodeHeader,
  encodeMachineBlock,
  FAULT_CLASS_CODES,
  HEADER,
  HEADER_SIZE,
  locateRegister,
  MAP_VERSION,
  MAX_MACHINES,
  NONE,
  OTHER_FAULT_CLASS,
  STATE_CODES,
} from '../../src/contract/modbus-map.js';

const reading = (o: Partial<MachineMetrics> = {}): MachineMetrics => ({
  site: 's',
  machine: 'pump-1',
  state: 'alarm',
  faultClass: 'outer race',
  confidence: 0.9374,
  velocityRmsMmS: 7.126,
  isoZone: 'D',
  modelVersion: 'v1',
  lastWindow: null,
  intervalS: 10,
  time: new Date(0).toISOString(),
  ...o,
});

test('a block round-trips to its resolution (confidence 1/1000, velocity 1/100 mm/s)', () => {
  const regs = encodeMachineBlock(reading(), { frames: 70_000, owned: true });
  assert.equal(regs.length, BLOCK_SIZE);
  assert.ok(regs.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff));
  const b = decodeMachineBlock(regs);
  assert.equal(b.state, 'alarm');
  assert.equal(b.faultClass, 'outer race');
  assert.equal(b.confidence, 0.937);
  assert.equal(b.velocityRmsMmS, 7.13);
  assert.equal(b.isoZone, 'D');
  assert.equal(b.frames, 70_000 % 65536);
  assert.equal(b.machine, 'pump-1');
  const bits = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 4) | (1 << 5);
  assert.equal(b.alarmBits, bits);
});

test('before the first window: none values, no-data bit; not owned: its bit', () => {
  const regs = encodeMachineBlock(
    reading({
      state: 'starting',
      faultClass: null,
      confidence: null,
      velocityRmsMmS: null,
      isoZone: null,
    }),
    { frames: 0, owned: false },
  );
  assert.equal(regs[BLOCK.state], 0);
  assert.equal(regs[BLOCK.faultClass], NONE);
  assert.equal(regs[BLOCK.confidence], NONE);
  assert.equal(regs[BLOCK.velocityRms], NONE);
  assert.equal(regs[BLOCK.isoZone], 0);
  assert.equal(regs[BLOCK.alarmBits], (1 << ALARM_BITS.noData) | (1 << ALARM_BITS.notOwned));
});

test('edges: huge velocity saturates below NONE, custom classes are OTHER, stream states flag', () => {
  const regs = encodeMachineBlock(
    reading({ velocityRmsMmS: 1e9, faultClass: 'cavitation', state: 'silent', isoZone: 'B' }),
    { frames: Number.NaN, owned: true },
  );
  assert.equal(regs[BLOCK.velocityRms], 0xfffe);
  assert.equal(regs[BLOCK.faultClass], OTHER_FAULT_CLASS);
  assert.equal(regs[BLOCK.alarmBits], 1 << ALARM_BITS.streamProblem);
  assert.equal(regs[BLOCK.frames], 0);
  const long = decodeMachineBlock(
    encodeMachineBlock(reading({ machine: 'a-machine-name-longer-than-twenty' }), {
      frames: 1,
      owned: true,
    }),
  );
  assert.equal(long.machine, 'a-machine-name-longe');
});

test('addresses: header, gap, blocks, past the end', () => {
  assert.deepEqual(locateRegister(0, 2), { in: 'header', offset: 0 });
  assert.equal(locateRegister(HEADER_SIZE, 2), null);
  assert.equal(locateRegister(BLOCK_BASE - 1, 2), null);
  assert.deepEqual(locateRegister(BLOCK_BASE + BLOCK_SIZE + 3, 2), {
    in: 'block',
    machine: 1,
    offset: 3,
  });
  assert.equal(locateRegister(BLOCK_BASE + 2 * BLOCK_SIZE, 2), null);
  assert.equal(locateRegister(-1, 2), null);
  assert.ok(BLOCK_BASE + MAX_MACHINES * BLOCK_SIZE <= 65536);
  const h = encodeHeader({ heartbeat: 65537, machineCount: 3, brokerConnected: true });
  assert.deepEqual(h.slice(0, 6), [MAP_VERSION, 1, 3, BLOCK_BASE, BLOCK_SIZE, 1]);
});

/** Rows `| a | b | …` of the markdown table under `heading` (header and rule rows skipped). */
function tableUnder(md: string, heading: string): string[][] {
  const at = md.indexOf(heading);
  assert.ok(at >= 0, `docs/modbus.md has no "${heading}"`);
  const rows: string[][] = [];
  for (const line of md.slice(at).split('\n').slice(1)) {
    if (line.startsWith('#')) break;
    if (!line.startsWith('|')) continue;
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim()),
    );
  }
  return rows.slice(2);
}

test('docs/modbus.md agrees with the map', () => {
  const md = readFileSync(path.resolve(import.meta.dirname, '../../docs/modbus.md'), 'utf8');
  const header = tableUnder(md, '## Gateway header');
  const byName = (rows: string[][]) => new Map(rows.map((r) => [r[1], r[0]]));
  const h = byName(header);
  assert.equal(h.get('map version'), String(HEADER.mapVersion));
  assert.equal(h.get('heartbeat'), String(HEADER.heartbeat));
  assert.equal(h.get('machine count'), String(HEADER.machineCount));
  assert.equal(h.get('block base'), String(HEADER.blockBase));
  assert.equal(h.get('block size'), String(HEADER.blockSize));
  assert.equal(h.get('gateway status'), String(HEADER.gatewayStatus));
  assert.match(md, new RegExp(`## Gateway header \\(addresses 0–${HEADER_SIZE - 1}\\)`));
  assert.match(
    md,
    new RegExp(`## Machine blocks \\(address ${BLOCK_BASE} \\+ ${BLOCK_SIZE} × i\\)`),
  );
  const b = byName(tableUnder(md, '## Machine blocks'));
  assert.equal(b.get('state'), String(BLOCK.state));
  assert.equal(b.get('fault class'), String(BLOCK.faultClass));
  assert.equal(b.get('confidence'), String(BLOCK.confidence));
  assert.equal(b.get('velocity RMS'), String(BLOCK.velocityRms));
  assert.equal(b.get('ISO zone'), String(BLOCK.isoZone));
  assert.equal(b.get('alarm bits'), String(BLOCK.alarmBits));
  assert.equal(b.get('frames'), String(BLOCK.frames));
  assert.equal(b.get('machine id'), `${BLOCK.machineId}–${BLOCK_SIZE - 1}`);
  const states = tableUnder(md, '### State codes');
  assert.deepEqual(
    states.map((r) => [Number(r[0]), r[1]]),
    STATE_CODES.map((s, i) => [i, s]),
  );
  const faultRow = tableUnder(md, '## Machine blocks').find((r) => r[1] === 'fault class');
  for (const [i, c] of FAULT_CLASS_CODES.entries()) {
    assert.ok(faultRow?.[2].includes(`${i} ${c}`), c);
  }
  const bits = tableUnder(md, '### Alarm bits');
  const names: Record<string, keyof typeof ALARM_BITS> = {
    'watch or worse': 'watchOrWorse',
    'warning or worse': 'warningOrWorse',
    alarm: 'alarm',
    'stream problem': 'streamProblem',
    'ISO C or worse': 'isoCOrWorse',
    'ISO D': 'isoD',
    'no data': 'noData',
    'not owned': 'notOwned',
  };
  assert.equal(bits.length, Object.keys(ALARM_BITS).length);
  for (const [bit, name] of bits) assert.equal(ALARM_BITS[names[name]], Number(bit), name);
});
