/**
 * `npm run bench` — runs every benchmark suite in bench/suites and prints
 * their named metrics. `npm run bench -- --json` prints one JSON object of all
 * metrics (units in the names) for scripts; a suite that cannot run on this
 * machine (a missing service, say) reports why on stderr and is skipped.
 *
 * A suite is a module exporting `name` and `run(): Promise<Metrics>`. Suites
 * run one after the other so they do not compete for the two cores.
 * `--only a,b` runs the named suites alone.
 */
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type Metrics = Record<string, number>;
export interface BenchSuite {
  name: string;
  run(): Promise<Metrics>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? new Set((args[onlyIdx + 1] ?? '').split(',')) : undefined;

const files = (await readdir(path.join(here, 'suites'))).filter((f) => f.endsWith('.ts')).sort();
const all: Metrics = {};
for (const file of files) {
  const suite = (await import(pathToFileURL(path.join(here, 'suites', file)).href)) as BenchSuite;
  if (only && !only.has(suite.name)) continue;
  try {
    const t0 = performance.now();
    const metrics = await suite.run();
    Object.assign(all, metrics);
    if (!json) {
      process.stdout.write(`\n${suite.name} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
      for (const [k, v] of Object.entries(metrics)) {
        process.stdout.write(`  ${k.padEnd(36)} ${Number.isInteger(v) ? v : v.toFixed(2)}\n`);
      }
    }
  } catch (err) {
    process.stderr.write(`bench: suite ${suite.name} skipped: ${(err as Error).message}\n`);
  }
}
if (json) process.stdout.write(`${JSON.stringify(all)}\n`);
else
  process.stdout.write(
    `\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version} (shared machine: compare ratios, not absolutes)\n`,
  );
