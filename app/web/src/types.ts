/**
 * What the console reads from the gateway API (src/daemon). Written
 * defensively: every field the console can do without is optional, so a
 * gateway one version behind degrades a panel instead of breaking the page.
 * Types the console shares with the gateway unchanged come from the contract,
 * src/contract (type-only: nothing of them reaches the bundle).
 */
import type { Verdict } from '../../../src/contract/alert.js';
import type { HeadReadings } from '../../../src/contract/heads.js';
import type { HealthChange, IsoZone, MachineState } from '../../../src/contract/health.js';

export type { HealthChange, IsoZone, Verdict };

/** A machine's health as the gateway diagnoses it, or `starting` before its first window. */
export type HealthState = MachineState;

export interface Evidence {
  /** Defect line that stands out, or null when none does. */
  defect: string | null;
  /** Peak frequency, Hz (absent when no line stands out). */
  frequencyHz?: number;
  /** The line's envelope score, a plain ratio over the local floor (GET /api/machines, the stream). */
  score?: number;
  /** The same ratio under the name alerts give it. */
  prominence?: number;
}

/** Spectrogram of the latest window: `data` is frames × freqBins, row-major, dB or log power. */
export interface SpectrogramPayload {
  freqBins: number;
  frames: number;
  data: number[];
  /** Highest frequency of the last bin, Hz (when given). */
  maxFreqHz?: number;
  /** How many of the last frames are new since the previous window (windows overlap). */
  newFrames?: number;
}

/** Coarse envelope spectrum of a window (gateway `MachineDiagnosis.envelope`). */
export interface EnvelopePayload {
  freqHz?: number[];
  /** Envelope amplitude, g. */
  amplitude?: number[];
  /** Spacing of freqHz, Hz. */
  df?: number;
  binHz?: number;
  data?: number[];
}

/** One live diagnosis pushed over the stream (`MachineDiagnosis`). */
export interface MachineDiagnosis {
  site?: string;
  machine: string;
  sensor?: string | number;
  /** ms since the Unix epoch (gateway clock). */
  t: number;
  faultClass: string;
  severity?: string;
  modelClass?: string;
  confidence?: number;
  probs?: Record<string, number>;
  rpm?: number | null;
  rpmSource?: string;
  /** RMS acceleration, g. */
  rmsG?: number;
  /** RMS velocity, mm/s. */
  velocityRmsMmS?: number;
  isoZone?: IsoZone;
  crestFactor?: number;
  kurtosis?: number;
  evidence?: Evidence;
  modelVersion?: string;
  latencyMs?: number;
  spectrogram?: SpectrogramPayload;
  envelope?: EnvelopePayload;
  /** A multi-task model's auxiliary heads (src/contract/heads.ts); absent for a single-head model. */
  heads?: HeadReadings;
}

export interface BearingGeometry {
  balls: number;
  ballDiameter: number;
  pitchDiameter: number;
  contactAngleDeg?: number;
}

/** A machine as `GET /api/machines` returns it (fields beyond id are best-effort). */
/** A shelved machine's shelf: still diagnosed, no alerts until `until` (ISO 8601). */
export interface Shelf {
  by: string;
  reason: string;
  since: string;
  until: string;
}

export interface MachineInfo {
  id: string;
  site?: string;
  line?: string;
  description?: string;
  state?: HealthState;
  /** When the current state was entered (ISO 8601 or ms). */
  stateSince?: string | number;
  /** Why the machine is in its state (e.g. which sensor does not fit and why). */
  stateReason?: string;
  since?: string | number;
  faultClass?: string;
  confidence?: number;
  model?: { version?: string; contentHash?: string; origin?: string; classes?: string[] };
  sensors?: {
    id: number;
    sampleRate?: number;
    link?: string;
    /** Rate of the latest block diagnosed, Hz. */
    streamRate?: number;
    /** The resampler bringing the stream to the model's rate, when there is one. */
    resampling?: string;
    /** While its blocks do not fit: since when (ISO 8601), how many, why. */
    misfit?: { since?: string; blocks?: number; reason?: string };
  }[];
  simulated?: { fault?: string; condition?: string; rpm?: number };
  /** Shelved (maintenance): no alerts until it runs out; null or absent when not. */
  shelved?: Shelf | null;
  /** Windows labelled by operators' verdicts, per class (docs/verdicts.md); absent from older gateways. */
  verdicts?: Record<string, number>;
  /** Labelled windows a class needs before "learn from verdicts" takes it; absent from older gateways. */
  verdictsMinPerClass?: number;
  diagnosis?: MachineDiagnosis | null;
  evidence?: Evidence | null;
  modelVersion?: string;
  bearing?: BearingGeometry;
  /** 'default' when the gateway fell back to the CWRU drive-end 6205 (none configured). */
  bearingSource?: 'config' | 'default';
  iso?: { group?: 1 | 2; foundation?: 'rigid' | 'flexible'; boundaries?: number[] };
  nominalRpm?: number;
  /** Recent diagnoses for trends, oldest first (when the gateway keeps them). */
  history?: MachineDiagnosis[];
  [k: string]: unknown;
}

export interface Alert {
  id: string;
  site?: string;
  machine: string;
  sensor?: string;
  state: HealthState;
  previousState?: HealthState;
  faultClass: string;
  confidence: number;
  isoZone?: IsoZone;
  velocityRmsMmS?: number;
  evidence?: Evidence;
  reason: string;
  modelVersion?: string;
  /** A multi-task model's auxiliary heads at the change (src/contract/heads.ts). */
  heads?: HeadReadings;
  /** ISO 8601 UTC. */
  time: string;
  acknowledged?: { by: string; time: string; comment?: string; verdict?: Verdict };
}

/** Adaptation progress pushed over the stream and returned by the adapt endpoints. */
export interface AdaptationStatus {
  machine: string;
  id?: string;
  phase?: string;
  state?: string;
  step?: number;
  steps?: number;
  collectedS?: number;
  seconds?: number;
  loss?: number;
  classLoss?: number;
  domainLoss?: number;
  discriminatorAccuracy?: number;
  /** Loss curve (mean losses per progress event). */
  losses?: { step: number; loss?: number; classLoss?: number; domainLoss?: number }[];
  /** Label-free checkpoints of the alignment. */
  checkpoints?: {
    step: number;
    sourceValAccuracy?: number;
    im?: number;
    meanEntropy?: number;
    marginalEntropy?: number;
    discriminatorAccuracy?: number;
  }[];
  guards?: { name: string; passed: boolean; detail: string }[];
  /** Learning from the machine's verdicts (finetune or features) rather than label-free alignment. */
  fromVerdicts?: boolean;
  /** fromVerdicts: held-out verdict windows and their accuracy before and after, 0–1. */
  heldOut?: { windows: number; before: number; after: number };
  /** fromVerdicts: verdict windows trained on, per class. */
  trained?: Record<string, number>;
  promoted?: boolean;
  version?: string;
  metrics?: Record<string, number>;
  error?: string;
  message?: string;
  [k: string]: unknown;
}

/** A message on `/api/stream`, as the console understands it after normalisation. */
export type StreamMessage =
  | { type: 'diagnosis'; data: MachineDiagnosis }
  | { type: 'health'; data: HealthChange }
  | { type: 'ingest'; data: Record<string, unknown> }
  | { type: 'adaptation'; data: AdaptationStatus }
  | { type: 'alert'; data: Alert }
  | {
      type: 'ack';
      data: { id: string; machine?: string; by: string; comment?: string; time?: string };
    }
  | { type: 'hello'; data: { site?: string; gatewayId?: string; machines?: MachineInfo[] } }
  | { type: 'shelve'; data: { machine: string; shelved: Shelf | null; by?: string } }
  | { type: 'other'; data: unknown };
