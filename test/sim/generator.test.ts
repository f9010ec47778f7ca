import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFaultlineError } from '../../src/errors.js';
import {
  CONDITION_PRESET_NAMES,
  CONDITION_PRESETS,
  defineCondition,
  type OperatingCondition,
} from '../../src/sim/conditions.js';
import {
  BearingSignalGenerator,
  generateBearingSignal,
  simulateRecording,
} from '../../src/sim/generator.js';
import type { SimOptions } from '../../src/sim/options.js';
import { amplitudeSpectrum, envelopeSpectrum, lineRatio, peakHz } from './envelope-ref.js';

const FS = 12_000;
/** 2^15 samples ≈ 2.7 s: envelope bins of 0.37 Hz, so ±2 % of BPFO is ±6 bins. */
const N = 32_768;

function rms(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s / x.length);
}

function expectSimError(fn: () => unknown, what: string): void {
  assert.throws(fn, (err) => isFaultlineError(err, 'FL_ERR_SIM_PARAMS'), what);
}

/** A quiet condition (no noise, harmonics or speed wander) for exact-amplitude checks. */
const quiet = (changes: Partial<OperatingCondition> = {}): Readonly<OperatingCondition> =>
  defineCondition('source-1797rpm', {
    name: 'quiet',
    noiseRms: 0,
    rollingNoiseRms: 0,
    harmonics: [],
    speedJitter: 0,
    speedDrift: 0,
    ...changes,
  });

test('defect frequencies of the CWRU drive-end bearing match the published factors', () => {
  // CWRU bearing page, 6205-2RS JEM SKF, multiples of shaft speed.
  const g = new BearingSignalGenerator({ fault: 'outer', rpm: 1797 });
  const fr = 1797 / 60;
  const f = g.frequencies;
  assert.ok(Math.abs(f.BPFO / fr - 3.5848) < 1e-3);
  assert.ok(Math.abs(f.BPFI / fr - 5.4152) < 1e-3);
  assert.ok(Math.abs((2 * f.BSF) / fr - 4.7135) < 1e-3);
  assert.ok(Math.abs(f.FTF / fr - 0.39828) < 1e-4);
  assert.equal(g.faultFrequencyHz, f.BPFO);
  assert.equal(new BearingSignalGenerator({ fault: 'inner' }).faultFrequencyHz, f.BPFI);
  assert.equal(new BearingSignalGenerator({ fault: 'ball' }).faultFrequencyHz, 2 * f.BSF);
  assert.equal(new BearingSignalGenerator({ fault: 'none' }).faultFrequencyHz, 0);
});

test('same options and seed give identical signals; another seed does not', () => {
  for (const fault of ['none', 'inner', 'outer', 'ball'] as const) {
    const o: SimOptions = { fault, condition: 'target-1200rpm', seed: 7 };
    const a = generateBearingSignal(o, 5000);
    const b = generateBearingSignal(o, 5000);
    assert.deepEqual(a, b, fault);
    const c = generateBearingSignal({ ...o, seed: 8 }, 5000);
    assert.notDeepEqual(a, c, fault);
    for (const v of a) assert.ok(Number.isFinite(v));
  }
});

test('chunked generation is bit-identical to one-shot generation', () => {
  for (const fault of ['none', 'inner', 'outer', 'ball'] as const) {
    const o: SimOptions = { fault, seed: 21 };
    const total = 20_000;
    const oneShot = generateBearingSignal(o, total);
    // Irregular chunks across the internal block size (128), including empty ones.
    const sizes = [0, 1, 127, 128, 129, 0, 3, 1000, 255, 256, 257, 4096, 7];
    const gen = new BearingSignalGenerator(o);
    const chunked = new Float32Array(total);
    let pos = 0;
    for (let i = 0; pos < total; i++) {
      const n = Math.min(sizes[i % sizes.length], total - pos);
      chunked.set(gen.next(n), pos);
      pos += n;
      assert.equal(gen.position, pos);
    }
    assert.deepEqual(chunked, oneShot, `${fault}: chunked differs`);

    // fill() into sub-ranges of a reused buffer, as a live stream does.
    const viaFill = new Float32Array(total);
    const gen2 = new BearingSignalGenerator(o);
    for (let s = 0; s < total; s += 777) gen2.fill(viaFill, s, Math.min(total, s + 777));
    assert.deepEqual(viaFill, oneShot, `${fault}: fill differs`);
  }
});

test('severity is the impact peak in g (quiet signal, one well-damped mode)', () => {
  // ζ = 0.2 at 500 Hz: each impact dies out long before the next, and 24
  // samples per cycle catch the continuous peak to within 1 %. The impact
  // amplitude varies ±10 % (std) around the severity, so the mean of the
  // per-impact maxima is severity × the peak of e^(−ζωn·t)·sin(ωd·t).
  const severity = 0.8;
  const zeta = 0.2;
  const condition = quiet({ resonances: [{ frequencyHz: 500, damping: zeta, gain: 1 }], slip: 0 });
  const g = new BearingSignalGenerator({ fault: { type: 'outer', severity }, condition, seed: 4 });
  const x = g.next(FS * 2);
  const period = Math.round(FS / g.faultFrequencyHz);
  const peaks: number[] = [];
  for (let s = period * 2; s + period <= x.length; s += period) {
    let p = 0;
    for (let i = s; i < s + period; i++) p = Math.max(p, Math.abs(x[i]));
    peaks.push(p);
  }
  const wd = Math.sqrt(1 - zeta * zeta);
  const tPeak = Math.atan(wd / zeta) / wd; // in units of 1/ωn
  const hPeak = Math.exp(-zeta * tPeak) * Math.sin(wd * tPeak);
  const meanPeak = peaks.reduce((a, b) => a + b, 0) / peaks.length / severity;
  assert.ok(peaks.length > 150);
  assert.ok(Math.abs(meanPeak - hPeak) < 0.04 * hPeak, `mean impact peak ${meanPeak} vs ${hPeak}`);
});

test('outer race: the envelope spectrum peaks at BPFO (±2 %) with its harmonics', () => {
  for (const seed of [1, 2, 3]) {
    const g = new BearingSignalGenerator({ fault: 'outer', seed });
    const s = envelopeSpectrum(g.next(N), FS);
    const bpfo = g.frequencies.BPFO;
    const found = peakHz(s, 5, 500);
    assert.ok(
      Math.abs(found - bpfo) <= 0.02 * bpfo,
      `seed ${seed}: peak ${found} Hz, BPFO ${bpfo} Hz`,
    );
    assert.ok(lineRatio(s, bpfo) > 20, `BPFO line ratio ${lineRatio(s, bpfo)}`);
    assert.ok(lineRatio(s, 2 * bpfo) > 5, `2×BPFO line ratio ${lineRatio(s, 2 * bpfo)}`);
    // Outer race: no shaft-rate modulation, so no line at fr.
    assert.ok(lineRatio(s, g.frequencies.shaftHz) < 5);
  }
});

test('inner race: BPFI line with shaft-rate sidebands (load-zone modulation)', () => {
  for (const seed of [1, 2]) {
    const g = new BearingSignalGenerator({ fault: 'inner', seed });
    const s = envelopeSpectrum(g.next(N), FS);
    const { BPFI: bpfi, shaftHz: fr } = g.frequencies;
    assert.ok(lineRatio(s, bpfi) > 15, `BPFI ${lineRatio(s, bpfi)}`);
    // ±2 % around BPFI holds the line itself, not the sidebands 30 Hz away.
    assert.ok(lineRatio(s, bpfi - fr, 0.005) > 8, `BPFI−fr ${lineRatio(s, bpfi - fr, 0.005)}`);
    assert.ok(lineRatio(s, bpfi + fr, 0.005) > 8, `BPFI+fr ${lineRatio(s, bpfi + fr, 0.005)}`);
    assert.ok(lineRatio(s, fr) > 8, `fr ${lineRatio(s, fr)}`);
    const found = peakHz(s, bpfi * 0.9, bpfi * 1.1);
    assert.ok(Math.abs(found - bpfi) <= 0.02 * bpfi);
  }
});

test('ball: 2·BSF line with cage-rate (FTF) sidebands', () => {
  const g = new BearingSignalGenerator({ fault: 'ball', seed: 5 });
  const s = envelopeSpectrum(g.next(N), FS);
  const { BSF: bsf, FTF: ftf, BPFO: bpfo } = g.frequencies;
  assert.ok(lineRatio(s, 2 * bsf) > 10, `2·BSF ${lineRatio(s, 2 * bsf)}`);
  assert.ok(lineRatio(s, ftf, 0.01, 8) > 4, `FTF ${lineRatio(s, ftf, 0.01, 8)}`);
  assert.ok(lineRatio(s, 2 * bsf - ftf, 0.01, 8) > 4);
  // Alternating race strikes also leave a line at BSF itself.
  assert.ok(lineRatio(s, bsf) > 4, `BSF ${lineRatio(s, bsf)}`);
  assert.ok(lineRatio(s, 2 * bsf) > lineRatio(s, bpfo));
});

test('no fault: no defect line in the envelope spectrum', () => {
  for (const seed of [1, 2, 3, 4]) {
    for (const condition of ['source-1797rpm', 'target-1200rpm'] as const) {
      const g = new BearingSignalGenerator({ fault: 'none', seed, condition });
      const s = envelopeSpectrum(g.next(N), FS);
      const f = g.frequencies;
      for (const [name, hz] of [
        ['BPFO', f.BPFO],
        ['BPFI', f.BPFI],
        ['2·BSF', 2 * f.BSF],
      ] as const) {
        const r = lineRatio(s, hz);
        assert.ok(r < 5, `${condition} seed ${seed}: ${name} ratio ${r}`);
      }
    }
  }
});

test('RMS scales with the sensor gain (the whole signal is multiplied)', () => {
  const base = generateBearingSignal({ fault: 'inner', seed: 3 }, 12_000);
  const gained = generateBearingSignal(
    { fault: 'inner', seed: 3, condition: defineCondition('source-1797rpm', { sensorGain: 2.5 }) },
    12_000,
  );
  assert.ok(Math.abs(rms(gained) / rms(base) - 2.5) < 1e-5);
  for (let i = 0; i < base.length; i += 97)
    assert.ok(Math.abs(gained[i] - 2.5 * base[i]) <= 1e-6 * (1 + Math.abs(gained[i])));
  const noisyGain = CONDITION_PRESETS['target-noisy-gain'];
  assert.equal(noisyGain.sensorGain, 0.6);
});

test('noise RMS and shaft harmonics come out at the amplitudes asked for', () => {
  const noiseOnly = quiet({ noiseRms: 0.1 });
  const x = generateBearingSignal({ condition: noiseOnly, seed: 2 }, 120_000);
  assert.ok(Math.abs(rms(x) - 0.1) < 0.002, `noise RMS ${rms(x)}`);

  // Rolling noise: band noise through the modes at the RMS asked for, its
  // energy in the resonance band (healthy machines show the modes too).
  for (const condition of ['source-1797rpm', 'target-other-mount'] as const) {
    const rolling = defineCondition(condition, {
      noiseRms: 0,
      harmonics: [],
      rollingNoiseRms: 0.05,
    });
    const y = generateBearingSignal({ condition: rolling, seed: 2 }, 120_000);
    assert.ok(Math.abs(rms(y) / 0.05 - 1) < 0.1, `${condition}: rolling-noise RMS ${rms(y)}`);
    const spec = amplitudeSpectrum(y, FS);
    const bandPower = (lo: number, hi: number) => {
      let e = 0;
      for (let k = Math.round(lo / spec.binHz); k < Math.round(hi / spec.binHz); k++)
        e += spec.amp[k] ** 2;
      return e;
    };
    const main = rolling.resonances[0].frequencyHz;
    // ±200 Hz around the main mode holds more power than a 400 Hz band away from every mode.
    assert.ok(bandPower(main - 200, main + 200) > 20 * bandPower(500, 900), condition);
  }

  // Harmonics of a constant-speed shaft: amplitude spectrum lines at 1×, 2×, 3× fr.
  const harm = quiet({ harmonics: [0.05, 0.02, 0.01] });
  const g = new BearingSignalGenerator({ condition: harm, seed: 2 });
  const spec = amplitudeSpectrum(g.next(65_536), FS);
  const fr = g.frequencies.shaftHz;
  for (const [k, a] of [
    [1, 0.05],
    [2, 0.02],
    [3, 0.01],
  ] as const) {
    // Hann scalloping loss is at most 15 % between bins: take the 3-bin max.
    const bin = Math.round((k * fr) / spec.binHz);
    const peak = Math.max(spec.amp[bin - 1], spec.amp[bin], spec.amp[bin + 1]);
    assert.ok(peak > 0.84 * a && peak < 1.02 * a, `${k}× amplitude ${peak} vs ${a}`);
  }
});

test('a speed change moves the fault lines in proportion; resonances stay in Hz', () => {
  const measure = (rpm: number) => {
    const g = new BearingSignalGenerator({ fault: 'outer', rpm, seed: 6 });
    const x = g.next(N);
    const env = envelopeSpectrum(x, FS);
    const bpfo = peakHz(env, 20, 300);
    // Resonance: the 1–5.5 kHz bin with the most energy in a 100 Hz moving sum.
    const spec = amplitudeSpectrum(x, FS);
    const w = Math.round(100 / spec.binHz);
    let best = 0;
    let bestHz = 0;
    for (let k = Math.round(1000 / spec.binHz); k < Math.round(5500 / spec.binHz); k++) {
      let e = 0;
      for (let j = k - w; j <= k + w; j++) e += spec.amp[j] * spec.amp[j];
      if (e > best) {
        best = e;
        bestHz = k * spec.binHz;
      }
    }
    return { bpfo, expected: g.frequencies.BPFO, resonanceHz: bestHz };
  };
  const a = measure(1797);
  const b = measure(1200);
  assert.ok(Math.abs(a.bpfo - a.expected) <= 0.02 * a.expected);
  assert.ok(Math.abs(b.bpfo - b.expected) <= 0.02 * b.expected);
  assert.ok(Math.abs(b.bpfo / a.bpfo - 1200 / 1797) < 0.02, `ratio ${b.bpfo / a.bpfo}`);
  // The main housing mode is 3000 Hz at both speeds.
  assert.ok(Math.abs(a.resonanceHz - 3000) < 100, `resonance at 1797 rpm: ${a.resonanceHz}`);
  assert.ok(Math.abs(b.resonanceHz - 3000) < 100, `resonance at 1200 rpm: ${b.resonanceHz}`);
});

test('speed drift shows in currentRpm and stays near nominal', () => {
  const g = new BearingSignalGenerator({ condition: 'source-1797rpm', seed: 9 });
  const seen: number[] = [];
  for (let i = 0; i < 200; i++) {
    g.next(1200);
    seen.push(g.currentRpm);
  }
  const min = Math.min(...seen);
  const max = Math.max(...seen);
  assert.ok(max > min, 'speed never varied');
  // speedDrift 0.3 % + speedJitter 0.1 % std: within ±2 % (≈ 6σ).
  assert.ok(min > 1797 * 0.98 && max < 1797 * 1.02, `${min}…${max}`);
});

test('every preset generates every fault; presets keep the source housing resonances except other-mount', () => {
  const src = CONDITION_PRESETS['source-1797rpm'];
  for (const name of CONDITION_PRESET_NAMES) {
    const c = CONDITION_PRESETS[name];
    assert.equal(c.name, name);
    assert.ok(Object.isFrozen(c) && Object.isFrozen(c.resonances));
    if (name !== 'target-other-mount') assert.deepEqual(c.resonances, src.resonances);
    for (const fault of ['none', 'inner', 'outer', 'ball'] as const) {
      const x = generateBearingSignal({ condition: name, fault, seed: 1 }, 2048);
      for (const v of x) assert.ok(Number.isFinite(v));
      assert.ok(rms(x) > 0.01 && rms(x) < 1, `${name}/${fault} rms ${rms(x)}`);
    }
  }
  assert.notDeepEqual(CONDITION_PRESETS['target-other-mount'].resonances, src.resonances);
});

test('defineCondition derives a renamed, validated, frozen condition', () => {
  const c = defineCondition('target-600rpm', { noiseRms: 0.2 });
  assert.equal(c.name, 'target-600rpm+custom');
  assert.equal(c.rpm, 600);
  assert.equal(c.noiseRms, 0.2);
  assert.ok(Object.isFrozen(c));
  assert.equal(defineCondition(c, { name: 'pump-a' }).name, 'pump-a');
  // The rpm option renames the condition so a derived domain never shares a preset's name.
  assert.equal(
    new BearingSignalGenerator({ rpm: 1000 }).config.condition.name,
    'source-1797rpm@1000rpm',
  );
});

test('simulateRecording returns a labelled Recording', () => {
  const r = simulateRecording({ fault: 'none', condition: 'target-1200rpm', seed: 4 }, 0.5);
  assert.equal(r.label, 'normal');
  assert.equal(r.domain, 'target-1200rpm');
  assert.equal(r.sampleRate, FS);
  assert.equal(r.samples.length, 6000);
  assert.equal(r.rpm, 1200);
  assert.equal(r.id, 'sim:target-1200rpm/normal/seed4');
  assert.deepEqual(
    r.samples,
    generateBearingSignal({ fault: 'none', condition: 'target-1200rpm', seed: 4 }, 6000),
  );
});

test('modes and harmonics above 0.45·fs are left out (anti-alias); a fault needs one mode below', () => {
  const g = new BearingSignalGenerator({ fault: 'outer', sampleRate: 8000 });
  assert.deepEqual(g.activeResonancesHz, [3000, 1300]);
  const x = g.next(8000);
  for (const v of x) assert.ok(Number.isFinite(v));
  expectSimError(
    () => new BearingSignalGenerator({ fault: 'outer', sampleRate: 2000 }),
    'no mode below 900 Hz',
  );
  // A healthy machine needs no mode.
  assert.equal(
    new BearingSignalGenerator({ fault: 'none', sampleRate: 2000 }).next(100).length,
    100,
  );
});

test('invalid parameters throw FL_ERR_SIM_PARAMS naming the value', () => {
  expectSimError(() => new BearingSignalGenerator({ rpm: -5 }), 'negative rpm');
  expectSimError(() => new BearingSignalGenerator({ rpm: 0 }), 'zero rpm');
  expectSimError(() => new BearingSignalGenerator({ rpm: Number.NaN }), 'NaN rpm');
  expectSimError(() => new BearingSignalGenerator({ sampleRate: 0 }), 'zero rate');
  expectSimError(() => new BearingSignalGenerator({ sampleRate: 12000.5 }), 'fractional rate');
  expectSimError(
    () => new BearingSignalGenerator({ sampleRate: Number.POSITIVE_INFINITY }),
    'infinite rate',
  );
  expectSimError(() => new BearingSignalGenerator({ seed: 1.5 }), 'fractional seed');
  expectSimError(() => new BearingSignalGenerator({ fault: 'cage' as never }), 'unknown fault');
  expectSimError(
    () => new BearingSignalGenerator({ fault: { type: 'inner', severity: -1 } }),
    'negative severity',
  );
  expectSimError(
    () => new BearingSignalGenerator({ fault: { type: 'inner', severity: Number.NaN } }),
    'NaN severity',
  );
  expectSimError(
    () => new BearingSignalGenerator({ condition: 'nope' as never }),
    'unknown preset',
  );
  expectSimError(() => new BearingSignalGenerator(null as never), 'null options');
  expectSimError(
    () =>
      new BearingSignalGenerator({
        bearing: { balls: 9, ballDiameter: 2, pitchDiameter: 1, contactAngleDeg: 0 },
      }),
    'ball larger than pitch',
  );
  expectSimError(() => defineCondition('source-1797rpm', { load: 2 }), 'load > 1');
  expectSimError(() => defineCondition('source-1797rpm', { noiseRms: -0.1 }), 'negative noise');
  expectSimError(
    () => defineCondition('source-1797rpm', { harmonics: [0.1, Number.NaN] }),
    'NaN harmonic',
  );
  expectSimError(
    () =>
      defineCondition('source-1797rpm', {
        resonances: [{ frequencyHz: 3000, damping: 1, gain: 1 }],
      }),
    'damping 1',
  );
  expectSimError(
    () =>
      defineCondition('source-1797rpm', {
        resonances: [{ frequencyHz: -3, damping: 0.05, gain: 1 }],
      }),
    'negative resonance',
  );
  // A fault striking more often than fs/10 cannot be resolved.
  expectSimError(
    () => new BearingSignalGenerator({ fault: 'inner', rpm: 60_000, sampleRate: 12_000 }),
    'too fast',
  );

  const g = new BearingSignalGenerator();
  expectSimError(() => g.next(-1), 'negative length');
  expectSimError(() => g.next(1.5), 'fractional length');
  expectSimError(() => g.next(Number.NaN), 'NaN length');
  expectSimError(() => g.next(2 ** 40), 'huge length');
  expectSimError(() => g.fill(new Float32Array(10), 5, 4), 'end before start');
  expectSimError(() => g.fill(new Float32Array(10), 0, 11), 'end past the buffer');
  expectSimError(() => g.fill(new Float64Array(10) as never), 'not a Float32Array');
  assert.equal(g.position, 0, 'failed calls must not advance the stream');

  try {
    new BearingSignalGenerator({ rpm: -5 });
  } catch (err) {
    assert.match((err as Error).message, /rpm.*-5/);
  }
});

test('a long run stays stable (phases wrap, no drift to NaN or blow-up)', () => {
  const g = new BearingSignalGenerator({ fault: 'inner', seed: 12 });
  const chunk = new Float32Array(FS);
  const first = rms(g.fill(chunk));
  for (let i = 0; i < 600; i++) g.fill(chunk); // 10 minutes of signal
  const later = rms(g.fill(chunk));
  for (const v of chunk) assert.ok(Number.isFinite(v));
  assert.ok(Math.abs(later / first - 1) < 0.2, `RMS ${first} → ${later}`);
  assert.equal(g.position, 602 * FS);
});
