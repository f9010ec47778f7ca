/**
 * Writers for single-channel signal files in the formats the bring-your-own
 * data readers accept (src/data/signals.ts): WAV float32, CSV with a header,
 * NumPy .npy float32. Samples are written unscaled, in g.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import wavefile from 'wavefile';
import { requireSim } from './check.js';

export type SignalFileFormat = 'wav' | 'csv' | 'npy';
export const SIGNAL_FILE_FORMATS: readonly SignalFileFormat[] = ['wav', 'csv', 'npy'];

/** Header of the one CSV column. */
export const CSV_COLUMN = 'accel_g';

/** `run.WAV` → `'wav'`; FL_ERR_SIM_PARAMS for any other extension. */
export function signalFileFormatOf(file: string): SignalFileFormat {
  const ext = path.extname(file).slice(1).toLowerCase();
  requireSim(
    (SIGNAL_FILE_FORMATS as readonly string[]).includes(ext),
    `cannot write "${file}": the extension must be one of ${SIGNAL_FILE_FORMATS.map((f) => `.${f}`).join(', ')}`,
  );
  return ext as SignalFileFormat;
}

/**
 * A mono IEEE-float 32-bit WAV (format tag 3) at `sampleRate` Hz. Float keeps
 * the g values exact; the WAV header carries the rate, so a reader needs no
 * side information.
 */
export function encodeWavFloat32(samples: Float32Array, sampleRate: number): Uint8Array {
  requireSim(
    Number.isInteger(sampleRate) && sampleRate > 0,
    `WAV needs an integer sample rate, got ${sampleRate}`,
  );
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, sampleRate, '32f', samples);
  return wav.toBuffer();
}

/**
 * One column with a header row (`accel_g`), one sample per line, '\n' line
 * ends. Each value is printed with 9 significant digits, enough to read back
 * the same float32.
 */
export function encodeCsv(samples: Float32Array, column = CSV_COLUMN): string {
  const lines = new Array<string>(samples.length + 1);
  lines[0] = column;
  for (let i = 0; i < samples.length; i++) lines[i + 1] = String(Number(samples[i].toPrecision(9)));
  lines.push('');
  return lines.join('\n');
}

/**
 * NumPy .npy, format 1.0, dtype `<f4`, shape `(n,)`:
 *
 *   0   6 B  magic  \x93 N U M P Y
 *   6   2 B  version 1.0
 *   8   2 B  header length, uint16 LE
 *   10       header: "{'descr': '<f4', 'fortran_order': False, 'shape': (n,), }"
 *            padded with spaces to a '\n' so the data starts 64-byte aligned
 *   …        n × float32 LE
 */
export function encodeNpyFloat32(samples: Float32Array): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${samples.length},), }`;
  const unpadded = 10 + dict.length + 1;
  const headerLen = dict.length + 1 + ((64 - (unpadded % 64)) % 64);
  const header = `${dict.padEnd(headerLen - 1, ' ')}\n`;
  const bytes = new Uint8Array(10 + headerLen + samples.length * 4);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  const view = new DataView(bytes.buffer);
  view.setUint16(8, headerLen, true);
  for (let i = 0; i < header.length; i++) bytes[10 + i] = header.charCodeAt(i);
  const dataStart = 10 + headerLen;
  // DataView with an explicit little-endian flag: correct on any host byte order.
  for (let i = 0; i < samples.length; i++) view.setFloat32(dataStart + 4 * i, samples[i], true);
  return bytes;
}

/** Encodes `samples` (g) in the format of `file`'s extension. */
export function encodeSignalFile(
  file: string,
  samples: Float32Array,
  sampleRate: number,
): Uint8Array | string {
  switch (signalFileFormatOf(file)) {
    case 'wav':
      return encodeWavFloat32(samples, sampleRate);
    case 'csv':
      return encodeCsv(samples);
    case 'npy':
      return encodeNpyFloat32(samples);
  }
}

/** Writes `samples` (g) to `file` as .wav, .csv or .npy (by extension). */
export async function writeSignalFile(
  file: string,
  samples: Float32Array,
  sampleRate: number,
): Promise<void> {
  await writeFile(file, encodeSignalFile(file, samples, sampleRate));
}
