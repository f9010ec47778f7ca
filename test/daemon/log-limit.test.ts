import assert from 'node:assert/strict';
import { test } from 'node:test';
import { causeOf, rateLimited } from '../../src/daemon/log-limit.js';

test('the cause is the constant head of a message', () => {
  assert.equal(
    causeOf('faultline broker: disconnected 10.0.0.7: bad password'),
    'faultline broker: disconnected ',
  );
  assert.equal(
    causeOf('faultline alerts: ignored malformed ack on faultline/s/m/alert/ack: not JSON'),
    'faultline alerts: ignored malformed ack on faultline',
  );
});

test('a flood of one cause: one line per interval, the next says how many were held back; other causes pass', () => {
  let t = 0;
  const lines: string[] = [];
  const log = rateLimited((m) => lines.push(m), { intervalMs: 10_000, now: () => t });
  for (let i = 0; i < 10_000; i++) {
    t = i; // 10,000 refused clients within 10 s
    log(`faultline broker: disconnected 10.0.${i >> 8}.${i & 255}: bad password`);
  }
  log('faultline alerts: ignored malformed ack on x: not JSON');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /^faultline broker: disconnected 10\.0\.0\.0/);
  t = 10_000;
  log('faultline broker: disconnected 10.9.9.9: bad password');
  assert.equal(lines.length, 3);
  assert.match(lines[2], /\(9999 more like it in the last 10 s not logged\)$/);
});

test('causes are bounded: beyond maxCauses the least recent is forgotten (then logged again at once)', () => {
  const lines: string[] = [];
  const log = rateLimited((m) => lines.push(m), { maxCauses: 2, now: () => 0 });
  log('alpha: 1');
  log('beta: 1');
  log('alpha: 2'); // held: alpha is known and within its interval
  assert.equal(lines.length, 2);
  log('gamma: 1'); // a third cause: alpha, the least recently written, is forgotten
  log('beta: 2'); // still known: held
  log('alpha: 3'); // forgotten, so logged at once
  assert.deepEqual(lines, ['alpha: 1', 'beta: 1', 'gamma: 1', 'alpha: 3']);
});
