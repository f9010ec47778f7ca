/**
 * The Markdown view of an evaluation report: one row per task with the mean
 * accuracy of each strategy over seeds, the summary per strategy, the
 * label-free checkpoint choice beside the oracle's (when adaptation ran),
 * every (task, strategy, seed) entry, then the normal-versus-fault detection.
 */

import type { DetectionReport } from './detection-metrics.js';
import type { EvalReport, EvalTaskResult } from './evaluate.js';
import { fewShotSection } from './few-shot.js';

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
  if (report.data?.target) {
    lines.push(
      `Source folder \`${report.data.source.dir}\` (domains ${report.data.sourceDomains.join(', ')}), ` +
        `target folder \`${report.data.target.dir}\` (domains ${report.data.targetDomains.join(', ')}).`,
      '',
    );
  }
  if (report.data?.labelMap) {
    lines.push(
      `Label map: ${Object.entries(report.data.labelMap)
        .map(([a, b]) => `${a} → ${b}`)
        .join(', ')} (other labels left out).`,
      '',
    );
  }
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
  lines.push(...oracleSection(report));
  lines.push(...perSeedTable(report));
  if (report.fewShot) lines.push(...fewShotSection(report.fewShot));
  if (report.detection) lines.push(...detectionSection(report.detection));
  return lines.join('\n');
}

/** Mean label-free accuracy, oracle-checkpoint accuracy and their gap per strategy, over the entries that have an oracle. */
export function oracleSummary(
  tasks: readonly EvalTaskResult[],
): Record<string, { labelFree: number; oracle: number; gap: number; n: number }> {
  const by: Record<string, EvalTaskResult[]> = {};
  for (const t of tasks) if (t.oracle) (by[t.strategy] ??= []).push(t);
  return Object.fromEntries(
    Object.entries(by).map(([s, rows]) => {
      const mean = (f: (r: EvalTaskResult) => number) =>
        rows.reduce((a, r) => a + f(r), 0) / rows.length;
      const labelFree = mean((r) => r.accuracy);
      const oracle = mean((r) => r.oracle?.accuracy ?? Number.NaN);
      return [s, { labelFree, oracle, gap: oracle - labelFree, n: rows.length }];
    }),
  );
}

const pp = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(2)} pp` : '–');

/**
 * The label-free choice beside the oracle choice, per task and strategy
 * (means over seeds) and per seed; nothing when no entry has an oracle.
 */
export function oracleSection(report: Pick<EvalReport, 'tasks'>): string[] {
  const rows = report.tasks.filter((t) => t.oracle);
  if (rows.length === 0) return [];
  const lines = [
    '## Label-free choice against the oracle checkpoint',
    '',
    'The accuracy reported above is that of the checkpoint chosen WITHOUT target labels (source validation accuracy and the ' +
      'information-maximisation score of the unlabelled target windows). Beside it, the checkpoint a selection WITH target ' +
      'labels would have kept from the same run: the highest target test accuracy among the same checkpoints. The gap is the ' +
      'price of having no labels; the oracle is never used to choose.',
    '',
    '| strategy | label-free | oracle | gap | entries |',
    '|---|---|---|---|---|',
  ];
  for (const [s, v] of Object.entries(oracleSummary(rows)))
    lines.push(`| ${s} | ${pct(v.labelFree)} | ${pct(v.oracle)} | ${pp(v.gap)} | ${v.n} |`);
  lines.push(
    '',
    '| task | strategy | seed | label-free step | label-free accuracy | oracle step | oracle accuracy | gap |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const t of rows) {
    const o = t.oracle as { step: number; accuracy: number };
    lines.push(
      `| ${t.source}→${t.target} | ${t.strategy} | ${t.seed} | ${t.selectedStep ?? '–'} | ${pct(t.accuracy)} | ${o.step} | ${pct(o.accuracy)} | ${pp(o.accuracy - t.accuracy)} |`,
    );
  }
  lines.push('');
  return lines;
}

/** Every entry of `tasks`: task × strategy × seed, in the report's order. */
export function perSeedTable(report: Pick<EvalReport, 'tasks'>): string[] {
  const lines = [
    '## Every seed',
    '',
    '| task | strategy | seed | target accuracy | source accuracy | seconds | test windows | selected step |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const t of report.tasks)
    lines.push(
      `| ${t.source}→${t.target} | ${t.strategy} | ${t.seed} | ${pct(t.accuracy)} | ${pct(t.sourceAccuracy)} | ${t.seconds.toFixed(0)} | ${t.windows} | ${t.selectedStep ?? '–'} |`,
    );
  lines.push('');
  return lines;
}

const auc = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : '–');

/** The `detection` part: what it covers, means over seeds, then every seed. */
export function detectionSection(d: DetectionReport): string[] {
  const lines = ['## Normal-versus-fault detection', '', d.protocol, ''];
  lines.push(
    `Domains with '${d.normalClass}' windows (scored): ${d.coverage.withNormal.join(', ') || 'none'}. ` +
      `Without (not scored): ${d.coverage.withoutNormal.join(', ') || 'none'}. ` +
      `Simulated: ${d.simulator.source} → ${d.simulator.targets.join(', ')} (classes ${d.simulator.classes.join(', ')}).`,
    '',
    '### Mean over seeds',
    '',
    '| data | source→target | strategy | detection rate | false-alarm rate | balanced accuracy (min) | AUROC | seeds |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const s of d.summary)
    lines.push(
      `| ${s.dataset} | ${s.source}→${s.target} | ${s.strategy} | ${pct(s.detectionRate)} | ${pct(s.falseAlarmRate)} | ${pct(s.balancedAccuracy)} (${pct(s.minBalancedAccuracy)}) | ${auc(s.auroc)} | ${s.n} |`,
    );
  lines.push(
    '',
    '### Every seed',
    '',
    '| data | source→target | strategy | seed | detection rate | false-alarm rate | balanced accuracy | AUROC | accuracy (all classes) | source balanced accuracy | normal / fault windows | seconds |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const e of d.entries)
    lines.push(
      `| ${e.dataset} | ${e.source}→${e.target} | ${e.strategy} | ${e.seed} | ${pct(e.detectionRate)} | ${pct(e.falseAlarmRate)} | ${pct(e.balancedAccuracy)} | ${auc(e.auroc)} | ${pct(e.accuracy)} | ${pct(e.sourceBalancedAccuracy)} | ${e.normalWindows} / ${e.faultWindows} | ${e.seconds.toFixed(0)} |`,
    );
  lines.push('');
  return lines;
}
