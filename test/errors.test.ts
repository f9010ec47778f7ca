import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES, FaultlineError, isFaultlineError } from '../src/errors.js';

test('every error code is unique, prefixed and documented', () => {
  const codes = Object.keys(ERROR_CODES);
  assert.equal(new Set(codes).size, codes.length);
  for (const [code, meaning] of Object.entries(ERROR_CODES)) {
    assert.match(code, /^FL_ERR_[A-Z0-9_]+$/);
    assert.ok(meaning.length > 10, `${code} needs a meaning`);
  }
  const meanings = Object.values(ERROR_CODES);
  assert.equal(new Set(meanings).size, meanings.length, 'two codes share one meaning');
});

test('FaultlineError carries its code and cause', () => {
  const cause = new Error('inner');
  const err = new FaultlineError('FL_ERR_FRAME_CRC', 'bad crc 0x1234', { cause });
  assert.equal(err.code, 'FL_ERR_FRAME_CRC');
  assert.equal(err.cause, cause);
  assert.ok(isFaultlineError(err, 'FL_ERR_FRAME_CRC'));
  assert.ok(!isFaultlineError(err, 'FL_ERR_CONFIG'));
  assert.ok(!isFaultlineError(new Error('x')));
});
