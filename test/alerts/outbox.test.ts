/**
 * The alert outbox: journal semantics on a real file system, and an alert
 * raised while the broker is down surviving a SIGKILL of the process that
 * raised it, then reaching a real mosquitto from the next process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { AlertOutbox } from '../../src/alerts/outbox.js';
import { AlertPublisher, gatewayConnectOptions } from '../../src/alerts/publisher.js';
import type { Alert } from '../../src/contract/alert.js';
import { alertTopic } from '../../src/contract/topics.js';
import { FaultlineError } from '../../src/errors.js';
import { waitFor } from '../support/links.js';
import { haveMosquitto, type Mosquitto, startMosquitto } from '../support/mosquitto.js';
import { freePort } from '../support/ports.js';
import { alertFor } from './example.js';

const SITE = 'plant1';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('AlertOutbox journal', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fl-outbox-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('pending alerts survive a reopen, in order; done ones do not', async () => {
    const file = path.join(dir, 'a', 'outbox.jsonl');
    const box = await AlertOutbox.open({ file });
    const [a, b, c] = [alertFor('m1', 1), alertFor('m1', 2, 'alarm'), alertFor('m2', 3)];
    await box.add(a);
    await box.add(b);
    await box.add(c);
    await box.done(a.id);
    await box.close();
    const again = await AlertOutbox.open({ file });
    assert.deepEqual(
      again.pending().map((x) => x.id),
      [b.id, c.id],
    );
    await again.close();
  });

  test('a torn last line (crash mid-write) is skipped and counted, the rest kept', async () => {
    const file = path.join(dir, 'torn.jsonl');
    const box = await AlertOutbox.open({ file });
    const a = alertFor('m1', 10);
    await box.add(a);
    await box.close();
    await appendFile(file, '{"add":{"id":"half');
    const again = await AlertOutbox.open({ file });
    assert.deepEqual(
      again.pending().map((x) => x.id),
      [a.id],
    );
    assert.equal(again.stats().corrupt, 1);
    // the torn line is gone from the file after open
    assert.ok(!(await readFile(file, 'utf8')).includes('half'));
    await again.close();
  });

  test('the journal is emptied when nothing is pending and compacted when long', async () => {
    const file = path.join(dir, 'compact.jsonl');
    const box = await AlertOutbox.open({ file, compactBytes: 4096 });
    const keep = alertFor('keep', 0, 'alarm');
    await box.add(keep);
    for (let i = 1; i <= 60; i++) {
      const x = alertFor('m', i);
      await box.add(x);
      await box.done(x.id);
    }
    const size = (await stat(file)).size;
    assert.ok(size <= 4096, `journal ${size} B, bound 4096 B`);
    assert.deepEqual(
      box.pending().map((x) => x.id),
      [keep.id],
    );
    await box.done(keep.id);
    assert.equal((await stat(file)).size, 0);
    await box.close();
  });

  test('an unusable path is FL_ERR_ALERT_OUTBOX naming the file', async () => {
    const blocker = path.join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    await assert.rejects(
      AlertOutbox.open({ file: path.join(blocker, 'outbox.jsonl') }),
      (e: unknown) =>
        e instanceof FaultlineError &&
        e.code === 'FL_ERR_ALERT_OUTBOX' &&
        e.message.includes('not-a-dir'),
    );
  });

  test('the publisher drops by its bound and journals the drop', async () => {
    const file = path.join(dir, 'bound.jsonl');
    const box = await AlertOutbox.open({ file });
    // a client that never connects: everything stays queued
    const client = mqtt.connect(`mqtt://127.0.0.1:${await freePort()}`, {
      reconnectPeriod: 0,
      connectTimeout: 1000,
    });
    client.on('error', () => undefined);
    const pub = new AlertPublisher({
      client,
      site: SITE,
      gatewayId: 'gw',
      maxQueue: 2,
      outbox: box,
      log: () => undefined,
    });
    const [a, b, c] = [alertFor('m', 1), alertFor('m', 2, 'alarm'), alertFor('m', 3)];
    pub.publishAlert(a);
    pub.publishAlert(b);
    pub.publishAlert(c); // full: the oldest non-alarm (a) goes
    await box.flushed();
    assert.deepEqual(
      box.pending().map((x) => x.id),
      [b.id, c.id],
    );
    client.end(true);
    await box.close();
  });
});

const skip = !(await haveMosquitto())
  ? process.env.CI === 'true'
    ? false // in CI a missing broker must fail, not skip
    : 'mosquitto not installed (apt-get install mosquitto)'
  : false;

/**
 * The child: a publisher whose broker is down, one alert raised, the journal
 * fsynced, then it prints "journalled" and waits to be killed.
 */
const CHILD = `
import { AlertOutbox } from './src/alerts/outbox.ts';
import { AlertPublisher } from './src/alerts/publisher.ts';
import mqtt from 'mqtt';
const [file, url, json] = process.argv.slice(-3);
const box = await AlertOutbox.open({ file });
const client = mqtt.connect(url, { reconnectPeriod: 100, connectTimeout: 1000 });
client.on('error', () => undefined);
const pub = new AlertPublisher({ client, site: 'plant1', gatewayId: 'gw-crash', outbox: box, log: () => undefined });
pub.start();
pub.publishAlert(JSON.parse(json));
await box.flushed();
process.stdout.write('journalled\\n');
setInterval(() => {}, 1000);
`;

describe('an alert raised during a broker outage survives SIGKILL', {
  skip,
  timeout: 600_000,
}, () => {
  let broker: Mosquitto | undefined;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fl-outbox-kill-'));
  });
  after(async () => {
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('journalled, killed, then published by the next process after the broker is back', async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const file = path.join(dir, 'alert-outbox.jsonl');
    const alert = alertFor('pump9', 42, 'alarm');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', CHILD, file, url, JSON.stringify(alert)],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitFor(
      () => out.includes('journalled') || child.exitCode !== null,
      'the child to journal',
    );
    assert.ok(out.includes('journalled'), `child exited early (${child.exitCode})`);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    broker = await startMosquitto({ port });
    const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    const got: Alert[] = [];
    sub.on('message', (_t, p) => got.push(JSON.parse(p.toString()) as Alert));
    await sub.subscribeAsync(alertTopic(SITE, 'pump9'), { qos: 1 });

    const box = await AlertOutbox.open({ file });
    assert.deepEqual(
      box.pending().map((x) => x.id),
      [alert.id],
    );
    const client = await mqtt.connectAsync(
      broker.url,
      gatewayConnectOptions({ site: SITE, gatewayId: 'gw-next', base: { reconnectPeriod: 200 } }),
    );
    const pub = new AlertPublisher({
      client,
      site: SITE,
      gatewayId: 'gw-next',
      outbox: box,
      log: () => undefined,
    });
    pub.start();
    await waitFor(() => got.some((a) => a.id === alert.id), 'the alert at the subscriber');
    await pub.flushed();
    await waitFor(() => box.stats().pending === 0, 'the outbox to mark it done');
    await pub.close();
    await box.close();
    assert.deepEqual((await AlertOutbox.open({ file })).pending(), []);
    await sub.endAsync(true);
  });
});
