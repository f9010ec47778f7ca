/**
 * The files of a verdict's labelled windows (docs/verdicts.md), in
 * `<stateDir>/verdicts/<machine>/`:
 *
 *   <alertId>.npy   float32 little-endian, shape [windows, windowLength], g
 *                   (NumPy format 1.0: `numpy.load` reads it as is)
 *   <alertId>.json  the sidecar: label, verdict, who, the alert, sample rate,
 *                   each window's sensor and times
 *
 * Each is written whole or not at all (src/atomic-file.ts), the samples
 * first: a sidecar is the mark of a complete pair, so counting reads only
 * the small sidecars.
 */
import { access, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { verdictSchema } from '../contract/alert.js';
import { parseNpy } from '../data/npy.js';
import type { VerdictWindow } from '../model/adapt/verdict-learn.js';

/** The sidecar of one verdict's windows. */
export const verdictSidecarSchema = z.object({
  format: z.literal('faultline-verdict'),
  formatVersion: z.literal(1),
  machine: z.string().min(1),
  alertId: z.string().min(1),
  /** The class the windows are examples of: the confirmed class, or `normal` for a false alarm. */
  label: z.string().min(1),
  verdict: verdictSchema,
  by: z.string(),
  /** When the verdict was recorded, ISO 8601 UTC. */
  time: z.string(),
  alert: z.object({
    time: z.string(),
    state: z.string(),
    faultClass: z.string(),
    confidence: z.number(),
    modelVersion: z.string(),
  }),
  /** Hz: the model's rate, the windows are resampled to it. */
  sampleRate: z.number().positive(),
  windowLength: z.int().positive(),
  /** Rows of the .npy file. */
  windows: z.int().min(0),
  samplesFile: z.string().min(1),
  /**
   * Per row: its sensor, its last sample's time (sensor clock) and its arrival (gateway clock), ISO;
   * and the shaft speed it was diagnosed at, rpm, when the frame or the configuration gave one
   * (added later: older sidecars lack it, and learning estimates the speed per window then).
   */
  rows: z.array(
    z.object({
      sensor: z.string(),
      t: z.string(),
      arrivedAt: z.string(),
      rpm: z.number().positive().optional(),
    }),
  ),
});
export type VerdictSidecar = z.infer<typeof verdictSidecarSchema>;

/**
 * A file-system-safe name for a machine or alert id: ids are MQTT topic
 * levels, which may be `.` or `..` or hold `%`, `\`, `:`.
 */
export function fileName(id: string): string {
  const enc = encodeURIComponent(id).replace(
    /[*\\:]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return enc === '.' || enc === '..' ? enc.replaceAll('.', '%2E') : enc;
}

/**
 * A NumPy `.npy` (format 1.0) of `rows` float32 rows of `width` samples,
 * little-endian: the header is padded so the data starts on 64 bytes.
 */
export function npyFloat32(rows: Float32Array[], width: number): Uint8Array {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows.length}, ${width}), }`;
  const pad = 64 - ((10 + dict.length + 1) % 64);
  const header = `${dict}${' '.repeat(pad % 64)}\n`;
  const out = new Uint8Array(10 + header.length + rows.length * width * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY v1.0
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const view = new DataView(out.buffer, 10 + header.length);
  // explicit little-endian: the file reads the same on any host
  rows.forEach((r, i) => {
    for (let j = 0; j < width; j++) view.setFloat32((i * width + j) * 4, r[j] ?? 0, true);
  });
  return out;
}

/**
 * Every complete verdict under `dir` (one folder per machine): the sidecars
 * that parse and whose samples file exists. Unreadable ones are named in
 * `problems` and skipped, never fatal: they hold no verdict the store lacks.
 */
export async function readVerdictSidecars(
  dir: string,
): Promise<{ sidecars: VerdictSidecar[]; problems: string[] }> {
  const sidecars: VerdictSidecar[] = [];
  const problems: string[] = [];
  let machines: string[];
  try {
    machines = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { sidecars, problems };
    throw err;
  }
  for (const m of machines) {
    let files: string[];
    try {
      files = (await readdir(path.join(dir, m))).filter((f) => /^[^.][^/]*\.json$/.test(f));
    } catch {
      continue; // a stray file, not a machine folder
    }
    for (const f of files) {
      const file = path.join(dir, m, f);
      try {
        const s = verdictSidecarSchema.parse(JSON.parse(await readFile(file, 'utf8')));
        await access(path.join(dir, m, s.samplesFile));
        sidecars.push(s);
      } catch (err) {
        problems.push(`${file}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
  return { sidecars, problems };
}

/**
 * Every labelled window of one machine under `dir` (`<stateDir>/verdicts`),
 * for learning: each complete verdict's `.npy` rows with its label and alert.
 * A verdict whose samples cannot be read is named in `problems` and skipped.
 */
export async function readMachineVerdictWindows(
  dir: string,
  machine: string,
): Promise<{ windows: VerdictWindow[]; problems: string[] }> {
  const { sidecars, problems } = await readVerdictSidecars(dir);
  const windows: VerdictWindow[] = [];
  for (const s of sidecars.filter((x) => x.machine === machine)) {
    const file = path.join(dir, fileName(machine), s.samplesFile);
    try {
      const a = parseNpy(new Uint8Array(await readFile(file)), file);
      const [n, width] = a.shape;
      if (a.dtype !== '<f4' || n !== s.windows || width !== s.windowLength)
        throw new Error(
          `shape ${JSON.stringify(a.shape)} ${a.dtype}, the sidecar says [${s.windows}, ${s.windowLength}] <f4`,
        );
      for (let i = 0; i < n; i++) {
        const row = s.rows[i];
        windows.push({
          samples: (a.data as Float32Array).slice(i * width, (i + 1) * width),
          label: s.label,
          alert: s.alertId,
          t: row ? Date.parse(row.t) : i,
          ...(row?.rpm !== undefined ? { rpm: row.rpm } : {}),
        });
      }
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { windows, problems };
}
