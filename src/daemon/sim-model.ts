/**
 * A small source model trained on simulator data, for gateways that have no
 * shipped model fitting their streams (the embedded-defaults demo, tests).
 * Deterministic: the same options give the same recordings and, on one
 * backend, the same model. Also regenerates the labelled source recordings an
 * adaptation needs (adaptModel aligns the target to them).
 */

import type { ModelMetadata } from '../model/artifact.js';
import { DEFAULT_FRONT_END } from '../model/domains.js';
import { trainSourceModel } from '../model/pipeline.js';
import type { ConditionPresetName } from '../sim/conditions.js';
import { planSimDataset } from '../sim/dataset.js';
import { BearingSignalGenerator } from '../sim/generator.js';
import type { Recording } from '../types.js';

/** Data-set label written into the model's provenance; {@link simSourceRecordings} recognises it. */
export const SIM_DATASET_PREFIX = 'sim:';

export interface SimModelOptions {
  /** Source condition (domain). Default `source-1797rpm`. */
  condition?: ConditionPresetName;
  /** Recordings per class. Default 3. */
  recordingsPerClass?: number;
  /** Seconds per recording. Default 4. */
  durationS?: number;
  /** Maximum epochs. Default 6. */
  epochs?: number;
  seed?: number;
}

/** Simulated labelled recordings (normal, inner, outer, ball) of one condition, 12 kHz. */
export function simRecordings(o: SimModelOptions = {}): Recording[] {
  const entries = planSimDataset({
    conditions: [o.condition ?? 'source-1797rpm'],
    recordingsPerClass: o.recordingsPerClass ?? 3,
    durationS: o.durationS ?? 4,
    seed: o.seed ?? 1,
  });
  return entries.map((e) => {
    const gen = new BearingSignalGenerator({
      condition: e.condition,
      fault: { type: e.fault, severity: e.severity },
      sampleRate: e.sampleRate,
      seed: e.seed,
    });
    return {
      id: `sim:${e.file}`,
      label: e.label,
      domain: e.domain,
      sampleRate: e.sampleRate,
      samples: gen.next(Math.round(e.durationS * e.sampleRate)),
      rpm: e.rpm,
      meta: { simulated: true, fault: e.fault, severity: e.severity },
    };
  });
}

/** The data-set label of a simulator-trained model, e.g. `sim:source-1797rpm:3x4s:seed1`. */
export function simDatasetLabel(o: SimModelOptions = {}): string {
  return `${SIM_DATASET_PREFIX}${o.condition ?? 'source-1797rpm'}:${o.recordingsPerClass ?? 3}x${o.durationS ?? 4}s:seed${o.seed ?? 1}`;
}

/** Parses a label written by {@link simDatasetLabel}; undefined for other data sets. */
export function parseSimDatasetLabel(label: string): SimModelOptions | undefined {
  const m = /^sim:([A-Za-z0-9._@+-]+):(\d+)x([\d.]+)s:seed(-?\d+)$/.exec(label);
  if (!m) return undefined;
  return {
    condition: m[1] as ConditionPresetName,
    recordingsPerClass: Number(m[2]),
    durationS: Number(m[3]),
    seed: Number(m[4]),
  };
}

/** Trains a source model on simulator data into `outDir` (≈ tens of seconds on 2 cores). */
export async function trainSimModel(
  outDir: string,
  o: SimModelOptions = {},
): Promise<ModelMetadata> {
  const recordings = simRecordings(o);
  return trainSourceModel({
    recordings,
    datasetLabel: simDatasetLabel(o),
    kind: 'sim',
    frontEnd: { ...DEFAULT_FRONT_END, sampleRate: 12_000 },
    epochs: o.epochs ?? 6,
    seed: o.seed ?? 1,
    outDir,
    command: `faultline gateway (simulator model, ${simDatasetLabel(o)})`,
  });
}
