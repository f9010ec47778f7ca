import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  buildImportGraph,
  type ImportEdge,
  importSpecifiers,
  importsBetween,
  repositoryRoot,
} from '../../scripts/import-graph.js';

const graph = buildImportGraph();

const show = (edges: readonly ImportEdge[]): string =>
  edges.map((e) => `  ${e.from} → ${e.to} (${e.kind})`).join('\n');

test('the import graph is read: every src file, and their relative imports', () => {
  assert.ok(graph.files.length > 100, `only ${graph.files.length} files under src/`);
  assert.ok(graph.imports.length > 300, `only ${graph.imports.length} imports found`);
  assert.ok(graph.files.includes('src/daemon/gateway.ts'));
  for (const e of graph.imports) {
    if (e.to.startsWith('src/')) {
      assert.ok(graph.files.includes(e.to), `${e.from} imports ${e.specifier}: no such file`);
    }
  }
});

test('import specifiers: comments and template text are not imports; type-only is told apart', () => {
  const src = [
    "import { a } from './a.js';",
    "import type { B } from './b.js';",
    "import {\n  type C,\n  d,\n} from './c.js';",
    "export * from './e.js';",
    "export type { F } from './f.js';",
    "import './g.js';",
    "const h = await import('./h.js');",
    "// import { x } from './commented.js';",
    "/* export { y } from './block.js'; */",
    "const s = `import { z } from './template.js'`;",
    "const u = 'http://example.com'; import { v } from './after-url.js';",
  ].join('\n');
  assert.deepEqual(
    importSpecifiers(src)
      .map((i) => `${i.kind} ${i.specifier}`)
      .sort(),
    [
      'dynamic ./h.js',
      'type ./b.js',
      'type ./f.js',
      'value ./a.js',
      'value ./after-url.js',
      'value ./c.js',
      'value ./e.js',
      'value ./g.js',
    ],
  );
});

test('no import cycle between files of src/', () => {
  assert.deepEqual(
    graph.fileCycles,
    [],
    `import cycles (each line: the files of one cycle):\n${graph.fileCycles.map((c) => `  ${c.join(' ↔ ')}`).join('\n')}`,
  );
});

/**
 * Imports that would run against the data path (ingest → dsp → model → diagnose → … → daemon, cli).
 * The simulator (src/sim) sits above the model (it trains the builtin simulator model) and below
 * the daemon, which runs its fleet. Evaluation (src/eval) sits above the model and the simulator
 * and beside the live path: it may use both, neither may use it, and the gateway does not run it.
 */
const forbidden: [from: string, to: string[]][] = [
  ['src/model', ['src/eval', 'src/sim', 'src/daemon', 'src/cli']],
  ['src/dsp', ['src/model', 'src/diagnose', 'src/daemon']],
  ['src/diagnose', ['src/eval', 'src/daemon']],
  ['src/sim', ['src/eval', 'src/daemon', 'src/cli']],
  ['src/daemon', ['src/eval']],
  ['src', ['test', 'bench']],
];

for (const [from, tos] of forbidden) {
  test(`${from} imports nothing from ${tos.join(', ')}`, () => {
    const bad = tos.flatMap((to) => importsBetween(graph, from, to));
    assert.deepEqual(bad, [], `imports that run the wrong way:\n${show(bad)}`);
  });
}

const repoRoot = repositoryRoot();

test('bench/ and test/support/ take from test/ only test/support/', () => {
  const bad: string[] = [];
  for (const dir of ['bench', 'test/support']) {
    const files = readdirSync(path.join(repoRoot, dir), { recursive: true, encoding: 'utf8' });
    for (const f of files.filter((f) => f.endsWith('.ts')).map((f) => path.join(dir, f))) {
      for (const { specifier } of importSpecifiers(readFileSync(path.join(repoRoot, f), 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        const to = path.posix.normalize(path.posix.join(path.dirname(f), specifier));
        if (to.startsWith('test/') && !to.startsWith('test/support/')) bad.push(`  ${f} → ${to}`);
      }
    }
  }
  assert.deepEqual(
    bad,
    [],
    `helpers shared with benchmarks belong in test/support/:\n${bad.join('\n')}`,
  );
});

test('app/ takes from src/ only the contract (and the shell the error catalogue)', () => {
  const bad: string[] = [];
  const files = readdirSync(path.join(repoRoot, 'app'), { recursive: true, encoding: 'utf8' });
  for (const f of files
    .filter((f) => f.endsWith('.ts') && !f.includes('node_modules') && !f.includes('dist'))
    .map((f) => path.join('app', f))) {
    for (const { specifier } of importSpecifiers(readFileSync(path.join(repoRoot, f), 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const to = path.posix.normalize(path.posix.join(path.dirname(f), specifier));
      if (!to.startsWith('src/')) continue;
      const shellErrors = f.startsWith('app/shell/') && to === 'src/errors.js';
      if (!to.startsWith('src/contract/') && !shellErrors) bad.push(`  ${f} → ${to}`);
    }
  }
  assert.deepEqual(
    bad,
    [],
    `the console talks to the gateway through its API and shares only src/contract:\n${bad.join('\n')}`,
  );
});

test('no source file of src/ or app/ is over 600 lines (small modules named for what they do)', () => {
  const root = repositoryRoot();
  const files = ['src', 'app'].flatMap((d) =>
    readdirSync(path.join(root, d), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !/(^|\/)(node_modules|dist)\//.test(f))
      .map((f) => path.join(d, f)),
  );
  assert.ok(files.length > 100, `read ${files.length} files`);
  const long = files
    .map((f) => ({ f, lines: readFileSync(path.join(root, f), 'utf8').split('\n').length - 1 }))
    .filter((x) => x.lines > 600)
    .map((x) => `${x.f}: ${x.lines} lines`);
  assert.deepEqual(long, [], 'split these into modules of one job each');
});

/** Directories the name check skips: installed packages and build output, not ours to name. */
const GENERATED = /(^|\/)(node_modules|dist|release)(\/|$)|^test\/artifacts(\/|$)/;

test('file and folder names under src/, app/, test/, bench/, scripts/ are kebab-case', () => {
  const root = repositoryRoot();
  // Lowercase letters, digits, hyphens, dots (`conv2d-backprop-filter.ts`, `kernels.test.ts`);
  // README.md keeps the name every code host shows.
  const kebab = /^[a-z0-9][a-z0-9.-]*$/;
  const names = ['src', 'app', 'test', 'bench', 'scripts'].flatMap((d) =>
    readdirSync(path.join(root, d), { recursive: true, encoding: 'utf8' })
      .map((f) => path.posix.join(d, f.split(path.sep).join('/')))
      .filter((f) => !GENERATED.test(f)),
  );
  assert.ok(names.length > 300, `read ${names.length} names`);
  const bad = names.filter((f) => {
    const base = path.posix.basename(f);
    return base !== 'README.md' && !kebab.test(base);
  });
  assert.deepEqual(bad, [], 'rename these in kebab-case (lowercase, digits, hyphens, dots)');
});

test('src/model/kernels/impl/ imports only its own files (pure loops over typed arrays, no tfjs)', () => {
  const dir = 'src/model/kernels/impl';
  const files = readdirSync(path.join(repoRoot, dir)).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 4, `read ${files.length} files`);
  const bad = files.flatMap((f) =>
    importSpecifiers(readFileSync(path.join(repoRoot, dir, f), 'utf8'))
      .filter(({ specifier }) => !/^\.\/[^/]+\.js$/.test(specifier))
      .map(({ specifier }) => `  ${dir}/${f} → ${specifier}`),
  );
  assert.deepEqual(bad, [], `the kernels' pure cores take plain typed arrays:\n${bad.join('\n')}`);
});
