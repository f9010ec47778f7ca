/**
 * One entry point for any data folder: detects whether it is the CWRU set or
 * a bring-your-own folder and loads it as Recordings; plus the per-recording
 * summary `faultline dataset inspect` prints.
 */
import { stat } from 'node:fs/promises';
import { FaultlineError } from '../errors.js';
import type { Recording } from '../types.js';
import { tableDesignationOf } from './bearings.js';
import { findByoManifest, loadByo } from './byo.js';
import { loadCwru, presentCwruFiles } from './cwru.js';
import type { ResampleOptions } from './resample.js';

export type DatasetKind = 'cwru' | 'byo';

export interface LoadDatasetOptions {
  /**
   * Rate every recording is brought to, Hz. Default: 12000 for CWRU (97.mat
   * is decimated from 48 kHz), each file's own rate for bring-your-own data.
   */
  targetRate?: number;
  /** CWRU only: keep these classes. */
  classes?: readonly string[];
  /** CWRU only: keep these loads, HP. */
  loads?: readonly number[];
  /** Anti-alias filter settings when resampling. */
  resample?: ResampleOptions;
  /**
   * Bring-your-own only: manifest column holding the class (matched without
   * case); default `label`. A CWRU folder refuses any other column.
   */
  labelColumn?: string;
}

/**
 * Which kind of data folder `dir` is. A `manifest.csv`/`manifest.json` makes
 * it bring-your-own (an explicit manifest wins); otherwise any catalogued
 * CWRU file (`105.mat`, …) makes it CWRU.
 * @throws FaultlineError FL_ERR_DATASET_EMPTY when it is neither (or not a folder)
 */
export async function detectDataset(dir: string): Promise<DatasetKind> {
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) {
    throw new FaultlineError('FL_ERR_DATASET_EMPTY', `${dir} is not a folder; give a data folder`);
  }
  if (await findByoManifest(dir)) return 'byo';
  if ((await presentCwruFiles(dir)).size > 0) return 'cwru';
  throw new FaultlineError(
    'FL_ERR_DATASET_EMPTY',
    `${dir} is neither a CWRU folder (105.mat, …) nor has a manifest.csv/manifest.json; add a manifest`,
  );
}

/**
 * Loads a CWRU or bring-your-own folder (see {@link detectDataset}). A CWRU
 * folder missing some files loads the ones present.
 */
export async function loadDataset(
  dir: string,
  options: LoadDatasetOptions = {},
): Promise<Recording[]> {
  const kind = await detectDataset(dir);
  if (kind === 'cwru') {
    const col = options.labelColumn?.trim().toLowerCase();
    if (col !== undefined && col !== 'label') {
      throw new FaultlineError(
        'FL_ERR_DATASET_OPTION',
        `a label column ('${options.labelColumn}') applies to bring-your-own folders; ${dir} is CWRU`,
      );
    }
    return loadCwru(dir, {
      targetRate: options.targetRate ?? 12000,
      classes: options.classes,
      loads: options.loads,
      resample: options.resample,
      allowMissing: true,
    });
  }
  if (options.classes || options.loads) {
    throw new FaultlineError(
      'FL_ERR_DATASET_EMPTY',
      `${dir} is a bring-your-own folder; the classes/loads filters apply to CWRU only`,
    );
  }
  return loadByo(dir, {
    targetRate: options.targetRate,
    resample: options.resample,
    labelColumn: options.labelColumn,
  });
}

/** One line of `faultline dataset inspect --json`. */
export interface DatasetEntry {
  /** File name relative to the folder. */
  file: string;
  label: string;
  domain: string;
  /** Rate of the loaded samples, Hz. */
  sampleRate: number;
  /** Rate stored in the file, Hz. */
  originalSampleRate: number;
  /** Loaded samples (after any resampling). */
  samples: number;
  /** samples / sampleRate, s. */
  durationS: number;
  /** Shaft speed, rpm, or null when unknown. */
  rpm: number | null;
  /** Channel read: MAT variable, column or channel index. */
  channel: string;
  /** The monitored bearing, or null when the data does not say. */
  bearing: {
    /** Table designation (src/data/bearings.ts) when named or recognised. */
    designation: string | null;
    balls: number;
    ballDiameter: number;
    pitchDiameter: number;
    contactAngleDeg: number;
  } | null;
}

/** Summarises loaded recordings for listing. */
export function describeRecordings(recs: readonly Recording[]): DatasetEntry[] {
  return recs.map((r) => ({
    file: String(r.meta.file ?? r.id),
    label: r.label,
    domain: r.domain,
    sampleRate: r.sampleRate,
    originalSampleRate: Number(r.meta.originalSampleRate ?? r.sampleRate),
    samples: r.samples.length,
    durationS: Math.round((r.samples.length / r.sampleRate) * 1000) / 1000,
    rpm: r.rpm ?? null,
    channel: String(r.meta.channel ?? ''),
    bearing: r.bearing
      ? {
          designation:
            typeof r.meta.bearingDesignation === 'string'
              ? r.meta.bearingDesignation
              : (tableDesignationOf(r.bearing) ?? null),
          ...r.bearing,
        }
      : null,
  }));
}
