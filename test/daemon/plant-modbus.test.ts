/**
 * The Modbus TCP server (issue #15) on a running gateway with the simulated
 * fleet: a real Modbus TCP client (modbus-serial's) on loopback reads the
 * header and every machine block, and they agree with `GET /api/machines`.
 * Then hostile clients: illegal addresses and quantities get Modbus
 * exceptions, writes are refused, garbage and truncated frames get no answer
 * — and the server keeps serving.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import modbusSerial from 'modbus-serial';
import { gatewayHealthSchema } from '../../src/contract/api.js';
import type { MachineView } from '../../src/contract/machine.js';
import {
  ALARM_BITS,
  BLOCK,
  BLOCK_BASE,
  BLOCK_SIZE,
  decodeMachineBlock,
  HEADER,
  HEADER_SIZE,
  MAP_VERSION,
} from '../../src/contract/modbus-map.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { isFaultlineError } from '../../src/errors.js';
import { quiet, simModelDir, until as waitUntil } from '../support/gateway-fixture.js';

// modbus-serial is CommonJS: its module object is the client class, which its
// declarations (written for a default export) type as `.default`
const ModbusRTU = modbusSerial as unknown as typeof modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

let dir: string;
let gw: Gateway;
let port: number;
const clients: ModbusRTU[] = [];

const machines: GatewayConfigInput['machines'] = [
  { id: 'pump-1', sensors: [{ id: 1, sampleRate: 12000 }], simulate: { fault: 'none', seed: 5 } },
  {
    id: 'fan-2',
    sensors: [{ id: 2, sampleRate: 12000 }],
    simulate: { fault: 'outer', severity: 0.8, seed: 6 },
  },
];

function config(stateDir: string, modbus: NonNullable<GatewayConfigInput['outputs']>['modbus']) {
  return parseConfig({
    site: 'plant',
    gatewayId: 'gw-modbus',
    stateDir,
    model: modelDir,
    machines,
    broker: { port: 0 },
    http: { port: 0 },
    fleet: { speed: 2 },
    pipeline: { workers: 1 },
    outputs: { modbus },
  });
}
let modelDir: string;

async function client(unitId = 7): Promise<ModbusRTU> {
  const c = new ModbusRTU();
  await c.connectTCP('127.0.0.1', { port });
  c.setID(unitId);
  c.setTimeout(2000);
  clients.push(c);
  return c;
}

/** The fixture's `until` with this file's longer default deadline. */
const until = <T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 90_000,
): Promise<T> => waitUntil(what, fn, timeoutMs);

/** One raw request/answer on a fresh socket: the answer bytes, or null after `waitMs` of silence. */
function raw(bytes: number[] | Buffer, waitMs = 400): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.from(bytes)));
    let got = Buffer.alloc(0);
    const done = () => {
      s.destroy();
      resolve(got.length ? got : null);
    };
    const t = setTimeout(done, waitMs);
    s.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 9) {
        clearTimeout(t);
        done();
      }
    });
    s.on('error', reject);
  });
}

/** MBAP + PDU: transaction 0x1234, protocol 0, unit `unit`. */
const frame = (unit: number, pdu: number[]): number[] => [
  0x12,
  0x34,
  0,
  0,
  (pdu.length + 1) >> 8,
  (pdu.length + 1) & 0xff,
  unit,
  ...pdu,
];

before(async () => {
  modelDir = await simModelDir();
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-modbus-'));
  gw = await Gateway.start({
    config: config(path.join(dir, 'state'), { host: '127.0.0.1', port: 0, unitId: 7 }),
    log: quiet,
  });
  port = gw.modbusAddress?.port ?? 0;
  assert.ok(port > 0);
});

after(async () => {
  for (const c of clients) await new Promise((r) => c.close(r));
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

test('config: Modbus off by default; unit id 1–247; a taken port is FL_ERR_CONFIG', async () => {
  assert.equal(parseConfig({ machines }).outputs.modbus, undefined);
  const d = parseConfig({ machines, outputs: { modbus: {} } }).outputs.modbus;
  assert.deepEqual(d, { host: '127.0.0.1', port: 502, unitId: 1 });
  assert.throws(
    () => parseConfig({ machines, outputs: { modbus: { unitId: 0 } } }),
    (e) => isFaultlineError(e, 'FL_ERR_CONFIG') && /outputs\.modbus\.unitId/.test(e.message),
  );
  await assert.rejects(
    Gateway.start({
      config: config(path.join(dir, 'state2'), { host: '127.0.0.1', port, unitId: 1 }),
      fleet: false,
      log: quiet,
    }),
    (e) => isFaultlineError(e, 'FL_ERR_CONFIG') && /outputs\.modbus/.test(e.message),
  );
});

test('a Modbus TCP client reads the header and every block; they agree with /api/machines', {
  timeout: 180_000,
}, async () => {
  const c = await client();
  const header = (await c.readHoldingRegisters(0, HEADER_SIZE)).data;
  assert.equal(header[HEADER.mapVersion], MAP_VERSION);
  assert.equal(header[HEADER.machineCount], 2);
  assert.equal(header[HEADER.blockBase], BLOCK_BASE);
  assert.equal(header[HEADER.blockSize], BLOCK_SIZE);
  assert.equal(header[HEADER.gatewayStatus] & 1, 1, 'broker connected');
  // input registers carry the same words
  assert.deepEqual((await c.readInputRegisters(2, 3)).data, header.slice(2, 5));

  // the blocks read just before and just after the API's view: when they hold the same words
  // (the frame counter aside), nothing moved in between and the view must match them exactly
  const readBlocks = async () => {
    const words = (await c.readHoldingRegisters(BLOCK_BASE, 2 * BLOCK_SIZE)).data;
    return [0, 1].map((i) => words.slice(i * BLOCK_SIZE, (i + 1) * BLOCK_SIZE));
  };
  const same = (x: number[][], y: number[][]) =>
    x.every((w, i) => w.every((v, j) => j === BLOCK.frames || v === y[i][j]));
  const agreed = await until('both machines diagnosed, a quiet moment', async () => {
    const before = await readBlocks();
    const res = await fetch(`${gw.apiUrl}/api/machines`, {
      headers: { authorization: `Bearer ${gw.token}` },
    });
    const views = (await res.json()) as MachineView[];
    const after = await readBlocks();
    if (views.some((v) => v.state === 'starting' || !v.diagnosis)) return undefined;
    return same(before, after) ? { views, blocks: after.map(decodeMachineBlock) } : undefined;
  });
  for (const [i, v] of agreed.views.entries()) {
    const b = agreed.blocks[i];
    assert.equal(b.machine, v.id, `block ${i} is the ${i}th configured machine`);
    assert.equal(b.state, v.state);
    assert.equal(b.faultClass, v.faultClass);
    assert.ok(
      Math.abs((b.confidence ?? -1) - (v.confidence ?? -2)) <= 0.0005,
      `${v.id} confidence`,
    );
    const vel = v.diagnosis?.velocityRmsMmS ?? -1;
    assert.ok(Math.abs((b.velocityRmsMmS ?? -2) - vel) <= 0.005, `${v.id} velocity ${vel}`);
    assert.equal(b.isoZone, v.diagnosis?.isoZone);
    assert.equal(b.alarmBits & (1 << ALARM_BITS.noData), 0);
    assert.equal(b.alarmBits & (1 << ALARM_BITS.notOwned), 0);
    assert.ok(b.frames > 0);
  }
  // the faulty machine's fault shows once the health state machine raised it
  const fan = agreed.blocks[1];
  if (fan.state === 'alarm') assert.ok(fan.alarmBits & (1 << ALARM_BITS.alarm));
  // the heartbeat moves
  const h1 = (await c.readHoldingRegisters(HEADER.heartbeat, 1)).data[0];
  await new Promise((r) => setTimeout(r, 1100));
  const h2 = (await c.readHoldingRegisters(HEADER.heartbeat, 1)).data[0];
  assert.ok(h2 !== h1, `heartbeat ${h1} → ${h2}`);
});

test('hostile client: illegal addresses and quantities are Modbus exceptions, writes refused', async () => {
  const c = await client();
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
      return 0;
    } catch (e) {
      return (e as { modbusCode?: number }).modbusCode ?? -1;
    }
  };
  assert.equal(await code(c.readHoldingRegisters(HEADER_SIZE, 1)), 2, 'gap after the header');
  assert.equal(await code(c.readHoldingRegisters(5, 10)), 2, 'header into the gap');
  assert.equal(await code(c.readHoldingRegisters(BLOCK_BASE + 2 * BLOCK_SIZE, 1)), 2, 'past');
  assert.equal(await code(c.readInputRegisters(BLOCK_BASE + 30, 20)), 2, 'runs past the end');
  assert.equal(await code(c.readHoldingRegisters(65535, 1)), 2);
  assert.equal(await code(c.readHoldingRegisters(BLOCK_BASE, 126)), 3, 'quantity > 125');
  assert.equal(await code(c.writeRegister(BLOCK_BASE, 1)), 1, 'read-only');
  assert.equal(await code(c.writeRegisters(BLOCK_BASE, [1, 2])), 1, 'read-only');
  assert.equal(await code(c.readCoils(0, 1)), 1, 'no coils');
  // still serving
  assert.equal((await c.readHoldingRegisters(0, 1)).data[0], MAP_VERSION);
});

test('hostile client: garbage, truncated frames, other unit ids and huge lengths crash nothing', async () => {
  // a good request through the raw socket: the answer echoes the transaction id
  const ok = await raw(frame(7, [3, 0, 0, 0, 1]));
  assert.ok(ok && ok[0] === 0x12 && ok[1] === 0x34 && ok[7] === 3, `answer ${ok?.toString('hex')}`);
  // an illegal address through the raw socket: function | 0x80, exception 02
  const ex = await raw(frame(7, [4, 0, 50, 0, 1]));
  assert.ok(ex && ex[7] === 0x84 && ex[8] === 2, `answer ${ex?.toString('hex')}`);
  assert.equal(await raw(frame(9, [3, 0, 0, 0, 1])), null, 'another unit id: no answer');
  assert.equal(await raw(frame(7, [3, 0])), null, 'truncated PDU: no answer');
  assert.equal(await raw(frame(7, [3, 0, 0, 0, 1, 9, 9, 9])), null, 'PDU too long: no answer');
  assert.equal(await raw(frame(7, [])), null, 'no function code');
  await raw([0, 1, 0, 0, 0xff, 0xff, 7, 3, 0, 0], 200); // announces 64 KiB, sends 4 bytes, leaves
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed & 0xff;
  };
  for (let i = 0; i < 40; i++) {
    const len = 1 + (rnd() % 40);
    await raw(
      Array.from({ length: len }, () => rnd()),
      20,
    );
    // random function codes and lengths inside a well-formed MBAP header
    await raw(
      frame(
        7,
        Array.from({ length: rnd() % 12 }, () => rnd()),
      ),
      20,
    );
  }
  const c = await client();
  assert.equal((await c.readHoldingRegisters(0, 1)).data[0], MAP_VERSION, 'still serving');
  assert.ok((await fetch(`${gw.apiUrl}/api/healthz`)).status < 500, 'gateway alive');
  // the counters show in GET /api/gateway
  const res = await fetch(`${gw.apiUrl}/api/gateway`, {
    headers: { authorization: `Bearer ${gw.token}` },
  });
  const health = gatewayHealthSchema.parse(await res.json());
  assert.equal(health.outputs?.modbus?.port, port);
  assert.ok(Number(health.outputs?.modbus?.exceptions) >= 2);
});
