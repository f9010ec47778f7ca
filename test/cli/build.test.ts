/**
 * `npm start` runs the gateway built to plain JavaScript (`npm run build` →
 * dist/, scripts/build.ts). This builds dist/ and runs the built gateway on
 * its embedded defaults, as `npm start` does: it must start, serve the API
 * and diagnose the simulated fleet, with its workers running built modules
 * (no TypeScript, no tsx).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { buildDist, DIST, privateDist } from '../../scripts/build.js';
import { freePort } from '../support/ports.js';

let child: ChildProcess | undefined;
let stateDir: string | undefined;

// Built where `npm run build` builds, but into a folder of this run's own: a
// benchmark (or another test run) beside this one may be running dist/.
const OUT = privateDist(`test-${process.pid}`);

after(async () => {
  child?.kill('SIGTERM');
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
  await rm(OUT, { recursive: true, force: true });
});

test('dist/ holds every module and the built gateway diagnoses the simulated fleet', async () => {
  assert.equal(
    path.dirname(OUT),
    path.dirname(DIST),
    'a sibling of dist/: the same way up to the repository',
  );
  const n = await buildDist(OUT);
  assert.ok(n > 50, `${n} modules`);
  for (const f of [
    'cli/main.js',
    'diagnose/inference-worker.js',
    'daemon/adapt-worker.js',
    'alerts/alert.schema.json',
  ]) {
    assert.ok(existsSync(path.join(OUT, f)), `dist/${f}`);
  }
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'fl-dist-'));
  const [port, brokerPort] = [await freePort(), await freePort()];
  const c = spawn(
    process.execPath,
    [
      path.join(OUT, 'cli', 'main.js'),
      'gateway',
      '--state-dir',
      stateDir,
      '--port',
      String(port),
      '--broker-port',
      String(brokerPort),
    ],
    // No --import tsx anywhere: NODE_OPTIONS from the test runner must not leak in.
    { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = c;
  let out = '';
  c.stdout?.on('data', (d) => {
    out += d;
  });
  c.stderr?.on('data', (d) => {
    out += d;
  });
  // stdout is a pipe, not a terminal: the banner names the token file, never the token
  const tokenFile = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no dashboard line in 60 s:\n${out}`)), 60_000);
    const check = () => {
      const m = /"dashboard":"\S+\s+\(token in ([^)]+)\)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    c.stdout?.on('data', check);
    c.on('exit', (code) => reject(new Error(`the built gateway exited (${code}):\n${out}`)));
  });
  const token = (await readFile(tokenFile, 'utf8')).trim();
  assert.ok(!out.includes(token), 'the token never appears on a non-terminal stdout');
  // Every machine diagnosed, and the faulty ones named as their simulator says.
  const deadline = Date.now() + 90_000;
  let machines: {
    id: string;
    faultClass?: string;
    simulated?: { fault: string };
  }[] = [];
  for (;;) {
    const r = await fetch(`http://127.0.0.1:${port}/api/machines`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 200);
    machines = (await r.json()) as typeof machines;
    const done = machines.every(
      (m) =>
        m.faultClass !== undefined &&
        (m.simulated?.fault === 'none'
          ? m.faultClass === 'normal'
          : m.faultClass?.startsWith(m.simulated?.fault ?? '?')),
    );
    if (done) break;
    if (Date.now() > deadline) {
      assert.fail(`not all machines diagnosed as simulated: ${JSON.stringify(machines)}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.equal(machines.length, 6);
  assert.doesNotMatch(out, /tsx|\.ts:\d+/, 'nothing ran through TypeScript sources');
});
