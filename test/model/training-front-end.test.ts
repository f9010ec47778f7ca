import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  affordableWindowRevolutions,
  LONG_WINDOW_REVOLUTIONS,
} from '../../src/model/training-front-end.js';
import type { Recording } from '../../src/types.js';

const rec = (seconds: number, rpm: number | undefined, sampleRate = 12_000): Recording => ({
  id: `r${seconds}-${rpm}`,
  label: 'normal',
  domain: 'd',
  sampleRate,
  samples: new Float32Array(Math.round(seconds * sampleRate)),
  ...(rpm !== undefined ? { rpm } : {}),
  meta: {},
});

test('eval windows: 8 revolutions where every 15 % segment holds 10, else the default', () => {
  assert.equal(LONG_WINDOW_REVOLUTIONS, 8);
  // CWRU: 10 s at 1,797 rpm → 45 revolutions in a 15 % segment
  assert.equal(affordableWindowRevolutions([rec(10, 1797), rec(10, 1730)]), 8);
  // 8 s at 600 rpm → 12 revolutions: enough
  assert.equal(affordableWindowRevolutions([rec(8, 600, 51_200)]), 8);
  // the short recordings: 3 s at 600 rpm → 4.5 revolutions
  assert.equal(affordableWindowRevolutions([rec(10, 1797), rec(3, 600)]), undefined);
  // 4 s at 600 rpm → 6 revolutions: short of 8 × 1.25
  assert.equal(affordableWindowRevolutions([rec(4, 600)]), undefined);
  // a speed nobody gave: no promise about revolutions
  assert.equal(affordableWindowRevolutions([rec(60, undefined)]), undefined);
  assert.equal(affordableWindowRevolutions([]), undefined);
});
