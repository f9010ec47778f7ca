/**
 * Reads one channel of a signal file — `.csv`, `.wav`, `.npy` or `.mat` — as
 * Float32 samples. Used by the bring-your-own-data loader (byo.ts).
 *
 * Channel selectors (the manifest's `channel` column):
 * - csv: 0-based column index, or the header name (a header row is detected
 *   when any cell of the first row is not a number); default column 0
 * - wav: 0-based channel index; default 0
 * - npy: 0-based column of a 2-D `(n, channels)` array; default 0
 * - mat: variable name, or a 1×1 struct's field as a dotted path (`bearing.gs`);
 *   default the only numeric vector in the file, struct fields included
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import wavefile from 'wavefile';
import { FaultlineError } from '../errors.js';
import { matVariable, matVariableNames, matVector, parseMat } from './mat.js';
import { parseNpy } from './npy.js';

export type SignalFormat = 'csv' | 'wav' | 'npy' | 'mat';
export const SIGNAL_FORMATS: readonly SignalFormat[] = ['csv', 'wav', 'npy', 'mat'];

/** One channel of a signal file. */
export interface SignalChannel {
  samples: Float32Array;
  /** Rate stored in the file (WAV only), Hz. */
  fileSampleRate?: number;
  /** The channel actually read (resolved index or name). */
  channel: string;
  /** How raw values were scaled, e.g. 'pcm16/32768' for integer WAV; 'none' otherwise. */
  scale: string;
}

/** `run1.WAV` → `'wav'`; undefined for unsupported extensions. */
export function signalFormatOf(file: string): SignalFormat | undefined {
  const ext = path.extname(file).slice(1).toLowerCase();
  return (SIGNAL_FORMATS as readonly string[]).includes(ext) ? (ext as SignalFormat) : undefined;
}

/**
 * Reads channel `channel` of `filePath`.
 * @throws FaultlineError FL_ERR_DATASET_FILE (unreadable path, unknown channel),
 *   FL_ERR_CSV_FORMAT / FL_ERR_WAV_FORMAT / FL_ERR_NPY_FORMAT / FL_ERR_MAT_* (malformed file)
 */
export async function readSignalChannel(
  filePath: string,
  channel?: string,
): Promise<SignalChannel> {
  const format = signalFormatOf(filePath);
  if (!format) {
    throw new FaultlineError(
      'FL_ERR_DATASET_FILE',
      `${filePath}: unsupported extension; use one of ${SIGNAL_FORMATS.map((f) => `.${f}`).join(', ')}`,
    );
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(filePath);
  } catch (err) {
    throw new FaultlineError(
      'FL_ERR_DATASET_FILE',
      `cannot read ${filePath}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  const sel = channel?.trim() || undefined;
  switch (format) {
    case 'csv':
      return csvChannel(bytes, sel, filePath);
    case 'wav':
      return wavChannel(bytes, sel, filePath);
    case 'npy':
      return npyChannel(bytes, sel, filePath);
    case 'mat':
      return matChannel(bytes, sel, filePath);
  }
}

function channelIndex(sel: string | undefined, count: number, file: string): number {
  const idx = sel === undefined ? 0 : /^\d+$/.test(sel) ? Number(sel) : Number.NaN;
  if (!(idx >= 0 && idx < count)) {
    throw new FaultlineError(
      'FL_ERR_DATASET_FILE',
      `${file}: channel '${sel}' does not exist; it has ${count} channel(s), indexed 0–${count - 1}`,
    );
  }
  return idx;
}

function csvChannel(bytes: Buffer, sel: string | undefined, file: string): SignalChannel {
  let rows: string[][];
  try {
    rows = parseCsv(bytes, { skip_empty_lines: true, trim: true, comment: '#' }) as string[][];
  } catch (err) {
    throw new FaultlineError('FL_ERR_CSV_FORMAT', `${file}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (rows.length === 0) {
    throw new FaultlineError('FL_ERR_CSV_FORMAT', `${file} holds no rows`);
  }
  const isNum = (s: string): boolean => s !== '' && Number.isFinite(Number(s));
  const header = rows[0].some((c) => !isNum(c)) ? rows[0] : undefined;
  let col: number;
  if (sel !== undefined && !/^\d+$/.test(sel)) {
    col = header ? header.indexOf(sel) : -1;
    if (col < 0) {
      throw new FaultlineError(
        'FL_ERR_DATASET_FILE',
        `${file}: no column named '${sel}' (${header ? `header: ${header.join(', ')}` : 'the file has no header row'})`,
      );
    }
  } else {
    col = channelIndex(sel, rows[0].length, file);
  }
  const first = header ? 1 : 0;
  const samples = new Float32Array(rows.length - first);
  for (let r = first; r < rows.length; r++) {
    const cell = rows[r][col];
    if (cell === undefined || !isNum(cell)) {
      // Data rows are counted after skipped blank/comment lines, so name the row, not the line.
      throw new FaultlineError(
        'FL_ERR_CSV_FORMAT',
        `${file}: data row ${r - first + 1}, column ${col}: ${JSON.stringify(cell ?? '')} is not a finite number`,
      );
    }
    samples[r - first] = Number(cell);
  }
  if (samples.length === 0) {
    throw new FaultlineError('FL_ERR_CSV_FORMAT', `${file} has a header but no data rows`);
  }
  return { samples, channel: header ? header[col] : String(col), scale: 'none' };
}

/** WAV encodings accepted, by wavefile's bit-depth code: integer PCM scaled to ±1, floats as stored. */
const WAV_SCALE: Record<string, number> = {
  '16': 2 ** 15,
  '24': 2 ** 23,
  '32': 2 ** 31,
  '32f': 1,
  '64': 1,
};

function wavChannel(bytes: Buffer, sel: string | undefined, file: string): SignalChannel {
  const fail = (msg: string, cause?: unknown): never => {
    throw new FaultlineError('FL_ERR_WAV_FORMAT', `${file}: ${msg}`, { cause });
  };
  let wav: InstanceType<typeof wavefile.WaveFile>;
  try {
    wav = new wavefile.WaveFile(bytes);
  } catch (err) {
    return fail(`not a readable WAV file (${(err as Error).message})`, err);
  }
  const fmt = wav.fmt as { audioFormat: number; numChannels: number; sampleRate: number };
  const data = wav.data as { chunkSize: number; samples: Uint8Array };
  const scale = WAV_SCALE[wav.bitDepth];
  if (scale === undefined || ![1, 3, 0xfffe].includes(fmt.audioFormat)) {
    fail(
      `encoding format ${fmt.audioFormat} / ${wav.bitDepth}-bit is not supported; use PCM 16/24/32-bit or float 32/64-bit`,
    );
  }
  if (data.samples.length < data.chunkSize) {
    fail(
      `data chunk declares ${data.chunkSize} bytes but holds ${data.samples.length}; the file is truncated`,
    );
  }
  if (!(fmt.sampleRate > 0)) fail(`sample rate ${fmt.sampleRate} Hz is invalid`);
  const idx = channelIndex(sel, fmt.numChannels, file);
  let raw: unknown;
  try {
    raw = wav.getSamples(false, Float64Array);
  } catch (err) {
    return fail(`samples cannot be decoded (${(err as Error).message})`, err);
  }
  const chan = (fmt.numChannels === 1 ? raw : (raw as Float64Array[])[idx]) as Float64Array;
  const samples = new Float32Array(chan.length);
  for (let i = 0; i < chan.length; i++) samples[i] = chan[i] / scale;
  if (samples.length === 0) fail('holds no samples');
  return {
    samples,
    fileSampleRate: fmt.sampleRate,
    channel: String(idx),
    scale: scale === 1 ? 'none' : `pcm${wav.bitDepth}/${scale}`,
  };
}

function npyChannel(bytes: Buffer, sel: string | undefined, file: string): SignalChannel {
  const arr = parseNpy(bytes, file);
  const channels = arr.shape.length === 2 ? arr.shape[1] : 1;
  const idx = channelIndex(sel, channels, file);
  const n = arr.shape[0];
  if (n === 0) throw new FaultlineError('FL_ERR_NPY_FORMAT', `${file} holds no samples`);
  const samples = new Float32Array(n);
  for (let i = 0; i < n; i++) samples[i] = arr.data[i * channels + idx];
  return { samples, channel: String(idx), scale: 'none' };
}

function matChannel(bytes: Buffer, sel: string | undefined, file: string): SignalChannel {
  const vars = parseMat(bytes, { label: file, variables: sel ? [sel] : undefined });
  let name = sel;
  if (name === undefined) {
    const vectors = matVariableNames(vars).filter((n) => {
      const v = matVariable(vars, n, file);
      return v.data && v.data.length > 1 && v.dims.filter((d) => d !== 1).length === 1;
    });
    if (vectors.length !== 1) {
      throw new FaultlineError(
        'FL_ERR_MAT_VARIABLE',
        `${file}: name the variable in the manifest's channel column (it holds ${matVariableNames(vars).join(', ') || 'no variables'})`,
      );
    }
    name = vectors[0];
  }
  return { samples: Float32Array.from(matVector(vars, name, file)), channel: name, scale: 'none' };
}
