/**
 * `faultline dataset inspect <dir>` — lists what a data folder (CWRU or
 * bring-your-own) yields: one line per recording with label, domain, rates,
 * duration, rpm and the monitored bearing (table designation or geometry),
 * then the bearing(s) of each domain; `--json` prints the same as a JSON
 * array for scripts.
 */
import type { Command } from 'commander';
import { formatGeometry } from '../../data/bearings.js';
import {
  type DatasetEntry,
  describeRecordings,
  detectDataset,
  loadDataset,
} from '../../data/dataset.js';
import { FaultlineError } from '../../errors.js';
import { positiveNumber } from './parse.js';

interface InspectOptions {
  json?: boolean;
  targetRate?: number;
  class?: string[];
  load?: number[];
  labelColumn?: string;
}

function loadList(value: string, prev: number[] = []): number[] {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 3) {
    throw new FaultlineError(
      'FL_ERR_CLI_USAGE',
      `--load ${JSON.stringify(value)} must be 0, 1, 2 or 3 (HP)`,
    );
  }
  return [...prev, n];
}

export function registerDatasetCommand(program: Command): void {
  const dataset = program
    .command('dataset')
    .description('work with training data folders (CWRU or bring-your-own with manifest.csv/json)');
  dataset
    .command('inspect')
    .description(
      'list the recordings a data folder yields: file, label, domain, sample rates, duration, rpm',
    )
    .argument(
      '<dir>',
      'data folder (CWRU .mat files, or a folder with manifest.csv / manifest.json)',
    )
    .option(
      '--json',
      'print a JSON array of {file,label,domain,sampleRate,originalSampleRate,samples,durationS,rpm,channel,bearing}',
    )
    .option(
      '--label-column <column>',
      'bring-your-own: manifest column holding the class (default label)',
    )
    .option(
      '--target-rate <hz>',
      "resample to this rate (default: 12000 for CWRU, each file's own rate otherwise)",
      positiveNumber('--target-rate'),
    )
    .option('--class <name...>', 'CWRU: only these classes (e.g. normal IR007)')
    .option('--load <hp>', 'CWRU: only this load in HP (repeatable)', loadList)
    .action(async (dir: string, o: InspectOptions) => {
      const kind = await detectDataset(dir);
      const recs = await loadDataset(dir, {
        targetRate: o.targetRate,
        classes: o.class,
        loads: o.load,
        labelColumn: o.labelColumn,
      });
      const entries = describeRecordings(recs);
      if (o.json) {
        process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        return;
      }
      process.stdout.write(formatTable(entries));
      process.stdout.write(`\n${summary(kind, dir, entries)}\n`);
    });
}

function formatTable(entries: DatasetEntry[]): string {
  const header = [
    'file',
    'label',
    'domain',
    'rate Hz',
    'orig Hz',
    'samples',
    'dur s',
    'rpm',
    'channel',
    'bearing',
  ];
  const rows = entries.map((e) => [
    e.file,
    e.label,
    e.domain,
    String(e.sampleRate),
    String(e.originalSampleRate),
    String(e.samples),
    e.durationS.toFixed(2),
    e.rpm === null ? '-' : String(e.rpm),
    e.channel,
    bearingText(e.bearing),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    `${cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd()}\n`;
  return [line(header), ...rows.map(line)].join('');
}

function summary(kind: string, dir: string, entries: DatasetEntry[]): string {
  const count = (key: 'label' | 'domain'): string => {
    const m = new Map<string, number>();
    for (const e of entries) m.set(e[key], (m.get(e[key]) ?? 0) + 1);
    return [...m].map(([k, n]) => `${k}×${n}`).join(' ');
  };
  const total = entries.reduce((s, e) => s + e.durationS, 0);
  const bearings = new Map<string, Set<string>>();
  for (const e of entries) {
    const set = bearings.get(e.domain) ?? new Set<string>();
    set.add(bearingText(e.bearing));
    bearings.set(e.domain, set);
  }
  return (
    `${entries.length} recordings (${kind}) in ${dir}, ${total.toFixed(1)} s in all\n` +
    `labels:  ${count('label')}\n` +
    `domains: ${count('domain')}\n` +
    `bearing: ${[...bearings].map(([d, b]) => `${d} ${[...b].join(' | ')}`).join('; ')}`
  );
}

/** `6205 (9 × 0.3126 / 1.537, 0°)`, the geometry alone, or `-` when unknown. */
function bearingText(b: DatasetEntry['bearing']): string {
  if (!b) return '-';
  const g = formatGeometry(b);
  return b.designation ? `${b.designation} (${g})` : g;
}
