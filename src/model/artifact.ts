/**
 * A Faultline model on disk: a folder with
 *
 *   model.json     tfjs LayersModel topology + weights manifest (paths: ['weights.bin'])
 *   weights.bin    the weights, little-endian float32, in manifest order
 *   faultline.json metadata: classes, the full FrontEndConfig (sample rate,
 *                  window, hop, STFT, normalisation, order mode), provenance,
 *                  metrics, the command that made it and a content hash
 *
 * Saving and loading go through `tf.io.withSaveHandler` / `tf.io.fromMemory`
 * plus node:fs, not tfjs-node's `file://` handler, so the same code works on
 * the node, wasm and cpu backends.
 *
 * A multi-task model (`--heads`, ./heads.ts) saves ONE topology with the
 * primary softmax as its first output and each auxiliary head's after it, in
 * the order of `heads` in faultline.json. Loading splits it again: `model`
 * stays the single-output network (input → primary probabilities) every
 * caller knows, `heads` holds each head's classifier on the shared features.
 *
 * A model is only ever run on the stream it was made for: `loadModelArtifact`
 * refuses a missing/corrupt folder or a hash mismatch (FL_ERR_MODEL_FILE), and
 * `checkStreamCompatibility` refuses a stream with another sample rate or
 * front end (FL_ERR_MODEL_MISMATCH). Never silently run.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../atomic-file.js';
import { ratesMatch } from '../data/resample.js';
import type { FrontEndConfig } from '../dsp/frontend.js';
import { createFrontEnd } from '../dsp/frontend.js';
import { FaultlineError } from '../errors.js';
import { HEAD_NAMES, type HeadSpec } from './choices.js';
import type * as tf from './tf.js';

/**
 * tfjs, imported on first use. Reading metadata and checking hashes needs no
 * tfjs; a gateway's main thread does only that (its models run in worker
 * threads), and loading tfjs there costs it ~70 MB of RSS (measured on an
 * idle gateway) for nothing.
 */
async function tfjs(): Promise<typeof tf> {
  return import('./tf.js');
}

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const METADATA_JSON = 'faultline.json';
export const ARTIFACT_FORMAT = 'faultline-model';

/** Where the training windows came from. */
export interface Provenance {
  /** Data folder as given on the command line. */
  dataset: string;
  kind: 'cwru' | 'byo' | 'sim' | 'memory';
  /** Domains (operating conditions) the labelled training data came from. */
  domains: string[];
  /** Recording ids used (train + val segments of each). */
  recordings: string[];
  /** Time-ordered split fractions per recording. */
  split: { train: number; val: number; test: number };
  /** Windows per split actually used. */
  windows: Record<string, number>;
  /** Unlabelled target domains used by an adaptation, if any. */
  targetDomains?: string[];
}

/** What an adaptation did and whether its guards let it be promoted. */
export interface AdaptationInfo {
  strategy: string;
  /** contentHash of the source model it started from. */
  sourceModelHash: string;
  sourceModelDir: string;
  /** False when a guard failed: the candidate is kept for inspection, not for use. */
  promoted: boolean;
  guards: { name: string; passed: boolean; detail: string }[];
  /** How the checkpoint was chosen (never by target labels). */
  selection: string;
  /** What the target was: a data set of several machines, or one live machine (its guard set); absent = dataset. */
  targetKind?: 'dataset' | 'single-machine';
}

/** faultline.json. */
export interface ModelMetadata {
  format: typeof ARTIFACT_FORMAT;
  formatVersion: 1;
  createdAt: string;
  /** Output classes, in the order of the softmax outputs. */
  classes: string[];
  /** Input sample rate, Hz (copy of frontEnd.sampleRate for quick checks). */
  sampleRate: number;
  /** Window length and hop, samples (copies of frontEnd.windowLength / hop). */
  windowLength: number;
  hop: number;
  /**
   * Input shape `[freqBins, frames, channels]` the network takes (as
   * `[1, F, T, K]`). Models written before channels existed store
   * `[freqBins, frames]`: read as one channel.
   */
  inputShape: [number, number, number];
  /** The complete front end; the live pipeline rebuilds it with createFrontEnd. */
  frontEnd: FrontEndConfig;
  architecture: {
    variant: string;
    params: number;
    /** Layer whose output is the feature vector (adaptation attaches here). */
    featureLayer: string;
    /** The nested classifier-head model layer. */
    classifierLayer: string;
  };
  training: {
    /** The command line that produced the model. */
    command: string;
    seed: number;
    epochs: number;
    bestEpoch: number;
    batchSize: number;
    learningRate: number;
    backend: string;
    seconds: number;
    /** Order mode: speed factors of the extra training windows (../model/domains.ts); absent or empty: none. */
    speedAugment?: number[];
  };
  provenance: Provenance;
  /** Accuracies as fractions (source validation, etc.). */
  metrics: Record<string, number>;
  adaptation?: AdaptationInfo;
  /**
   * Auxiliary heads on the shared features (./heads.ts), in the order of the
   * network's outputs after the primary one; absent: a single-head model.
   */
  heads?: HeadSpec[];
  /** sha256 (hex) of model.json bytes followed by weights.bin bytes. */
  contentHash: string;
}

const metadataSchema = z.looseObject({
  format: z.literal(ARTIFACT_FORMAT),
  formatVersion: z.literal(1),
  createdAt: z.string(),
  classes: z.array(z.string().min(1)).min(2),
  sampleRate: z.number().positive(),
  windowLength: z.number().int().positive(),
  hop: z.number().int().positive(),
  inputShape: z.union([
    z.tuple([z.number().int().positive(), z.number().int().positive()]),
    z.tuple([
      z.number().int().positive(),
      z.number().int().positive(),
      z.number().int().positive(),
    ]),
  ]),
  frontEnd: z.looseObject({ sampleRate: z.number(), windowLength: z.number(), mode: z.string() }),
  architecture: z.looseObject({
    variant: z.string(),
    params: z.number(),
    featureLayer: z.string(),
    classifierLayer: z.string(),
  }),
  training: z.looseObject({ command: z.string(), seed: z.number() }),
  provenance: z.looseObject({ dataset: z.string(), domains: z.array(z.string()) }),
  metrics: z.record(z.string(), z.number()),
  heads: z
    .array(
      z.looseObject({
        name: z.enum(HEAD_NAMES),
        classes: z.array(z.string().min(1)).min(2),
        classifierLayer: z.string().min(1),
      }),
    )
    .optional(),
  contentHash: z.string().regex(/^[0-9a-f]{64}$/),
});

/** A loaded model split into the parts adaptation needs. */
export interface LoadedModel {
  /** Full network: `[batch, F, T, 1]` → `[batch, classes]` probabilities. */
  model: tf.LayersModel;
  /** `[batch, F, T, 1]` → `[batch, featureDim]`, sharing `model`'s weights. */
  features: tf.LayersModel;
  /** `[batch, featureDim]` → probabilities, sharing `model`'s weights. */
  classifier: tf.LayersModel;
  /** Auxiliary heads (`meta.heads`, same order): `[batch, featureDim]` → that head's probabilities. */
  heads?: LoadedHead[];
  meta: ModelMetadata;
  dir: string;
}

/** One auxiliary head of a loaded multi-task model. */
export interface LoadedHead {
  spec: HeadSpec;
  classifier: tf.LayersModel;
}

/** sha256 over model.json then weights.bin, hex. */
export function contentHash(modelJson: Uint8Array, weights: Uint8Array): string {
  return createHash('sha256').update(modelJson).update(weights).digest('hex');
}

/**
 * Writes `model` and its metadata to `dir` (created if needed). The content
 * hash is computed here and returned in the written metadata; faultline.json
 * is written last so a crash mid-save leaves a folder that fails to load.
 * With `meta.heads`, `heads` gives their classifiers (same order): they are
 * saved as further outputs on `model`'s feature layer.
 * @throws FaultlineError FL_ERR_MODEL_FILE when `heads` does not match `meta.heads`
 */
export async function saveModelArtifact(
  dir: string,
  single: tf.LayersModel,
  meta: Omit<ModelMetadata, 'contentHash' | 'format' | 'formatVersion' | 'createdAt'> &
    Partial<Pick<ModelMetadata, 'createdAt'>>,
  heads: readonly tf.LayersModel[] = [],
): Promise<ModelMetadata> {
  const tf = await tfjs();
  const specs = meta.heads ?? [];
  if (specs.length !== heads.length)
    throw new FaultlineError(
      'FL_ERR_MODEL_FILE',
      `saving ${dir}: faultline.json would list ${specs.length} heads but ${heads.length} were given`,
    );
  // One topology: the primary output first, then each head on the shared features.
  const model =
    heads.length === 0
      ? single
      : tf.model({
          inputs: single.inputs,
          outputs: [
            single.outputs[0],
            ...heads.map(
              (h) =>
                h.apply(
                  single.getLayer(meta.architecture.featureLayer).output as tf.SymbolicTensor,
                ) as tf.SymbolicTensor,
            ),
          ],
          name: single.name,
        });
  await mkdir(dir, { recursive: true });
  let modelBytes: Uint8Array | undefined;
  let weightBytes: Uint8Array | undefined;
  await model.save(
    tf.io.withSaveHandler(async (art) => {
      const weightData = art.weightData ?? new ArrayBuffer(0);
      const joined = tf.io.CompositeArrayBuffer.join(weightData);
      weightBytes = new Uint8Array(joined);
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: art.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: art.weightSpecs ?? [] }],
      };
      modelBytes = new TextEncoder().encode(JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(art) };
    }),
  );
  if (!modelBytes || !weightBytes)
    throw new FaultlineError('FL_ERR_MODEL_FILE', `saving the model to ${dir} produced nothing`);
  const full: ModelMetadata = {
    format: ARTIFACT_FORMAT,
    formatVersion: 1,
    createdAt: meta.createdAt ?? new Date().toISOString(),
    ...meta,
    contentHash: contentHash(modelBytes, weightBytes),
  };
  await writeAtomic(path.join(dir, MODEL_JSON), modelBytes);
  await writeAtomic(path.join(dir, WEIGHTS_BIN), weightBytes);
  await writeAtomic(
    path.join(dir, METADATA_JSON),
    new TextEncoder().encode(`${JSON.stringify(full, null, 2)}\n`),
  );
  return full;
}

/** Reads and validates faultline.json only (cheap; no weights). */
export async function readModelMetadata(dir: string): Promise<ModelMetadata> {
  const file = path.join(dir, METADATA_JSON);
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new FaultlineError(
      'FL_ERR_MODEL_FILE',
      `${file} cannot be read (${err.code ?? err.message}); give a folder written by 'faultline train' or 'faultline adapt'`,
    );
  });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FaultlineError(
      'FL_ERR_MODEL_FILE',
      `${file} is not valid JSON (${(err as Error).message})`,
    );
  }
  const parsed = metadataSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FaultlineError(
      'FL_ERR_MODEL_FILE',
      `${file} is not Faultline model metadata: field '${issue.path.join('.')}' ${issue.message}`,
    );
  }
  const meta = parsed.data as unknown as ModelMetadata;
  // One channel where the shape predates channels ([F, T]).
  const shape = meta.inputShape as number[];
  if (shape.length === 2) meta.inputShape = [shape[0], shape[1], 1];
  return meta;
}

/**
 * Loads a model folder, verifying the content hash and that the network's
 * input/output shapes agree with the metadata.
 * @throws FaultlineError FL_ERR_MODEL_FILE for anything missing, corrupt or inconsistent
 */
export async function loadModelArtifact(dir: string): Promise<LoadedModel> {
  const { meta, modelBytes, weightBytes } = await readHashedFiles(dir);
  const tf = await tfjs();
  const { withFastTrainingGradients } = await import('./architectures.js');
  let model: tf.LayersModel;
  try {
    const json = JSON.parse(new TextDecoder().decode(modelBytes)) as {
      modelTopology: object;
      weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
    };
    const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
    const weightData = weightBytes.buffer.slice(
      weightBytes.byteOffset,
      weightBytes.byteOffset + weightBytes.byteLength,
    );
    model = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }),
    );
  } catch (err) {
    throw new FaultlineError(
      'FL_ERR_MODEL_FILE',
      `${dir}/model.json cannot be loaded as a tfjs LayersModel: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const inShape = model.inputs[0].shape;
  const outShape = model.outputs[0].shape;
  const specs = meta.heads ?? [];
  const headsAgree =
    model.outputs.length === 1 + specs.length &&
    specs.every((h, i) => model.outputs[i + 1].shape[1] === h.classes.length);
  if (!headsAgree) {
    model.dispose();
    throw new FaultlineError(
      'FL_ERR_MODEL_FILE',
      `${dir}: the network has ${model.outputs.length} outputs (${model.outputs.map((o) => o.shape[1]).join(', ')} classes) ` +
        `but faultline.json says the primary head and ${specs.length} more (${specs.map((h) => `${h.name}: ${h.classes.length}`).join(', ') || 'none'})`,
    );
  }
  if (
    inShape[1] !== meta.inputShape[0] ||
    inShape[2] !== meta.inputShape[1] ||
    inShape[3] !== meta.inputShape[2] ||
    outShape[1] !== meta.classes.length
  ) {
    model.dispose();
    throw new FaultlineError(
      'FL_ERR_MODEL_FILE',
      `${dir}: the network takes ${JSON.stringify(inShape)} → ${JSON.stringify(outShape)} but faultline.json says ` +
        `input [${meta.inputShape}] and ${meta.classes.length} classes`,
    );
  }
  withFastTrainingGradients(model); // adaptation trains loaded models
  // Every caller gets the single-output network; the heads come apart.
  const single =
    specs.length === 0
      ? model
      : tf.model({ inputs: model.inputs, outputs: model.outputs[0], name: model.name });
  const heads = specs.map((spec) => ({
    spec,
    classifier: nestedModel(model, spec.classifierLayer),
  }));
  return {
    ...splitModel(tf, single, meta.architecture.featureLayer, meta.architecture.classifierLayer),
    ...(specs.length > 0 ? { heads } : {}),
    meta,
    dir,
  };
}

/**
 * Verifies a model folder without tfjs: faultline.json is valid and
 * model.json + weights.bin hash to its content hash. Cheaper than
 * loadModelArtifact and loads no tfjs, but proves nothing about the network's
 * shapes: use it for a folder whose hash is already known to load.
 * @throws FaultlineError FL_ERR_MODEL_FILE for anything missing, corrupt or changed
 */
export async function verifyModelFiles(dir: string): Promise<ModelMetadata> {
  return (await readHashedFiles(dir)).meta;
}

async function readHashedFiles(
  dir: string,
): Promise<{ meta: ModelMetadata; modelBytes: Uint8Array; weightBytes: Uint8Array }> {
  const meta = await readModelMetadata(dir);
  const read = (name: string) =>
    readFile(path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      throw new FaultlineError(
        'FL_ERR_MODEL_FILE',
        `${path.join(dir, name)} cannot be read (${err.code ?? err.message})`,
      );
    });
  const [modelBytes, weightBytes] = await Promise.all([read(MODEL_JSON), read(WEIGHTS_BIN)]);
  const hash = contentHash(modelBytes, weightBytes);
  if (hash !== meta.contentHash) {
    throw new FaultlineError(
      'FL_ERR_MODEL_FILE',
      `${dir}: model.json + weights.bin hash to ${hash.slice(0, 12)}…, faultline.json records ` +
        `${meta.contentHash.slice(0, 12)}…; the files were changed or corrupted — re-copy the model folder`,
    );
  }
  return { meta, modelBytes, weightBytes };
}

/**
 * The feature extractor and classifier head of a full network built by
 * buildCnn (./architectures.ts): features end at `featureLayer`; the head is
 * the nested model layer `classifierLayer`. All three share weights.
 * `tfNs` is the tfjs namespace (imported lazily by this module's callers).
 */
function splitModel(
  tfNs: typeof tf,
  model: tf.LayersModel,
  featureLayer: string,
  classifierLayer: string,
): { model: tf.LayersModel; features: tf.LayersModel; classifier: tf.LayersModel } {
  try {
    const feat = model.getLayer(featureLayer);
    const features = tfNs.model({
      inputs: model.inputs,
      outputs: feat.output as tf.SymbolicTensor,
    });
    const classifier = model.getLayer(classifierLayer) as unknown as tf.LayersModel;
    if (typeof (classifier as { predict?: unknown }).predict !== 'function')
      throw new Error(`${classifierLayer} is not a model`);
    return { model, features, classifier };
  } catch (err) {
    throw new FaultlineError(
      'FL_ERR_MODEL_FILE',
      `the network has no feature layer '${featureLayer}' or classifier '${classifierLayer}': ${(err as Error).message}`,
    );
  }
}

/** The nested model layer `name` of `model` (a head's classifier). */
function nestedModel(model: tf.LayersModel, name: string): tf.LayersModel {
  try {
    const layer = model.getLayer(name) as unknown as tf.LayersModel;
    if (typeof (layer as { predict?: unknown }).predict !== 'function')
      throw new Error(`${name} is not a model`);
    return layer;
  } catch (err) {
    model.dispose();
    throw new FaultlineError(
      'FL_ERR_MODEL_FILE',
      `the network has no head classifier '${name}': ${(err as Error).message}`,
    );
  }
}

/** What a stream (or data set) offers a model. */
export interface StreamDescription {
  /** Samples per second, Hz. */
  sampleRate: number;
  /** The front end the caller intends to use, if it has its own. */
  frontEnd?: FrontEndConfig;
  /** Where the stream comes from, for the message. */
  label?: string;
}

/**
 * Refuses to run a model on a stream it was not made for: another sample
 * rate, another front end (window, STFT, normalisation, mode) or another
 * spectrogram size.
 * @throws FaultlineError FL_ERR_MODEL_MISMATCH naming the first difference
 */
export function checkStreamCompatibility(meta: ModelMetadata, stream: StreamDescription): void {
  const who = stream.label ?? 'the stream';
  if (!ratesMatch(stream.sampleRate, meta.sampleRate)) {
    throw new FaultlineError(
      'FL_ERR_MODEL_MISMATCH',
      `the model expects ${meta.sampleRate} Hz but ${who} is sampled at ${stream.sampleRate} Hz; ` +
        'resample the input or use a model trained at that rate',
    );
  }
  // The model's own front end must rebuild and give the model's input shape.
  const fe = createFrontEnd(meta.frontEnd);
  if (fe.inputShape.some((v, i) => v !== meta.inputShape[i])) {
    throw new FaultlineError(
      'FL_ERR_MODEL_MISMATCH',
      `the model's front end makes [${fe.inputShape}] spectrograms but the network takes [${meta.inputShape}]`,
    );
  }
  if (stream.frontEnd) {
    const diff = firstDifference(meta.frontEnd, stream.frontEnd, 'frontEnd');
    if (diff) {
      throw new FaultlineError(
        'FL_ERR_MODEL_MISMATCH',
        `${who} uses another front end than the model: ${diff}; let the model's faultline.json define the front end`,
      );
    }
  }
}

/** Path and values of the first difference between two JSON values, or undefined. */
function firstDifference(a: unknown, b: unknown, at: string): string | undefined {
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        `${at}.${k}`,
      );
      if (d) return d;
    }
    return undefined;
  }
  return a === b
    ? undefined
    : `${at} is ${JSON.stringify(a)} in the model, ${JSON.stringify(b)} here`;
}

/** A power cut leaves the old file or the new one, never a torn model (../atomic-file.ts). */
function writeAtomic(file: string, bytes: Uint8Array): Promise<void> {
  return writeFileAtomic(file, bytes, { backup: false });
}
