/**
 * The embedded broker out of file descriptors.
 *
 * - For real: a broker in a child process under a low open-file limit
 *   (`ulimit -n 64`) is flooded with TCP connections until it runs out of
 *   descriptors (the broker closes a connection at once instead of waiting
 *   30 s for its CONNECT). Expected: the process alive, and MQTT served
 *   again once the flood is gone.
 * - The server's 'error' listener: Node emits accept failures there when
 *   libuv cannot absorb them (its reserve descriptor gone too), which is
 *   hard to provoke from outside; without a listener it would end the
 *   gateway. The reporter logs what to do, rate-limited, and never throws.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { serverErrorReporter } from '../../src/daemon/broker.js';
import { waitFor } from '../support/links.js';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'broker-child.ts');

test('an embedded broker out of file descriptors stays up and serves MQTT again', {
  timeout: 180_000,
}, async () => {
  const proc = spawn(
    'sh',
    ['-c', `ulimit -n 64 && exec "${process.execPath}" --import tsx "${child}"`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = once(proc, 'exit');
  const flood: net.Socket[] = [];
  try {
    await waitFor(() => /^port \d+$/m.test(out) || proc.exitCode !== null, 'the broker to listen');
    const port = Number(/^port (\d+)$/m.exec(out)?.[1]);
    assert.ok(port > 0, `the broker did not start: ${out} ${err}`);

    // A connection that never sends CONNECT holds a descriptor for 30 s (aedes'
    // connect timeout). One the broker closes sooner was refused for want of one.
    // (this process closes none of them until the loop ends)
    let cutByBroker = 0;
    while (cutByBroker === 0) {
      assert.ok(flood.length < 5000, `no descriptor shortage after ${flood.length} connections`);
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      s.on('close', () => cutByBroker++);
      s.resume();
      flood.push(s);
      await once(s, 'connect').catch(() => {});
    }
    assert.ok(flood.length > 20, `cut after only ${flood.length} connections`);
    assert.equal(proc.exitCode, null, `the broker process ended: ${err}`);

    // the flood gone, MQTT works again (retried: the broker frees its descriptors as it sees the closes)
    for (const s of flood) s.destroy();
    let round = '';
    const deadline = Date.now() + 60_000;
    while (round !== 'ok') {
      assert.ok(Date.now() < deadline, `MQTT not served again: ${round}`);
      const c = await mqtt
        .connectAsync(`mqtt://127.0.0.1:${port}`, {
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 5000,
        })
        .catch((e: Error) => e);
      if (c instanceof Error) {
        round = c.message;
        continue;
      }
      await c.subscribeAsync('t/x');
      const got = new Promise<string>((resolve) =>
        c.once('message', (t, p) => resolve(`${t} ${p}`)),
      );
      await c.publishAsync('t/x', 'hi');
      assert.equal(await got, 't/x hi');
      await c.endAsync();
      round = 'ok';
    }
    assert.equal(proc.exitCode, null, `the broker process ended: ${err}`);
    console.log(`broker: ${flood.length} connections until one was cut for want of a descriptor`);
  } finally {
    for (const s of flood) s.destroy();
    proc.kill('SIGKILL');
    await exited;
  }
});

test("the broker server's error reporter: what to do for EMFILE, one line per 10 s with the count, never a throw", () => {
  const lines: string[] = [];
  let t = 0;
  const report = serverErrorReporter(
    (m) => lines.push(m),
    () => t,
  );
  const emfile = Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' });
  report(emfile);
  for (let i = 0; i < 500; i++) report(emfile);
  t = 10_000;
  report(emfile);
  report(Object.assign(new Error('accept ENOBUFS'), { code: 'ENOBUFS' }));
  t = 20_000;
  report(Object.assign(new Error('accept ENOBUFS'), { code: 'ENOBUFS' }));
  assert.equal(lines.length, 3, lines.join('\n'));
  assert.match(lines[0], /accept EMFILE: out of file descriptors.*LimitNOFILE.*\(1 since/);
  assert.match(lines[1], /accept EMFILE.*\(501 since/);
  assert.match(lines[2], /^faultline broker: accept ENOBUFS \(2 since/);
  // no log function: still no throw
  serverErrorReporter(undefined)(emfile);
});
