/**
 * What the gateway shows: the shapes `GET /api/machines`, `GET /api/gateway`
 * and the `/api/stream` WebSocket send, and the gateway's typed events. Kept
 * apart from ./gateway.ts so the API modules (./api.ts, ./routes.ts,
 * ./websocket.ts, through ./gateway-api.ts) need not import the gateway.
 */
import type { AlertPublisher } from '../alerts/publisher.js';
import type { Alert } from '../alerts/schema.js';
import type { MachineDiagnosis } from '../diagnose/pipeline.js';
import type { HealthChange, HealthState } from '../diagnose/types.js';
import type { BearingGeometry } from '../dsp/bearing.js';
import type { IngestStats } from '../ingest/source.js';
import type { HistoryStore } from '../store/types.js';
import type { AdaptJob } from './adaptation.js';
import type { EmbeddedBrokerStats } from './broker.js';

/** A machine's ingest counters since start. */
export interface MachineIngest {
  frames: number;
  badFrames: number;
  gaps: number;
  /** Frames per second over the last stats interval. */
  framesPerS: number;
  lastFrameAt?: string;
  /** Blocks and windows the pipeline dropped (queue full, refused sensor…). */
  dropped: number;
}

/** One machine as `GET /api/machines` returns it. */
export interface MachineView {
  id: string;
  site: string;
  description?: string;
  /** Production line from the config, if any. */
  line?: string;
  /** Bearing geometry the defect frequencies are computed with. */
  bearing: BearingGeometry;
  /** 'config' when configured, 'default' for the CWRU drive-end 6205 the gateway falls back to. */
  bearingSource: 'config' | 'default';
  /** ISO 20816-3 machine group and foundation (config, default group 2 rigid). */
  iso: { group: 1 | 2; foundation: 'rigid' | 'flexible' };
  /** Configured nominal shaft speed, rpm, if any. */
  nominalRpm?: number;
  sensors: {
    id: number;
    /** Configured rate, Hz. */
    sampleRate: number;
    link: string;
    /** Rate of the latest block diagnosed, Hz (absent before the first). */
    streamRate?: number;
    /** The resampler bringing the stream to the model's rate (absent: taken as it is, within ±1 %). */
    resampling?: string;
    /** Whole blocks dropped, by reason (`bad-rate`, `rate-changed`, `bad-block`, `refused`…). */
    droppedBlocks?: Record<string, number>;
    /** While its latest blocks do not fit: since when, how many, and why. */
    misfit?: { since: string; blocks: number; reason: string };
  }[];
  state: HealthState | 'starting';
  stateSince?: string;
  /** Why the machine is in its state (the reason of the change into it; for `stream-mismatch`, the sensor and why). */
  stateReason?: string;
  faultClass?: string;
  confidence?: number;
  /** Latest diagnosis without the display payloads (spectrogram, envelope: see /api/stream). */
  diagnosis?: Omit<MachineDiagnosis, 'spectrogram' | 'envelope'>;
  evidence?: MachineDiagnosis['evidence'];
  model?: { version: string; contentHash: string; origin: string; classes: string[] };
  ingest: MachineIngest;
  /** The simulated signal's ground truth, for the demo fleet. */
  simulated?: { fault: string; condition: string; rpm: number };
  adaptation?: AdaptJob;
  /**
   * With `cluster.enabled`: whether this gateway owns (diagnoses) the machine
   * and which live gateway does (null: none known). For a machine another
   * gateway owns, `state`/`stateSince`/`faultClass`/`confidence` come from
   * the owner's retained state topic and `diagnosis`/`evidence` are left out.
   */
  cluster?: { owned: boolean; owner: string | null };
}

/** `GET /api/gateway`. */
export interface GatewayHealth {
  site: string;
  gatewayId: string;
  startedAt: string;
  uptimeS: number;
  broker: {
    url: string;
    embedded: boolean;
    connected: boolean;
    clients?: number;
    /** Embedded broker: refused CONNECTs, denied publishes/subscriptions, oversize packets. */
    access?: EmbeddedBrokerStats['access'];
  };
  ingest: {
    sources: IngestStats[];
    perSensor: Record<
      string,
      { framesPerS: number; frames: number; gaps: number; badFrames: number }
    >;
  };
  store: { kind: 'sqlite' | 'influx' } & ReturnType<HistoryStore['stats']>;
  alerts: ReturnType<AlertPublisher['stats']>;
  pipeline: unknown;
  fleet?: { machines: number };
  reload: { at?: string; ok?: boolean; error?: string };
  /** With `cluster.enabled`: the live gateways of the site and the machines this one owns. */
  cluster?: {
    live: string[];
    owned: string[];
    /** Membership changes seen since start. */
    changes: number;
    lastChangeAt?: string;
    /** Frames that arrived for machines another gateway owns (hand-over overlap), dropped. */
    notOwnedBlocks: number;
  };
}

export interface GatewayEvents {
  diagnosis: [MachineDiagnosis];
  health: [HealthChange & { site: string }];
  alert: [Alert];
  ack: [{ id: string; machine: string; by: string; comment?: string; via: 'mqtt' | 'api' }];
  adaptation: [AdaptJob];
  ingest: [Record<string, MachineIngest>];
}
