/**
 * The Modbus TCP server's bounds, on its own on loopback: connections past
 * `maxConnections` are refused, an idle connection is closed, a port already
 * taken is FL_ERR_CONFIG, and a client reading while others misbehave is
 * still answered.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import modbusSerial from 'modbus-serial';
import { MAP_VERSION } from '../../src/contract/modbus-map.js';
import { isFaultlineError } from '../../src/errors.js';
import { PlantModbusServer } from '../../src/plant/modbus-server.js';

// modbus-serial is CommonJS: its module object is the client class (typed as `.default`)
const ModbusRTU = modbusSerial as unknown as typeof modbusSerial.default;

const servers: PlantModbusServer[] = [];
const sockets: net.Socket[] = [];
after(async () => {
  for (const s of sockets) s.destroy();
  for (const s of servers) await s.close();
});

const snapshot = () => ({ brokerConnected: false, machines: [] });

/** Resolves when the socket is closed by the other end (true) or stays open `ms` (false). */
function closedWithin(s: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

async function connect(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  sockets.push(s);
  await new Promise((r) => s.once('connect', r));
  return s;
}

test('connections past maxConnections are refused; idle ones are closed; readers still served', async () => {
  const srv = await PlantModbusServer.start({
    host: '127.0.0.1',
    port: 0,
    unitId: 1,
    snapshot,
    maxConnections: 2,
    idleTimeoutMs: 500,
  });
  servers.push(srv);
  const { port } = srv.address;
  const a = await connect(port);
  const b = await connect(port);
  const c = await connect(port);
  assert.equal(await closedWithin(c, 2000), true, 'third connection refused');
  assert.equal(await closedWithin(a, 3000), true, 'idle connection closed');
  await closedWithin(b, 3000);
  const client = new ModbusRTU();
  await client.connectTCP('127.0.0.1', { port });
  client.setID(1);
  client.setTimeout(2000);
  assert.equal((await client.readHoldingRegisters(0, 1)).data[0], MAP_VERSION);
  await new Promise((r) => client.close(r));
  assert.ok(srv.stats().reads >= 1);
});

test('a taken port is FL_ERR_CONFIG naming outputs.modbus; a bad unit id a TypeError', async () => {
  const srv = await PlantModbusServer.start({ host: '127.0.0.1', port: 0, unitId: 1, snapshot });
  servers.push(srv);
  await assert.rejects(
    PlantModbusServer.start({ host: '127.0.0.1', port: srv.address.port, unitId: 1, snapshot }),
    (e) => isFaultlineError(e, 'FL_ERR_CONFIG') && /outputs\.modbus/.test(e.message),
  );
  await assert.rejects(
    PlantModbusServer.start({ host: '127.0.0.1', port: 0, unitId: 0, snapshot }),
    TypeError,
  );
});
