#!/usr/bin/env node
/**
 * npm's `prepare` (run by `npm install` / `npm ci` in a checkout): builds
 * dist/ (scripts/build.ts), so `npx faultline` runs plain JavaScript right
 * after an install (bin/faultline.js).
 *
 * Plain JavaScript, because it must run where TypeScript tooling is absent:
 * `npm ci --omit=dev` runs `prepare` too, without esbuild and tsx (dev
 * dependencies). There it builds nothing and says so, and succeeds: a
 * production install is not a failed one (bin/faultline.js then runs a dist/
 * built beforehand, see docs/deploy/README.md). A build that fails where the
 * tools are installed fails the install: the sources do not compile.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** True when `specifier` resolves from this checkout. */
function installed(specifier) {
  try {
    import.meta.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

const missing = ['esbuild', 'tsx/esm/api'].filter((s) => !installed(s));
if (missing.length > 0) {
  process.stderr.write(
    `faultline prepare: dist/ not built: ${missing.map((s) => s.split('/')[0]).join(' and ')} not installed (a production install, npm ci --omit=dev?). ` +
      'Build it where the dev dependencies are installed: npm run build\n',
  );
} else {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'scripts', 'build.ts')],
    {
      cwd: root,
      stdio: 'inherit',
      // the build is plain esbuild: no loader or test flags of the caller
      env: { ...process.env, NODE_OPTIONS: '' },
    },
  );
  if (r.status !== 0) {
    process.stderr.write(`faultline prepare: npm run build failed (${r.status ?? r.signal})\n`);
    process.exitCode = 1;
  }
}
