/**
 * The gateway's logger (src/daemon/log.ts): JSON lines with levels, level
 * filtering, and under systemd the syslog priority prefix journald reads.
 * The journald cases run real child processes whose stdout is a file named
 * by JOURNAL_STREAM (as systemd names the journal's socket), once through a
 * small script and once as `faultline gateway --log-level debug`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type CreateLoggerOptions, createLogger, syslogPriority } from '../../src/daemon/log.js';
import { repoRoot } from '../support/gateway-fixture.js';

let dir: string;
const children = new Set<ChildProcess>();

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-log-'));
});

after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/** A logger writing into an array, one entry per line. */
function captured(o: CreateLoggerOptions) {
  const lines: string[] = [];
  const log = createLogger({ ...o, destination: { write: (s: string) => lines.push(s) } });
  return { log, lines };
}

interface Record {
  level: number;
  msg: string;
  time: string;
  [k: string]: unknown;
}

test('one JSON object per line, with its level number, ISO time and message', () => {
  const { log, lines } = captured({ level: 'debug' });
  log.debug('d');
  log.info({ machine: 'pump-1' }, 'with a field');
  log.warn('multi\nline message');
  log.error('e');
  assert.equal(lines.length, 4);
  for (const l of lines) assert.ok(l.endsWith('\n') && !l.slice(0, -1).includes('\n'), l);
  const recs = lines.map((l) => JSON.parse(l) as Record);
  assert.deepEqual(
    recs.map((r) => r.level),
    [20, 30, 40, 50],
  );
  assert.deepEqual(
    recs.map((r) => r.msg),
    ['d', 'with a field', 'multi\nline message', 'e'],
  );
  assert.equal(recs[1].machine, 'pump-1');
  for (const r of recs) assert.ok(Number.isFinite(Date.parse(r.time)), r.time);
});

test('the level filters: below it nothing is written; silent writes nothing', () => {
  const warn = captured({ level: 'warn' });
  warn.log.debug('d');
  warn.log.info('i');
  warn.log.warn('w');
  warn.log.error('e');
  assert.deepEqual(
    warn.lines.map((l) => (JSON.parse(l) as Record).msg),
    ['w', 'e'],
  );
  const info = captured({});
  info.log.debug('d');
  info.log.info('i');
  assert.deepEqual(
    info.lines.map((l) => (JSON.parse(l) as Record).msg),
    ['i'],
    'default level info',
  );
  const silent = captured({ level: 'silent' });
  silent.log.error('e');
  assert.deepEqual(silent.lines, []);
  // a child (fastify's) follows its parent's level at creation
  const child = warn.log.child({ component: 'api' });
  child.info('hidden');
  child.warn('shown');
  assert.equal((JSON.parse(warn.lines.at(-1) ?? '') as Record).component, 'api');
  assert.equal(warn.lines.length, 3);
});

test('pino levels map to syslog priorities: error 3, warn 4, info 6, debug and trace 7', () => {
  assert.deepEqual([60, 50, 40, 30, 20, 10, 45, 35].map(syslogPriority), [2, 3, 4, 6, 7, 7, 4, 6]);
});

/** Runs `args` with stdout into a file; JOURNAL_STREAM as `journal` says. Resolves with stdout. */
async function runWithStdoutFile(
  name: string,
  args: string[],
  journal: 'this-file' | 'other' | 'unset',
): Promise<string> {
  const file = path.join(dir, `${name}.out`);
  const fd = openSync(file, 'w');
  const st = fstatSync(fd, { bigint: true });
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  delete env.JOURNAL_STREAM;
  if (journal === 'this-file') env.JOURNAL_STREAM = `${st.dev}:${st.ino}`;
  // inherited from a service but no longer the journal (a redirect): no prefix
  if (journal === 'other') env.JOURNAL_STREAM = `${st.dev}:${st.ino + 1n}`;
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env,
    stdio: ['ignore', fd, 'pipe'],
  });
  closeSync(fd);
  children.add(child);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  children.delete(child);
  assert.equal(code, 0, err);
  return readFile(file, 'utf8');
}

const SCRIPT = `
const { createLogger } = await import(${JSON.stringify(pathToFileURL(path.join(repoRoot, 'src/daemon/log.ts')).href)});
const log = createLogger({ level: 'debug' });
log.debug('d'); log.info('i'); log.warn('w'); log.error('e');
`;
const scriptArgs = ['--import', 'tsx', '--input-type=module', '-e', SCRIPT];

test('under journald (JOURNAL_STREAM is stdout) each line starts with its priority', async () => {
  const out = await runWithStdoutFile('journal', scriptArgs, 'this-file');
  const lines = out.trimEnd().split('\n');
  assert.equal(lines.length, 4, out);
  assert.deepEqual(
    lines.map((l) => l.slice(0, 3)),
    ['<7>', '<6>', '<4>', '<3>'],
  );
  for (const l of lines) {
    const r = JSON.parse(l.slice(3)) as Record;
    assert.equal(`<${syslogPriority(r.level)}>`, l.slice(0, 3), l);
  }
});

test('no prefix when JOURNAL_STREAM is unset or names another stream', async () => {
  for (const journal of ['unset', 'other'] as const) {
    const out = await runWithStdoutFile(`plain-${journal}`, scriptArgs, journal);
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, 4, out);
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as Record).msg),
      ['d', 'i', 'w', 'e'],
      journal,
    );
  }
});

test('faultline gateway --log-level debug under journald: every line prefixed, fastify included, no token in the log', {
  timeout: 300_000,
}, async () => {
  const file = path.join(dir, 'gateway.out');
  const fd = openSync(file, 'w');
  const st = fstatSync(fd, { bigint: true });
  const stateDir = path.join(dir, 'state');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(repoRoot, 'src/cli/main.ts'),
      'gateway',
      '--state-dir',
      stateDir,
      '--port',
      '0',
      '--broker-port',
      '0',
      '--no-fleet',
      '--log-level',
      'debug',
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, NODE_OPTIONS: '', JOURNAL_STREAM: `${st.dev}:${st.ino}` },
      stdio: ['ignore', fd, 'pipe'],
    },
  );
  closeSync(fd);
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let exited = false;
  const exit = once(child, 'exit').then(([code, signal]) => {
    exited = true;
    children.delete(child);
    return { code, signal };
  });
  const records = async () =>
    (await readFile(file, 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => ({ prefix: l.slice(0, 3), r: JSON.parse(l.slice(3)) as Record }));

  // started: the banner record names the API
  const deadline = Date.now() + 240_000;
  let api: string | undefined;
  while (api === undefined) {
    api = (await records()).find((x) => typeof x.r.api === 'string')?.r.api as string | undefined;
    if (api !== undefined) break;
    assert.ok(!exited, `the gateway exited at start:\n${stderr}`);
    assert.ok(Date.now() < deadline, `no start record in 240 s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const base = new URL(api).origin;
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  // a wrong token in the query: refused, and the query never logged
  assert.equal((await fetch(`${base}/api/stream?token=not-the-token-123`)).status, 401);
  // the request lines are written when the response finished: wait for both
  const requests = async () =>
    (await records()).filter((x) => x.r.msg === 'request completed' && x.r.component === 'api');
  while ((await requests()).length < 2) {
    assert.ok(Date.now() < deadline, 'no request lines');
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGTERM');
  const { code } = await exit;
  assert.equal(code, 0, stderr);

  const all = await records();
  for (const { prefix, r } of all) assert.equal(prefix, `<${syslogPriority(r.level)}>`, r.msg);
  const start = all.find((x) => typeof x.r.api === 'string');
  assert.equal(start?.prefix, '<6>');
  assert.match(start?.r.msg ?? '', /^faultline gateway \S+ \(site \S+\) running$/);
  assert.match(
    String(start?.r.authorization),
    /^Bearer \$\(cat .*token\)$/,
    'not a terminal: the token file, never the token',
  );
  assert.ok(
    all.some((x) => x.r.component === 'api' && /listening/.test(x.r.msg)),
    'fastify logs through it',
  );
  const req = await requests();
  assert.ok(
    req.every((x) => x.prefix === '<7>'),
    'request lines at debug',
  );
  assert.deepEqual(req.map((x) => (x.r.req as { url: string }).url).sort(), [
    '/api/stream',
    '/healthz',
  ]);
  const text = await readFile(file, 'utf8');
  assert.ok(!text.includes('not-the-token-123'), 'a query token never reaches the log');
  const token = (await readFile(path.join(stateDir, 'token'), 'utf8')).trim();
  assert.ok(!text.includes(token), 'nor the gateway token');
  assert.ok(all.some((x) => x.r.msg === 'faultline gateway: stopping…' && x.prefix === '<6>'));
});
