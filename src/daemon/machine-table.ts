/**
 * The gateway's runtime record of each configured machine, and the table
 * that finds it by id or by the stream a block arrived on. Every gateway
 * module (ingest routing, cluster ownership, outputs, API views, model
 * control) reads and updates the same records, so they live here rather than
 * in any one of them.
 */

import type { HealthState } from '../contract/health.js';
import type { MachineDiagnosis, MachineIngest } from '../contract/machine.js';
import type { MachineSpec } from '../diagnose/pipeline-options.js';
import { FaultlineError } from '../errors.js';
import type { GatewayConfig, MachineConfig } from './config.js';
import type { ModelVersion } from './registry.js';

/** Frame counters of one stats interval (reset every tick). */
export interface IntervalCounters {
  frames: number;
  crcErrors: number;
  gaps: number;
  bytes: number;
}

export interface MachineRuntime {
  config: MachineConfig;
  state: HealthState | 'starting';
  /** ms since the epoch. */
  stateSince?: number;
  faultClass?: string;
  confidence?: number;
  last?: MachineDiagnosis;
  alertId?: string;
  version?: ModelVersion;
  ingest: MachineIngest;
  /** Interval counters for StreamStats. */
  interval: IntervalCounters;
  /** This gateway diagnoses the machine (always, unless `cluster.enabled` gave it to another). */
  owned: boolean;
  /** Owning gateway id (cluster), null when unknown. */
  owner: string | null;
}

export const emptyInterval = (): IntervalCounters => ({
  frames: 0,
  crcErrors: 0,
  gaps: 0,
  bytes: 0,
});

/** The machines of the configuration the gateway started with, in config order. */
export class MachineTable {
  private readonly byId = new Map<string, MachineRuntime>();
  /** `site/machine/sensor` → machine, for MQTT; `serialPath#sensor` → machine for serial. */
  private readonly streams = new Map<string, MachineRuntime>();

  constructor(config: Readonly<GatewayConfig>, gatewayId: string) {
    for (const m of config.machines) {
      const rt: MachineRuntime = {
        config: m,
        state: 'starting',
        ingest: { frames: 0, badFrames: 0, gaps: 0, framesPerS: 0, dropped: 0 },
        interval: emptyInterval(),
        owned: true,
        owner: gatewayId,
      };
      this.byId.set(m.id, rt);
      for (const s of m.sensors) {
        this.streams.set(s.serial ? `${s.serial}#${s.id}` : `${config.site}/${m.id}/${s.id}`, rt);
      }
    }
  }

  get(id: string): MachineRuntime | undefined {
    return this.byId.get(id);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  all(): IterableIterator<MachineRuntime> {
    return this.byId.values();
  }

  /** The machine of a stream key (`site/machine/sensor` or `serialPath#sensor`). */
  ofStream(key: string): MachineRuntime | undefined {
    return this.streams.get(key);
  }

  /** The first machine read from the serial device `path` (a bad frame names no sensor). */
  firstOnSerial(path: string): MachineRuntime | undefined {
    for (const [k, rt] of this.streams) if (k.startsWith(`${path}#`)) return rt;
    return undefined;
  }

  /** Ids of the machines this gateway owns. */
  ownedIds(): string[] {
    return [...this.byId.values()].filter((r) => r.owned).map((r) => r.config.id);
  }
}

/**
 * The pipeline's description of a machine: its sensors and the model it runs.
 * @throws FaultlineError FL_ERR_MODEL_FILE when the machine has no model version
 */
export function machineSpec(
  site: string,
  m: MachineConfig,
  version: ModelVersion | undefined,
): MachineSpec {
  if (!version) throw new FaultlineError('FL_ERR_MODEL_FILE', `machine ${m.id} has no model`);
  return {
    site,
    machine: m.id,
    sensors: m.sensors.map((s) => ({
      id: String(s.id),
      sampleRate: s.sampleRate,
      channel: s.channel,
      ...(s.bearing ? { bearing: s.bearing } : {}),
    })),
    modelDir: version.dir,
    ...(m.bearing ? { bearing: m.bearing } : {}),
    iso: m.iso,
    ...(m.nominalRpm !== undefined ? { nominalRpm: m.nominalRpm } : {}),
    ...(m.silentAfterS !== undefined ? { silentAfterS: m.silentAfterS } : {}),
  };
}
