/**
 * Shelves on a real file system (kept across a reopen, run out while the
 * gateway was down, run out while it runs, a torn file) and the alarm-rate
 * figures over a known set of alerts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Alert } from '../../src/contract/alert.js';
import { AlarmRates } from '../../src/daemon/alarm-rates.js';
import { type ShelfChange, Shelving } from '../../src/daemon/shelving.js';
import { alertFor } from '../alerts/example.js';
import { waitFor } from '../support/links.js';

describe('Shelving', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fl-shelving-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a shelf survives a reopen; one that ran out while closed ends at open', async () => {
    const file = path.join(dir, 'a.json');
    let now = Date.UTC(2026, 0, 1);
    const s = await Shelving.open({ file, now: () => now });
    const changes: ShelfChange[] = [];
    s.on('change', (c) => changes.push(c));
    await s.shelve('pump1', { by: 'ana', reason: 'bearing swap', untilMs: now + 3_600_000 });
    await s.shelve('pump2', { by: 'ben', reason: 'alignment', untilMs: now + 7_200_000 });
    assert.equal(s.get('pump1')?.by, 'ana');
    assert.deepEqual(
      changes.map((c) => [c.machine, c.kind, c.by]),
      [
        ['pump1', 'shelve', 'ana'],
        ['pump2', 'shelve', 'ben'],
      ],
    );
    await s.close();
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as { machines: object };
    assert.deepEqual(Object.keys(onDisk.machines).sort(), ['pump1', 'pump2']);

    now += 5_400_000; // 1.5 h later: pump1's shelf ran out while closed
    const again = await Shelving.open({ file, now: () => now });
    assert.equal(again.get('pump1'), undefined);
    assert.equal(again.get('pump2')?.reason, 'alignment');
    assert.deepEqual(
      again.expiredAtOpen.map((c) => [c.machine, c.kind, c.by]),
      [['pump1', 'unshelve', 'expiry']],
    );
    assert.equal(await again.unshelve('pump2', 'carl'), true);
    assert.equal(await again.unshelve('pump2', 'carl'), false, 'nothing to unshelve');
    await again.close();
    const third = await Shelving.open({ file, now: () => now });
    assert.deepEqual(third.all(), []);
    await third.close();
  });

  test('a shelf runs out by itself while open', async () => {
    const s = await Shelving.open({ file: path.join(dir, 'b.json') });
    const changes: ShelfChange[] = [];
    s.on('change', (c) => changes.push(c));
    await s.shelve('fan', { by: 'ana', reason: 'test', untilMs: Date.now() + 300 });
    assert.ok(s.get('fan'));
    await waitFor(() => changes.some((c) => c.kind === 'unshelve'), 'expiry', 10_000);
    assert.equal(s.get('fan'), undefined);
    assert.equal(changes.at(-1)?.by, 'expiry');
    await s.close();
    const reread = await Shelving.open({ file: path.join(dir, 'b.json') });
    assert.deepEqual(reread.all(), [], 'the expiry is on disk');
    await reread.close();
  });

  test('a torn file falls back to its backup', async () => {
    const file = path.join(dir, 'c.json');
    const s = await Shelving.open({ file });
    await s.shelve('m1', { by: 'a', reason: 'r', untilMs: Date.now() + 60_000 });
    await s.shelve('m2', { by: 'b', reason: 'r', untilMs: Date.now() + 60_000 });
    await s.close();
    await writeFile(file, '{"version":1,"machi');
    const again = await Shelving.open({ file });
    assert.ok(again.problem, 'the problem is reported');
    assert.equal(again.get('m1')?.by, 'a', 'the backup holds the first shelf');
    await again.close();
    // both torn: no shelf (machines alert again), said in `problem`, and the next change rewrites it
    await writeFile(file, '{');
    await writeFile(`${file}.bak`, '{');
    const blank = await Shelving.open({ file });
    assert.match(blank.problem ?? '', /every machine starts unshelved/);
    assert.deepEqual(blank.all(), []);
    await blank.shelve('m3', { by: 'c', reason: 'r', untilMs: Date.now() + 60_000 });
    await blank.close();
    const healed = await Shelving.open({ file });
    assert.equal(healed.problem, undefined);
    assert.equal(healed.get('m3')?.by, 'c');
    await healed.close();
  });
});

describe('AlarmRates', () => {
  const t0 = Date.UTC(2026, 0, 10);
  const at = (machine: string, hoursAgo: number, state: Alert['state']): Alert => {
    const a = alertFor(machine, 0, state);
    return {
      ...a,
      id: crypto.randomUUID(),
      time: new Date(t0 - hoursAgo * 3_600_000).toISOString(),
    };
  };

  test('last 24 h, 7-day mean per day and standing, per machine and site', () => {
    const r = new AlarmRates();
    const latestA = at('a', 1, 'alarm');
    r.load(
      [
        at('a', 30, 'warning'), // 7 d, not 24 h
        at('a', 2, 'watch'), // not an alarm
        latestA,
        at('b', 5, 'warning'),
        at('b', 3, 'ok'), // not an alarm
        at('b', 200, 'alarm'), // older than 7 days
      ],
      t0,
    );
    const machines = [
      { id: 'a', state: 'alarm', shelved: false },
      { id: 'b', state: 'ok', shelved: false },
      { id: 'c', state: 'alarm', shelved: false },
    ];
    const f = r.figures(machines, t0);
    assert.deepEqual(f.machines.a, { last24h: 1, perDay7d: 0.29, standing: 1 });
    assert.deepEqual(f.machines.b, { last24h: 1, perDay7d: 0.14, standing: 0 }, 'b left warning');
    assert.deepEqual(f.machines.c, { last24h: 0, perDay7d: 0, standing: 0 });
    assert.deepEqual(f.site, { last24h: 2, perDay7d: 0.43, standing: 1 });

    r.ack(latestA.id);
    assert.equal(r.figures(machines, t0).machines.a.standing, 0, 'acknowledged');
    const b2 = at('b', 0, 'alarm');
    r.add(b2, t0);
    const shelvedB = [machines[0], { id: 'b', state: 'alarm', shelved: true }, machines[2]];
    assert.equal(r.figures(shelvedB, t0).machines.b.standing, 0, 'shelved: not standing');
    const live = [machines[0], { id: 'b', state: 'alarm', shelved: false }, machines[2]];
    assert.equal(r.figures(live, t0).machines.b.standing, 1);
    // a week on, everything has aged out
    assert.deepEqual(r.figures(live, t0 + 8 * 86_400_000).site, {
      last24h: 0,
      perDay7d: 0,
      standing: 0,
    });
  });
});
