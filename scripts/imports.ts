/**
 * Prints the import graph of `src/`: its parts (top-level folders and
 * files), each part's level, the imports between parts, and the import
 * cycles between files and between parts.
 *
 * Run: `npx tsx scripts/imports.ts` (text) or `npx tsx scripts/imports.ts
 * --json` (the whole graph, every file-level import included).
 */
import { buildImportGraph, type ImportGraph, type PartEdge } from './import-graph.js';

function kinds(pe: PartEdge): string {
  const out: string[] = [];
  if (pe.value > 0) out.push(`${pe.value} value`);
  if (pe.type > 0) out.push(`${pe.type} type`);
  if (pe.dynamic > 0) out.push(`${pe.dynamic} dynamic`);
  return out.join(', ');
}

/** The report as text, one section per heading. */
export function formatReport(g: ImportGraph): string {
  const lines: string[] = [];
  const maxLevel = Math.max(0, ...Object.values(g.levels));
  const typeOnly = g.partEdges.filter((pe) => pe.value === 0 && pe.dynamic === 0).length;
  lines.push(
    `${g.files.length} files, ${g.imports.length} relative imports; ` +
      `${g.parts.length} parts on ${maxLevel + 1} levels, ${g.partEdges.length} part edges ` +
      `(${typeOnly} type-only); ${g.fileCycles.length} file cycles, ${g.partCycles.length} part cycles`,
  );
  lines.push('', 'Parts (level: part → parts it imports):');
  const byLevel = [...g.parts].sort((a, b) => g.levels[a] - g.levels[b] || a.localeCompare(b));
  for (const p of byLevel) {
    const outs = g.partEdges.filter((pe) => pe.from === p).map((pe) => pe.to);
    lines.push(`  ${g.levels[p]}: ${p}${outs.length ? ` → ${outs.join(', ')}` : ''}`);
  }
  lines.push('', 'Part edges (imports by kind):');
  for (const pe of g.partEdges) lines.push(`  ${pe.from} → ${pe.to} (${kinds(pe)})`);
  lines.push('', 'File cycles:');
  if (g.fileCycles.length === 0) lines.push('  none');
  for (const c of g.fileCycles) lines.push(`  ${c.join(' ↔ ')}`);
  lines.push('', 'Part cycles:');
  if (g.partCycles.length === 0) lines.push('  none');
  for (const c of g.partCycles) lines.push(`  ${c.join(' ↔ ')}`);
  return lines.join('\n');
}

const graph = buildImportGraph();
if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify(graph, null, 2)}\n`);
} else {
  process.stdout.write(`${formatReport(graph)}\n`);
}
