import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { isFaultlineError } from '../../src/errors.js';
import { currentBackend, initBackend } from '../../src/model/backend.js';
import * as tf from '../../src/model/tf.js';

/** Whether the optional native backend is installed here (it usually is not). */
function nodeBackendInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

describe('initBackend', () => {
  it('picks the fastest working backend, says why, and registers the wasm kernels', async () => {
    const logs: string[] = [];
    const info = await initBackend({ log: (m) => logs.push(m) });
    if (nodeBackendInstalled()) {
      assert.equal(info.name, 'node');
    } else {
      assert.equal(info.name, 'wasm');
      assert.match(info.reason, /tfjs-node not installed/);
      assert.ok(info.kernels.includes('Conv2DBackpropFilter'));
      assert.equal(tf.getBackend(), 'wasm');
    }
    assert.ok(
      logs.some((m) => m.includes(`backend ${info.name}`)),
      'logs the choice',
    );
    assert.equal(info.tf.getBackend(), tf.getBackend(), 'hands back the shared namespace');
  });

  it('is idempotent: a second call returns the same result without re-initialising', async () => {
    const a = await initBackend({ log: () => {} });
    const b = await initBackend({ log: () => {} });
    assert.equal(a, b);
    assert.equal(currentBackend(), a);
  });

  it('honours prefer, switching and back, and runs ops on the chosen backend', async () => {
    const cpu = await initBackend({ prefer: 'cpu', log: () => {} });
    assert.equal(cpu.name, 'cpu');
    assert.equal(cpu.reason, 'requested');
    assert.equal(tf.getBackend(), 'cpu');
    const wasm = await initBackend({ prefer: 'wasm', log: () => {} });
    assert.equal(tf.getBackend(), 'wasm');
    const y = tf.conv2d(
      tf.ones([1, 4, 4, 1]) as tf.Tensor4D,
      tf.ones([3, 3, 1, 1]) as tf.Tensor4D,
      1,
      'same',
    );
    assert.deepEqual(Array.from(await y.data()).slice(0, 4), [4, 6, 6, 4]);
    y.dispose();
    assert.ok(wasm.kernels.length > 0);
  });

  it('fails with FL_ERR_BACKEND when the requested backend cannot run', async (t) => {
    if (nodeBackendInstalled()) {
      t.skip('@tensorflow/tfjs-node is installed here');
      return;
    }
    await assert.rejects(
      initBackend({ prefer: 'node', log: () => {} }),
      (err) => isFaultlineError(err, 'FL_ERR_BACKEND') && /tfjs-node/.test(err.message),
    );
    assert.equal(tf.getBackend(), 'wasm', 'a failed switch leaves the running backend alone');
  });

  it('rejects an unknown backend name with FL_ERR_BACKEND', async () => {
    await assert.rejects(
      initBackend({ prefer: 'gpu' as never, log: () => {} }),
      (err) => isFaultlineError(err, 'FL_ERR_BACKEND') && /gpu/.test(err.message),
    );
  });
});
