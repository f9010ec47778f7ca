/**
 * The OPC UA server (issue #15, docs/opcua.md): SCADA and historians browse
 * the site's machines, read or subscribe to their values, and receive and
 * acknowledge their alarms as OPC UA Alarms & Conditions (./opcua-alarms.ts).
 *
 *   Objects
 *   └─ Faultline                (HasNotifier ← Server: events reach a subscription on Server)
 *      └─ <site>                (HasNotifier ← Faultline)
 *         └─ <machine>          (event notifier, HasEventSource ← site, the source of its alarm)
 *            ├─ state, faultClass, confidence, velocityRms (mm/s), isoZone,
 *            │  modelVersion, shelved, lastWindow
 *            └─ fault           AlarmConditionType (./opcua-alarms.ts)
 *
 * ConditionRefresh on the Server walks that chain (HasNotifier, HasEventSource,
 * then HasCondition) to replay the retained conditions to a late client.
 *
 * Variables are read through getters over the same machine reading as the
 * other plant outputs (src/daemon/machine-reading.ts), so a read or a
 * monitored item's sample is never older than the gateway's own view.
 *
 * node-opcua is loaded with a dynamic import, only when the server is
 * configured: it is tens of megabytes of code and its start costs seconds,
 * which a gateway without OPC UA should not pay.
 */
import path from 'node:path';
import type * as UA from 'node-opcua';
import type { MachineMetrics } from '../contract/metrics.js';
import { FaultlineError } from '../errors.js';
import { type AlarmAck, OpcuaAlarms } from './opcua-alarms.js';

type Ua = typeof UA;

/** One machine as the address space shows it. */
export interface OpcuaMachine {
  reading: MachineMetrics;
  /** Whether an operator shelved the machine (no alerts while shelved). */
  shelved: boolean;
}

export interface PlantOpcuaServerOptions {
  /** Listen address. */
  host: string;
  /** TCP port (0: a free one, see `address`). */
  port: number;
  /** Message security modes offered. */
  securityModes: readonly ('None' | 'Sign' | 'SignAndEncrypt')[];
  /** Users who may log in; passwords in clear (resolved from the configuration). */
  users: readonly { username: string; password: string }[];
  allowAnonymous: boolean;
  /** Folder of the server's PKI (own certificate, trusted and rejected clients). */
  pkiDir: string;
  site: string;
  /** Ids of the machines, in configuration order (one object each). */
  machineIds: readonly string[];
  /** One machine now (undefined for an unknown id). */
  machine: (id: string) => OpcuaMachine | undefined;
  /** An operator acknowledged an alarm in OPC UA: record it as the gateway's ack. */
  onAck: AlarmAck;
  /** Problems that are not the caller's (an ack the gateway refused). */
  warn: (message: string) => void;
}

/** The security policy of each mode: None needs none; the signed modes use Basic256Sha256. */
function endpointSecurity(ua: Ua, modes: PlantOpcuaServerOptions['securityModes']) {
  const securityModes = modes.map((m) => ua.MessageSecurityMode[m]);
  const securityPolicies = [
    ...(modes.includes('None') ? [ua.SecurityPolicy.None] : []),
    ...(modes.some((m) => m !== 'None') ? [ua.SecurityPolicy.Basic256Sha256] : []),
  ];
  return { securityModes, securityPolicies };
}

export class PlantOpcuaServer {
  private closed = false;

  private constructor(
    private readonly server: UA.OPCUAServer,
    /** The alarms of the machines (raise, clear, acknowledge). */
    readonly alarms: OpcuaAlarms,
    /** Where the server listens (the port is the real one when 0 was asked). */
    readonly address: { host: string; port: number },
  ) {}

  /** The endpoint URL clients connect to (opc.tcp://host:port). */
  get endpointUrl(): string {
    return `opc.tcp://${this.address.host}:${this.address.port}`;
  }

  /**
   * Loads node-opcua, creates the PKI (a self-signed certificate on first
   * start), builds the address space and listens.
   * @throws FaultlineError FL_ERR_CONFIG when the port cannot be listened on or
   *   node-opcua cannot be loaded
   */
  static async start(o: PlantOpcuaServerOptions): Promise<PlantOpcuaServer> {
    let ua: Ua;
    try {
      ua = await import('node-opcua');
    } catch (err) {
      throw new FaultlineError(
        'FL_ERR_CONFIG',
        `outputs.opcua: node-opcua cannot be loaded (${(err as Error).message}); reinstall the gateway's dependencies or remove outputs.opcua`,
      );
    }
    const serverCertificateManager = new ua.OPCUACertificateManager({
      rootFolder: o.pkiDir,
      // a client certificate is trusted only once an operator moved it from rejected/ to trusted/
      automaticallyAcceptUnknownCertificate: false,
    });
    const users = new Map(o.users.map((u) => [u.username, u.password]));
    const server = new ua.OPCUAServer({
      host: o.host,
      hostname: o.host,
      port: o.port,
      serverCertificateManager,
      certificateFile: path.join(o.pkiDir, 'own', 'certs', 'faultline-gateway.pem'),
      privateKeyFile: path.join(o.pkiDir, 'own', 'private', 'private_key.pem'),
      ...endpointSecurity(ua, o.securityModes),
      allowAnonymous: o.allowAnonymous,
      userManager: {
        isValidUser: (username: string, password: string) => users.get(username) === password,
      },
      buildInfo: { productName: 'Faultline gateway', manufacturerName: 'Faultline' },
      serverInfo: {
        applicationName: { text: 'Faultline gateway' },
        applicationUri: `urn:faultline:${o.site}:gateway`,
        productUri: 'urn:faultline',
      },
    });
    try {
      await server.initialize();
    } catch (err) {
      throw new FaultlineError(
        'FL_ERR_CONFIG',
        `outputs.opcua: the server cannot start (${(err as Error).message}); check the folder ${o.pkiDir}`,
      );
    }
    const addressSpace = server.engine.addressSpace;
    if (!addressSpace) throw new Error('node-opcua started without an address space');
    const alarms = buildAddressSpace(ua, addressSpace, o);
    try {
      await server.start();
    } catch (err) {
      await server.shutdown(0).catch(() => undefined);
      const e = err as NodeJS.ErrnoException;
      throw new FaultlineError(
        'FL_ERR_CONFIG',
        `outputs.opcua: cannot listen on ${o.host}:${o.port} (${e?.code ?? e?.message}): choose another host/port${o.port > 0 && o.port < 1024 ? ' or give the gateway CAP_NET_BIND_SERVICE' : ''}`,
      );
    }
    const port = server.endpoints[0]?.port ?? o.port;
    return new PlantOpcuaServer(server, alarms, { host: o.host, port });
  }

  /** Counters for `GET /api/gateway`. */
  stats(): { sessions: number; alarmsActive: number; acks: number } {
    return {
      sessions: this.server.engine?.currentSessionCount ?? 0,
      ...this.alarms.stats(),
    };
  }

  /** Closes the sessions and the port. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.server.shutdown(0);
  }
}

/** Objects/Faultline/<site>/<machine>, each machine with its variables and alarm. */
function buildAddressSpace(
  ua: Ua,
  addressSpace: UA.AddressSpace,
  o: PlantOpcuaServerOptions,
): OpcuaAlarms {
  const ns = addressSpace.getOwnNamespace();
  const root = ns.addObject({
    browseName: 'Faultline',
    displayName: 'Faultline',
    organizedBy: addressSpace.rootFolder.objects,
    notifierOf: addressSpace.rootFolder.objects.server,
  });
  const site = ns.addObject({
    browseName: o.site,
    displayName: o.site,
    componentOf: root,
    notifierOf: root,
  });
  const alarms = new OpcuaAlarms(ua, ns, { onAck: o.onAck, warn: o.warn });
  for (const id of o.machineIds) {
    const machine = ns.addObject({
      browseName: id,
      // without it the display name (an alarm's SourceName) would read "1:<machine>"
      displayName: id,
      componentOf: site,
      // HasEventSource: the machine is where its alarm's events come from
      eventSourceOf: site,
      eventNotifier: ua.EventNotifierFlags.SubscribeToEvents,
    });
    const variable = (
      browseName: string,
      dataType: 'String' | 'Double' | 'Boolean',
      value: (m: OpcuaMachine) => string | number | boolean | null,
      description: string,
    ) =>
      ns.addVariable({
        componentOf: machine,
        browseName,
        displayName: browseName,
        description,
        dataType,
        minimumSamplingInterval: 500,
        value: {
          timestamped_get: () => {
            const m = o.machine(id);
            const v = m ? value(m) : null;
            // no value yet (no window diagnosed): the status says so, the value is empty
            if (v === null)
              return new ua.DataValue({ statusCode: ua.StatusCodes.BadWaitingForInitialData });
            return new ua.DataValue({
              value: new ua.Variant({ dataType: ua.DataType[dataType], value: v }),
              sourceTimestamp: new Date(),
            });
          },
        },
      });
    const state = variable('state', 'String', (m) => m.reading.state, 'Health state');
    variable('faultClass', 'String', (m) => m.reading.faultClass, 'Fault class, or empty');
    variable('confidence', 'Double', (m) => m.reading.confidence, 'Fault probability, 0–1');
    variable(
      'velocityRms',
      'Double',
      (m) => m.reading.velocityRmsMmS,
      'RMS vibration velocity, mm/s',
    );
    variable('isoZone', 'String', (m) => m.reading.isoZone, 'ISO 20816 zone (A–D)');
    variable('modelVersion', 'String', (m) => m.reading.modelVersion, 'Model that diagnosed');
    variable('shelved', 'Boolean', (m) => m.shelved, 'Shelved by an operator (no alerts)');
    variable('lastWindow', 'String', (m) => m.reading.lastWindow, 'Latest window, ISO 8601');
    alarms.add(id, machine, state);
  }
  return alarms;
}
