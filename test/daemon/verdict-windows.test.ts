/**
 * The verdict windows on their own (src/daemon/verdicts.ts,
 * verdict-files.ts): which windows a verdict labels (ring, capture, ±span,
 * bounds), the .npy layout, safe file names, counts read back at start, and
 * the SQLite store taking a database from before verdicts.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Alert } from '../../src/contract/alert.js';
import { fileName, npyFloat32, type VerdictSidecar } from '../../src/daemon/verdict-files.js';
import { labelOf, VerdictWindows } from '../../src/daemon/verdicts.js';
import type { WindowKept } from '../../src/diagnose/pipeline-status.js';
import { isFaultlineError } from '../../src/errors.js';
import { SqliteHistoryStore } from '../../src/store/sqlite.js';

let dir: string;
const notes: string[] = [];

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-verdict-windows-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

function open(sub: string, windows = 8, aroundMs = 1000): Promise<VerdictWindows> {
  return VerdictWindows.open({
    dir: path.join(dir, sub),
    windows,
    aroundMs,
    classes: (m) => (m === 'nomodel' ? undefined : ['ball', 'inner', 'normal', 'outer']),
    warn: (m) => notes.push(m),
    info: (m) => notes.push(m),
  });
}

function win(machine: string, arrivedAt: number, value = arrivedAt, length = 4): WindowKept {
  return {
    site: 's',
    machine,
    sensor: '1',
    t: arrivedAt - 5,
    arrivedAt,
    sampleRate: 12000,
    samples: new Float32Array(length).fill(value),
  };
}

function alert(id: string, machine: string, timeMs: number): Alert {
  return {
    id,
    site: 's',
    machine,
    sensor: '1',
    state: 'alarm',
    previousState: 'ok',
    faultClass: 'outer',
    confidence: 0.9,
    isoZone: 'B',
    velocityRmsMmS: 2,
    reason: 'test',
    modelVersion: 'v1',
    time: new Date(timeMs).toISOString(),
  };
}

async function sidecarOf(sub: string, machine: string, id: string): Promise<VerdictSidecar> {
  return JSON.parse(
    await readFile(path.join(dir, sub, fileName(machine), `${fileName(id)}.json`), 'utf8'),
  ) as VerdictSidecar;
}

test('labels: confirmed → its class, false alarm → normal, unknown → none', () => {
  assert.equal(labelOf({ kind: 'confirmed', faultClass: 'inner' }), 'inner');
  assert.equal(labelOf({ kind: 'false-alarm' }), 'normal');
  assert.equal(labelOf({ kind: 'unknown' }), null);
});

test('check: a confirmed class must be one of the model’s; no model, no confirmation', async () => {
  const v = await open('check');
  v.check('m', { kind: 'confirmed', faultClass: 'ball' });
  v.check('nomodel', { kind: 'false-alarm' });
  assert.throws(
    () => v.check('m', { kind: 'confirmed', faultClass: 'Ball' }),
    (e) =>
      isFaultlineError(e, 'FL_ERR_API_REQUEST') && /ball, inner, normal, outer/.test(e.message),
  );
  assert.throws(
    () => v.check('nomodel', { kind: 'confirmed', faultClass: 'ball' }),
    (e) => isFaultlineError(e, 'FL_ERR_API_REQUEST'),
  );
});

test('a late verdict labels the captured windows within ±span of its alert, not the ring’s newer ones', async () => {
  const v = await open('capture', 8, 1000);
  for (let t = 0; t <= 3000; t += 250) v.keep(win('m', t));
  v.onAlert(alert('a1', 'm', 3000)); // ring holds 1250…3000; capture takes 2000…3000
  for (let t = 3250; t <= 6000; t += 250) v.keep(win('m', t)); // capture adds 3250…4000
  v.keep(win('other', 3100)); // another machine's window is not captured
  await v.save(alert('a1', 'm', 3000), {
    by: 'x',
    verdict: { kind: 'confirmed', faultClass: 'ball' },
  });
  const s = await sidecarOf('capture', 'm', 'a1');
  assert.equal(s.label, 'ball');
  assert.deepEqual(
    s.rows.map((r) => Date.parse(r.arrivedAt)),
    [2000, 2250, 2500, 2750, 3000, 3250, 3500, 3750],
    'bounded by the ring size (8)',
  );
  assert.deepEqual({ ...v.counts('m') }, { ball: 8 });
  assert.deepEqual({ ...v.counts('other') }, {});
  // an alert without a capture (e.g. before a restart) labels what the ring has around it, here nothing
  const before = v.stats.empty;
  await v.save(alert('a0', 'm', 100), { by: 'x', verdict: { kind: 'false-alarm' } });
  assert.equal(v.stats.empty, before + 1);
  assert.deepEqual({ ...v.counts('m') }, { ball: 8 });
  // read back at start
  const again = await open('capture');
  assert.deepEqual({ ...again.counts('m') }, { ball: 8 });
});

test('captures are bounded per machine; windows of another length (model swapped) are left out', async () => {
  const v = await open('bounds', 2, 1000);
  for (let i = 0; i < 6; i++) {
    v.keep(win('m', i * 10_000, i));
    v.onAlert(alert(`b${i}`, 'm', i * 10_000));
  }
  // the two oldest captures were pushed out (4 per machine); the ring moved on
  await v.save(alert('b0', 'm', 0), { by: 'x', verdict: { kind: 'false-alarm' } });
  assert.equal(v.stats.written, 0);
  v.keep(win('m', 50_100, 9, 8)); // a longer window: the model changed
  await v.save(alert('b5', 'm', 50_000), { by: 'x', verdict: { kind: 'false-alarm' } });
  const s = await sidecarOf('bounds', 'm', 'b5');
  assert.equal(s.windowLength, 8);
  assert.equal(s.windows, 1);
});

test('the .npy file is NumPy 1.0, little-endian float32, data aligned on 64 bytes', () => {
  const rows = [Float32Array.from([1, -2.5, 3]), Float32Array.from([4, 5, 6e-7])];
  const b = Buffer.from(npyFloat32(rows, 3));
  assert.deepEqual([...b.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const hl = b.readUInt16LE(8);
  assert.equal((10 + hl) % 64, 0);
  const header = b.subarray(10, 10 + hl).toString('latin1');
  assert.match(header, /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
  const data = [0, 1, 2, 3, 4, 5].map((i) => b.readFloatLE(10 + hl + i * 4));
  assert.deepEqual(data, [1, -2.5, 3, 4, 5, Math.fround(6e-7)]);
  assert.equal(npyFloat32([], 9601).length % 64, 0);
});

test('file names: ids that are path tricks or odd characters stay one plain name', () => {
  assert.equal(fileName('pump-1'), 'pump-1');
  assert.equal(fileName('..'), '%2E%2E');
  assert.equal(fileName('.'), '%2E');
  assert.equal(fileName('a\\b:c*'), 'a%5Cb%3Ac%2A');
  assert.ok(!fileName('x/y').includes('/'));
});

test('unreadable sidecars are skipped with a note, not fatal', async () => {
  const sub = path.join(dir, 'bad', 'm');
  await mkdir(sub, { recursive: true });
  await writeFile(path.join(sub, 'x.json'), '{not json');
  await writeFile(path.join(dir, 'bad', 'stray.txt'), 'x');
  const n = notes.length;
  const v = await open('bad');
  assert.deepEqual({ ...v.counts('m') }, {});
  assert.ok(notes.slice(n).some((m) => m.includes('x.json')));
});

test('SQLite: a database from before verdicts takes them; the ack history keeps each verdict', async () => {
  const file = path.join(dir, 'old.db');
  const old = new Database(file);
  old.exec(`
    CREATE TABLE alerts (id TEXT PRIMARY KEY, time_ms INTEGER NOT NULL, site TEXT NOT NULL,
      machine TEXT NOT NULL, json TEXT NOT NULL, ack_by TEXT, ack_time_ms INTEGER, ack_comment TEXT);
    CREATE TABLE alert_acks (alert_id TEXT NOT NULL, time_ms INTEGER NOT NULL, ack_by TEXT NOT NULL,
      ack_comment TEXT);
  `);
  old.close();
  const store = new SqliteHistoryStore({ file });
  try {
    const a = alert('00000000-0000-4000-8000-000000000001', 'm', Date.now());
    await store.writeAlert(a);
    await store.ack(a.id, 'ana', 'seen', { kind: 'confirmed', faultClass: 'inner' });
    await store.ack(a.id, 'ben', undefined, { kind: 'false-alarm' });
    const [got] = await store.queryAlerts({ machine: 'm' });
    assert.deepEqual(got?.acknowledged?.verdict, { kind: 'confirmed', faultClass: 'inner' });
    assert.deepEqual(
      store.ackHistory(a.id).map((k) => k.verdict),
      [{ kind: 'confirmed', faultClass: 'inner' }, { kind: 'false-alarm' }],
    );
  } finally {
    await store.close();
  }
});
