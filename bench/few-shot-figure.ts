/**
 * The few-shot figure over several data sets: one line per `faultline eval
 * --few-shot` report (its mean over tasks and seeds per k), drawn with the
 * same chart as each report's own `<name>-few-shot.png`, plus a Markdown table
 * of the same numbers on stdout.
 *
 *   npx tsx bench/few-shot-figure.ts <out.png> <name>=<report.json> [<name>=<report.json> …]
 *
 * Why a separate step: each data set is its own `eval` run (its own folders,
 * label map and tasks), and the figure compares them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { EvalReport } from '../src/eval/evaluate.js';
import { type FewShotSeries, fewShotChart } from '../src/eval/few-shot-chart.js';

const [out, ...pairs] = process.argv.slice(2);
if (!out || pairs.length === 0 || pairs.some((p) => !p.includes('='))) {
  process.stderr.write('usage: few-shot-figure.ts <out.png> <name>=<report.json> …\n');
  process.exit(2);
}
const series: FewShotSeries[] = [];
const rows: string[] = [];
let ks: number[] = [];
for (const pair of pairs) {
  const name = pair.slice(0, pair.indexOf('='));
  const file = pair.slice(pair.indexOf('=') + 1);
  const report = JSON.parse(await readFile(file, 'utf8')) as EvalReport;
  if (!report.fewShot) {
    process.stderr.write(`${file} has no fewShot section (run eval with --few-shot)\n`);
    process.exit(2);
  }
  const f = report.fewShot;
  ks = f.settings.ks;
  series.push({ name, points: f.summary.map((s) => ({ k: s.k, mean: s.mean })) });
  const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
  rows.push(
    `| ${name} (${f.summary[0]?.n ?? 0}) | ${f.summary.map((s) => `${pct(s.mean)} (${pct(s.min)})`).join(' | ')} |`,
  );
}
await writeFile(out, fewShotChart(series, 'target accuracy against k'));
process.stdout.write(
  `| data set (entries) | ${ks.map((k) => `k = ${k}`).join(' | ')} |\n|---|${ks.map(() => '---').join('|')}|\n${rows.join('\n')}\n`,
);
