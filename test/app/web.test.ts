/**
 * The console's pure modules (no DOM): urgency order, freshness, formatting
 * with units, bounded trends, the waterfall's data layout and colour scale,
 * sparkline geometry, the guard table, stream normalisation, operator class
 * probabilities, defect markers and ISO zone boundaries — and the build
 * output (no inline script, CSP present).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { build } from '../../app/build.js';
import { normalizeStreamMessage } from '../../app/web/src/api.js';
import { buildLut, lutIndex } from '../../app/web/src/charts/colormap.js';
import { sparkPoints } from '../../app/web/src/charts/sparkline.js';
import {
  levelRange,
  payloadColumns,
  waterfallColumns,
} from '../../app/web/src/charts/waterfall.js';
import { bearingOf, defectMarkers, isoBoundaries } from '../../app/web/src/defects.js';
import { ago, percent, toMs, withUnit } from '../../app/web/src/format.js';
import { guardRows } from '../../app/web/src/guards.js';
import { byUrgency, freshness, STATES_BY_URGENCY, stateLook } from '../../app/web/src/health.js';
import { TimeSeries } from '../../app/web/src/series.js';
import { ConsoleStore, operatorProbabilities } from '../../app/web/src/store.js';
import { evaluateGuards } from '../../src/model/adapt/guards.js';

describe('health presentation', () => {
  test('every state has a word and a glyph besides its colour', () => {
    for (const s of STATES_BY_URGENCY) {
      const l = stateLook(s);
      assert.ok(l.label.length > 1 && l.icon.length >= 1 && l.meaning.length > 5, s);
      assert.equal(l.cls, `st-${s}`);
    }
    assert.equal(
      new Set(STATES_BY_URGENCY.map((s) => stateLook(s).icon)).size,
      STATES_BY_URGENCY.length,
      'glyphs are distinct',
    );
    assert.equal(stateLook('nonsense').label, 'Unknown');
    assert.equal(stateLook(undefined).urgency, -1);
  });

  test('machines sort by urgency, then confidence, then id', () => {
    const ms = [
      { id: 'b', state: 'ok', confidence: 0.9 },
      { id: 'a', state: 'ok', confidence: 0.9 },
      { id: 'w', state: 'watch', confidence: 0.5 },
      { id: 'x', state: 'alarm', confidence: 0.6 },
      { id: 'y', state: 'alarm', confidence: 0.95 },
      { id: 's', state: 'silent' },
      { id: 'e', state: 'stream-errors' },
      { id: 'z', state: 'warning', confidence: 0.99 },
      { id: 'u' },
    ];
    assert.deepEqual(
      [...ms].sort(byUrgency).map((m) => m.id),
      ['y', 'x', 'z', 'e', 's', 'w', 'a', 'b', 'u'],
    );
  });

  test('freshness: live within 5 s, stale to 30 s, old beyond, none without data', () => {
    assert.equal(freshness(1000, 6000), 'live');
    assert.equal(freshness(1000, 6001), 'stale');
    assert.equal(freshness(1000, 31_000), 'stale');
    assert.equal(freshness(1000, 31_001), 'old');
    assert.equal(freshness(undefined, 1), 'none');
    assert.equal(freshness(Number.NaN, 1), 'none');
  });
});

describe('formatting', () => {
  test('values carry units; missing or non-finite values show an em dash', () => {
    assert.equal(withUnit(4.567, 'mm/s', 2), '4.57 mm/s');
    assert.equal(withUnit(undefined, 'g'), '—');
    assert.equal(withUnit(Number.NaN, 'g'), '—');
    assert.equal(withUnit(null, 'g'), '—');
    assert.equal(percent(0.873), '87 %');
    assert.equal(percent(Number.POSITIVE_INFINITY), '—');
  });

  test('ages and times', () => {
    assert.equal(ago(undefined, 0), 'never');
    assert.equal(ago(1000, 1500), 'just now');
    assert.equal(ago(0, 42_000), '42 s ago');
    assert.equal(ago(0, 10 * 60_000), '10 min ago');
    assert.equal(ago(0, 5 * 3600_000), '5 h ago');
    assert.equal(ago(0, 3 * 86400_000), '3 d ago');
    assert.equal(toMs('2025-01-01T00:00:00.000Z'), 1735689600000);
    assert.equal(toMs(5), 5);
    assert.ok(Number.isNaN(toMs('not a time')));
  });
});

describe('trends', () => {
  test('a series keeps the newest `cap` points, refuses going back in time, replaces equal times', () => {
    const s = new TimeSeries(['v'], 3);
    s.push(1, { v: 10 });
    s.push(2, { v: 20 });
    s.push(1.5, { v: 99 }); // older than the last point: dropped
    s.push(2, { v: 21 }); // same time: replaces
    s.push(3, { v: Number.NaN });
    s.push(4, { v: 40 });
    s.push(Number.NaN, { v: 1 });
    assert.deepEqual(s.t, [2, 3, 4]);
    assert.deepEqual(s.cols.v, [21, Number.NaN, 40]);
    assert.deepEqual(s.tail('v', 2), [Number.NaN, 40]);
    assert.deepEqual(s.tail('missing', 2), []);
    assert.throws(() => new TimeSeries(['v'], 0), TypeError);
  });

  test('model class probabilities are summed into operator classes', () => {
    const p = operatorProbabilities({
      IR007: 0.2,
      IR014: 0.3,
      OR007: 0.1,
      B007: 0.05,
      normal: 0.35,
      bad: Number.NaN,
    });
    assert.ok(Math.abs(p['inner race'] - 0.5) < 1e-12);
    assert.ok(Math.abs(p['outer race'] - 0.1) < 1e-12);
    assert.ok(Math.abs(p.ball - 0.05) < 1e-12);
    assert.ok(Math.abs(p.normal - 0.35) < 1e-12);
    assert.deepEqual(operatorProbabilities(undefined), {});
    assert.deepEqual(Object.keys(operatorProbabilities({ inner: 1, outer: 0 })).sort(), [
      'inner race',
      'outer race',
    ]);
  });

  test('the store records live diagnoses, health changes and acknowledgements', () => {
    const st = new ConsoleStore();
    const kinds: string[] = [];
    st.onChange((k, m) => kinds.push(`${k}:${m ?? ''}`));
    st.setMachines([{ id: 'p1', state: 'ok', stateSince: '2025-01-01T00:00:00Z', site: 's' }]);
    st.diagnosis({
      machine: 'p1',
      t: 2000,
      faultClass: 'inner race',
      probs: { inner: 0.8, normal: 0.2 },
      velocityRmsMmS: 3,
    });
    st.diagnosis({ machine: 'p2', t: 2000, faultClass: 'normal', probs: { normal: 1 } });
    st.health({
      machine: 'p1',
      from: 'ok',
      to: 'warning',
      t: 2500,
      faultClass: 'inner race',
      confidence: 0.8,
      reason: 'k of n',
    });
    const p1 = st.machines.get('p1');
    assert.equal(p1?.state, 'warning');
    assert.equal(p1?.since, 2500);
    assert.deepEqual(p1?.trend.t, [2]);
    assert.ok(Math.abs((p1?.trend.cols.faultP[0] ?? 0) - 0.8) < 1e-12);
    assert.equal(p1?.trend.cols['p:inner race'][0], 0.8);
    assert.equal(st.machines.size, 2);
    st.setAlerts([
      {
        id: 'a1',
        machine: 'p1',
        state: 'warning',
        faultClass: 'inner race',
        confidence: 0.8,
        reason: 'r',
        time: '2025-01-01T00:00:01Z',
      },
    ]);
    st.ack({ id: 'a1', by: 'Ana', comment: 'checked' });
    assert.equal(st.alerts[0].acknowledged?.by, 'Ana');
    assert.deepEqual(kinds, [
      'machines:',
      'machine:p1',
      'machines:p2',
      'machines:p1',
      'alerts:',
      'alerts:p1',
    ]);
  });
});

describe('stream messages', () => {
  test('the gateway envelope {type, data} and bare objects are recognised', () => {
    assert.equal(
      normalizeStreamMessage({ type: 'diagnosis', data: { machine: 'm' } }).type,
      'diagnosis',
    );
    assert.equal(normalizeStreamMessage({ type: 'health', data: {} }).type, 'health');
    assert.equal(normalizeStreamMessage({ type: 'ingest', data: {} }).type, 'ingest');
    assert.equal(normalizeStreamMessage({ type: 'adaptation', data: {} }).type, 'adaptation');
    assert.equal(normalizeStreamMessage({ type: 'alert', data: {} }).type, 'alert');
    assert.equal(normalizeStreamMessage({ type: 'ack', data: {} }).type, 'ack');
    assert.equal(normalizeStreamMessage({ type: 'hello', data: {} }).type, 'hello');
    assert.equal(normalizeStreamMessage({ machine: 'm', from: 'ok', to: 'alarm' }).type, 'health');
    assert.equal(
      normalizeStreamMessage({ machine: 'm', faultClass: 'ball', t: 1 }).type,
      'diagnosis',
    );
    for (const junk of [null, 3, 'x', [], { type: 'unknown' }])
      assert.equal(normalizeStreamMessage(junk).type, 'other');
  });
});

describe('waterfall', () => {
  test('columns follow the [freq, time] layout of src/types.ts Spectrogram', () => {
    // data[f * frames + t] = 10 f + t
    const freqBins = 3;
    const frames = 4;
    const data = Array.from(
      { length: freqBins * frames },
      (_, i) => 10 * Math.floor(i / frames) + (i % frames),
    );
    const cols = payloadColumns({ freqBins, frames, data });
    assert.equal(cols.length, frames);
    for (let t = 0; t < frames; t++) assert.deepEqual([...cols[t]], [t, 10 + t, 20 + t]);
    assert.deepEqual(payloadColumns({ freqBins: 3, frames: 4, data: [1, 2] }), []);
    assert.deepEqual(payloadColumns({ freqBins: 0, frames: 4, data: [] }), []);
  });

  test('with newFrames, a window adds one column: the mean of its new frames only', () => {
    const freqBins = 2;
    const frames = 4;
    // data[f * frames + t] = 10 f + t; the last 2 frames (t = 2, 3) are new
    const data = Array.from({ length: 8 }, (_, i) => 10 * Math.floor(i / frames) + (i % frames));
    const cols = waterfallColumns({ freqBins, frames, data, newFrames: 2 });
    assert.equal(cols.length, 1);
    assert.deepEqual([...cols[0]], [2.5, 12.5]);
    // absent or out of range: every frame, as before
    assert.equal(waterfallColumns({ freqBins, frames, data }).length, 4);
    assert.equal(waterfallColumns({ freqBins, frames, data, newFrames: 9 }).length, 4);
    assert.equal(waterfallColumns({ freqBins, frames, data, newFrames: 0 }).length, 4);
    assert.deepEqual(waterfallColumns({ freqBins, frames, data: [1], newFrames: 1 }), []);
  });

  test('the colour scale ignores NaN and a single spike; the LUT is opaque and ordered dark → bright', () => {
    const col = new Float32Array(1000).map((_, i) => i / 10);
    col[3] = Number.NaN;
    col[999] = 1e9;
    const [lo, hi] = levelRange([col]);
    assert.ok(lo > 4 && lo < 6, `lo ${lo}`);
    assert.ok(hi < 1e3, `hi ${hi}`);
    assert.deepEqual(levelRange([]), [0, 1]);
    assert.deepEqual(levelRange([new Float32Array([2, 2])]), [2, 3]);
    assert.equal(lutIndex(Number.NaN, 0, 1), 0);
    assert.equal(lutIndex(-5, 0, 1), 0);
    assert.equal(lutIndex(5, 0, 1), 255);
    assert.equal(lutIndex(0.5, 0, 1), 128);
    assert.equal(lutIndex(0.5, 1, 1), 0);
    const lut = buildLut();
    const lum = (i: number) =>
      0.2126 * lut[i * 4] + 0.7152 * lut[i * 4 + 1] + 0.0722 * lut[i * 4 + 2];
    for (let i = 0; i < 256; i++) assert.equal(lut[i * 4 + 3], 255);
    for (let i = 16; i < 256; i += 16)
      assert.ok(lum(i) >= lum(i - 16) - 1, `luminance rises at ${i}`);
    assert.throws(() => buildLut([[0, 0, 0]]), TypeError);
  });

  test('sparkline points span the box, flip y and break at gaps', () => {
    const segs = sparkPoints([0, 1, Number.NaN, 2, 4], 102, 22, 1);
    assert.equal(segs.length, 2);
    assert.deepEqual(segs[0][0], [1, 21]);
    assert.deepEqual(segs[1][1], [101, 1]);
    assert.deepEqual(sparkPoints([1], 10, 10), []);
    assert.deepEqual(sparkPoints([Number.NaN, 1], 10, 10), []);
    const flat = sparkPoints([3, 3, 3], 10, 10, 0);
    assert.ok(
      flat[0].every(([, y]) => y === 5),
      'a flat line sits in the middle',
    );
  });
});

describe('defects, zones and guards', () => {
  test('defect markers at 1797 rpm match the CWRU 6205 published multipliers', () => {
    const { geometry, assumed } = bearingOf({ id: 'm' });
    assert.equal(assumed, true);
    const fr = 1797 / 60;
    // CWRU bearing data center, 6205-2RS JEM SKF: defect frequencies as multiples of shaft speed.
    const expected: Record<string, number> = {
      BPFI: 5.4152,
      BPFO: 3.5848,
      FTF: 0.39828,
      BSF: 2.357,
    };
    for (const m of defectMarkers(geometry, 1797)) {
      assert.ok(
        Math.abs(m.hz / fr - expected[m.name]) < 0.002 * expected[m.name],
        `${m.name} ${m.hz / fr}`,
      );
    }
    assert.deepEqual(defectMarkers(geometry, undefined), []);
    assert.deepEqual(defectMarkers(geometry, 0), []);
    assert.deepEqual(defectMarkers(geometry, Number.NaN), []);
    const own = bearingOf({ id: 'm', bearing: { balls: 8, ballDiameter: 1, pitchDiameter: 5 } });
    assert.equal(own.assumed, false);
    assert.equal(
      bearingOf({ id: 'm', bearing: { balls: 8, ballDiameter: 5, pitchDiameter: 1 } }).assumed,
      true,
    );
  });

  test('a bearing the gateway reports is used; its default is still flagged as assumed', () => {
    const b = { balls: 8, ballDiameter: 0.5, pitchDiameter: 2.5, contactAngleDeg: 0 };
    assert.deepEqual(bearingOf({ id: 'x', bearing: b, bearingSource: 'config' }), {
      geometry: b,
      assumed: false,
    });
    assert.equal(bearingOf({ id: 'x', bearing: b, bearingSource: 'default' }).assumed, true);
    assert.equal(bearingOf({ id: 'x' }).assumed, true);
  });

  test('ISO 20816-3 boundaries per group and foundation, group 2 rigid when unknown', () => {
    assert.deepEqual(isoBoundaries({ id: 'm' }).values, [1.4, 2.8, 4.5]);
    assert.match(isoBoundaries({ id: 'm' }).label, /assumed/);
    assert.deepEqual(
      isoBoundaries({ id: 'm', iso: { group: 1, foundation: 'flexible' } }).values,
      [3.5, 7.1, 11.0],
    );
    assert.deepEqual(isoBoundaries({ id: 'm', iso: { boundaries: [1, 2, 3] } }).values, [1, 2, 3]);
    assert.deepEqual(
      isoBoundaries({ id: 'm', iso: { boundaries: [1, Number.NaN, 3] } }).values,
      [1.4, 2.8, 4.5],
    );
  });

  test('guard rows read the numbers out of the gateway guard details', () => {
    const stats = (im: number, me: number) => ({ meanEntropy: 0.2, marginalEntropy: me, im });
    const guards = evaluateGuards({
      sourceAccuracyBefore: 0.98,
      sourceAccuracyAfter: 0.9,
      targetBefore: stats(0.4, 0.9),
      targetAfter: stats(0.5, 0.3),
    });
    const rows = guardRows(guards);
    assert.equal(rows.length, 3);
    const [src, im, collapse] = rows;
    assert.deepEqual([src.before, src.after, src.passed], ['98.00 %', '90.00 %', false]);
    assert.match(src.limit ?? '', /2\.00 %/);
    assert.match(src.title, /Source accuracy/);
    assert.deepEqual([im.before, im.after, im.passed], ['0.400', '0.500', true]);
    assert.match(im.title, /Label-free transfer/);
    assert.equal(collapse.after, '0.300');
    assert.equal(collapse.passed, false);
    assert.deepEqual(guardRows(undefined), []);
    assert.equal(
      guardRows([{ name: 'other', passed: true, detail: 'free text' }])[0].measure,
      'free text',
    );
  });
});

describe('build', () => {
  test('the bundle has one script and one stylesheet, no inline script, and a strict CSP', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'fl-web-'));
    try {
      const files = await build({ webOut: out, shell: false });
      assert.ok(
        files.some((f) => f.endsWith('main.js')) && files.some((f) => f.endsWith('main.css')),
        files.join(),
      );
      const html = await readFile(path.join(out, 'index.html'), 'utf8');
      const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
      assert.equal(scripts.length, 1);
      assert.equal(scripts[0][1].trim(), '', 'no inline script');
      assert.match(scripts[0][0], /src="main\.js"/);
      assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
      const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /connect-src 'self'/);
      assert.doesNotMatch(csp, /unsafe/);
      const js = await readFile(path.join(out, 'main.js'), 'utf8');
      assert.doesNotMatch(js, /\beval\(|new Function\(/, 'nothing the CSP would block');
      assert.ok(js.length < 400_000, `bundle ${js.length} bytes`);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
