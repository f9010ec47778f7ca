/**
 * `faultline gateway` owns its signals from the first line: a SIGHUP sent
 * while it starts (a service manager reloading early) neither kills it nor
 * is lost, and a SIGTERM then stops it cleanly with exit code 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { GatewayHealth } from '../../src/daemon/gateway.js';
import {
  bannerToken,
  repoRoot,
  simModelDir,
  startRecord,
  until,
  writeConfig,
} from '../support/gateway-fixture.js';

let dir: string | undefined;
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('SIGHUP during start: the gateway survives it, reloads once started, and SIGTERM exits 0', {
  timeout: 600_000,
}, async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-gw-signals-'));
  const file = await writeConfig(dir, {
    site: 'sig',
    gatewayId: 'gw-sig',
    stateDir: path.join(dir, 'state'),
    model: await simModelDir(),
    machines: [{ id: 's-1', sensors: [{ id: 1, sampleRate: 12_000 }] }],
    broker: { port: 0 },
    http: { port: 0 },
    pipeline: { workers: 1 },
  });
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts'), 'gateway', '--config', file],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  try {
    await until(
      'the start line',
      () => out.includes('faultline gateway: starting') || child.exitCode !== null,
      120_000,
      20,
    );
    // Start takes seconds from here (tfjs, broker, model), so the signal lands
    // inside it; were it to land after, the test still holds (reload, exit 0).
    child.kill('SIGHUP');
    await until(
      'the banner',
      () => startRecord(out) !== undefined || child.exitCode !== null,
      120_000,
    );
    assert.equal(child.exitCode, null, `the gateway died of the early SIGHUP:\n${out}`);
    const banner = startRecord(out)!;
    const token = await bannerToken(banner.authorization.replace(/^Bearer /, ''), file);
    const reload = async () => {
      const r = await fetch(banner.api.replace(/\/machines$/, '/gateway'), {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(30_000),
      });
      return ((await r.json()) as GatewayHealth).reload;
    };
    // the early SIGHUP is applied once started, not dropped
    await until('the reload', async () => (await reload()).ok === true, 60_000);
    child.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0, out);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
