#!/usr/bin/env node
/**
 * `npm test`'s firmware step: `make -s -C firmware-bridge test` (the C
 * firmware core's unit tests and the shared wire vectors), skipped with a
 * message where `make` or the C compiler (`$CC`, default `cc`) is missing,
 * as the tests needing mosquitto or influxd skip where those are missing.
 * Under CI (CI=true) a missing tool fails instead: CI installs gcc and make
 * (.ci/run), and a skip there would hide that the firmware went untested.
 *
 * Plain JavaScript: it runs before anything else is known to work.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** True when `command` (a name looked up on PATH, or a path) is executable. */
function found(command) {
  const candidates = command.includes('/')
    ? [command]
    : (process.env.PATH ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, command));
  return candidates.some((p) => {
    try {
      accessSync(p, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

// `CC` may carry a wrapper and flags (`ccache gcc`): the first word runs
const cc = (process.env.CC ?? 'cc').trim().split(/\s+/)[0] || 'cc';
const missing = ['make', cc].filter((c) => !found(c));
if (missing.length > 0) {
  const msg = `firmware-bridge tests: ${missing.join(' and ')} not found on PATH`;
  if (process.env.CI === 'true') {
    process.stderr.write(`${msg}; CI needs them (.ci/run installs gcc and make)\n`);
    process.exitCode = 1;
  } else {
    process.stderr.write(`${msg}: skipped (install a C compiler and make to run them)\n`);
  }
} else {
  const r = spawnSync('make', ['-s', '-C', path.join(root, 'firmware-bridge'), 'test'], {
    stdio: 'inherit',
  });
  process.exitCode = r.status ?? 1;
}
