/**
 * The simulated fleet: for every configured machine with a `simulate` block,
 * a synthetic bearing signal (src/sim) per sensor, framed and published over
 * MQTT to `faultline/<site>/<machine>/<sensor>/raw` exactly as a Wi-Fi sensor
 * node would. The gateway ingests them like any other frames, so the demo
 * exercises the whole data path (wire protocol, MQTT, pipeline, alerts).
 *
 *   BearingSignalGenerator ─► runSensorStream (paced, int16 frames) ─► MQTT sink ─► broker
 */
import type { BearingGeometry } from '../contract/machine.js';
import type { MqttLinkOptions } from '../ingest/mqtt-link.js';
import { resolveCondition } from './conditions.js';
import type { FaultType } from './faults.js';
import { BearingSignalGenerator } from './generator.js';
import { runSensorStream, type SensorStreamResult } from './sensor-stream.js';
import { openMqttSink } from './sinks.js';

/**
 * What the fleet reads of a configured machine: the gateway passes its
 * `machines` (src/daemon/config.ts, already validated and defaulted).
 */
export interface FleetMachine {
  id: string;
  /** The first sensor's rate paces the machine's frames, Hz. */
  sensors: readonly { id: number; sampleRate: number }[];
  bearing?: BearingGeometry | undefined;
  simulate?:
    | {
        fault: FaultType;
        /** Impact peak, g. */
        severity: number;
        /** Condition preset name (./conditions.ts). */
        condition: string;
        /** Shaft speed override, rpm. */
        rpm?: number | undefined;
        seed: number;
      }
    | undefined;
}

export interface FleetOptions {
  site: string;
  /** Machines; those without `simulate` are skipped. */
  machines: readonly FleetMachine[];
  /** Broker link (URL, credentials, connect function). */
  link: MqttLinkOptions;
  /** Real-time multiple. Default 1. */
  speed?: number;
  /** Samples per frame. Default 512. */
  frameSamples?: number;
  /** Stop each sensor after this much signal time, s. Default: run until close(). */
  durationS?: number;
  /** Where problems are reported. */
  log?: (message: string) => void;
}

export interface FleetMachineInfo {
  machine: string;
  fault: string;
  condition: string;
  rpm: number;
  /** Fault impact rate at nominal speed, Hz (0 for none). */
  faultFrequencyHz: number;
}

/** A running simulated fleet. */
export class SimulatedFleet {
  readonly machines: FleetMachineInfo[] = [];
  private readonly abort = new AbortController();
  private readonly runs: Promise<SensorStreamResult | undefined>[] = [];
  private frames = 0;

  private constructor() {}

  /** Connects one MQTT sink per simulated machine and starts streaming. */
  static async start(o: FleetOptions): Promise<SimulatedFleet> {
    const fleet = new SimulatedFleet();
    const log = o.log ?? ((m: string) => console.warn(m));
    try {
      for (const m of o.machines) {
        const sim = m.simulate;
        if (!sim) continue;
        const condition = resolveCondition(sim.condition);
        const sampleRate = m.sensors[0].sampleRate;
        const sensors = m.sensors.map((s, i) => {
          const gen = new BearingSignalGenerator({
            condition,
            fault: { type: sim.fault, severity: sim.severity },
            sampleRate: s.sampleRate,
            seed: sim.seed + i * 7919,
            ...(sim.rpm !== undefined ? { rpm: sim.rpm } : {}),
            ...(m.bearing ? { bearing: m.bearing } : {}),
          });
          if (i === 0) {
            fleet.machines.push({
              machine: m.id,
              fault: sim.fault,
              condition: gen.config.condition.name,
              rpm: gen.config.condition.rpm,
              faultFrequencyHz: gen.faultFrequencyHz,
            });
          }
          const rpm = gen.config.condition.rpm;
          return { sensorId: s.id, source: gen, rpm };
        });
        const sink = await openMqttSink({
          ...o.link,
          clientId: `faultline-sim-${o.site}-${m.id}`,
          clean: true,
          site: o.site,
          machine: m.id,
        });
        const run = runSensorStream({
          sensors,
          sampleRate,
          frameSamples: o.frameSamples ?? 512,
          speed: o.speed ?? 1,
          durationS: o.durationS,
          sink,
          signal: fleet.abort.signal,
        })
          .then((r) => {
            fleet.frames += r.frames;
            return r;
          })
          .catch((err: Error) => {
            log(`faultline fleet: ${m.id} stopped: ${err.message}`);
            return undefined;
          })
          .finally(() => sink.close().catch(() => undefined));
        fleet.runs.push(run);
      }
    } catch (err) {
      await fleet.close();
      throw err;
    }
    return fleet;
  }

  /** Frames sent by sensors that finished (with `durationS`). */
  get framesSent(): number {
    return this.frames;
  }

  /** Resolves when every simulated sensor finished (only with `durationS`). */
  async done(): Promise<void> {
    await Promise.all(this.runs);
  }

  /** Stops every simulated sensor and disconnects. */
  async close(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.runs);
  }
}
