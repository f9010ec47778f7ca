/**
 * The shipped systemd unit and the CLI's exit codes agree: a FaultlineError
 * at start (bad configuration, corrupt model) exits 2, and the unit does not
 * restart on 2, since a restart cannot fix the file and would only fill the
 * journal; any other end (a crash, SIGKILL) is restarted.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `Key=value` lines of the [Service] section (a key may repeat). */
async function serviceSection(): Promise<Map<string, string[]>> {
  const text = await readFile(
    path.join(repoRoot, 'docs', 'deploy', 'faultline-gateway.service'),
    'utf8',
  );
  const out = new Map<string, string[]>();
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1];
      continue;
    }
    const eq = line.indexOf('=');
    if (section !== 'Service' || eq < 0) continue;
    const k = line.slice(0, eq);
    out.set(k, [...(out.get(k) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

test('the systemd unit restarts the gateway, except after exit 2, the code of a bad config', async () => {
  const unit = await serviceSection();
  assert.deepEqual(unit.get('Restart'), ['always']);
  assert.deepEqual(unit.get('RestartPreventExitStatus'), ['2']);
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(repoRoot, 'src', 'cli', 'main.ts'),
      'gateway',
      '--config',
      path.join(repoRoot, 'no-such-dir', 'gateway.yaml'),
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 2, `exit code 2 expected:\n${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /faultline: FL_ERR_CONFIG: /);
});
