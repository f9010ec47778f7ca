/**
 * The import graph of `src/`: which module imports which, grouped into parts
 * (a part is a top-level folder such as `src/model`, or a top-level file such
 * as `src/errors.ts`), with the import cycles between files and between parts.
 *
 * Dependency-free on purpose (node:fs, node:path, node:url): it reads the sources as
 * text, blanks comments and template-literal text, and matches the module
 * specifiers of `import … from`, `export … from`, `import '…'` and
 * `import('…')`. Only relative specifiers are followed; `./x.js` resolves to
 * `./x.ts` as NodeNext resolution does for TypeScript sources.
 *
 * Used by `scripts/imports.ts` (the report) and
 * `test/architecture/imports.test.ts` (the rules).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * How a module is imported: `value` (a runtime import, including side-effect
 * imports), `type` (`import type` / `export type`, erased at build) or
 * `dynamic` (`import('…')`, loaded when first needed).
 */
export type ImportKind = 'value' | 'type' | 'dynamic';

/** One relative import, paths relative to the repository root with `/`. */
export interface ImportEdge {
  from: string;
  to: string;
  kind: ImportKind;
  specifier: string;
}

/** An import between two parts, with how many file-level imports carry it. */
export interface PartEdge {
  from: string;
  to: string;
  /** File-level imports by kind; a pair of files counts once per kind. */
  value: number;
  type: number;
  dynamic: number;
}

export interface ImportGraph {
  /** Every `.ts` file under the scanned folder, sorted. */
  files: string[];
  /** Every relative import, sorted by importer then target. */
  imports: ImportEdge[];
  /** Parts, sorted. */
  parts: string[];
  /** Imports between different parts, sorted. */
  partEdges: PartEdge[];
  /**
   * Each part's level: 0 for a part that imports no other part, else one
   * more than the highest part it imports (parts on a cycle share a level).
   */
  levels: Record<string, number>;
  /** Strongly connected components of the file graph with more than one file. */
  fileCycles: string[][];
  /** Strongly connected components of the part graph with more than one part. */
  partCycles: string[][];
}

export interface GraphOptions {
  /** Kinds of import that make a cycle; default all three. */
  cycleKinds?: readonly ImportKind[];
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The repository root this script belongs to. */
export function repositoryRoot(): string {
  return repoRoot;
}

/**
 * The source text with comments blanked and the literal text of template
 * strings blanked (their `${…}` code kept), so neither can fake an import.
 * Line breaks are kept; string literals are kept (specifiers live in them).
 */
export function stripComments(src: string): string {
  let out = '';
  let i = 0;
  // A stack of open `${` scopes inside template literals; each entry is the
  // brace depth at which that scope closes back into the template.
  const templateStack: number[] = [];
  let braceDepth = 0;
  const blank = (s: string): string => s.replace(/[^\n]/g, ' ');
  const n = src.length;
  const readTemplate = (): void => {
    // At the character after a backtick (or after the `}` closing a `${`).
    let j = i;
    while (j < n) {
      const c = src[j];
      if (c === '\\') {
        j += 2;
        continue;
      }
      if (c === '`') {
        out += `${blank(src.slice(i, j))}\``;
        i = j + 1;
        return;
      }
      if (c === '$' && src[j + 1] === '{') {
        out += `${blank(src.slice(i, j))}\${`;
        i = j + 2;
        templateStack.push(braceDepth);
        braceDepth++;
        return;
      }
      j++;
    }
    out += blank(src.slice(i));
    i = n;
  };
  while (i < n) {
    const c = src[i];
    const d = src[i + 1];
    if (c === '/' && d === '/') {
      const end = src.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      out += blank(src.slice(i, stop));
      i = stop;
    } else if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      out += blank(src.slice(i, stop));
      i = stop;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
    } else if (c === '`') {
      out += '`';
      i++;
      readTemplate();
    } else if (c === '{') {
      braceDepth++;
      out += c;
      i++;
    } else if (c === '}') {
      braceDepth--;
      out += c;
      i++;
      if (templateStack.length > 0 && braceDepth === templateStack[templateStack.length - 1]) {
        templateStack.pop();
        readTemplate();
      }
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The module specifiers a source imports, with their kind. */
export function importSpecifiers(src: string): { specifier: string; kind: ImportKind }[] {
  const code = stripComments(src);
  const found: { specifier: string; kind: ImportKind }[] = [];
  // `import x from`, `import type { A } from`, `export * from`, `export { a } from`,
  // `export type { A } from`: the clause holds only names, braces, commas and `*`.
  const fromRe = /(?:^|[\s;}])(import|export)\s+(type\s+)?[\w$\s{},*]*?\bfrom\s*(['"])([^'"]+)\3/g;
  for (const m of code.matchAll(fromRe)) {
    found.push({ specifier: m[4], kind: m[2] ? 'type' : 'value' });
  }
  const bareRe = /(?:^|[\s;}])import\s*(['"])([^'"]+)\1/g;
  for (const m of code.matchAll(bareRe)) found.push({ specifier: m[2], kind: 'value' });
  const dynamicRe = /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g;
  for (const m of code.matchAll(dynamicRe)) found.push({ specifier: m[2], kind: 'dynamic' });
  return found;
}

function tsFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFilesUnder(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const toPosix = (p: string): string => p.split(path.sep).join('/');

/** A relative specifier resolved to a repository path, `.js` read as `.ts`. */
function resolveSpecifier(root: string, fromFile: string, specifier: string): string {
  const abs = path.resolve(path.dirname(path.join(root, fromFile)), specifier);
  const candidates = [abs];
  if (/\.m?js$/.test(abs)) candidates.unshift(abs.replace(/\.(m?)js$/, '.$1ts'));
  else if (!path.extname(abs)) candidates.push(`${abs}.ts`, path.join(abs, 'index.ts'));
  const hit = candidates.find((c) => existsSync(c)) ?? candidates[0];
  return toPosix(path.relative(root, hit));
}

/**
 * The part a repository path belongs to: `src/<folder>` for a file in a
 * folder of `src/`, the file itself (`src/errors.ts`) for a top-level file,
 * and the top folder (`test`, `bench`, `node_modules`…) outside `src/`.
 */
export function partOf(file: string, srcDir = 'src'): string {
  const segs = file.split('/');
  if (segs[0] !== srcDir) return segs[0];
  return segs.length > 2 ? `${segs[0]}/${segs[1]}` : file;
}

/**
 * Strongly connected components (Tarjan) of a graph given as adjacency
 * lists; each component sorted, components in discovery order.
 */
export function stronglyConnected(
  nodes: readonly string[],
  next: Map<string, string[]>,
): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const comps: string[][] = [];
  // Iterative, so a long import chain cannot overflow the call stack.
  for (const start of nodes) {
    if (idx.has(start)) continue;
    const work: { node: string; i: number }[] = [{ node: start, i: 0 }];
    idx.set(start, index);
    low.set(start, index++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const outs = next.get(top.node) ?? [];
      if (top.i < outs.length) {
        const w = outs[top.i++];
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          work.push({ node: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(top.node, Math.min(low.get(top.node)!, idx.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === idx.get(top.node)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.node);
        comps.push(comp.sort());
      }
    }
  }
  return comps;
}

/**
 * Reads every `.ts` file under `<root>/<srcDir>` and builds its import graph.
 * Imports that leave `srcDir` (into `test/`, `bench/`…) are kept in
 * `imports` and `partEdges` so a rule can forbid them.
 */
export function buildImportGraph(
  root = repoRoot,
  srcDir = 'src',
  options: GraphOptions = {},
): ImportGraph {
  const cycleKinds = new Set<ImportKind>(options.cycleKinds ?? ['value', 'type', 'dynamic']);
  const files = tsFilesUnder(path.join(root, srcDir))
    .map((f) => toPosix(path.relative(root, f)))
    .sort();
  const seen = new Set<string>();
  const imports: ImportEdge[] = [];
  for (const file of files) {
    const src = readFileSync(path.join(root, file), 'utf8');
    for (const { specifier, kind } of importSpecifiers(src)) {
      if (!specifier.startsWith('.')) continue;
      const to = resolveSpecifier(root, file, specifier);
      const key = `${file}\0${to}\0${kind}`;
      if (seen.has(key)) continue;
      seen.add(key);
      imports.push({ from: file, to, kind, specifier });
    }
  }
  imports.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));

  const fileNext = new Map<string, string[]>();
  for (const e of imports) {
    if (!cycleKinds.has(e.kind)) continue;
    const outs = fileNext.get(e.from) ?? [];
    if (!outs.includes(e.to)) outs.push(e.to);
    fileNext.set(e.from, outs);
  }
  const fileCycles = stronglyConnected(files, fileNext).filter((c) => c.length > 1);

  const partSet = new Set(files.map((f) => partOf(f, srcDir)));
  const edgeMap = new Map<string, PartEdge>();
  for (const e of imports) {
    const from = partOf(e.from, srcDir);
    const to = partOf(e.to, srcDir);
    if (from === to) continue;
    partSet.add(to);
    const key = `${from}\0${to}`;
    const pe = edgeMap.get(key) ?? { from, to, value: 0, type: 0, dynamic: 0 };
    pe[e.kind]++;
    edgeMap.set(key, pe);
  }
  const parts = [...partSet].sort();
  const partEdges = [...edgeMap.values()].sort(
    (a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to),
  );
  const partNext = new Map<string, string[]>();
  const partNextForCycles = new Map<string, string[]>();
  for (const pe of partEdges) {
    partNext.set(pe.from, [...(partNext.get(pe.from) ?? []), pe.to]);
    if ([...cycleKinds].some((k) => pe[k] > 0)) {
      partNextForCycles.set(pe.from, [...(partNextForCycles.get(pe.from) ?? []), pe.to]);
    }
  }
  const partCycles = stronglyConnected(parts, partNextForCycles).filter((c) => c.length > 1);

  // Levels over the condensation of the part graph (all kinds of import).
  // Tarjan emits components in reverse topological order: a component comes
  // after every component it imports.
  const comps = stronglyConnected(parts, partNext);
  const compOf = new Map<string, number>();
  comps.forEach((c, i) => {
    for (const p of c) compOf.set(p, i);
  });
  const compLevel: number[] = [];
  comps.forEach((c, i) => {
    let level = 0;
    for (const p of c) {
      for (const q of partNext.get(p) ?? []) {
        const j = compOf.get(q)!;
        if (j !== i) level = Math.max(level, compLevel[j] + 1);
      }
    }
    compLevel[i] = level;
  });
  const levels: Record<string, number> = {};
  for (const p of parts) levels[p] = compLevel[compOf.get(p)!];

  return { files, imports, parts, partEdges, levels, fileCycles, partCycles };
}

/** The imports from files under `fromPrefix` to files under `toPrefix`. */
export function importsBetween(
  graph: ImportGraph,
  fromPrefix: string,
  toPrefix: string,
): ImportEdge[] {
  const under = (file: string, prefix: string): boolean =>
    file === prefix || file.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
  return graph.imports.filter((e) => under(e.from, fromPrefix) && under(e.to, toPrefix));
}
