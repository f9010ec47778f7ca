/**
 * The CWRU bearing data set (Case Western Reserve University Bearing Data
 * Center): the 12 kHz drive-end fault files plus the 48 kHz normal baseline,
 * turned into labelled single-channel Recordings at one sample rate.
 *
 * The catalogue below is the contract with the data folder's MANIFEST.md
 * (test/data/cwru.test.ts checks every row against it). Each file is read by
 * its own number's keys (`X105_DE_time`, `X105RPM`): some public copies carry
 * a neighbour file's variables too (99.mat holds X098_*), so "the first
 * *_DE_time variable" would be wrong.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { CWRU_DE_BEARING } from '../contract/bearing.js';
import { FaultlineError } from '../errors.js';
import type { Recording } from '../types.js';
import { matScalar, matVector, readMat } from './mat.js';
import { designResampler, type ResampleOptions, ratesMatch, resample } from './resample.js';

/** Class labels, in the order models use for their outputs. */
export const CWRU_CLASSES = [
  'normal',
  'IR007',
  'B007',
  'OR007',
  'IR014',
  'B014',
  'OR014',
  'IR021',
  'B021',
  'OR021',
] as const;
export type CwruClass = (typeof CWRU_CLASSES)[number];

/** Nominal motor speed per load (index = load in HP), rpm, from CWRU's page. */
export const CWRU_NOMINAL_RPM = [1797, 1772, 1750, 1730] as const;

/** One CWRU file of the catalogue. */
export interface CwruEntry {
  /** CWRU file number; the file is `<number>.mat`. */
  number: number;
  label: CwruClass;
  /** Motor load, HP (0–3). */
  loadHp: number;
  /** Sample rate of the stored signal, Hz. */
  sampleRate: number;
}

// [file number, class, load HP, stored sample rate Hz] — from MANIFEST.md.
// 98–100 (normal at 1–3 HP) are not in the local copy and so not listed.
const TABLE: ReadonlyArray<readonly [number, CwruClass, number, number]> = [
  [97, 'normal', 0, 48000],
  [105, 'IR007', 0, 12000],
  [106, 'IR007', 1, 12000],
  [107, 'IR007', 2, 12000],
  [108, 'IR007', 3, 12000],
  [118, 'B007', 0, 12000],
  [119, 'B007', 1, 12000],
  [120, 'B007', 2, 12000],
  [121, 'B007', 3, 12000],
  [130, 'OR007', 0, 12000],
  [131, 'OR007', 1, 12000],
  [132, 'OR007', 2, 12000],
  [133, 'OR007', 3, 12000],
  [169, 'IR014', 0, 12000],
  [170, 'IR014', 1, 12000],
  [171, 'IR014', 2, 12000],
  [172, 'IR014', 3, 12000],
  [185, 'B014', 0, 12000],
  [186, 'B014', 1, 12000],
  [187, 'B014', 2, 12000],
  [188, 'B014', 3, 12000],
  [197, 'OR014', 0, 12000],
  [198, 'OR014', 1, 12000],
  [199, 'OR014', 2, 12000],
  [200, 'OR014', 3, 12000],
  [209, 'IR021', 0, 12000],
  [210, 'IR021', 1, 12000],
  [211, 'IR021', 2, 12000],
  [212, 'IR021', 3, 12000],
  [222, 'B021', 0, 12000],
  [223, 'B021', 1, 12000],
  [224, 'B021', 2, 12000],
  [225, 'B021', 3, 12000],
  [234, 'OR021', 0, 12000],
  [235, 'OR021', 1, 12000],
  [236, 'OR021', 2, 12000],
  [237, 'OR021', 3, 12000],
];

/** The 37 catalogued files, in file-number order. */
export const CWRU_FILES: readonly CwruEntry[] = Object.freeze(
  TABLE.map(([number, label, loadHp, sampleRate]) =>
    Object.freeze({ number, label, loadHp, sampleRate }),
  ),
);

/** `97` → `'97.mat'`. */
export function cwruFileName(number: number): string {
  return `${number}.mat`;
}

/** Drive-end accelerometer variable of a file: `97` → `'X097_DE_time'`. */
export function cwruChannel(number: number): string {
  return `X${String(number).padStart(3, '0')}_DE_time`;
}

/** Measured-speed variable of a file: `97` → `'X097RPM'`. */
export function cwruRpmVariable(number: number): string {
  return `X${String(number).padStart(3, '0')}RPM`;
}

export interface LoadCwruOptions {
  /** Keep only these classes (see {@link CWRU_CLASSES}). Default: all. */
  classes?: readonly string[];
  /** Keep only these loads, HP (0–3). Default: all. */
  loads?: readonly number[];
  /** Rate every recording is brought to, Hz. Default 12000 (97.mat is decimated 4:1). */
  targetRate?: number;
  /** Anti-alias filter settings for the resampling. Default: see resample.ts. */
  resample?: ResampleOptions;
  /** Files read at once (I/O overlap vs memory). Default 4. */
  concurrency?: number;
  /** Skip selected files that are absent instead of failing. Default false. */
  allowMissing?: boolean;
}

/** Catalogue entries selected by the options' `classes` and `loads` filters. */
export function selectCwru(options: Pick<LoadCwruOptions, 'classes' | 'loads'> = {}): CwruEntry[] {
  const { classes, loads } = options;
  for (const c of classes ?? []) {
    if (!(CWRU_CLASSES as readonly string[]).includes(c)) {
      throw new FaultlineError(
        'FL_ERR_DATASET_EMPTY',
        `'${c}' is not a CWRU class; use one of ${CWRU_CLASSES.join(', ')}`,
      );
    }
  }
  for (const l of loads ?? []) {
    if (![0, 1, 2, 3].includes(l)) {
      throw new FaultlineError('FL_ERR_DATASET_EMPTY', `CWRU load ${l} HP does not exist; use 0–3`);
    }
  }
  const picked = CWRU_FILES.filter(
    (e) => (!classes || classes.includes(e.label)) && (!loads || loads.includes(e.loadHp)),
  );
  if (picked.length === 0) {
    throw new FaultlineError(
      'FL_ERR_DATASET_EMPTY',
      `no CWRU file has class in [${classes?.join(', ')}] and load in [${loads?.join(', ')}] HP ` +
        '(normal exists at 0 HP only)',
    );
  }
  return picked;
}

/**
 * Loads the drive-end channel of the selected CWRU files from `dir`.
 *
 * Each Recording has id `cwru:<number>`, label = class, domain `load<HP>`,
 * rpm = the measured `X###RPM` value (nominal when the file lacks it),
 * bearing = the drive-end SKF 6205-2RS JEM (`CWRU_DE_BEARING`, the bearing
 * the DE channel monitors) and samples at `targetRate` Hz (Float32, in g).
 * `meta` records source, file, channel, loadHp, nominalRpm, rpmSource
 * ('file' | 'nominal'), bearingDesignation ('6205'), originalSampleRate,
 * originalSamples, resampled and, when resampled, resampler.
 *
 * @throws FaultlineError FL_ERR_DATASET_FILE when a selected file is missing or
 *   unreadable (narrow with `classes`/`loads`), FL_ERR_MAT_* for corrupt files,
 *   FL_ERR_DATASET_EMPTY for a selection that matches nothing
 */
export async function loadCwru(dir: string, options: LoadCwruOptions = {}): Promise<Recording[]> {
  const targetRate = options.targetRate ?? 12000;
  const present = await presentCwruFiles(dir);
  const selected = selectCwru(options);
  const entries = selected.filter((e) => present.has(e.number));
  const missing = selected.filter((e) => !present.has(e.number)).map((e) => cwruFileName(e.number));
  if (missing.length > 0 && !options.allowMissing) {
    throw new FaultlineError(
      'FL_ERR_DATASET_FILE',
      `CWRU folder ${dir} lacks ${missing.join(', ')}; ` +
        'restore them or narrow the selection with classes/loads',
    );
  }
  if (entries.length === 0) {
    throw new FaultlineError(
      'FL_ERR_DATASET_EMPTY',
      `CWRU folder ${dir} holds none of the selected files`,
    );
  }
  const out: Recording[] = new Array(entries.length);
  const concurrency = Math.max(1, options.concurrency ?? 4);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const i = next++;
      out[i] = await loadEntry(dir, entries[i], targetRate, options.resample);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, entries.length) }, worker));
  return out;
}

/** Numbers of the catalogued CWRU files present in `dir` (empty when `dir` is unreadable). */
export async function presentCwruFiles(dir: string): Promise<Set<number>> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return new Set();
  }
  const have = new Set(names);
  return new Set(CWRU_FILES.filter((e) => have.has(cwruFileName(e.number))).map((e) => e.number));
}

async function loadEntry(
  dir: string,
  e: CwruEntry,
  targetRate: number,
  resampleOptions: ResampleOptions | undefined,
): Promise<Recording> {
  const file = cwruFileName(e.number);
  const filePath = path.join(dir, file);
  const channel = cwruChannel(e.number);
  const rpmVar = cwruRpmVariable(e.number);
  const vars = await readMat(filePath, { variables: [channel, rpmVar] });
  const raw = matVector(vars, channel, filePath);
  const nominalRpm = CWRU_NOMINAL_RPM[e.loadHp];
  const fileRpm = vars.has(rpmVar) ? matScalar(vars, rpmVar, filePath) : undefined;
  const rpm = fileRpm !== undefined && fileRpm > 0 ? fileRpm : nominalRpm;

  const resampled = !ratesMatch(e.sampleRate, targetRate);
  const meta: Recording['meta'] = {
    source: 'cwru',
    file,
    path: filePath,
    channel,
    loadHp: e.loadHp,
    nominalRpm,
    rpmSource: rpm === fileRpm ? 'file' : 'nominal',
    bearingDesignation: '6205',
    originalSampleRate: e.sampleRate,
    originalSamples: raw.length,
    resampled,
  };
  let samples: Float32Array;
  if (resampled) {
    samples = resample(raw, e.sampleRate, targetRate, resampleOptions);
    meta.resampler = designResampler(e.sampleRate, targetRate, resampleOptions).describe;
  } else {
    samples = Float32Array.from(raw);
  }
  return {
    id: `cwru:${e.number}`,
    label: e.label,
    domain: `load${e.loadHp}`,
    sampleRate: resampled ? targetRate : e.sampleRate,
    samples,
    rpm,
    bearing: { ...CWRU_DE_BEARING },
    meta,
  };
}
