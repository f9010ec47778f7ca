/**
 * A small simulated bring-your-own data set: several operating conditions
 * (domains) × fault classes × a few recordings, one signal file each, and a
 * `manifest.csv` (file,label,domain,sample_rate,channel,rpm) that the
 * bring-your-own loader (src/data/byo.ts) reads. It is how the
 * domain-adaptation experiments and tests get a labelled source domain and
 * shifted target domains without downloading anything.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { checkNumber, requireSim } from './check.js';
import {
  CONDITION_PRESET_NAMES,
  type ConditionPresetName,
  type OperatingCondition,
  resolveCondition,
} from './conditions.js';
import { DEFAULT_SEVERITY_G, FAULT_LABELS, FAULT_TYPES, type FaultType } from './faults.js';
import { BearingSignalGenerator } from './generator.js';
import { checkRateAndSeed } from './options.js';
import { Rng } from './rng.js';
import { encodeSignalFile, SIGNAL_FILE_FORMATS, type SignalFileFormat } from './signal-files.js';

/** What to put in the data set. Every field is optional. */
export interface SimDatasetOptions {
  /** Domains. Default: every preset. */
  conditions?: readonly (ConditionPresetName | OperatingCondition)[];
  /** Classes. Default: none, inner, outer, ball. */
  faults?: readonly FaultType[];
  /** Recordings per (condition, fault). Default 3. */
  recordingsPerClass?: number;
  /** Length of each recording, s. Default 2. */
  durationS?: number;
  /** Hz. Default 12 000. */
  sampleRate?: number;
  /** Base seed; every recording gets its own seed derived from it. Default 1. */
  seed?: number;
  /** File format. Default `wav`. */
  format?: SignalFileFormat;
  /**
   * Median impact peak, g (default 0.5). Each recording draws its severity
   * uniformly in ×[0.7, 1.3] of it, so a class is not one fixed amplitude.
   */
  severity?: number;
}

/** One planned recording: a manifest row plus how it is simulated. */
export interface SimDatasetEntry {
  /** Path relative to the data-set folder, posix separators: `<domain>/<label>_<k>.<ext>`. */
  file: string;
  label: string;
  domain: string;
  sampleRate: number;
  channel: string;
  rpm: number;
  fault: FaultType;
  severity: number;
  seed: number;
  condition: Readonly<OperatingCondition>;
  durationS: number;
}

/** The manifest's header, in the column order the bring-your-own loader documents. */
export const MANIFEST_COLUMNS = [
  'file',
  'label',
  'domain',
  'sample_rate',
  'channel',
  'rpm',
] as const;

/** Recordings of one data set, without writing anything (pure, deterministic). */
export function planSimDataset(options: SimDatasetOptions = {}): SimDatasetEntry[] {
  const conditions = (options.conditions ?? CONDITION_PRESET_NAMES).map((c) => resolveCondition(c));
  requireSim(conditions.length > 0, 'a simulated data set needs at least one condition');
  const names = new Set(conditions.map((c) => c.name));
  requireSim(
    names.size === conditions.length,
    'two conditions of the data set share a name (the domain column)',
  );
  for (const c of conditions) {
    requireSim(
      /^[A-Za-z0-9._@+-]+$/.test(c.name),
      `condition name "${c.name}" cannot be a folder name; use letters, digits, . _ @ + -`,
    );
  }
  const faults = options.faults ?? FAULT_TYPES;
  requireSim(faults.length > 0, 'a simulated data set needs at least one fault class');
  for (const f of faults)
    requireSim(
      FAULT_TYPES.includes(f),
      `unknown fault type "${f}"; use one of ${FAULT_TYPES.join(', ')}`,
    );
  const perClass = checkNumber('recordingsPerClass', options.recordingsPerClass ?? 3, 1, 1000, {
    integer: true,
  });
  const durationS = checkNumber('durationS', options.durationS ?? 2, 0, 3600, {
    minExclusive: true,
  });
  const { sampleRate, seed } = checkRateAndSeed(options);
  const format = options.format ?? 'wav';
  requireSim(
    SIGNAL_FILE_FORMATS.includes(format),
    `unknown format "${format}"; use one of ${SIGNAL_FILE_FORMATS.join(', ')}`,
  );
  const severity = checkNumber('severity', options.severity ?? DEFAULT_SEVERITY_G, 0, 1000);

  const entries: SimDatasetEntry[] = [];
  let index = 0;
  for (const condition of conditions) {
    for (const fault of faults) {
      for (let k = 0; k < perClass; k++) {
        // Each recording's seed and severity come from its own stream of the
        // base seed, so adding a condition does not change the others' files.
        const rng = new Rng(seed, 1000 + index++);
        const label = FAULT_LABELS[fault];
        entries.push({
          file: `${condition.name}/${label}_${k}.${format}`,
          label,
          domain: condition.name,
          sampleRate,
          channel: '0',
          rpm: condition.rpm,
          fault,
          seed: rng.nextUint32(),
          severity: fault === 'none' ? 0 : severity * (0.7 + 0.6 * rng.uniform()),
          condition,
          durationS,
        });
      }
    }
  }
  return entries;
}

/** Result of {@link writeSimDataset}. */
export interface SimDatasetResult {
  manifestPath: string;
  entries: SimDatasetEntry[];
}

/**
 * Simulates and writes the data set into `dir` (created if missing; it must be
 * empty, so an existing data set is never overwritten half-way), then writes
 * `manifest.csv` last so a reader never sees a manifest naming missing files.
 */
export async function writeSimDataset(
  dir: string,
  options: SimDatasetOptions = {},
): Promise<SimDatasetResult> {
  const entries = planSimDataset(options);
  await mkdir(dir, { recursive: true });
  const existing = await readdir(dir);
  requireSim(
    existing.length === 0,
    `${dir} is not empty (${existing.length} entries); choose a new or empty directory`,
  );
  for (const domain of new Set(entries.map((e) => e.domain))) await mkdir(path.join(dir, domain));
  for (const e of entries) {
    const gen = new BearingSignalGenerator({
      condition: e.condition,
      fault: { type: e.fault, severity: e.severity },
      sampleRate: e.sampleRate,
      seed: e.seed,
    });
    const samples = gen.next(Math.round(e.durationS * e.sampleRate));
    await writeFile(path.join(dir, e.file), encodeSignalFile(e.file, samples, e.sampleRate));
  }
  const rows = entries.map((e) =>
    [e.file, e.label, e.domain, String(e.sampleRate), e.channel, String(e.rpm)].join(','),
  );
  const manifestPath = path.join(dir, 'manifest.csv');
  await writeFile(manifestPath, `${[MANIFEST_COLUMNS.join(','), ...rows].join('\n')}\n`);
  return { manifestPath, entries };
}
