/**
 * Faultline's wasm kernels against the tfjs cpu backend (an independent,
 * scalar reference): the same op and gradient on both, compared with tolerances.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/model/backend.js';
import * as tf from '../../src/model/tf.js';

/** Deterministic values in [-1, 1). */
function values(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = seed >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Runs `f` on cpu and on wasm; returns both results as plain arrays. */
async function onBoth(
  f: () => tf.Tensor[],
): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const result: Record<string, Float32Array[]> = {};
  for (const backend of ['cpu', 'wasm']) {
    await tf.setBackend(backend);
    const outs = f();
    result[backend] = await Promise.all(outs.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose(outs);
  }
  await tf.setBackend('wasm');
  return { cpu: result.cpu, wasm: result.wasm };
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string, tol = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol * (1 + Math.abs(expected[i])))) {
      assert.fail(`${what}: element ${i} is ${actual[i]}, cpu says ${expected[i]}`);
    }
  }
}

/** Asserts `f` leaves no tensor behind, neither in the engine nor on the wasm heap. */
function assertNoLeak(f: () => void): void {
  const engine = tf.memory().numTensors;
  const heap = tf.engine().backend.numDataIds();
  f();
  assert.equal(tf.memory().numTensors, engine, 'engine tensors leaked');
  assert.equal(tf.engine().backend.numDataIds(), heap, 'wasm heap tensors leaked');
}

before(async () => {
  await initBackend({ prefer: 'wasm', log: () => {} });
});

describe('Conv2DBackpropFilter / Conv2DBackpropInput on wasm', () => {
  const cases: { x: number[]; f: number[]; stride: number; pad: 'same' | 'valid' | number }[] = [];
  for (const [h, w] of [
    [7, 7],
    [8, 8],
    [9, 6],
  ]) {
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) {
        cases.push({ x: [2, h, w, 3], f: [3, 3, 3, 4], stride, pad });
      }
    }
  }
  cases.push({ x: [1, 5, 5, 1], f: [3, 3, 1, 1], stride: 1, pad: 'same' });
  cases.push({ x: [3, 6, 6, 2], f: [1, 1, 2, 5], stride: 2, pad: 'same' });
  cases.push({ x: [4, 8, 7, 4], f: [2, 2, 4, 3], stride: 2, pad: 'same' }); // even kernel: asymmetric SAME
  cases.push({ x: [2, 10, 10, 2], f: [5, 5, 2, 3], stride: 2, pad: 'valid' });
  cases.push({ x: [2, 6, 6, 2], f: [3, 3, 2, 2], stride: 1, pad: 1 });
  cases.push({ x: [1, 1, 1, 2], f: [1, 1, 2, 2], stride: 1, pad: 'valid' });
  // ≥ 8 input channels at stride 1: the input gradient takes the conv (not col2im) path.
  cases.push({ x: [2, 6, 7, 8], f: [3, 3, 8, 4], stride: 1, pad: 'same' });
  cases.push({ x: [3, 7, 6, 9], f: [2, 2, 9, 3], stride: 1, pad: 'valid' });

  for (const c of cases) {
    it(`matches cpu for x ${c.x}, filter ${c.f}, stride ${c.stride}, pad ${c.pad}`, async () => {
      const xv = values(sizeOf(c.x), 1);
      const fv = values(sizeOf(c.f), 2);
      const grad = () =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
          const f = tf.tensor4d(fv, c.f as [number, number, number, number]);
          // A non-uniform upstream gradient (square) so every dy element matters.
          const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
            tf
              .conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad)
              .square()
              .sum(),
          );
          return g([x, f]);
        });
      const { cpu, wasm } = await onBoth(grad);
      assertClose(wasm[0], cpu[0], 'dx');
      assertClose(wasm[1], cpu[1], 'dfilter');
      assertNoLeak(() => tf.dispose(grad()));
    });
  }

  it('refuses NCHW with a message naming it', () => {
    const x = tf.zeros([1, 2, 4, 4]);
    const dy = tf.zeros([1, 2, 4, 4]);
    assert.throws(
      () =>
        tf
          .engine()
          .runKernel(
            tf.Conv2DBackpropFilter,
            { x, dy },
            { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 2] },
          ),
      /NHWC/,
    );
    tf.dispose([x, dy]);
  });
});

describe('MaxPoolGrad on wasm', () => {
  const cases: { x: number[]; size: number; stride: number; pad: 'same' | 'valid' }[] = [
    { x: [2, 8, 8, 3], size: 2, stride: 2, pad: 'valid' },
    { x: [2, 7, 9, 2], size: 2, stride: 2, pad: 'same' },
    { x: [1, 7, 7, 4], size: 3, stride: 2, pad: 'same' }, // overlapping windows
    { x: [3, 5, 5, 1], size: 3, stride: 1, pad: 'valid' },
  ];
  for (const c of cases) {
    it(`matches cpu for x ${c.x}, pool ${c.size}/${c.stride} ${c.pad}`, async () => {
      const xv = values(sizeOf(c.x), 3);
      const grad = () =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
          return [
            tf.grad((a: tf.Tensor) =>
              tf
                .maxPool(a as tf.Tensor4D, c.size, c.stride, c.pad)
                .square()
                .sum(),
            )(x),
          ];
        });
      const { cpu, wasm } = await onBoth(grad);
      assertClose(wasm[0], cpu[0], 'dx', 1e-6);
      assertNoLeak(() => tf.dispose(grad()));
    });
  }

  it('sends a tied window’s gradient to its first maximum, as TF does', async () => {
    // All-zero input (as after ReLU): every window is a 4-way tie.
    const grad = () =>
      tf.tidy(() => [
        tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid').sum())(
          tf.zeros([1, 4, 4, 1]),
        ),
      ]);
    const { cpu, wasm } = await onBoth(grad);
    assertClose(wasm[0], cpu[0], 'dx', 0);
    assert.equal(
      wasm[0].reduce((a, b) => a + b, 0),
      4,
      'one unit of gradient per window',
    );
    assert.equal(wasm[0][0], 1);
  });
});

describe('Tile on wasm', () => {
  const cases: { shape: number[]; reps: number[] }[] = [
    { shape: [1, 1, 1, 5], reps: [3, 4, 2, 1] }, // batch norm's pattern
    { shape: [2, 3], reps: [2, 3] },
    { shape: [4], reps: [40] }, // long innermost run: copyWithin path
    { shape: [3, 1, 2], reps: [1, 5, 1] },
    { shape: [2, 1, 1, 2, 3], reps: [2, 2, 3, 1, 2] },
    { shape: [0, 3], reps: [2, 2] },
  ];
  for (const c of cases) {
    it(`matches cpu for shape ${c.shape} × ${c.reps}`, async () => {
      const v = values(sizeOf(c.shape), 4);
      const run = () => tf.tidy(() => [tf.tile(tf.tensor(v, c.shape), c.reps)]);
      const { cpu, wasm } = await onBoth(run);
      assertClose(wasm[0], cpu[0], 'tile', 0);
    });
  }
  it('tiles int32 exactly', async () => {
    const run = () => [tf.tile(tf.tensor1d([1, -2, 2147483647], 'int32'), [3])];
    const { cpu, wasm } = await onBoth(run);
    assert.deepEqual(Array.from(wasm[0]), Array.from(cpu[0]));
  });
});

describe('BatchMatMul on wasm', () => {
  for (const [ta, tb] of [
    [true, false],
    [false, true],
    [true, true],
    [false, false],
  ]) {
    it(`matches cpu with transposeA=${ta}, transposeB=${tb} (batched, broadcast)`, async () => {
      const aShape = ta ? [3, 5, 4] : [3, 4, 5];
      const bShape = tb ? [1, 6, 5] : [1, 5, 6];
      const av = values(sizeOf(aShape), 5);
      const bv = values(sizeOf(bShape), 6);
      const run = () =>
        tf.tidy(() => [
          tf.matMul(
            tf.tensor3d(av, aShape as [number, number, number]),
            tf.tensor3d(bv, bShape as [number, number, number]),
            ta,
            tb,
          ),
        ]);
      const { cpu, wasm } = await onBoth(run);
      assertClose(wasm[0], cpu[0], 'matMul');
      assertNoLeak(() => tf.dispose(run()));
    });
  }
});

describe('Sum and Mean over leading axes on wasm', () => {
  const cases: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
    { shape: [5, 4, 3, 6], axis: [0, 1, 2], keepDims: false }, // batch norm's pattern
    { shape: [5, 4, 3, 6], axis: [2, 0, 1], keepDims: true }, // unsorted, kept dims
    { shape: [7, 9], axis: 0, keepDims: false }, // a bias gradient
    { shape: [6, 5, 3], axis: [-3, -2], keepDims: false }, // negative axes
    { shape: [3, 5, 2], axis: [0], keepDims: true }, // rows not a multiple of 4
    { shape: [2, 3, 4], axis: [1, 2], keepDims: false }, // not leading: stock kernel
    { shape: [2, 3, 4], axis: [0, 1, 2], keepDims: false }, // all axes: stock kernel
    { shape: [0, 3], axis: 0, keepDims: false }, // empty: 0 (the stock kernel returns garbage)
  ];
  for (const c of cases) {
    it(`matches cpu for shape ${c.shape}, axis ${c.axis}, keepDims ${c.keepDims}`, async () => {
      const v = values(sizeOf(c.shape), 9);
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor(v, c.shape);
          const s = tf.sum(x, c.axis, c.keepDims);
          const m = tf.mean(x, c.axis, c.keepDims);
          return [s, m, tf.tensor1d(s.shape), tf.tensor1d(m.shape)];
        });
      const { cpu, wasm } = await onBoth(run);
      for (const [i, what] of ['sum', 'mean', 'sum shape', 'mean shape'].entries()) {
        assertClose(wasm[i], cpu[i], what);
      }
      assertNoLeak(() => tf.dispose(run()));
    });
  }
  it('accumulates in float64: small terms next to a huge one are not lost', async () => {
    // [2^25, 1 × 998, −2^25]: a float32 running sum drops every 1 (2^25 + 1 = 2^25).
    const v = new Float32Array(1000).fill(1);
    v[0] = 2 ** 25;
    v[999] = -(2 ** 25);
    const x = tf.tensor2d(v, [1000, 1]);
    const [s, m] = [await tf.sum(x, 0).data(), await tf.mean(x, 0).data()];
    x.dispose();
    assert.equal(s[0], 998);
    assert.ok(Math.abs(m[0] - 0.998) < 1e-6, `mean ${m[0]}`);
  });
  it('leaves int32 to the stock kernel (exact integers)', async () => {
    const run = () => [tf.sum(tf.tensor2d([1, 2, 2147483, 4], [2, 2], 'int32'), 0)];
    const { cpu, wasm } = await onBoth(run);
    assert.deepEqual(Array.from(wasm[0]), Array.from(cpu[0]));
  });
});

describe('a training step on wasm', () => {
  it('updates a small conv net like cpu does (conv, batch norm, pooling, dense)', async () => {
    const xv = values(4 * 12 * 12 * 1, 7);
    const step = () => {
      const input = tf.input({ shape: [12, 12, 1] });
      let h = tf.layers
        .conv2d({
          filters: 3,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        })
        .apply(input) as tf.SymbolicTensor;
      h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
      h = tf.layers
        .conv2d({
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        })
        .apply(h) as tf.SymbolicTensor;
      h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
      h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
      const out = tf.layers
        .dense({ units: 3, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })
        .apply(h) as tf.SymbolicTensor;
      const model = tf.model({ inputs: input, outputs: out });
      const opt = tf.train.sgd(0.5);
      const x = tf.tensor4d(xv, [4, 12, 12, 1]);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 1], 'int32'), 3);
      opt.minimize(
        () =>
          tf.losses.softmaxCrossEntropy(
            y,
            model.apply(x, { training: true }) as tf.Tensor,
          ) as tf.Scalar,
      );
      const weights = model.getWeights().map((w) => w.clone());
      tf.dispose([x, y]);
      model.dispose();
      opt.dispose();
      return weights;
    };
    const { cpu, wasm } = await onBoth(step);
    assert.equal(wasm.length, cpu.length);
    for (const [i, w] of wasm.entries()) assertClose(w, cpu[i], `weight ${i}`, 1e-3);
  });
});
