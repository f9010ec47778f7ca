/**
 * The trend view's data, in Node: history URL, alignment of measures with
 * different empty buckets, markers inside the window only, the CSV of what
 * is shown (RFC 4180 quoting) and its file name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  alertsPath,
  alignBands,
  csvFileName,
  historyCsv,
  historyPath,
  probMeasures,
  rangeWindow,
  spanLabel,
  stepLabel,
  timeMarkers,
} from '../../app/web/src/trend-data.js';
import type { Alert } from '../../app/web/src/types.js';

const H = 3_600_000;
const b = (t: number, v: number) => ({ t, n: 2, min: v - 1, mean: v, max: v + 1 });

test('ranges end now; history and alerts paths carry the window in ms', () => {
  assert.deepEqual(rangeWindow('7d', 10 * 24 * H), { since: 3 * 24 * H, until: 10 * 24 * H });
  assert.deepEqual(rangeWindow('1h', H), { since: 0, until: H });
  assert.equal(
    historyPath('pump 1', ['velocity_rms', 'prob.outer race'], { since: 1.5, until: 9.2 }),
    '/api/machines/pump%201/history?measure=velocity_rms,prob.outer+race&since=1&until=10',
  );
  assert.equal(
    historyPath('p', ['kurtosis'], { since: 0, until: H }, '1h'),
    '/api/machines/p/history?measure=kurtosis&since=0&until=3600000&step=1h',
  );
  assert.equal(
    alertsPath('p', { since: 0, until: H }),
    '/api/alerts?machine=p&since=0&until=3600000&limit=1000',
  );
});

test('measures are aligned on the union of their buckets (x in s), null where empty', () => {
  const { x, cols } = alignBands({ series: { a: [b(0, 1), b(2 * H, 3)], c: [b(H, 5)], d: [] } }, [
    'a',
    'c',
    'd',
    'missing',
  ]);
  assert.deepEqual(x, [0, 3600, 7200]);
  assert.deepEqual(cols.a.mean, [1, null, 3]);
  assert.deepEqual(cols.a.min, [0, null, 2]);
  assert.deepEqual(cols.c.max, [null, 6, null]);
  assert.deepEqual(cols.d.mean, [null, null, null]);
  assert.deepEqual(cols.missing.mean, [null, null, null]);
  assert.deepEqual(alignBands({ series: {} }, ['a']).x, []);
});

test('markers: alerts and model promotions inside the window, oldest first', () => {
  const alert = (time: string, state: Alert['state']): Alert => ({
    id: time,
    machine: 'p',
    state,
    previousState: 'ok',
    faultClass: 'outer race',
    confidence: 0.9,
    reason: 'BPFO line',
    time,
    acknowledged: { by: 'ann', time },
  });
  const marks = timeMarkers(
    [alert('2026-01-01T02:00:00Z', 'alarm'), alert('2025-12-31T00:00:00Z', 'watch')],
    [
      {
        at: '2026-01-01T01:00:00Z',
        action: 'promote',
        version: 'v2',
        from: 'v1',
        by: 'bob',
        forced: false,
      },
    ],
    { since: Date.parse('2026-01-01T00:00:00Z'), until: Date.parse('2026-01-02T00:00:00Z') },
  );
  assert.deepEqual(
    marks.map((m) => [m.kind, m.label, m.state]),
    [
      ['model', 'model v2', undefined],
      ['alert', 'alarm', 'alarm'],
    ],
  );
  assert.match(marks[1].title, /ok → alarm, outer race — BPFO line \(acknowledged by ann\)/);
  assert.match(marks[0].title, /v1 → v2 promoted by bob/);
});

test('CSV: header, one row per bucket and measure in the order shown, quoting, CRLF', () => {
  const csv = historyCsv(
    { series: { velocity_rms: [b(0, 2.5), b(H, 3)], 'prob.a,"b"': [b(0, 0.5)], other: [b(0, 9)] } },
    ['velocity_rms', 'prob.a,"b"', 'absent'],
  );
  assert.equal(
    csv,
    [
      'time,measure,min,mean,max',
      '1970-01-01T00:00:00.000Z,velocity_rms,1.5,2.5,3.5',
      '1970-01-01T01:00:00.000Z,velocity_rms,2,3,4',
      '1970-01-01T00:00:00.000Z,"prob.a,""b""",-0.5,0.5,1.5',
      '',
    ].join('\r\n'),
  );
  assert.equal(historyCsv({ series: {} }, ['x']), 'time,measure,min,mean,max\r\n');
  assert.equal(
    csvFileName('line 1/pump', { since: 0, until: 7 * 24 * H }),
    'line_1_pump_1970-01-01T00-00Z_1970-01-08T00-00Z.csv',
  );
});

test('labels of spans and steps', () => {
  assert.equal(spanLabel(7 * 24 * H), '7 d');
  assert.equal(spanLabel(36 * H), '36 h');
  assert.equal(spanLabel(60 * H), '2.5 d');
  assert.equal(spanLabel(3 * H), '3 h');
  assert.equal(spanLabel(45 * 60_000), '45 min');
  assert.equal(stepLabel(24 * H), '1 d');
  assert.equal(stepLabel(3 * H), '3 h');
  assert.equal(stepLabel(5 * 60_000), '5 min');
  assert.equal(stepLabel(30_000), '30 s');
  assert.deepEqual(
    probMeasures(['normal']).map((m) => [m.id, m.group]),
    [['prob.normal', 'probs']],
  );
});
