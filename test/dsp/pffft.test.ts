/**
 * PFFFT behind fft.js's conventions (src/dsp/pffft.ts): its real forward and
 * complex inverse transforms must give fft.js's values, in fft.js's layout
 * and scale, within float32 precision; sizes it cannot take fall back to
 * fft.js; and the shared scratch buffers survive plans of different sizes
 * taking turns (the worker runs 16384-point and 8192-point transforms
 * alternately).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import FFT from 'fft.js';
import { fftEngine, fftPlan } from '../../src/dsp/fftutil.js';
import { pffftPlan } from '../../src/dsp/pffft.js';

function noise(n: number, seed: number): Float64Array {
  const x = new Float64Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 16807) % 2147483647;
    x[i] = s / 2147483647 - 0.5 + Math.sin(0.37 * i);
  }
  return x;
}

/** Largest |a − b| over the first `count` values, relative to b's largest magnitude. */
function relErr(a: Float64Array, b: Float64Array, count: number): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < count; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

describe('pffft', () => {
  it('runs PFFFT in this thread (wasm with SIMD on Node 20)', () => {
    assert.equal(fftEngine, 'pffft-wasm-simd');
    assert.ok(pffftPlan(16384), 'a 16384-point plan');
  });

  it('realTransform gives fft.js bins 0…N/2 in its layout, within float32 precision', () => {
    for (const n of [32, 256, 4096, 16384, 65536]) {
      const x = noise(n, n);
      const want = new Float64Array(2 * n);
      new FFT(n).realTransform(want, x);
      const got = new Float64Array(2 * n).fill(Number.NaN);
      fftPlan(n).realTransform(got, x);
      assert.ok(relErr(got, want, n + 2) < 1e-5, `n=${n}: ${relErr(got, want, n + 2)}`);
      // The packed real-only bins are unpacked: DC and Nyquist have im = 0.
      assert.equal(got[1], 0);
      assert.equal(got[n + 1], 0);
      // The upper half is left alone, as fft.js leaves it to completeSpectrum.
      assert.ok(Number.isNaN(got[n + 2]));
    }
  });

  it('inverseTransform gives fft.js values, divided by N', () => {
    for (const n of [16, 512, 8192]) {
      const z = noise(2 * n, 7 + n);
      const want = new Float64Array(2 * n);
      new FFT(n).inverseTransform(want, z);
      const got = new Float64Array(2 * n);
      fftPlan(n).inverseTransform(got, z);
      assert.ok(relErr(got, want, 2 * n) < 1e-5, `n=${n}: ${relErr(got, want, 2 * n)}`);
    }
  });

  it('round trip: the inverse of a full spectrum gives the signal back', () => {
    const n = 1024;
    const x = noise(n, 3);
    const spec = new Float64Array(2 * n);
    const p = fftPlan(n);
    p.realTransform(spec, x);
    // Complete the spectrum by conjugate symmetry, then invert.
    for (let k = 1; k < n / 2; k++) {
      spec[2 * (n - k)] = spec[2 * k];
      spec[2 * (n - k) + 1] = -spec[2 * k + 1];
    }
    const back = new Float64Array(2 * n);
    p.inverseTransform(back, spec);
    for (let i = 0; i < n; i++) {
      assert.ok(Math.abs(back[2 * i] - x[i]) < 1e-5, `x[${i}]`);
      assert.ok(Math.abs(back[2 * i + 1]) < 1e-5, `imaginary part ${i}`);
    }
  });

  it('plans of different sizes taking turns keep their results (shared scratch buffers grow)', () => {
    const small = fftPlan(256);
    const x = noise(256, 11);
    const first = new Float64Array(512);
    small.realTransform(first, x);
    // A larger transform in between grows the scratch buffers (and may grow
    // the wasm memory, replacing its views).
    fftPlan(1 << 18).realTransform(new Float64Array(1 << 19), noise(1 << 18, 5));
    const again = new Float64Array(512);
    small.realTransform(again, x);
    assert.deepEqual(again, first);
  });

  it('FAULTLINE_FFT=fft.js forces the fallback', () => {
    const engine = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        "const m = await import('./src/dsp/fftutil.ts'); process.stdout.write(m.fftEngine + ' ' + (typeof m.fftPlan(16384).realTransform));",
      ],
      {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env: { ...process.env, FAULTLINE_FFT: 'fft.js' },
        encoding: 'utf8',
      },
    );
    assert.equal(engine, 'fft.js function');
  });

  it('sizes PFFFT does not take use fft.js; wrong lengths are refused', () => {
    assert.equal(pffftPlan(16), undefined, 'real transforms need ≥ 32 points');
    assert.equal(pffftPlan(1000), undefined, 'not a power of two');
    assert.equal(
      pffftPlan(2 ** 19),
      undefined,
      'above 2^18: fft.js, whose memory the GC takes back',
    );
    assert.ok(pffftPlan(2 ** 18));
    const x = noise(16, 1);
    const want = new Float64Array(32);
    new FFT(16).realTransform(want, x);
    const got = new Float64Array(32);
    fftPlan(16).realTransform(got, x);
    assert.deepEqual(got.subarray(0, 18), want.subarray(0, 18));
    const p = pffftPlan(64);
    assert.ok(p);
    assert.throws(() => p.realTransform(new Float64Array(128), new Float64Array(63)), RangeError);
    assert.throws(() => p.realTransform(new Float64Array(64), new Float64Array(64)), RangeError);
    assert.throws(
      () => p.inverseTransform(new Float64Array(128), new Float64Array(64)),
      RangeError,
    );
  });
});
