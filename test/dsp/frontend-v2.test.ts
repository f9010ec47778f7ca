/**
 * Front-end config version 2 (physical units) beside version 1: the
 * version-2 defaults in order and time mode, windows sized in revolutions at
 * each speed, the speed estimate when no rpm is given, re-resolving, bad
 * fields; and version-1 configs (every model written before) computing
 * exactly what they computed before version 2 existed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CWRU_DE_BEARING } from '../../src/contract/bearing.js';
import {
  channelOf,
  createFrontEnd,
  type FrontEndConfig,
  type FrontEndInput,
  frontEndMinRpm,
  needsBearing,
  recordingWindows,
  resolveFrontEndConfig,
  V2_DEFAULTS,
} from '../../src/dsp/frontend.js';
import { isFaultlineError } from '../../src/errors.js';
import { add, gaussian, impactTrain, tone } from './synth.js';
import { CWRU_DE12K_V1, SIM_12K_V1, v1Signal } from './v1-configs.js';

const throwsCode = (fn: () => unknown, code: string, re?: RegExp) =>
  assert.throws(fn, (e: unknown) => {
    assert.ok(isFaultlineError(e), String(e));
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });

describe('version 2: defaults', () => {
  it('order mode: 12 kHz, 4-revolution windows every 0.618 rev, one wide band on the shaft axis, 300–6000 rpm', () => {
    const c = resolveFrontEndConfig({ version: 2 });
    assert.equal(c.version, 2);
    assert.equal(c.mode, 'order');
    assert.equal(c.sampleRate, 12000);
    assert.deepEqual(c.window, { unit: 'rev', length: 4, hop: 0.618 });
    assert.deepEqual(c.lines, {
      bands: [{ lowHz: 1000, highHz: 5400 }],
      axes: ['shaft'],
      revolutions: 4,
      samplesPerRev: 64,
      frameRevolutions: 2,
      rows: 32,
      frames: 16,
      maxOrder: 16,
      faultSpan: 4,
      normalisation: 'band',
    });
    assert.equal(c.order.minRpm, 300);
    assert.equal(c.order.maxRpm, 6000);
    // Live windows: 4 revolutions at the slowest speed served (0.8 s + 1 sample), every 0.25 s.
    assert.equal(c.windowLength, 9601);
    assert.equal(c.hop, 3000);
    assert.equal(frontEndMinRpm(c), 300);
    assert.deepEqual(createFrontEnd(c).inputShape, [32, 16, 1]);
    assert.equal(needsBearing(c), false);
    // The constants the CLI help quotes.
    assert.equal(V2_DEFAULTS.revolutions, 4);
    assert.equal(V2_DEFAULTS.hopRevolutions, 0.618);
  });

  it('order mode at other analysis rates: the wide band stays below Nyquist; joint adds the profile bands', () => {
    const at8k = resolveFrontEndConfig({ version: 2, sampleRate: 8000 });
    assert.deepEqual(at8k.lines?.bands, [{ lowHz: 800, highHz: 3600 }]);
    assert.equal(at8k.windowLength, 6401);
    const at48k = resolveFrontEndConfig({ version: 2, sampleRate: 48828 });
    assert.deepEqual(at48k.lines?.bands, [{ lowHz: 1000, highHz: 5400 }]);
    assert.equal(at48k.windowLength, Math.ceil(4 * 0.2 * 48828) + 1);
    const joint = resolveFrontEndConfig({ version: 2, lines: { normalisation: 'joint' } });
    assert.deepEqual(joint.lines?.bands, [
      { lowHz: 1000, highHz: 5400 },
      { lowHz: 500, highHz: 1500 },
      { lowHz: 1500, highHz: 3000 },
      { lowHz: 3000, highHz: 4500 },
      { lowHz: 4500, highHz: 5700 },
    ]);
    assert.deepEqual(createFrontEnd(joint).inputShape, [32, 16, 5]);
    const faults = resolveFrontEndConfig({
      version: 2,
      lines: { axes: ['BPFO', 'BPFI', 'BSF2'], bearing: CWRU_DE_BEARING },
    });
    assert.equal(needsBearing(faults), true);
    assert.deepEqual(faults.lines?.bearing, CWRU_DE_BEARING, 'the training bearing is kept');
    assert.deepEqual(createFrontEnd(faults).inputShape, [32, 16, 3]);
  });

  it("time mode: version 1's spectrogram with its window in seconds (2048/512 samples at 12 kHz)", () => {
    const c = resolveFrontEndConfig({ version: 2, mode: 'time' });
    assert.equal(c.version, 2);
    assert.deepEqual(c.window, { unit: 's', length: 2048 / 12000, hop: 512 / 12000 });
    assert.equal(c.windowLength, 2048);
    assert.equal(c.hop, 512);
    assert.deepEqual(
      { nfft: c.stft.nfft, freqBins: c.stft.freqBins, frames: c.stft.frames },
      { nfft: 256, freqBins: 64, frames: 32 },
    );
    assert.equal(c.lines, undefined);
    assert.equal(frontEndMinRpm(c), 0);
    // At 12 kHz it is the shipped CWRU model's front end: the same input, bit for bit.
    const x = v1Signal(2048);
    assert.deepEqual(createFrontEnd(c).process(x), createFrontEnd(CWRU_DE12K_V1).process(x));
    // The window is in seconds: the same 0.17 s at 48 kHz.
    const at48k = resolveFrontEndConfig({ version: 2, mode: 'time', sampleRate: 48000 });
    assert.equal(at48k.windowLength, 8192);
    assert.equal(at48k.hop, 2048);
  });

  it('a resolved config resolves to itself (what a model stores is what it loads)', () => {
    const inputs: FrontEndInput[] = [
      { version: 2 },
      { version: 2, mode: 'time', sampleRate: 25600 },
      { version: 2, liveHopS: 0.5 },
      { version: 2, sampleRate: 48828, order: { minRpm: 600, maxRpm: 3600 } },
      {
        version: 2,
        window: { length: 6, hop: 1.5 },
        lines: {
          axes: ['BPFO', 'BPFI', 'BSF2'],
          bearing: CWRU_DE_BEARING,
          normalisation: 'joint',
          faultSpan: 3,
        },
      },
    ];
    for (const input of inputs) {
      const once = resolveFrontEndConfig(input);
      assert.deepEqual(resolveFrontEndConfig(once), once, JSON.stringify(input));
      assert.deepEqual(resolveFrontEndConfig(JSON.parse(JSON.stringify(once))), once);
    }
  });

  it('bad version-2 fields are refused with the field named', () => {
    const cases: [FrontEndInput, RegExp][] = [
      [{ version: 3 as never }, /frontEnd\.version must be 1 or 2/],
      [{ version: 2, sampleRate: 500 }, /frontEnd\.sampleRate \(the analysis rate\)/],
      [{ version: 2, sampleRate: Number.NaN }, /frontEnd\.sampleRate/],
      [{ version: 2, mode: 'angle' as never }, /frontEnd\.mode/],
      [{ version: 2, window: { unit: 's' } }, /frontEnd\.window\.unit must be "rev" in order mode/],
      [{ version: 2, mode: 'time', window: { unit: 'rev' } }, /frontEnd\.window\.unit must be "s"/],
      [{ version: 2, mode: 'time', window: { length: 0 } }, /frontEnd\.window\.length/],
      [{ version: 2, mode: 'time', window: { length: 61 } }, /frontEnd\.window\.length/],
      [{ version: 2, mode: 'time', window: { hop: -1 } }, /frontEnd\.window\.hop/],
      [{ version: 2, window: { hop: 0 } }, /frontEnd\.window\.hop must be > 0 revolutions/],
      [{ version: 2, window: { length: 1 } }, /frontEnd\.lines\.revolutions/],
      [{ version: 2, order: { minRpm: 600, maxRpm: 600 } }, /frontEnd\.order speed range/],
      [{ version: 2, liveHopS: 0 }, /the live hop/],
      [
        { version: 2, window: { length: 1024 }, order: { minRpm: 1, maxRpm: 10 } },
        /1024 revolutions at 1 rpm take .* raise order\.minRpm/,
      ],
      [
        { version: 2, lines: { bands: [{ lowHz: 1000, highHz: 7000 }] } },
        /frontEnd\.lines\.bands\[0\]/,
      ],
    ];
    for (const [input, re] of cases)
      throwsCode(() => resolveFrontEndConfig(input), 'FL_ERR_DSP_PARAMS', re);
  });
});

describe('version 2: windows sized in revolutions', () => {
  const c = resolveFrontEndConfig({ version: 2 });
  const fe = createFrontEnd(c);
  // 4 revolutions = 4 × 60/rpm s, + 1 sample; hop 0.618 revolution.
  const expected: Record<number, { length: number; hop: number }> = {
    300: { length: 9601, hop: 1483 }, // 0.8 s; 1483.2
    600: { length: 4801, hop: 742 }, // 741.6
    1800: { length: 1601, hop: 247 }, // 247.2
    6000: { length: 481, hop: 74 }, // 0.04 s; 74.16
  };
  for (const [rpm, w] of Object.entries(expected).map(([r, w]) => [Number(r), w] as const)) {
    it(`${rpm} rpm: ${w.length}-sample windows every ${w.hop} samples, and the front end takes exactly them`, () => {
      assert.deepEqual(recordingWindows(c, rpm), w);
      const x = impactTrain(w.length, 12000, (3.585 * rpm) / 60, { noise: 0.1, seed: rpm });
      const out = fe.process(x, rpm);
      assert.ok(out.every(Number.isFinite));
      assert.equal(fe.lastRpm, rpm);
      // Only the first `length` samples are read: a longer window gives the same input.
      const longer = add(new Float32Array(w.length + 500), x);
      assert.deepEqual(fe.process(longer, rpm), out);
      throwsCode(
        () => fe.process(x.subarray(0, w.length - 1), rpm),
        'FL_ERR_SIGNAL_TOO_SHORT',
        new RegExp(`at ${rpm} rpm`),
      );
    });
  }

  it('without a speed the windows are sized for the slowest one served; time mode and version 1 keep theirs', () => {
    assert.deepEqual(recordingWindows(c), { length: 9601, hop: 1483 });
    assert.deepEqual(recordingWindows(c, Number.NaN), { length: 9601, hop: 1483 });
    assert.deepEqual(recordingWindows(c, 0), { length: 9601, hop: 1483 });
    const time = resolveFrontEndConfig({ version: 2, mode: 'time' });
    assert.deepEqual(recordingWindows(time, 600), { length: 2048, hop: 512 });
    assert.deepEqual(recordingWindows(SIM_12K_V1, 600), { length: 12000, hop: 3000 });
  });

  it('the front end refuses a bad speed, an empty window and a wrong output size', () => {
    const x = new Float32Array(9601);
    for (const rpm of [0, -5, Number.NaN])
      throwsCode(() => fe.process(x, rpm), 'FL_ERR_DSP_PARAMS', /rpm must be a finite speed/);
    throwsCode(() => fe.process(new Float32Array(0), 600), 'FL_ERR_SIGNAL_EMPTY');
    throwsCode(
      () => fe.process(x, 600, new Float32Array(7)),
      'FL_ERR_DSP_PARAMS',
      /output array has length 7, the front end needs 512/,
    );
  });
});

describe('version 2: the speed estimate when no rpm is given', () => {
  const c = resolveFrontEndConfig({ version: 2 });
  const fe = createFrontEnd(c);
  const fs = 12000;

  for (const rpm of [900, 1500, 2400]) {
    it(`${rpm} rpm with clear shaft harmonics: estimated within 1 %, and the input is the one that speed gives`, () => {
      const fr = rpm / 60;
      const n = c.windowLength;
      const x = impactTrain(n, fs, 3.585 * fr, { noise: 0.05, seed: rpm });
      add(x, tone(n, fs, fr, 0.3));
      add(x, tone(n, fs, 2 * fr, 0.2, 0.5));
      add(x, tone(n, fs, 3 * fr, 0.1, 1));
      const out = fe.process(x);
      const est = fe.lastRpm;
      assert.ok(est !== undefined && Math.abs(est / rpm - 1) < 0.01, `estimated ${est} rpm`);
      assert.deepEqual(fe.process(x, est), out);
    });
  }

  it('noise without shaft lines: FL_ERR_SPEED_UNKNOWN, not a guess', () => {
    throwsCode(() => fe.process(gaussian(c.windowLength, 3)), 'FL_ERR_SPEED_UNKNOWN');
    const bad = gaussian(c.windowLength, 4);
    bad[10] = Number.NaN;
    throwsCode(() => fe.process(bad), 'FL_ERR_SIGNAL_NONFINITE');
  });
});

/**
 * The inputs the code before version 2 (commit 963aae3) computed for
 * v1Signal through each version-1 config: 48 values at fixed positions, a
 * weighted sum Σ v[i]·((i mod 13) − 6) and Σ|v[i]|, and the speed it used.
 * Generated by running that commit's src/dsp/frontend.ts on the same signal.
 */
const BEFORE_V2: Record<
  string,
  {
    shape: number[];
    lastRpm: number | undefined;
    weighted: number;
    absSum: number;
    picks: [number, number][];
  }
> = {
  'sim-12k, 1797 rpm': {
    shape: [64, 32, 1],
    lastRpm: 1797,
    weighted: 60.643351,
    absSum: 1669.1831,
    picks: [
      [13, -0.60414541],
      [810, -0.59389049],
      [1607, 0.99246097],
      [356, -0.54682398],
      [1153, 1.1622525],
      [1950, -0.4408271],
      [699, 1.5300113],
      [1496, -1.144058],
      [245, 2.4226301],
      [1042, -0.97110993],
      [1839, 0.6716333],
      [588, -0.5947035],
      [1385, 1.0172914],
      [134, -0.60778654],
      [931, 1.4562564],
      [1728, -1.2062777],
      [477, 1.9246677],
      [1274, -0.49466616],
      [23, -2.6609509],
      [820, -0.16636643],
      [1617, 0.93380845],
      [366, -0.3526746],
      [1163, 1.2395854],
      [1960, -0.77157688],
      [709, 1.5503825],
      [1506, -0.87348735],
      [255, 2.4093645],
      [1052, -0.75826424],
      [1849, 0.70194989],
      [598, -0.5613935],
      [1395, 1.0567987],
      [144, -0.56012481],
      [941, 1.3755598],
      [1738, -0.26374549],
      [487, 1.7296919],
      [1284, -0.14795832],
      [33, -0.72228676],
      [830, -1.2121394],
      [1627, 0.86088747],
      [376, -1.6723739],
      [1173, 1.2933919],
      [1970, -0.40398657],
      [719, 1.6023151],
      [1516, -1.1799151],
      [265, 2.0445006],
      [1062, -0.52541703],
      [1859, 0.70743579],
      [608, -1.6417474],
    ],
  },
  'sim-12k, rpm estimated': {
    shape: [64, 32, 1],
    lastRpm: 1797.005261,
    weighted: 60.617125,
    absSum: 1669.226,
    picks: [
      [13, -0.60415483],
      [810, -0.59395218],
      [1607, 0.99251175],
      [356, -0.54683334],
      [1153, 1.1622601],
      [1950, -0.44080415],
      [699, 1.5300887],
      [1496, -1.1442466],
      [245, 2.4227061],
      [1042, -0.97114962],
      [1839, 0.67173553],
      [588, -0.59470391],
      [1385, 1.0173105],
      [134, -0.60785246],
      [931, 1.4562707],
      [1728, -1.2062864],
      [477, 1.9247363],
      [1274, -0.49470359],
      [23, -2.6613774],
      [820, -0.1663778],
      [1617, 0.93387723],
      [366, -0.35268953],
      [1163, 1.2395996],
      [1960, -0.77148074],
      [709, 1.5503999],
      [1506, -0.87363344],
      [255, 2.4094412],
      [1052, -0.75821221],
      [1849, 0.70202458],
      [598, -0.56143391],
      [1395, 1.0568172],
      [144, -0.5602327],
      [941, 1.3755651],
      [1738, -0.26382175],
      [487, 1.7297117],
      [1284, -0.14802442],
      [33, -0.72231883],
      [830, -1.2121172],
      [1627, 0.86093593],
      [376, -1.6725721],
      [1173, 1.2934117],
      [1970, -0.40423378],
      [719, 1.6023299],
      [1516, -1.1797128],
      [265, 2.0445414],
      [1062, -0.52539718],
      [1859, 0.70734417],
      [608, -1.6417972],
    ],
  },
  'sim-12k without decimate (full-rate envelope)': {
    shape: [64, 32, 1],
    lastRpm: 1797,
    weighted: 56.238095,
    absSum: 1672.1077,
    picks: [
      [13, -0.63078767],
      [810, -0.58835828],
      [1607, 0.98735464],
      [356, -0.5308044],
      [1153, 1.1675004],
      [1950, -0.46313831],
      [699, 1.5300521],
      [1496, -1.186059],
      [245, 2.4266362],
      [1042, -0.97126025],
      [1839, 0.68664181],
      [588, -0.59827501],
      [1385, 1.0134412],
      [134, -0.64271343],
      [931, 1.4574145],
      [1728, -1.2125255],
      [477, 1.9284497],
      [1274, -0.48247239],
      [23, -2.2681735],
      [820, -0.17598864],
      [1617, 0.9396103],
      [366, -0.38248211],
      [1163, 1.2441405],
      [1960, -0.78152812],
      [709, 1.5556315],
      [1506, -0.88479555],
      [255, 2.4138312],
      [1052, -0.7702176],
      [1849, 0.69967914],
      [598, -0.56254315],
      [1395, 1.0512577],
      [144, -0.5447098],
      [941, 1.3764633],
      [1738, -0.24868815],
      [487, 1.733981],
      [1284, -0.14295954],
      [33, -0.71153933],
      [830, -1.1542406],
      [1627, 0.86165828],
      [376, -1.7390137],
      [1173, 1.2972101],
      [1970, -0.4115321],
      [719, 1.6038891],
      [1516, -1.2138402],
      [265, 2.0483308],
      [1062, -0.50256991],
      [1859, 0.69825608],
      [608, -1.5646284],
    ],
  },
  'sim-12k raw signal (no envelope)': {
    shape: [64, 32, 1],
    lastRpm: 1797,
    weighted: 96.363124,
    absSum: 1507.8816,
    picks: [
      [13, -0.79136199],
      [810, -0.38810122],
      [1607, 1.0043912],
      [356, -0.77840376],
      [1153, 0.53905153],
      [1950, -0.81723827],
      [699, 0.10369163],
      [1496, -1.0144063],
      [245, 1.5312507],
      [1042, 0.37430835],
      [1839, 0.28492284],
      [588, -0.052775126],
      [1385, 1.3025295],
      [134, 2.3887918],
      [931, 0.67776817],
      [1728, -0.20570856],
      [477, 0.26949081],
      [1274, -0.32059839],
      [23, -0.92036295],
      [820, -1.2508013],
      [1617, 0.84693724],
      [366, -0.69552231],
      [1163, 0.055605825],
      [1960, -0.88212711],
      [709, -0.080786869],
      [1506, -0.78367871],
      [255, 1.6337441],
      [1052, -1.1689752],
      [1849, 0.74751174],
      [598, -0.5654797],
      [1395, 0.26661125],
      [144, 2.2209971],
      [941, 0.83943367],
      [1738, -0.82482749],
      [487, 0.49568486],
      [1284, -0.65397793],
      [33, 2.1762118],
      [830, -0.27947971],
      [1627, 0.33467382],
      [376, -2.7459958],
      [1173, -0.29062557],
      [1970, -0.7427147],
      [719, 0.41263753],
      [1516, -0.90591067],
      [265, 0.18201716],
      [1062, -0.48080167],
      [1859, 0.37467411],
      [608, -1.6459327],
    ],
  },
  'cwru-de12k (time mode)': {
    shape: [64, 32, 1],
    lastRpm: undefined,
    weighted: -133.49341,
    absSum: 1544.6526,
    picks: [
      [13, 1.9886768],
      [810, 0.51119691],
      [1607, 0.35449722],
      [356, -0.19806203],
      [1153, 1.4127011],
      [1950, -2.0425735],
      [699, 0.10376788],
      [1496, -0.39746788],
      [245, -0.93248916],
      [1042, 1.7185801],
      [1839, -0.85800916],
      [588, -0.39187816],
      [1385, -0.74409604],
      [134, -0.39778152],
      [931, 0.80639076],
      [1728, 0.13573778],
      [477, -0.18429245],
      [1274, 0.51961815],
      [23, 1.5170456],
      [820, 0.29680896],
      [1617, -0.12219301],
      [366, 0.066467315],
      [1163, 1.5100473],
      [1960, -0.76715803],
      [709, -0.23997554],
      [1506, -0.26934826],
      [255, -0.3855153],
      [1052, 1.9103442],
      [1849, -0.080755822],
      [598, -0.25436834],
      [1395, -0.2027054],
      [144, -0.41441578],
      [941, 0.78924328],
      [1738, -0.56246197],
      [487, 0.62958068],
      [1284, 0.72675115],
      [33, 0.73960209],
      [830, -0.18697734],
      [1627, -0.47733206],
      [376, -0.49515519],
      [1173, 1.5412676],
      [1970, -3.2169635],
      [719, -0.26406023],
      [1516, -0.65657043],
      [265, 0.055786427],
      [1062, 2.5974622],
      [1859, -0.5176909],
      [608, -0.73812181],
    ],
  },
};

describe('version 1: models written before keep computing what they computed', () => {
  const legacy: FrontEndConfig = {
    ...SIM_12K_V1,
    order: { ...SIM_12K_V1.order, envelope: { lowHz: 2000, highHz: 5000 } },
  };
  const raw: FrontEndConfig = { ...SIM_12K_V1, order: { ...SIM_12K_V1.order, envelope: null } };
  const cases: [string, FrontEndConfig, number, number | undefined][] = [
    ['sim-12k, 1797 rpm', SIM_12K_V1, 12000, 1797],
    ['sim-12k, rpm estimated', SIM_12K_V1, 12000, undefined],
    ['sim-12k without decimate (full-rate envelope)', legacy, 12000, 1797],
    ['sim-12k raw signal (no envelope)', raw, 12000, 1797],
    ['cwru-de12k (time mode)', CWRU_DE12K_V1, 2048, undefined],
  ];
  for (const [name, cfg, n, rpm] of cases) {
    it(`${name}: the input computed before version 2 (≤ 1e-5)`, () => {
      const ref = BEFORE_V2[name];
      const fe = createFrontEnd(cfg);
      const y = fe.process(v1Signal(n), rpm);
      assert.deepEqual([...fe.inputShape], ref.shape);
      if (ref.lastRpm === undefined) assert.equal(fe.lastRpm, undefined);
      else assert.ok(Math.abs((fe.lastRpm ?? 0) - ref.lastRpm) < 1e-3, `rpm ${fe.lastRpm}`);
      for (const [i, v] of ref.picks)
        assert.ok(Math.abs(y[i] - v) <= 1e-5, `[${i}] ${y[i]} vs ${v}`);
      let weighted = 0;
      let absSum = 0;
      for (let i = 0; i < y.length; i++) {
        weighted += y[i] * ((i % 13) - 6);
        absSum += Math.abs(y[i]);
      }
      assert.ok(Math.abs(weighted - ref.weighted) < 1e-3, `weighted ${weighted}`);
      assert.ok(Math.abs(absSum - ref.absSum) < 1e-3, `Σ|v| ${absSum}`);
      // Re-resolved (as a stored config is when loaded): the same input, bit for bit.
      const again = createFrontEnd(resolveFrontEndConfig(JSON.parse(JSON.stringify(cfg))));
      assert.deepEqual(again.process(v1Signal(n), rpm), y);
      // One channel, channel-last = the [F, T] spectrogram itself.
      assert.deepEqual(channelOf(y, fe.inputShape, 0), y);
    });
  }

  it('a stored version-1 config resolves to itself', () => {
    for (const cfg of [SIM_12K_V1, CWRU_DE12K_V1]) {
      const copy = JSON.parse(JSON.stringify(cfg));
      assert.deepEqual(resolveFrontEndConfig(copy), cfg);
      assert.deepEqual(copy, cfg, 'the input is not modified');
      assert.deepEqual(createFrontEnd(copy).config, cfg);
    }
  });

  it('partial version-1 inputs resolve as before version 2 (no version means version 1)', () => {
    const order = {
      samplesPerRev: 128,
      revolutions: 8,
      minRpm: 600,
      maxRpm: 3600,
      envelope: { lowHz: 2000, highHz: 5000, decimate: true },
    };
    const stft = {
      window: 'hann',
      nfft: 512,
      freqBins: 64,
      frames: 64,
      fMin: 0,
      fMax: null,
      scale: 'db',
      epsilon: 1e-6,
    };
    const common = { version: 1, normalisation: 'zscore', amplitude: 'rms', order };
    // What commit 963aae3 resolved these to.
    assert.deepEqual(resolveFrontEndConfig({}), {
      ...common,
      sampleRate: 12000,
      windowLength: 12000,
      hop: 6000,
      mode: 'time',
      stft,
    });
    assert.deepEqual(resolveFrontEndConfig({ mode: 'order' }), {
      ...common,
      sampleRate: 12000,
      windowLength: 12000,
      hop: 6000,
      mode: 'order',
      stft: { ...stft, nfft: 256, fMax: 32 },
    });
    assert.deepEqual(resolveFrontEndConfig({ mode: 'order', order: { envelope: null } }), {
      ...common,
      sampleRate: 12000,
      windowLength: 12000,
      hop: 6000,
      mode: 'order',
      stft: { ...stft, nfft: 256 },
      order: { ...order, envelope: null },
    });
    assert.deepEqual(
      resolveFrontEndConfig({
        sampleRate: 48000,
        windowLength: 2048,
        hop: 512,
        stft: { nfft: 256, freqBins: 64, frames: 32 },
      }),
      {
        ...common,
        sampleRate: 48000,
        windowLength: 2048,
        hop: 512,
        mode: 'time',
        stft: { ...stft, nfft: 256, frames: 32 },
      },
    );
  });
});
