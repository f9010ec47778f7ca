/**
 * Bring-your-own data: a folder of signal files described by a manifest.
 *
 * `manifest.csv` (header row required):
 *
 *   file,label,domain,sample_rate,channel,rpm
 *   pump3/run1.wav,normal,pumpA,,0,1480
 *   pump3/run2.csv,OR,pumpA,25600,accel_x,
 *
 * or `manifest.json`: an array of objects with the same keys (or
 * `{ "recordings": [ … ] }`). Columns:
 * - file: path relative to the folder (.csv, .wav, .npy, .mat), must stay inside it
 * - label: class name; domain: operating condition / machine (both non-empty)
 * - sample_rate: Hz; may be empty for .wav (taken from the file; must agree if given)
 * - channel: optional; column index or header name (csv), channel index (wav),
 *   column of a 2-D array (npy), variable name (mat) — see signals.ts
 * - rpm: optional shaft speed
 * - bearing: optional designation looked up in ./bearings.ts (`6205`,
 *   `SKF 6205-2RS JEM`, `ZA-2115`…), and/or
 * - n_balls, ball_d, pitch_d (one unit for both), contact_angle_deg: the
 *   bearing's geometry (all four, or none). When both forms are given they
 *   must agree (./bearings.ts `sameBearing`); the columns' numbers are kept.
 * Other columns are ignored, unless named to hold the class
 * instead of `label` (`labelColumn`, e.g. `location`).
 *
 * Column names are matched without case (CSV header and JSON keys alike);
 * CSV lines starting with `#` are comments. Every row problem — an empty
 * label in the chosen column included, never a silent fallback — is
 * collected and reported together, each with its line number, in one
 * FL_ERR_DATASET_MANIFEST: fixing a manifest one error per run is tedious.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { BearingGeometry } from '../contract/machine.js';
import { FaultlineError } from '../errors.js';
import type { Recording } from '../types.js';
import { formatGeometry, geometryProblems, lookupBearing, sameBearing } from './bearings.js';
import { designResampler, type ResampleOptions, ratesMatch, resample } from './resample.js';
import { readSignalChannel, SIGNAL_FORMATS, signalFormatOf } from './signals.js';

export const BYO_MANIFESTS = ['manifest.csv', 'manifest.json'] as const;

/** One validated manifest row. */
export interface ManifestRow {
  /** 1-based line in the manifest (JSON: line where the entry starts). */
  line: number;
  /** Path relative to the data folder, '/'-separated. */
  file: string;
  label: string;
  domain: string;
  /** Hz; undefined only for .wav rows that take the file's rate. */
  sampleRate?: number;
  channel?: string;
  rpm?: number;
  /** Geometry of the monitored bearing, when the row gives one. */
  bearing?: BearingGeometry;
  /** Table designation (./bearings.ts) when the row named one, e.g. `6205`. */
  bearingDesignation?: string;
}

export interface ByoManifest {
  /** Absolute path of the manifest file. */
  path: string;
  rows: ManifestRow[];
}

export interface ReadByoOptions {
  /** Manifest column holding the class (matched without case); default `label`. */
  labelColumn?: string;
}

export interface LoadByoOptions extends ReadByoOptions {
  /** Bring every recording to this rate, Hz. Default: keep each file's own rate. */
  targetRate?: number;
  /** Anti-alias filter settings when resampling. */
  resample?: ResampleOptions;
}

/** Path of the folder's manifest (csv preferred), or undefined when it has none. */
export async function findByoManifest(dir: string): Promise<string | undefined> {
  for (const name of BYO_MANIFESTS) {
    const p = path.join(dir, name);
    if (await isFile(p)) return p;
  }
  return undefined;
}

/**
 * Reads and validates the folder's manifest, including that each file exists;
 * each row's `label` is taken from `options.labelColumn`.
 * @throws FaultlineError FL_ERR_DATASET_MANIFEST listing every bad row with its line
 *   (or a CSV header lacking a required column),
 *   FL_ERR_DATASET_EMPTY when there is no manifest or it has no rows
 */
export async function readByoManifest(
  dir: string,
  options: ReadByoOptions = {},
): Promise<ByoManifest> {
  const labelColumn = (options.labelColumn ?? 'label').trim().toLowerCase();
  if (labelColumn === '') {
    throw new FaultlineError('FL_ERR_DATASET_MANIFEST', 'the label column name is empty');
  }
  const manifestPath = await findByoManifest(dir);
  if (!manifestPath) {
    throw new FaultlineError(
      'FL_ERR_DATASET_EMPTY',
      `${dir} has neither ${BYO_MANIFESTS.join(' nor ')}; add one (see docs in src/data/byo.ts)`,
    );
  }
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (err) {
    throw new FaultlineError(
      'FL_ERR_DATASET_MANIFEST',
      `cannot read ${manifestPath}: ${(err as Error).message}`,
    );
  }
  const raw = manifestPath.endsWith('.json')
    ? jsonEntries(text, manifestPath)
    : csvEntries(text, manifestPath, labelColumn);
  if (raw.length === 0) {
    throw new FaultlineError('FL_ERR_DATASET_EMPTY', `${manifestPath} lists no recordings`);
  }

  const errors: string[] = [];
  const rows: ManifestRow[] = [];
  const seen = new Map<string, number>();
  for (const { line, entry } of raw) {
    const problems: string[] = [];
    const str = (key: string): string => {
      const v = entry[key];
      return v === undefined || v === null ? '' : String(v).trim();
    };
    const num = (key: string, required: boolean): number | undefined => {
      const s = str(key);
      if (s === '') {
        if (required) problems.push(`${key} is empty`);
        return undefined;
      }
      const n = Number(s);
      if (!Number.isFinite(n) || n <= 0) {
        problems.push(`${key} ${JSON.stringify(s)} is not a positive number`);
        return undefined;
      }
      return n;
    };
    const file = str('file').replaceAll('\\', '/');
    const format = signalFormatOf(file);
    if (file === '') problems.push('file is empty');
    else if (path.isAbsolute(file) || path.posix.normalize(file).startsWith('../')) {
      problems.push(`file '${file}' must be a path inside ${dir}`);
    } else if (!format) {
      problems.push(
        `file '${file}' has an unsupported extension (use ${SIGNAL_FORMATS.map((f) => `.${f}`).join(', ')})`,
      );
    } else if (!(await isFile(path.join(dir, file)))) {
      problems.push(`file '${file}' not found in ${dir}`);
    }
    const label = str(labelColumn);
    if (label === '')
      problems.push(
        labelColumn === 'label' ? 'label is empty' : `label column '${labelColumn}' is empty`,
      );
    const domain = str('domain');
    if (domain === '') problems.push('domain is empty');
    const sampleRate = num('sample_rate', format !== 'wav');
    const rpm = num('rpm', false);
    const channel = str('channel') || undefined;
    const bearing = rowBearing(str, problems);
    const key = `${path.posix.normalize(file)}#${channel ?? ''}`;
    const dup = seen.get(key);
    if (file !== '' && dup !== undefined) {
      problems.push(`file '${file}' channel '${channel ?? ''}' repeats line ${dup}`);
    }
    if (dup === undefined) seen.set(key, line);
    if (problems.length > 0) {
      errors.push(`line ${line}: ${problems.join('; ')}`);
    } else {
      rows.push({
        line,
        file: path.posix.normalize(file),
        label,
        domain,
        sampleRate,
        channel,
        rpm,
        ...bearing,
      });
    }
  }
  if (errors.length > 0) {
    throw new FaultlineError(
      'FL_ERR_DATASET_MANIFEST',
      `${manifestPath}: ${errors.length} bad row(s):\n  ${errors.join('\n  ')}`,
    );
  }
  return { path: manifestPath, rows };
}

/**
 * Loads every recording a bring-your-own folder's manifest lists.
 *
 * Each Recording has id `byo:<file>` (`byo:<file>#<channel>` when a channel is
 * named), the row's label (from `options.labelColumn`), domain, rpm and
 * bearing geometry, and `meta` with source 'byo', file, path, channel,
 * manifestLine, scale, originalSampleRate, originalSamples, resampled, when
 * resampled resampler, and when the row named one bearingDesignation.
 *
 * @throws FaultlineError FL_ERR_DATASET_MANIFEST (bad rows, or a .wav whose rate
 *   disagrees with its row), FL_ERR_DATASET_FILE, FL_ERR_CSV_FORMAT,
 *   FL_ERR_WAV_FORMAT, FL_ERR_NPY_FORMAT, FL_ERR_MAT_*
 */
export async function loadByo(dir: string, options: LoadByoOptions = {}): Promise<Recording[]> {
  const manifest = await readByoManifest(dir, { labelColumn: options.labelColumn });
  const out: Recording[] = [];
  const mismatches: string[] = [];
  for (const row of manifest.rows) {
    const filePath = path.join(dir, row.file);
    let ch: Awaited<ReturnType<typeof readSignalChannel>>;
    try {
      ch = await readSignalChannel(filePath, row.channel);
    } catch (err) {
      if (err instanceof FaultlineError) {
        throw new FaultlineError(err.code, `${manifest.path} line ${row.line}: ${err.message}`, {
          cause: err,
        });
      }
      throw err;
    }
    if (
      ch.fileSampleRate !== undefined &&
      row.sampleRate !== undefined &&
      ch.fileSampleRate !== row.sampleRate
    ) {
      mismatches.push(
        `line ${row.line}: sample_rate ${row.sampleRate} Hz but ${row.file} says ${ch.fileSampleRate} Hz; fix the row or leave it empty`,
      );
      continue;
    }
    const rate = (ch.fileSampleRate ?? row.sampleRate) as number;
    // Within ±1 % of the target the file is taken as it is (and keeps its own rate).
    const resampled = options.targetRate !== undefined && !ratesMatch(rate, options.targetRate);
    const target = resampled ? (options.targetRate as number) : rate;
    const meta: Recording['meta'] = {
      source: 'byo',
      file: row.file,
      path: filePath,
      channel: ch.channel,
      manifestLine: row.line,
      scale: ch.scale,
      originalSampleRate: rate,
      originalSamples: ch.samples.length,
      resampled,
    };
    if (resampled) meta.resampler = designResampler(rate, target, options.resample).describe;
    if (row.bearingDesignation !== undefined) meta.bearingDesignation = row.bearingDesignation;
    out.push({
      id: row.channel === undefined ? `byo:${row.file}` : `byo:${row.file}#${row.channel}`,
      label: row.label,
      domain: row.domain,
      sampleRate: target,
      samples: resampled ? resample(ch.samples, rate, target, options.resample) : ch.samples,
      ...(row.rpm !== undefined ? { rpm: row.rpm } : {}),
      ...(row.bearing !== undefined ? { bearing: row.bearing } : {}),
      meta,
    });
  }
  if (mismatches.length > 0) {
    throw new FaultlineError(
      'FL_ERR_DATASET_MANIFEST',
      `${manifest.path}: ${mismatches.length} bad row(s):\n  ${mismatches.join('\n  ')}`,
    );
  }
  return out;
}

// ── bearing columns ─────────────────────────────────────────────────────────

/** The geometry columns, all four or none. */
const GEOMETRY_COLUMNS = ['n_balls', 'ball_d', 'pitch_d', 'contact_angle_deg'] as const;

/**
 * The row's bearing from `bearing` and/or the geometry columns; problems go
 * to `problems` (the row is then dropped by the caller).
 */
function rowBearing(
  str: (key: string) => string,
  problems: string[],
): Pick<ManifestRow, 'bearing' | 'bearingDesignation'> {
  const before = problems.length;
  const designation = str('bearing');
  const cells = GEOMETRY_COLUMNS.map((c) => str(c));
  let fromColumns: BearingGeometry | undefined;
  if (cells.some((c) => c !== '')) {
    const missing = GEOMETRY_COLUMNS.filter((_, i) => cells[i] === '');
    if (missing.length > 0) {
      problems.push(
        `bearing geometry needs all of ${GEOMETRY_COLUMNS.join(', ')}; ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} empty (contact_angle_deg is 0 for a deep-groove ball bearing)`,
      );
    } else {
      const n = cells.map((c) =>
        /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(c) ? Number(c) : Number.NaN,
      );
      GEOMETRY_COLUMNS.forEach((c, i) => {
        if (!Number.isFinite(n[i]))
          problems.push(`${c} ${JSON.stringify(cells[i])} is not a number`);
      });
      if (problems.length === before) {
        fromColumns = {
          balls: n[0],
          ballDiameter: n[1],
          pitchDiameter: n[2],
          contactAngleDeg: n[3],
        };
        problems.push(...geometryProblems(fromColumns));
      }
    }
  }
  let named: { designation: string; geometry: BearingGeometry } | undefined;
  if (designation !== '') {
    const found = lookupBearing(designation);
    if (found.ok) named = { designation: found.entry.designation, geometry: found.entry.geometry };
    else problems.push(found.message);
  }
  if (problems.length > before) return {};
  if (named && fromColumns && !sameBearing(named.geometry, fromColumns)) {
    problems.push(
      `bearing '${designation}' (${named.designation}: ${formatGeometry(named.geometry)}) disagrees with the geometry columns (${formatGeometry(fromColumns)}); fix one or leave one out`,
    );
    return {};
  }
  const geometry = fromColumns ?? named?.geometry;
  return {
    ...(geometry ? { bearing: { ...geometry } } : {}),
    ...(named ? { bearingDesignation: named.designation } : {}),
  };
}

// ── manifest parsing ────────────────────────────────────────────────────────

interface RawEntry {
  line: number;
  /** Keys in lower case. */
  entry: Record<string, unknown>;
}

/** Columns a CSV header must have, with the label column in place of `label`. */
function requiredColumns(labelColumn: string): string[] {
  return ['file', labelColumn, 'domain', 'sample_rate'];
}

function csvEntries(text: string, file: string, labelColumn: string): RawEntry[] {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  let header: string[] = [];
  try {
    records = parseCsv(text, {
      columns: (h: string[]) => {
        header = h.map((c) => c.trim().toLowerCase());
        return header;
      },
      info: true,
      skip_empty_lines: true,
      trim: true,
      comment: '#',
      bom: true,
    }) as unknown as typeof records;
  } catch (err) {
    throw new FaultlineError('FL_ERR_DATASET_MANIFEST', `${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const twice = header.filter((c, i) => c !== '' && header.indexOf(c) !== i);
  if (twice.length > 0) {
    throw new FaultlineError(
      'FL_ERR_DATASET_MANIFEST',
      `${file}: header names column(s) ${[...new Set(twice)].join(', ')} twice (column names are compared without case)`,
    );
  }
  if (records.length > 0) {
    const missing = requiredColumns(labelColumn).filter((c) => !header.includes(c));
    if (missing.length > 0) {
      throw new FaultlineError(
        'FL_ERR_DATASET_MANIFEST',
        `${file}: header lacks column(s) ${missing.join(', ')}` +
          (labelColumn === 'label'
            ? '; expected file,label,domain,sample_rate,channel[,rpm]'
            : ` (the label column is '${labelColumn}'; header: ${header.join(',')})`),
      );
    }
  }
  return records.map((r) => ({ line: r.info.lines, entry: r.record }));
}

function jsonEntries(text: string, file: string): RawEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FaultlineError(
      'FL_ERR_DATASET_MANIFEST',
      `${file}: not valid JSON (${(err as Error).message})`,
    );
  }
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const list = Array.isArray(doc) ? doc : isObj(doc) ? doc.recordings : undefined;
  if (!Array.isArray(list)) {
    throw new FaultlineError(
      'FL_ERR_DATASET_MANIFEST',
      `${file}: expected an array of entries or { "recordings": [ … ] }`,
    );
  }
  const lines = elementLines(text, Array.isArray(doc) ? 1 : 2);
  const exact = lines.length === list.length;
  const errors: string[] = [];
  const out: RawEntry[] = [];
  list.forEach((entry, i) => {
    const line = exact ? lines[i] : 0;
    if (!isObj(entry)) {
      errors.push(`line ${line} (entry ${i}): entry is not an object`);
      return;
    }
    const lower: Record<string, unknown> = {};
    const twice = new Set<string>();
    for (const [k, v] of Object.entries(entry)) {
      const key = k.trim().toLowerCase();
      if (key in lower) twice.add(key);
      lower[key] = v;
    }
    if (twice.size > 0)
      errors.push(
        `line ${line} (entry ${i}): key(s) ${[...twice].join(', ')} given twice (keys are compared without case)`,
      );
    else out.push({ line, entry: lower });
  });
  if (errors.length > 0) {
    throw new FaultlineError('FL_ERR_DATASET_MANIFEST', `${file}:\n  ${errors.join('\n  ')}`);
  }
  return out;
}

/** 1-based line numbers of each `{` opening at bracket depth `depth` (outside strings). */
function elementLines(text: string, depth: number): number[] {
  const lines: number[] = [];
  let line = 1;
  let d = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (c === '{' && d === depth) lines.push(line);
      d++;
    } else if (c === '}' || c === ']') d--;
  }
  return lines;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}
