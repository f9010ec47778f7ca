/**
 * Adaptation progress plumbing (src/daemon/adaptation.ts `applyWorkerProgress`):
 * losses and label-free checkpoints from the adaptation worker folded into the
 * job the API and the stream report; and the stream's `view` message parser.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AdaptJob,
  applyWorkerProgress,
  MAX_CURVE_POINTS,
} from '../../src/daemon/adaptation.js';
import { viewRequest } from '../../src/daemon/websocket.js';

const job = (): AdaptJob => ({
  id: 'a',
  machine: 'm',
  strategy: 'dann',
  seconds: 2,
  state: 'adapting',
  collectedS: 2,
  step: 0,
  steps: 10,
  startedAt: new Date(0).toISOString(),
});

test('progress: step and mean losses; a curve point per message; non-finite values dropped', () => {
  const j = job();
  applyWorkerProgress(j, { kind: 'progress', step: 5, steps: 10 });
  assert.equal(j.step, 5);
  assert.equal(j.losses, undefined, 'no loss reported, no curve');
  applyWorkerProgress(j, {
    kind: 'progress',
    step: 10,
    steps: 10,
    loss: 1.5,
    domainLoss: Number.NaN,
  });
  assert.equal(j.loss, 1.5);
  assert.equal(j.domainLoss, undefined);
  assert.deepEqual(j.losses, [{ step: 10, loss: 1.5 }]);
});

test('the loss curve stays bounded: thinned by half when full, newest kept', () => {
  const j = job();
  for (let s = 1; s <= 5 * MAX_CURVE_POINTS; s++)
    applyWorkerProgress(j, { kind: 'progress', step: s, steps: 5 * MAX_CURVE_POINTS, loss: 1 / s });
  const pts = j.losses ?? [];
  assert.ok(pts.length <= MAX_CURVE_POINTS && pts.length >= MAX_CURVE_POINTS / 2, `${pts.length}`);
  assert.equal(pts.at(-1)?.step, 5 * MAX_CURVE_POINTS);
  assert.ok(
    pts.every((p, i) => i === 0 || p.step > pts[i - 1].step),
    'in step order',
  );
});

test('checkpoints: label-free criterion and discriminator accuracy, in order', () => {
  const j = job();
  const target = { meanEntropy: 0.2, marginalEntropy: 0.9, im: 0.7 };
  applyWorkerProgress(j, {
    kind: 'checkpoint',
    checkpoint: { step: 0, sourceValAccuracy: 0.98, target },
  });
  applyWorkerProgress(j, {
    kind: 'checkpoint',
    checkpoint: { step: 50, sourceValAccuracy: 0.97, target, discriminatorAccuracy: 0.55 },
  });
  assert.deepEqual(j.checkpoints, [
    { step: 0, sourceValAccuracy: 0.98, im: 0.7, meanEntropy: 0.2, marginalEntropy: 0.9 },
    {
      step: 50,
      sourceValAccuracy: 0.97,
      im: 0.7,
      meanEntropy: 0.2,
      marginalEntropy: 0.9,
      discriminatorAccuracy: 0.55,
    },
  ]);
  assert.equal(j.discriminatorAccuracy, 0.55);
  // a malformed checkpoint is ignored, not a crash
  applyWorkerProgress(j, { kind: 'checkpoint', checkpoint: {} as never });
  assert.equal(j.checkpoints?.length, 2);
});

test('view messages: a list or one machine; anything else is not a view request', () => {
  assert.deepEqual(viewRequest('{"type":"view","machines":["a","b","a",3]}'), ['a', 'b']);
  assert.deepEqual(viewRequest('{"type":"view","machine":"a"}'), ['a']);
  assert.deepEqual(viewRequest('{"type":"view","machine":null}'), []);
  assert.deepEqual(viewRequest('{"type":"view"}'), []);
  assert.equal(viewRequest('{"type":"other","machines":["a"]}'), undefined);
  assert.equal(viewRequest('not json'), undefined);
  assert.equal(viewRequest('null'), undefined);
  const many = JSON.stringify({
    type: 'view',
    machines: Array.from({ length: 500 }, (_, i) => `m${i}`),
  });
  assert.equal(viewRequest(many)?.length, 64, 'bounded');
});
