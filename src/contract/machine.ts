/**
 * What the gateway shows of a machine: one live diagnosis per window (pushed
 * on `/api/stream`, kept as the machine's latest), the adaptation jobs, and
 * the machine as `GET /api/machines` returns it. The types are inferred from
 * the schemas; the OpenAPI document (./openapi.ts) is generated from them.
 */
import { z } from 'zod';
import { shelfSchema } from './alert.js';
import { headReadingsSchema } from './heads.js';
import { DEFECT_LINES, isoClassSchema, isoZoneSchema, machineStateSchema } from './health.js';

/** Where a diagnosis's shaft speed came from. */
export const rpmSourceSchema = z.enum(['frame', 'config', 'estimate', 'none']);
export type RpmSource = z.infer<typeof rpmSourceSchema>;

/** Geometry of a rolling-element bearing, from which its defect frequencies follow (src/dsp/bearing.ts). */
export const bearingGeometrySchema = z.object({
  /** Number of rolling elements. */
  balls: z.number().int().positive(),
  /** Rolling-element diameter d (any length unit, the same as pitchDiameter). */
  ballDiameter: z.number().positive(),
  /** Pitch diameter D (same unit as ballDiameter). */
  pitchDiameter: z.number().positive(),
  /** Contact angle φ, degrees. */
  contactAngleDeg: z.number(),
});
export type BearingGeometry = z.infer<typeof bearingGeometrySchema>;

/**
 * The envelope evidence of a window: the defect line that stands out (null
 * when none does, or no speed is known). `score` is a plain ratio: the
 * geometric mean, over the line's harmonics, of peak / median amplitude of
 * the surrounding band (an alert's `prominence` is this score).
 */
export const windowEvidenceSchema = z
  .object({
    defect: z.enum(DEFECT_LINES).nullable(),
    frequencyHz: z.number().optional().describe('Frequency of the line, Hz'),
    score: z
      .number()
      .optional()
      .describe('Peak over the local floor as a plain ratio (geometric mean over harmonics)'),
    /** The same score for every defect line looked at, the winner or not (history keeps them all). */
    scores: z
      .object({
        BPFO: z.number().optional(),
        BPFI: z.number().optional(),
        BSF: z.number().optional(),
      })
      .optional()
      .describe('Score of each defect line (plain ratio), whether it stands out or not'),
  })
  .describe('Envelope evidence of the window');
export type WindowEvidence = z.infer<typeof windowEvidenceSchema>;

/** Coarse spectrogram of a window, `[freq, time]` row-major (≤ 32 × 32). */
export const spectrogramViewSchema = z.object({
  freqBins: z.number().int(),
  frames: z.number().int(),
  data: z.array(z.number()),
  /**
   * How many of the last frames are new since the sensor's previous window
   * (windows overlap by windowLength − hop): a waterfall appends only these.
   */
  newFrames: z.number().int(),
  /** Top of the frequency axis, Hz (time-mode models only; order-mode axes are in orders). */
  maxFreqHz: z.number().optional(),
});
export type SpectrogramView = z.infer<typeof spectrogramViewSchema>;

/** Coarse envelope spectrum of a window (≤ 256 bins). */
export const envelopeViewSchema = z.object({
  /** Centre of each pooled bin, Hz (2 decimals). */
  freqHz: z.array(z.number()),
  /** Envelope amplitude, g (peak of the pooled bins, 4 significant digits). */
  amplitude: z.array(z.number()),
  /** Spacing of `freqHz`, Hz. */
  df: z.number(),
  /** Bin spacing of the spectrum it was pooled from, Hz. */
  binHz: z.number(),
});
export type EnvelopeView = z.infer<typeof envelopeViewSchema>;

/** One diagnosis per window (the `diagnosis` events of `/api/stream`). */
export const machineDiagnosisSchema = z.object({
  site: z.string(),
  machine: z.string(),
  sensor: z.string(),
  /** Time of the window's last sample, ms since the epoch (sensor clock, from the frame's t0). */
  t: z.number().describe("Time of the window's last sample, ms since the epoch"),
  /** Operator-facing: 'normal' | 'inner race' | 'outer race' | 'ball' | the model's name if unknown. */
  faultClass: z.string(),
  /** Defect size when the model's class name carries one, e.g. '0.007 in'. */
  severity: z.string().optional(),
  /** The model's own class name (argmax), e.g. 'IR007'. */
  modelClass: z.string(),
  /** Probability of modelClass, 0–1. */
  confidence: z.number(),
  /** Probability of every model class, keyed by the model's names. */
  probs: z.record(z.string(), z.number()),
  rpm: z.number().nullable(),
  rpmSource: rpmSourceSchema,
  /** Acceleration RMS, g. */
  rmsG: z.number(),
  /** Peak |acceleration − mean| of the window, g (crestFactor = peakG / rmsG). */
  peakG: z.number().optional(),
  /**
   * Velocity RMS over 10–1000 Hz, mm/s. Computed every `featuresEvery`
   * windows; in between, the sensor's latest is repeated (as isoZone).
   */
  velocityRmsMmS: z.number(),
  isoZone: isoZoneSchema,
  crestFactor: z.number(),
  kurtosis: z.number(),
  /** Computed every `evidenceEvery` windows; in between, the sensor's latest is repeated. */
  evidence: windowEvidenceSchema,
  /** contentHash prefix (12 hex digits) of the model that made it. */
  modelVersion: z.string(),
  /** Arrival of the window's last sample → this diagnosis, ms. */
  latencyMs: z.number(),
  /**
   * Coarse spectrogram, only when requested (a viewer of the machine);
   * `newFrames` of the last frames are new since the previous window.
   */
  spectrogram: spectrogramViewSchema.partial({ newFrames: true }).optional(),
  /**
   * Coarse envelope spectrum (up to ~3.2 × BPFI, or 500 Hz without a speed),
   * only when requested and on windows that computed evidence.
   */
  envelope: envelopeViewSchema.optional(),
  /** A multi-task model's auxiliary heads (./heads.ts); absent for a single-head model. */
  heads: headReadingsSchema.optional(),
});
export type MachineDiagnosis = z.infer<typeof machineDiagnosisSchema>;

/** Alignment strategies of an adaptation (src/model/pipeline.ts). */
export const adaptStrategySchema = z.enum(['dann', 'mmd', 'dann-im', 'finetune', 'features']);
export type AdaptStrategy = z.infer<typeof adaptStrategySchema>;

export const adaptJobStateSchema = z.enum([
  'collecting',
  'adapting',
  'done',
  'rejected',
  'failed',
  'cancelled',
]);
export type AdaptJobState = z.infer<typeof adaptJobStateSchema>;

/** One label-free checkpoint of an alignment run. */
export const adaptCheckpointSchema = z.object({
  step: z.number().int(),
  /** Accuracy on the labelled source validation split, 0–1. */
  sourceValAccuracy: z.number(),
  /** Label-free selection criterion on the unlabelled target: IM = marginal − mean entropy, −1…1. */
  im: z.number().describe('Label-free criterion on the target'),
  /** Mean per-window prediction entropy / log C on the target, 0–1. */
  meanEntropy: z.number(),
  /** Entropy of the mean target prediction / log C, 0–1. */
  marginalEntropy: z.number(),
  /** Domain-discriminator accuracy (DANN only), 0.5 = domains confused. */
  discriminatorAccuracy: z.number().optional(),
});
export type AdaptCheckpoint = z.infer<typeof adaptCheckpointSchema>;

/** One adaptation run, as the API reports it. */
export const adaptJobSchema = z.object({
  id: z.string(),
  machine: z.string(),
  strategy: adaptStrategySchema,
  /** Signal to collect, s. */
  seconds: z.number(),
  state: adaptJobStateSchema,
  /** Signal collected so far, s. */
  collectedS: z.number(),
  /** Alignment steps done / planned. */
  step: z.number().int(),
  steps: z.number().int(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  /** Version the machine ran when the job started. */
  fromVersion: z.string().optional(),
  /** Version registered from the candidate. */
  version: z.string().optional(),
  promoted: z.boolean().optional(),
  guards: z
    .array(z.object({ name: z.string(), passed: z.boolean(), detail: z.string() }))
    .optional(),
  error: z.string().optional(),
  /** Latest mean losses (over the last few steps), when the model code reports them. */
  loss: z.number().optional().describe('Latest mean total loss'),
  classLoss: z.number().optional(),
  domainLoss: z.number().optional(),
  /** Loss curve: one point per progress message, at most 400 (thinned by 2 when full). */
  losses: z
    .array(
      z.object({
        step: z.number().int(),
        loss: z.number().optional(),
        classLoss: z.number().optional(),
        domainLoss: z.number().optional(),
      }),
    )
    .optional()
    .describe('Loss curve, one point per progress event (≤ 400)'),
  /** Latest checkpoint's domain-discriminator accuracy (DANN), 0.5 = domains confused. */
  discriminatorAccuracy: z
    .number()
    .optional()
    .describe('Latest domain-discriminator accuracy (DANN), 0.5 = domains confused'),
  /** Label-free checkpoints of the alignment, in step order. */
  checkpoints: z.array(adaptCheckpointSchema).optional(),
  /** Learning from the machine's verdict windows (finetune or features) rather than label-free alignment. */
  fromVerdicts: z.boolean().optional(),
  /** fromVerdicts: verdict windows trained on, per class. */
  trained: z.record(z.string(), z.int()).optional(),
  /** fromVerdicts: the held-out verdict windows and their accuracy with the model before and after, 0–1. */
  heldOut: z
    .object({ windows: z.int(), before: z.number(), after: z.number() })
    .optional()
    .describe('Held-out verdict windows and their accuracy before and after (fromVerdicts)'),
});
export type AdaptJob = z.infer<typeof adaptJobSchema>;

/** A machine's ingest counters since start. */
export const machineIngestSchema = z.object({
  frames: z.number().int(),
  badFrames: z.number().int(),
  gaps: z.number().int(),
  /** Frames per second over the last stats interval. */
  framesPerS: z.number(),
  lastFrameAt: z.string().optional(),
  /** Blocks and windows the pipeline dropped (queue full, refused sensor…). */
  dropped: z.number().int(),
});
export type MachineIngest = z.infer<typeof machineIngestSchema>;

/** One sensor of a machine view. */
export const sensorViewSchema = z.object({
  id: z.number().int(),
  /** Configured rate, Hz. */
  sampleRate: z.number().describe('Configured rate, Hz'),
  link: z.string(),
  /** Rate of the latest block diagnosed, Hz (absent before the first). */
  streamRate: z.number().optional().describe('Rate of the latest block diagnosed, Hz'),
  /** The resampler bringing the stream to the model's rate (absent: taken as it is, within ±1 %). */
  resampling: z
    .string()
    .optional()
    .describe(
      "The resampler bringing the stream to the model's rate; absent when the stream is within ±1 % of it",
    ),
  /** Whole blocks dropped, by reason (`bad-rate`, `rate-changed`, `bad-block`, `refused`…). */
  droppedBlocks: z
    .record(z.string(), z.number().int())
    .optional()
    .describe('Whole blocks dropped, by reason (bad-rate, rate-changed, bad-block, refused…)'),
  /** While its latest blocks do not fit: since when, how many, and why. */
  misfit: z
    .object({ since: z.string(), blocks: z.number().int(), reason: z.string() })
    .optional()
    .describe('While the latest blocks do not fit: since when (ISO 8601), how many, why'),
});

/** One machine as `GET /api/machines` returns it. */
export const machineViewSchema = z
  .object({
    id: z.string(),
    site: z.string(),
    description: z.string().optional(),
    /** Production line from the config, if any. */
    line: z.string().optional().describe('Production line (config)'),
    /** Bearing geometry the defect frequencies are computed with. */
    bearing: bearingGeometrySchema.describe('Bearing geometry used for the defect frequencies'),
    /** 'config' when configured, 'default' for the CWRU drive-end 6205 the gateway falls back to. */
    bearingSource: z.enum(['config', 'default']),
    /** ISO 20816-3 machine group and foundation (config, default group 2 rigid). */
    iso: isoClassSchema,
    /** Configured nominal shaft speed, rpm, if any. */
    nominalRpm: z.number().optional().describe('Configured nominal speed, rpm'),
    sensors: z.array(sensorViewSchema),
    state: machineStateSchema,
    stateSince: z.string().optional(),
    /** Why the machine is in its state (the reason of the change into it; for `stream-mismatch`, the sensor and why). */
    stateReason: z
      .string()
      .optional()
      .describe(
        'Why the machine is in its state; for stream-mismatch, which sensor does not fit and why',
      ),
    faultClass: z.string().optional(),
    confidence: z.number().min(0).max(1).optional(),
    /** Latest diagnosis without the display payloads (spectrogram, envelope: see /api/stream). */
    diagnosis: machineDiagnosisSchema
      .omit({ spectrogram: true, envelope: true })
      .optional()
      .describe('Latest window, without the display payloads (those come on /api/stream)'),
    evidence: windowEvidenceSchema.optional(),
    model: z
      .object({
        version: z.string(),
        contentHash: z.string(),
        origin: z.string(),
        classes: z.array(z.string()),
      })
      .optional(),
    ingest: machineIngestSchema,
    /** The simulated signal's ground truth, for the demo fleet. */
    simulated: z
      .object({ fault: z.string(), condition: z.string(), rpm: z.number() })
      .optional()
      .describe('Ground truth of a simulated machine'),
    adaptation: adaptJobSchema.optional(),
    /** Windows operators' verdicts labelled, per class (`normal` from false alarms); docs/verdicts.md. */
    verdicts: z
      .record(z.string(), z.int().min(0))
      .optional()
      .describe(
        'Windows labelled by operators’ verdicts on alerts, per class (confirmed class, or normal for a false alarm): target data for this machine',
      ),
    /** Windows a class needs before learning from verdicts takes it (`verdicts.minPerClass`). */
    verdictsMinPerClass: z
      .int()
      .min(1)
      .optional()
      .describe(
        'Labelled windows a class needs before "learn from verdicts" takes it (verdicts.minPerClass)',
      ),
    /** Shelved or in maintenance: still diagnosed, no alerts until `until` (null: not shelved). */
    shelved: shelfSchema
      .nullable()
      .optional()
      .describe(
        'Shelved or in maintenance (who, why, since, until): still diagnosed, but no alerts or notifications until it unshelves; null when not shelved',
      ),
    /**
     * With `cluster.enabled`: whether this gateway owns (diagnoses) the machine
     * and which live gateway does (null: none known). For a machine another
     * gateway owns, `state`/`stateSince`/`faultClass`/`confidence` come from
     * the owner's retained state topic and `diagnosis`/`evidence` are left out.
     */
    cluster: z
      .object({ owned: z.boolean(), owner: z.string().nullable() })
      .optional()
      .describe(
        'With cluster.enabled: whether this gateway owns (diagnoses) the machine, and the owning gateway id (null: none live). For a machine another gateway owns, state/stateSince/faultClass/confidence come from its retained state topic and diagnosis/evidence are absent',
      ),
  })
  .describe('A machine: its configuration, state, latest diagnosis and evidence');
export type MachineView = z.infer<typeof machineViewSchema>;
