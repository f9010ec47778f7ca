/**
 * The Markdown view of an evaluation report: one row per task with the mean
 * accuracy of each strategy over seeds, then the summary per strategy.
 */
import type { EvalReport } from '../model/evaluate.js';

const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(2)} %` : '–');

export function reportMarkdown(report: EvalReport): string {
  const strategies = [...new Set(report.tasks.map((t) => t.strategy))];
  const keys = [...new Set(report.tasks.map((t) => `${t.source}→${t.target}`))];
  const lines: string[] = [];
  lines.push('# Cross-domain evaluation', '');
  lines.push(`Command: \`${report.command}\``, '');
  lines.push(
    `Created ${report.createdAt} on backend \`${report.backend}\`, ${report.totalSeconds.toFixed(0)} s in total.`,
    '',
  );
  lines.push(`Protocol: ${report.protocol}`, '');
  lines.push(`Classes scored: ${report.classes.join(', ')}.`, '');
  lines.push('Classes per domain:', '');
  for (const [d, c] of Object.entries(report.domainClasses)) lines.push(`- ${d}: ${c.join(', ')}`);
  lines.push('');
  lines.push(
    '## Target test accuracy per task (mean over seeds; source test accuracy after adaptation in brackets)',
    '',
  );
  lines.push(`| task | ${strategies.join(' | ')} | seconds (${strategies.join(' / ')}) |`);
  lines.push(`|---|${strategies.map(() => '---').join('|')}|---|`);
  for (const k of keys) {
    const cells: string[] = [];
    const secs: string[] = [];
    for (const s of strategies) {
      const rows = report.tasks.filter((t) => `${t.source}→${t.target}` === k && t.strategy === s);
      const m = (f: (r: (typeof rows)[number]) => number) =>
        rows.reduce((a, r) => a + f(r), 0) / rows.length;
      cells.push(
        rows.length ? `${pct(m((r) => r.accuracy))} (${pct(m((r) => r.sourceAccuracy))})` : '–',
      );
      secs.push(rows.length ? m((r) => r.seconds).toFixed(0) : '–');
    }
    lines.push(`| ${k} | ${cells.join(' | ')} | ${secs.join(' / ')} |`);
  }
  lines.push(
    '',
    '## Summary over tasks and seeds',
    '',
    '| strategy | mean | std | min | entries |',
    '|---|---|---|---|---|',
  );
  for (const [s, v] of Object.entries(report.summary))
    lines.push(`| ${s} | ${pct(v.mean)} | ${pct(v.std)} | ${pct(v.min)} | ${v.n} |`);
  lines.push('');
  return lines.join('\n');
}
