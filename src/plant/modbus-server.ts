/**
 * Modbus TCP server for PLCs: serves the register map of
 * src/contract/modbus-map.ts (docs/modbus.md) read-only, from a snapshot the
 * caller supplies on each request.
 *
 * Library: `modbus-serial` (MIT). It has both a TCP server and a client (the
 * tests read through its client), ships its own TypeScript declarations, is
 * the most used Modbus package on npm and releases regularly. `jsmodbus` 5
 * has a server too, but its request parser waits for ever on a frame it
 * cannot parse (the buffer only grows) and queues requests last-in first-out.
 * modbus-serial frames by the MBAP length, ignores a PDU of the wrong length
 * for its function code, and answers a vector that throws
 * `{ modbusErrorCode }` with that Modbus exception, which is how the map's
 * illegal addresses and the read-only writes are refused here.
 *
 * Hostile clients: a frame with a bad length or an unknown unit id gets no
 * answer (as a serial device would); an illegal address exception 02; a
 * quantity above 125 exception 03 (0: the library answers 02, above 127: 04);
 * any write exception 01. Connections beyond `maxConnections` are refused,
 * and a connection idle for `idleTimeoutMs` is closed, so a crowd of silent
 * sockets cannot hold the server.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import ModbusRTU from 'modbus-serial';
import type { MachineMetrics } from '../contract/metrics.js';
import {
  encodeHeader,
  encodeMachineBlock,
  locateRegister,
  MAX_MACHINES,
} from '../contract/modbus-map.js';
import { FaultlineError } from '../errors.js';

/** Everything the map shows, at the moment of a request. */
export interface ModbusSnapshot {
  brokerConnected: boolean;
  /** Every configured machine, in configuration order (block i = machines[i]). */
  machines: { reading: MachineMetrics; frames: number; owned: boolean }[];
}

export interface PlantModbusServerOptions {
  /** Listen address. */
  host: string;
  /** TCP port (0: any free one). */
  port: number;
  /** Unit identifier answered (1–247). */
  unitId: number;
  /** The values served; called at most once per request. */
  snapshot: () => ModbusSnapshot;
  /** Simultaneous client connections; more are refused. Default 32. */
  maxConnections?: number;
  /** A connection without a request for this long is closed, ms. Default 60000. */
  idleTimeoutMs?: number;
}

export interface PlantModbusServerEvents {
  /** A client socket failed (reset, write after close); the server goes on. */
  'socket-error': [Error];
}

/** Modbus exception codes the map answers with. */
const ILLEGAL_FUNCTION = 0x01;
const ILLEGAL_ADDRESS = 0x02;
const ILLEGAL_VALUE = 0x03;
/** Most registers one read may ask for (Modbus application protocol, FC 3/4). */
const MAX_QUANTITY = 125;

const exception = (code: number, msg: string) => ({ modbusErrorCode: code, msg });

/** The modbus-serial server's listening socket (not in its declarations). */
interface WithNetServer {
  _server?: net.Server;
}

/** A TCP port on `host` that was free a moment ago (the kernel's pick for port 0). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** See the module comment. Create with {@link PlantModbusServer.start}. */
export class PlantModbusServer extends EventEmitter<PlantModbusServerEvents> {
  private readonly server: ModbusRTU.ServerTCP;
  private readonly snapshot: () => ModbusSnapshot;
  private readonly started = Date.now();
  private readonly net: net.Server;
  /** Requests answered with registers, and with an exception. */
  private readonly counts = { reads: 0, exceptions: 0 };
  /** `host:port` the server listens on. */
  readonly address: { host: string; port: number };

  private constructor(
    server: ModbusRTU.ServerTCP,
    netServer: net.Server,
    snapshot: () => ModbusSnapshot,
  ) {
    super();
    this.server = server;
    this.net = netServer;
    this.snapshot = snapshot;
    const a = netServer.address() as net.AddressInfo;
    this.address = { host: a.address, port: a.port };
  }

  /**
   * Listens on host:port.
   * @throws FaultlineError FL_ERR_CONFIG when the port cannot be listened on (taken, privileged)
   */
  static async start(o: PlantModbusServerOptions): Promise<PlantModbusServer> {
    if (!Number.isInteger(o.unitId) || o.unitId < 1 || o.unitId > 247)
      throw new TypeError(`unitId must be an integer 1–247, got ${o.unitId}`);
    let self: PlantModbusServer | undefined;
    const refused = (e: Error | null): never => {
      const err = e as NodeJS.ErrnoException | null;
      throw new FaultlineError(
        'FL_ERR_CONFIG',
        `outputs.modbus: cannot listen on ${o.host}:${o.port} (${err?.code ?? err?.message}): choose another host/port${o.port < 1024 ? ' or give the gateway CAP_NET_BIND_SERVICE' : ''}`,
      );
    };
    const read = (addr: number, length: number): number[] => {
      if (!self) throw exception(0x04, 'starting');
      return self.read(addr, length);
    };
    const refuse = () => {
      throw exception(ILLEGAL_FUNCTION, 'the register map is read-only');
    };
    // modbus-serial reads port 0 as "unset" and listens on 502: a free port is picked here instead
    const port = o.port === 0 ? await freePort(o.host).catch((e: Error) => refused(e)) : o.port;
    const server = new ModbusRTU.ServerTCP(
      {
        getMultipleHoldingRegisters: (addr: number, length: number) => read(addr, length),
        getMultipleInputRegisters: (addr: number, length: number) => read(addr, length),
        // the library asks single registers through these when a read is one word long
        getHoldingRegister: (addr: number) => read(addr, 1)[0],
        getInputRegister: (addr: number) => read(addr, 1)[0],
        getCoil: refuse,
        getDiscreteInput: refuse,
        setCoil: refuse,
        setRegister: refuse,
        setRegisterArray: refuse,
      },
      { host: o.host, port, unitID: o.unitId },
    );
    const netServer = (server as unknown as WithNetServer)._server;
    if (!netServer) throw new TypeError('modbus-serial ServerTCP has no net server');
    netServer.maxConnections = o.maxConnections ?? 32;
    await new Promise<void>((resolve, reject) => {
      server.once('initialized', () => resolve());
      server.once('serverError', (e: Error | null) => {
        try {
          refused(e);
        } catch (err) {
          reject(err);
        }
      });
    });
    self = new PlantModbusServer(server, netServer, o.snapshot);
    const idle = o.idleTimeoutMs ?? 60_000;
    netServer.on('connection', (sock: net.Socket) => {
      sock.setTimeout(idle, () => sock.destroy());
    });
    server.on('socketError', (e: Error | null) => {
      if (e) self?.emit('socket-error', e);
    });
    server.on('serverError', () => undefined); // after listening: a failed accept; the server goes on
    server.on('error', () => undefined);
    return self;
  }

  /** Requests answered, exceptions sent, clients connected. */
  stats(): { reads: number; exceptions: number; clients: number; uptimeS: number } {
    return {
      ...this.counts,
      clients: this.server.socks.size,
      uptimeS: Math.round((Date.now() - this.started) / 1000),
    };
  }

  /** The words at [addr, addr + length), or a Modbus exception (thrown, as the library wants). */
  private read(addr: number, length: number): number[] {
    if (!(length >= 1 && length <= MAX_QUANTITY)) {
      this.counts.exceptions++;
      throw exception(ILLEGAL_VALUE, `quantity ${length} outside 1–${MAX_QUANTITY}`);
    }
    const snap = this.snapshot();
    const n = Math.min(snap.machines.length, MAX_MACHINES);
    const first = locateRegister(addr, n);
    const last = locateRegister(addr + length - 1, n);
    // the header and the blocks are not contiguous: both ends legal and in one region
    if (!first || !last || first.in !== last.in) {
      this.counts.exceptions++;
      throw exception(ILLEGAL_ADDRESS, `registers ${addr}–${addr + length - 1} are not mapped`);
    }
    this.counts.reads++;
    if (first.in === 'header') {
      const header = encodeHeader({
        heartbeat: this.heartbeat(),
        machineCount: n,
        brokerConnected: snap.brokerConnected,
      });
      return header.slice(first.offset, first.offset + length);
    }
    const out: number[] = [];
    const from = first.machine;
    const to = last.in === 'block' ? last.machine : from;
    for (let i = from; i <= to; i++) {
      const m = snap.machines[i];
      out.push(...encodeMachineBlock(m.reading, { frames: m.frames, owned: m.owned }));
    }
    const start = first.offset;
    return out.slice(start, start + length);
  }

  /** Seconds since start, modulo 65536 (HEADER.heartbeat). */
  private heartbeat(): number {
    return Math.floor((Date.now() - this.started) / 1000) % 65536;
  }

  /** Closes the listener and every client connection. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      // close's callback waits for the listener only; the library destroys the sockets itself
      if (!this.net.listening) resolve();
    });
  }
}
