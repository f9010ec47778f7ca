import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HTTP_STATUS_OF_CODE, httpStatusOf } from '../../src/daemon/http-errors.js';
import { ERROR_CODES, FaultlineError } from '../../src/errors.js';

test('every API error code has its HTTP status in the table', () => {
  const api = Object.keys(ERROR_CODES).filter((c) => c.startsWith('FL_ERR_API_'));
  const table = Object.keys(HTTP_STATUS_OF_CODE);
  assert.deepEqual(table.filter((c) => c.startsWith('FL_ERR_API_')).sort(), api.sort());
  // besides the API's own: a failing history store is the server's trouble, not the request's
  assert.deepEqual(table.filter((c) => !c.startsWith('FL_ERR_API_')).sort(), [
    'FL_ERR_STORE_CLOSED',
    'FL_ERR_STORE_QUEUE',
  ]);
  assert.equal(httpStatusOf(new FaultlineError('FL_ERR_STORE_CLOSED', 'x')), 503);
  assert.equal(httpStatusOf(new FaultlineError('FL_ERR_API_ORIGIN', 'x')), 403);
  assert.equal(httpStatusOf(new FaultlineError('FL_ERR_API_REQUEST', 'x')), 400);
  assert.equal(httpStatusOf(new FaultlineError('FL_ERR_API_AUTH', 'x')), 401);
  assert.equal(httpStatusOf(new FaultlineError('FL_ERR_API_NOT_FOUND', 'x')), 404);
  assert.equal(httpStatusOf(new FaultlineError('FL_ERR_API_CONFLICT', 'x')), 409);
  assert.equal(httpStatusOf(new FaultlineError('FL_ERR_API_BUSY', 'x')), 409);
});

test('the status follows the code, not the message', () => {
  const conflictWords = 'an adaptation is already running; version failed guard(s)';
  assert.equal(httpStatusOf(new FaultlineError('FL_ERR_API_REQUEST', conflictWords)), 400);
  assert.equal(httpStatusOf(new FaultlineError('FL_ERR_MODEL_MISMATCH', 'already running')), 400);
  assert.equal(httpStatusOf(new Error('boom')), 500);
});
