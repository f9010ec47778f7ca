/**
 * Two installs, one per job (issue #13): the root package is the gateway, which
 * runs headless and must install no desktop runtime; app/ is the desktop
 * console's own package, with Electron and its packaging (electron-builder).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { repositoryRoot } from '../../scripts/import-graph.js';

const root = repositoryRoot();

type Deps = Record<string, string>;
interface PackageJson {
  main?: string;
  scripts?: Record<string, string>;
  dependencies?: Deps;
  devDependencies?: Deps;
  optionalDependencies?: Deps;
  peerDependencies?: Deps;
  bundleDependencies?: string[] | boolean;
  bundledDependencies?: string[] | boolean;
  build?: unknown;
}
interface PackageLock {
  packages: Record<string, PackageJson>;
}

const readJson = <T>(file: string): T =>
  JSON.parse(readFileSync(path.join(root, file), 'utf8')) as T;

/** Every package a manifest names, in any dependency field, with the field. */
function dependencyNames(pkg: PackageJson): string[] {
  const fields = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];
  const named = fields.flatMap((f) =>
    Object.keys((pkg[f as keyof PackageJson] as Deps | undefined) ?? {}).map((n) => `${f}: ${n}`),
  );
  for (const f of ['bundleDependencies', 'bundledDependencies'] as const) {
    const b = pkg[f];
    if (Array.isArray(b)) named.push(...b.map((n) => `${f}: ${n}`));
  }
  return named;
}

/** Electron itself and the tools that only a desktop build needs. */
const desktopOnly = (name: string): boolean => /^(electron|electron-builder)$/.test(name);

test('the gateway (root package.json) installs no desktop runtime', () => {
  const pkg = readJson<PackageJson>('package.json');
  const bad = dependencyNames(pkg).filter((d) => desktopOnly(d.split(': ')[1]));
  assert.deepEqual(bad, [], 'Electron belongs to app/package.json, the console’s own install');
});

test('the root lock installs no Electron (what `npm ci` at the root puts in node_modules)', () => {
  const lock = readJson<PackageLock>('package-lock.json');
  const electron = Object.keys(lock.packages).filter((p) =>
    /(^|\/)node_modules\/(electron|electron-builder)$/.test(p),
  );
  assert.deepEqual(electron, [], 'run `npm install --package-lock-only` at the root');
  assert.deepEqual(
    dependencyNames(lock.packages['']).filter((d) => desktopOnly(d.split(': ')[1])),
    [],
  );
});

test('app/package.json is the console’s package: Electron and electron-builder, scripts to run and package', () => {
  const pkg = readJson<PackageJson>('app/package.json');
  // electron-builder refuses `electron` among the dependencies of the app it packages.
  assert.ok(pkg.devDependencies?.electron, 'app/package.json: devDependencies.electron');
  assert.ok(
    pkg.devDependencies?.['electron-builder'],
    'app/package.json: devDependencies.electron-builder',
  );
  assert.equal(pkg.dependencies?.electron, undefined, 'electron only as a devDependency');
  assert.equal(pkg.main, 'dist/main.js', 'the shell app/build.ts writes');
  assert.match(pkg.scripts?.build ?? '', /\bbuild:web\b/, 'build: the root’s npm run build:web');
  assert.match(pkg.scripts?.start ?? '', /^electron \.$/);
  assert.match(pkg.scripts?.dist ?? '', /^electron-builder\b/);
  const lock = readJson<PackageLock>('app/package-lock.json');
  assert.deepEqual(
    lock.packages[''].devDependencies,
    pkg.devDependencies,
    'app/package-lock.json is stale',
  );
  assert.ok(
    lock.packages['node_modules/electron'] && lock.packages['node_modules/electron-builder'],
  );
});

interface BuilderConfig {
  appId?: string;
  productName?: string;
  asar?: boolean | object;
  directories?: { output?: string };
  files?: (string | { from?: string; filter?: string[] })[];
  linux?: { target?: (string | { target: string })[] };
  win?: { target?: (string | { target: string })[] };
  mac?: { target?: (string | { target: string })[] };
}

test('electron-builder packages the built shell and console: app/electron-builder.yml', () => {
  const pkg = readJson<PackageJson>('app/package.json');
  assert.equal(pkg.build, undefined, 'one packaging config: app/electron-builder.yml');
  const c = parseYaml(
    readFileSync(path.join(root, 'app/electron-builder.yml'), 'utf8'),
  ) as BuilderConfig;
  assert.match(c.appId ?? '', /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/, 'appId: reverse-DNS');
  assert.equal(c.productName, 'Faultline Console');
  assert.ok(c.asar === true || (typeof c.asar === 'object' && c.asar !== null), 'asar on');
  // electron-builder's default output, dist/, is where app/build.ts writes the shell.
  assert.ok(c.directories?.output, 'directories.output set');
  assert.notEqual(path.posix.normalize(c.directories.output), 'dist');
  const files = (c.files ?? []).filter((f): f is string => typeof f === 'string');
  for (const built of ['dist/main.js', 'dist/preload.cjs', 'dist/launcher/**', 'web/dist/**']) {
    assert.ok(files.includes(built), `files: ${built} (written by app/build.ts)`);
  }
  const targets = (o?: { target?: (string | { target: string })[] }) =>
    (o?.target ?? []).map((t) => (typeof t === 'string' ? t : t.target)).sort();
  assert.deepEqual(targets(c.linux), ['AppImage', 'deb']);
  assert.deepEqual(targets(c.win), ['nsis']);
  assert.deepEqual(targets(c.mac), ['dmg']);
});
