/**
 * The live pipeline end to end: real worker threads, a real model trained by
 * the model stage on simulator data (test/support/pipeline-model.ts), simulated streams.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HealthChange } from '../../src/contract/health.js';
import type { MachineDiagnosis } from '../../src/contract/machine.js';
import { StreamResampler } from '../../src/data/resample-stream.js';
import { DiagnosisPipeline } from '../../src/diagnose/pipeline.js';
import type { WindowDropped } from '../../src/diagnose/pipeline-status.js';
import { vibrationSummary } from '../../src/dsp/features.js';
import { isFaultlineError } from '../../src/errors.js';
import type { IngestedBlock } from '../../src/ingest/source.js';
import { contentHash } from '../../src/model/artifact.js';
import { BearingSignalGenerator, generateBearingSignal } from '../../src/sim/generator.js';
import { modelVariant, simModelDir } from '../support/pipeline-model.js';
import { sleep, toBlocks } from './helpers.js';

let modelDir: string;
before(async () => {
  modelDir = await simModelDir();
});

const sig = (fault: 'none' | 'inner' | 'outer' | 'ball', seconds: number, seed = 11) =>
  generateBearingSignal({ fault, condition: 'source-1797rpm', seed }, Math.round(seconds * 12000));

function majority(
  ds: MachineDiagnosis[],
  f: (d: MachineDiagnosis) => string | null,
): string | null {
  const c = new Map<string | null, number>();
  for (const d of ds) c.set(f(d), (c.get(f(d)) ?? 0) + 1);
  return [...c.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}

describe('DiagnosisPipeline: diagnosis, speed sources, refusals', () => {
  let p: DiagnosisPipeline;
  const diags: MachineDiagnosis[] = [];
  const errors: Error[] = [];
  const dropped: WindowDropped[] = [];
  const health: (HealthChange & { site: string })[] = [];

  before(async () => {
    const one = (machine: string, extra = {}) => ({
      site: 'plant',
      machine,
      sensors: [{ id: '1', sampleRate: 12000 }],
      modelDir,
      ...extra,
    });
    p = new DiagnosisPipeline({
      machines: [
        one('inner-cfg', { nominalRpm: 1797 }),
        one('normal-frame', { nominalRpm: 1500 }),
        one('inner-est'),
        { ...one('fast'), sensors: [{ id: '1', sampleRate: 48000 }] },
      ],
      workers: 2,
      maxLatencyMs: 20,
    });
    p.on('diagnosis', (d) => diags.push(d));
    p.on('error', (e) => errors.push(e));
    p.on('window-dropped', (d) => dropped.push(d));
    p.on('health', (c) => health.push(c));
    await p.start();
    const key = (machine: string) => ({ site: 'plant', machine, sensor: '1' });
    const inner = toBlocks(sig('inner', 2, 21), { frames: 700 });
    const normal = toBlocks(sig('none', 2, 22), { frames: 333, rpm: 1797 });
    const innerEst = toBlocks(sig('inner', 2, 23), { frames: 4096 });
    for (let i = 0; i < Math.max(inner.length, normal.length, innerEst.length); i++) {
      if (inner[i]) assert.equal(p.push(inner[i], key('inner-cfg')), true);
      if (normal[i]) assert.equal(p.push(normal[i], key('normal-frame')), true);
      if (innerEst[i]) assert.equal(p.push(innerEst[i], key('inner-est')), true);
    }
    assert.equal(p.push(inner[0], { site: 'plant', machine: 'inner-cfg', sensor: '9' }), false);
    // Configured at 48 kHz, streaming at 12 kHz: the blocks' own rate is followed from the first block.
    assert.equal(p.push(inner[0], key('fast')), true);
    assert.equal(await p.drain(20_000), true);
  });
  after(() => p.close());

  const of = (machine: string) => diags.filter((d) => d.machine === machine);

  it('diagnoses a simulated inner-race stream as inner race and a healthy one as normal', () => {
    const inner = of('inner-cfg');
    const normal = of('normal-frame');
    // 24 000 samples, 2048-sample windows every 1024: 22 windows
    assert.equal(inner.length, 22);
    assert.equal(normal.length, 22);
    assert.equal(
      majority(inner, (d) => d.faultClass),
      'inner race',
    );
    assert.equal(
      majority(normal, (d) => d.faultClass),
      'normal',
    );
    const hits = inner.filter((d) => d.faultClass === 'inner race').length;
    assert.ok(hits >= 0.8 * inner.length, `${hits}/${inner.length} inner-race windows`);
    assert.equal(
      majority(inner, (d) => d.evidence.defect),
      'BPFI',
    );
    const d = inner[5];
    assert.equal(d.modelClass, 'inner');
    assert.ok(Math.abs(Object.values(d.probs).reduce((a, b) => a + b, 0) - 1) < 1e-4);
    assert.equal(d.confidence, d.probs[d.modelClass]);
    assert.match(d.modelVersion, /^[0-9a-f]{12}$/);
    assert.ok(d.latencyMs >= 0 && Number.isFinite(d.latencyMs));
    assert.ok(d.rmsG > 0 && d.velocityRmsMmS > 0 && d.kurtosis > 0 && d.crestFactor > 1);
    assert.match(d.isoZone, /^[ABCD]$/);
    // peak and crest factor come from the same pass: peak = crest × RMS
    assert.ok(d.peakG !== undefined && Math.abs(d.peakG - d.crestFactor * d.rmsG) < 1e-4 * d.peakG);
    // every line's score travels, the winner's equal to the evidence score
    const scores = d.evidence.scores ?? {};
    assert.deepEqual(Object.keys(scores).sort(), ['BPFI', 'BPFO', 'BSF']);
    assert.equal(scores.BPFI, d.evidence.score);
  });

  it('computes velocity RMS every 4th window (featuresEvery) and carries it in between', () => {
    // Reference: the same 2048-sample windows (hop 1024) cut from the same
    // stream and summarised directly.
    const x = sig('inner', 2, 21);
    const ref = (k: number) => vibrationSummary(x.subarray(k * 1024, k * 1024 + 2048), 12000);
    const inner = of('inner-cfg');
    const computed = new Map<number, number>();
    for (let k = 0; k < inner.length; k += 4) computed.set(k, ref(k).velocityRmsMmS);
    inner.forEach((d, k) => {
      assert.ok(d.velocityRmsMmS > 0, `window ${k} carries a velocity`);
      // RMS and the shape statistics stay per window.
      assert.ok(Math.abs(d.rmsG - ref(k).rmsG) <= 1e-6 * ref(k).rmsG, `window ${k} rmsG`);
      if (k % 4 === 0) {
        const r = ref(k);
        assert.ok(Math.abs(d.velocityRmsMmS - r.velocityRmsMmS) <= 1e-9 * r.velocityRmsMmS);
        assert.equal(d.isoZone, r.isoZone);
      } else {
        // The last computed value that had arrived (workers may finish out of order).
        const match = [...computed].some(
          ([j, v]) => j <= k + 8 && Math.abs(d.velocityRmsMmS - v) <= 1e-9 * v,
        );
        assert.ok(match, `window ${k}: ${d.velocityRmsMmS} is no computed window's value`);
      }
    });
    assert.ok(new Set(inner.map((d) => d.velocityRmsMmS)).size <= computed.size);
    assert.throws(
      () => new DiagnosisPipeline({ machines: [], featuresEvery: 0 }),
      /featuresEvery must be a positive integer/,
    );
  });

  it('emits each sensor’s windows in order, stamped with the time of their last sample', () => {
    const inner = of('inner-cfg');
    const t0 = 1_700_000_000_000;
    inner.forEach((d, k) => {
      const last = k * 1024 + 2047;
      assert.ok(Math.abs(d.t - (t0 + (last * 1000) / 12000)) < 1e-3, `window ${k}: t ${d.t}`);
    });
  });

  it('takes the speed from the frame, else the config, else the spectrum', () => {
    assert.ok(of('normal-frame').every((d) => d.rpmSource === 'frame' && d.rpm === 1797));
    assert.ok(of('inner-cfg').every((d) => d.rpmSource === 'config' && d.rpm === 1797));
    const est = of('inner-est');
    assert.ok(est.length > 0);
    assert.ok(est.every((d) => d.rpmSource === 'estimate'));
    // From window 10 on, 1 s of history is there to estimate from (0.5 % error or so).
    // (the dsp estimator may still fall an octave low on a window: 600–3600 rpm spans 2.6 octaves)
    const close = est.slice(10).filter((d) => Math.abs((d.rpm ?? 0) - 1797) < 20).length;
    assert.ok(close >= 0.8 * est.slice(10).length, JSON.stringify(est.map((d) => d.rpm)));
  });

  it('never refuses a sensor for its rate: one configured at another rate follows its blocks', () => {
    assert.equal(errors.filter((e) => isFaultlineError(e, 'FL_ERR_MODEL_MISMATCH')).length, 0);
    const fast = p.snapshot().find((m) => m.machine === 'fast')?.sensors[0];
    assert.equal(fast?.state, 'running');
    assert.equal(fast?.sampleRate, 48000);
    assert.equal(fast?.streamRate, 12000);
    assert.equal(fast?.resampling, null, 'a 12 kHz stream into a 12 kHz model is taken as it is');
    assert.equal(fast?.dropped, 0);
    const ok = p.snapshot().find((m) => m.machine === 'inner-cfg');
    assert.equal(ok?.sensors[0].state, 'running');
    assert.equal(ok?.sensors[0].windowsOut, 22);
  });

  it('counts unknown sensors as dropped', () => {
    const s = p.stats();
    assert.equal(s.dropped.blocks['unknown-sensor'], 1);
    assert.equal(s.dropped.blocks.refused, undefined);
    assert.ok(dropped.some((d) => d.reason === 'unknown-sensor' && d.sensor === '9'));
    assert.equal(s.windowsIn, s.windowsOut);
    assert.equal(s.windowsOut, diags.length);
    assert.ok(s.latencyMs.p50 > 0 && s.latencyMs.p99 >= s.latencyMs.p50);
    assert.ok(s.perWindowMs.frontEnd > 0 && s.perWindowMs.cnn > 0);
  });

  it('raises the health of the faulty machine, not of the healthy one', () => {
    const raised = health.filter((c) => c.machine === 'inner-cfg').map((c) => c.to);
    assert.ok(raised.includes('watch') || raised.includes('warning') || raised.includes('alarm'));
    assert.equal(health.filter((c) => c.machine === 'normal-frame').length, 0);
    const snap = p.snapshot().find((m) => m.machine === 'inner-cfg');
    assert.equal(snap?.health.faultClass, 'inner race');
    assert.equal(snap?.rpmSource, 'config');
  });
});

describe('DiagnosisPipeline: micro-batching and bounded queues', () => {
  it('never exceeds maxBatch, seals on time, and drops the newest when the queue is full', async () => {
    const sensors = Array.from({ length: 12 }, (_, i) => ({ id: String(i), sampleRate: 12000 }));
    const p = new DiagnosisPipeline({
      machines: [{ site: 's', machine: 'm', sensors, modelDir, nominalRpm: 1797 }],
      workers: 1,
      maxBatch: 8,
      maxLatencyMs: 25,
      maxQueue: 16,
    });
    let out = 0;
    p.on('diagnosis', () => out++);
    await p.start();
    try {
      // Burst: 12 sensors × 4 windows at once = 48 windows > queue of 16.
      const x = sig('none', (2048 + 3 * 1024) / 12000, 5);
      for (const s of sensors)
        p.push(toBlocks(x, { frames: x.length })[0], { site: 's', machine: 'm', sensor: s.id });
      await p.drain(20_000);
      let st = p.stats();
      assert.equal(st.windowsIn, 48);
      assert.ok((st.dropped.windows['queue-full'] ?? 0) > 0, JSON.stringify(st.dropped));
      assert.equal(st.windowsOut + (st.dropped.windows['queue-full'] ?? 0), st.windowsIn);
      assert.equal(out, st.windowsOut);
      assert.ok(st.maxBatchSize <= 8);
      assert.ok(st.sealedFull >= 2, `sealed full ${st.sealedFull}`);
      // Trickle: one window at a time, well apart: each batch is sealed by its timer.
      const before = st.sealedTimer;
      const y = sig('none', 1, 6);
      const blocks = toBlocks(y, { frames: 1024 });
      for (const b of blocks.slice(0, 6)) {
        p.push(b, { site: 's', machine: 'm', sensor: '0' });
        await sleep(60);
      }
      await p.drain(10_000);
      st = p.stats();
      assert.ok(st.sealedTimer > before);
      // A batch is sealed within maxLatencyMs plus timer slack (loaded shared machine).
      assert.ok(st.maxFormWaitMs <= 25 + 100, `form wait ${st.maxFormWaitMs} ms`);
      assert.equal(st.queueDepth, 0);
      assert.equal(st.inFlight, 0);
    } finally {
      await p.close();
    }
  });
});

describe('DiagnosisPipeline: model switch', () => {
  it('switches models without dropping a window', async () => {
    // Another artifact with the same weights but other model.json bytes: a
    // different content hash, so the workers really load a second model.
    const other = await modelVariant(modelDir, () => {});
    const mj = path.join(other, 'model.json');
    const json = JSON.parse(await readFile(mj, 'utf8'));
    json.convertedBy = 'pipeline test';
    await writeFile(mj, JSON.stringify(json));
    const meta = JSON.parse(await readFile(path.join(other, 'faultline.json'), 'utf8'));
    meta.contentHash = contentHash(
      await readFile(mj),
      await readFile(path.join(other, 'weights.bin')),
    );
    await writeFile(path.join(other, 'faultline.json'), JSON.stringify(meta));

    const p = new DiagnosisPipeline({
      machines: [
        {
          site: 's',
          machine: 'm',
          sensors: [{ id: 'a', sampleRate: 12000 }],
          modelDir,
          nominalRpm: 1797,
        },
      ],
      workers: 2,
      maxLatencyMs: 10,
    });
    const seen: MachineDiagnosis[] = [];
    p.on('diagnosis', (d) => seen.push(d));
    await p.start();
    try {
      const blocks = toBlocks(sig('outer', 3, 8), { frames: 300 });
      const half = blocks.length >> 1;
      for (const b of blocks.slice(0, half)) p.push(b, { site: 's', machine: 'm', sensor: 'a' });
      const switching = p.setModel('m', other);
      // Keep streaming while the workers load the new model.
      for (const b of blocks.slice(half, half + 20)) {
        p.push(b, { site: 's', machine: 'm', sensor: 'a' });
        await sleep(1);
      }
      await switching;
      for (const b of blocks.slice(half + 20)) p.push(b, { site: 's', machine: 'm', sensor: 'a' });
      await p.drain(20_000);
      const st = p.stats();
      const expected = Math.floor((36000 - 2048) / 1024) + 1;
      assert.equal(st.windowsIn, expected);
      assert.equal(st.windowsOut, expected);
      assert.equal(seen.length, expected);
      const versions = seen.map((d) => d.modelVersion);
      const oldV = versions[0];
      const newV = meta.contentHash.slice(0, 12);
      assert.notEqual(oldV, newV);
      const firstNew = versions.indexOf(newV);
      assert.ok(firstNew > 0, 'the new model diagnosed some windows');
      assert.ok(
        versions.slice(firstNew).every((v) => v === newV),
        'no window goes back to the old model',
      );
      assert.equal(p.snapshot()[0].model?.version, newV);
      await assert.rejects(
        p.setModel('m', path.join(other, 'missing')),
        /FL_ERR_MODEL_FILE|cannot be read/,
      );
      // A front end that does not make the network's input still refuses (the rate alone never does).
      const wrongFrontEnd = await modelVariant(other, (m) => {
        (m.frontEnd as { stft: { frames: number } }).stft.frames = 16;
      });
      await assert.rejects(p.setModel('m', wrongFrontEnd), (e) =>
        isFaultlineError(e, 'FL_ERR_MODEL_MISMATCH'),
      );
      assert.equal(p.snapshot()[0].model?.version, newV);
    } finally {
      await p.close();
    }
  });
});

describe('DiagnosisPipeline: stream faults', () => {
  it('reports a silent sensor, link errors and clipping as stream states', async () => {
    const p = new DiagnosisPipeline({
      machines: [
        {
          site: 's',
          machine: 'quiet',
          sensors: [{ id: '1', sampleRate: 12000 }],
          modelDir,
          silentAfterS: 0.3,
          nominalRpm: 1797,
        },
        {
          site: 's',
          machine: 'links',
          sensors: [{ id: '1', sampleRate: 12000 }],
          modelDir,
          nominalRpm: 1797,
        },
        {
          site: 's',
          machine: 'clip',
          sensors: [{ id: '1', sampleRate: 12000, fullScaleG: 0.1 }],
          modelDir,
          nominalRpm: 1797,
        },
      ],
      workers: 1,
      tickMs: 50,
      maxLatencyMs: 10,
    });
    const changes: (HealthChange & { site: string })[] = [];
    p.on('health', (c) => changes.push(c));
    await p.start();
    try {
      const x = sig('none', 0.5, 9);
      for (const b of toBlocks(x)) p.push(b, { site: 's', machine: 'quiet', sensor: '1' });
      const clipped = sig('none', 1, 10).map((v) => Math.max(-0.1, Math.min(0.1, v)));
      for (const b of toBlocks(clipped)) p.push(b, { site: 's', machine: 'clip', sensor: '1' });
      p.noteStream(
        { site: 's', machine: 'links', sensor: '1' },
        { frames: 80, crcErrors: 10, gaps: 5 },
      );
      await p.drain(10_000);
      await sleep(700);
      const to = (m: string) => changes.filter((c) => c.machine === m).map((c) => c.to);
      assert.ok(to('quiet').includes('silent'), JSON.stringify(changes));
      assert.ok(to('links').includes('stream-errors'));
      assert.ok(to('clip').includes('saturated'));
      assert.equal(p.snapshot().find((m) => m.machine === 'quiet')?.state, 'silent');
      assert.equal(
        p.snapshot().find((m) => m.machine === 'links')?.sensors[0].stream.crcErrors,
        10,
      );
    } finally {
      await p.close();
    }
  });
});

/** `n` samples of a simulated 1797 rpm machine sampled at `fs` Hz. */
const sigAt = (fault: 'none' | 'inner', fs: number, seconds: number, seed: number) =>
  new BearingSignalGenerator({ fault, condition: 'source-1797rpm', seed, sampleRate: fs }).next(
    Math.round(seconds * fs),
  );

/** Outputs a 26 667 → 12 000 Hz stream of `n` samples yields (what the pipeline's windower sees). */
function resampledCount(n: number, from: number, to = 12000): number {
  let count = 0;
  new StreamResampler(from, to).push(new Float32Array(n), 1, 0, n, (y) => {
    count += y.length;
  });
  return count;
}

describe('DiagnosisPipeline: any sensor rate (the 26 667 Hz reference node into a 12 kHz model)', () => {
  let p: DiagnosisPipeline;
  const diags: MachineDiagnosis[] = [];
  const errors: Error[] = [];
  const T0_US = 1_700_000_000_000_000n;
  const x26 = sigAt('inner', 26667, 3, 31);

  before(async () => {
    const one = (machine: string, sampleRate: number, channel?: number) => ({
      site: 'plant',
      machine,
      sensors: [{ id: '1', sampleRate, ...(channel !== undefined ? { channel } : {}) }],
      modelDir,
      nominalRpm: 1797,
    });
    p = new DiagnosisPipeline({
      machines: [one('inner-12k', 12000), one('inner-26k', 26667), one('inner-26k-xyz', 26667, 1)],
      workers: 2,
      maxLatencyMs: 20,
    });
    p.on('diagnosis', (d) => diags.push(d));
    p.on('error', (e) => errors.push(e));
    await p.start();
    const key = (machine: string) => ({ site: 'plant', machine, sensor: '1' });
    const b12 = toBlocks(sigAt('inner', 12000, 3, 31), { frames: 512 });
    const b26 = toBlocks(x26, { fs: 26667, frames: 512, t0Us: T0_US });
    // The same stream as the middle of three interleaved axes (the node sends x, y, z).
    const xyz = b26.map((b) => {
      const n = b.samples.length;
      const samples = new Float32Array(3 * n);
      for (let i = 0; i < n; i++) {
        samples[3 * i] = 5 * Math.sin(i);
        samples[3 * i + 1] = b.samples[i];
        samples[3 * i + 2] = -3;
      }
      return { ...b, channels: 3, samples };
    });
    for (let i = 0; i < Math.max(b12.length, b26.length); i++) {
      if (b12[i]) assert.equal(p.push(b12[i], key('inner-12k')), true);
      if (b26[i]) assert.equal(p.push(b26[i], key('inner-26k')), true);
      if (xyz[i]) assert.equal(p.push(xyz[i], key('inner-26k-xyz')), true);
    }
    assert.equal(await p.drain(30_000), true);
  });
  after(() => p.close());

  const of = (machine: string) => diags.filter((d) => d.machine === machine);

  it('diagnoses the 26 667 Hz stream live: windows come out, inner race called as at 12 kHz', () => {
    const at12 = of('inner-12k');
    const at26 = of('inner-26k');
    // 3 s → 80 001 samples → resampled to 12 kHz (less the filter's last half-width) → windows of 2048 every 1024.
    const outs = resampledCount(x26.length, 26667);
    assert.ok(outs > 35_900 && outs <= 36_000, `${outs} resampled samples`);
    assert.equal(at26.length, Math.floor((outs - 2048) / 1024) + 1);
    assert.equal(at12.length, Math.floor((36000 - 2048) / 1024) + 1);
    for (const [name, ds] of [
      ['12 kHz', at12],
      ['26 667 Hz', at26],
    ] as const) {
      const hits = ds.filter((d) => d.faultClass === 'inner race').length;
      assert.ok(hits >= 0.8 * ds.length, `${name}: ${hits}/${ds.length} inner-race windows`);
      assert.equal(
        majority(ds, (d) => d.evidence.defect),
        'BPFI',
        name,
      );
    }
    assert.ok(at26.every((d) => d.rmsG > 0 && Number.isFinite(d.velocityRmsMmS)));
    assert.equal(errors.length, 0, errors.map((e) => e.message).join('; '));
  });

  it('stamps each window with the time of its last sample on the sensor clock', () => {
    // Window k ends at output k·1024 + 2047, the signal at input position (k·1024 + 2047)·26667/12000,
    // i.e. (k·1024 + 2047)/12000 s after the first sample: the filter adds no delay to the time.
    const t0 = Number(T0_US) / 1000;
    of('inner-26k').forEach((d, k) => {
      const expected = t0 + ((k * 1024 + 2047) * 1000) / 12000;
      assert.ok(Math.abs(d.t - expected) < 1e-2, `window ${k}: t ${d.t}, expected ${expected}`);
    });
  });

  it('resamples only the sensor’s channel of a multi-channel block', () => {
    const mono = of('inner-26k');
    const xyz = of('inner-26k-xyz');
    assert.equal(xyz.length, mono.length);
    xyz.forEach((d, k) => {
      assert.equal(d.t, mono[k].t);
      assert.ok(
        Math.abs(d.rmsG - mono[k].rmsG) < 1e-6,
        `window ${k}: rms ${d.rmsG} vs ${mono[k].rmsG}`,
      );
      for (const c of Object.keys(d.probs))
        assert.ok(Math.abs(d.probs[c] - mono[k].probs[c]) < 1e-4);
    });
  });

  it('shows the stream rate and resampler per sensor; a 12 kHz sensor is taken as it is', () => {
    const s26 = p.snapshot().find((m) => m.machine === 'inner-26k')?.sensors[0];
    assert.equal(s26?.streamRate, 26667);
    assert.match(s26?.resampling ?? '', /ratio 1\.*|Kaiser-windowed sinc/);
    assert.equal(s26?.dropped, 0);
    const s12 = p.snapshot().find((m) => m.machine === 'inner-12k')?.sensors[0];
    assert.equal(s12?.resampling, null);
    assert.equal(s12?.streamRate, 12000);
  });
});

describe('DiagnosisPipeline: blocks that do not fit', () => {
  it('drops and counts a misfit block, never latches, and diagnoses the next good blocks', async () => {
    const p = new DiagnosisPipeline({
      machines: [
        {
          site: 's',
          machine: 'flaky',
          sensors: [
            { id: '1', sampleRate: 26667 },
            { id: '2', sampleRate: 26667, channel: 1 },
          ],
          modelDir,
          nominalRpm: 1797,
        },
      ],
      workers: 1,
      maxLatencyMs: 10,
    });
    const diags: MachineDiagnosis[] = [];
    const dropped: WindowDropped[] = [];
    p.on('diagnosis', (d) => diags.push(d));
    p.on('window-dropped', (d) => dropped.push(d));
    p.on('error', () => {});
    await p.start();
    try {
      const k1 = { site: 's', machine: 'flaky', sensor: '1' };
      const k2 = { site: 's', machine: 'flaky', sensor: '2' };
      // One continuous clock: 1.5 s at 26 667 Hz, 1.5 s at 48 kHz (the node re-configured), 1.5 s at 26 667 Hz.
      const T0 = 1_700_000_000_000_000n;
      const us = (s: number) => BigInt(Math.round(s * 1e6));
      const a = toBlocks(sigAt('inner', 26667, 1.5, 41), { fs: 26667, t0Us: T0 });
      const b = toBlocks(sigAt('inner', 48000, 1.5, 42), { fs: 48000, t0Us: T0 + us(1.5) });
      const c = toBlocks(sigAt('inner', 26667, 1.5, 43), { fs: 26667, t0Us: T0 + us(3) });
      const pushed: { t0: number; ok: boolean }[] = [];
      const push = (blk: IngestedBlock) =>
        pushed.push({ t0: Number(blk.t0Us) / 1000, ok: p.push(blk, k1) });
      for (const blk of a.slice(0, 30)) push(blk);
      push({ ...a[30], sampleRate: Number.NaN });
      push({ ...a[31], sampleRate: 500 });
      push({ ...a[32], sampleRate: 2_000_000 });
      for (const blk of a.slice(33)) push(blk);
      for (const blk of b) push(blk); // the first is dropped: the rate changed mid-stream
      for (const blk of c) push(blk); // and back
      assert.deepEqual(
        pushed.map((x, i) => (x.ok ? null : i)).filter((i) => i !== null),
        [30, 31, 32, a.length, a.length + b.length],
      );
      // Sensor 2 reads channel 1: mono blocks do not have it; two-channel ones do.
      const mono = toBlocks(sigAt('inner', 26667, 0.2, 44), { fs: 26667 });
      for (const blk of mono) assert.equal(p.push(blk, k2), false);
      const two = toBlocks(sigAt('inner', 26667, 1, 45), { fs: 26667 }).map((blk) => {
        const s2 = new Float32Array(2 * blk.samples.length);
        blk.samples.forEach((v, i) => {
          s2[2 * i + 1] = v;
        });
        return { ...blk, channels: 2, samples: s2 };
      });
      for (const blk of two) assert.equal(p.push(blk, k2), true);
      assert.equal(await p.drain(30_000), true);

      const st = p.stats();
      assert.equal(st.dropped.blocks['bad-rate'], 3);
      assert.equal(st.dropped.blocks['rate-changed'], 2);
      assert.equal(st.dropped.blocks['bad-block'], mono.length);
      const [s1, s2] = p.snapshot()[0].sensors;
      assert.deepEqual(s1.droppedBlocks, { 'bad-rate': 3, 'rate-changed': 2 });
      assert.deepEqual(s2.droppedBlocks, { 'bad-block': mono.length });
      assert.equal(s1.state, 'running');
      assert.equal(s1.misfit, null, 'good blocks came after the misfits');
      assert.equal(s1.streamRate, 26667);
      const msgs = dropped
        .filter((d) => d.what === 'block')
        .map((d) => `${d.reason}: ${d.message}`);
      assert.ok(
        msgs.some((m) => /^bad-rate: .*500 Hz.*outside 1000–1000000 Hz/.test(m)),
        msgs.join('\n'),
      );
      assert.ok(msgs.some((m) => /^rate-changed: .*from 26667 Hz to 48000 Hz/.test(m)));
      assert.ok(msgs.some((m) => /^bad-block: .*reads channel 1 but the block has 1/.test(m)));

      // Every stretch between drops is diagnosed, and no window spans a dropped block.
      const d1 = diags.filter((d) => d.sensor === '1');
      const starts = [0, 33, a.length + 1, a.length + b.length + 1].map((i) => pushed[i].t0);
      const ends = [...starts.slice(1), Number.POSITIVE_INFINITY];
      const windowMs = (2047 * 1000) / 12000;
      for (let k = 0; k < starts.length; k++) {
        const inside = d1.filter((d) => d.t >= starts[k] && d.t < ends[k]);
        assert.ok(inside.length >= 5, `stretch ${k}: ${inside.length} windows`);
        for (const d of inside) {
          // (1e-2 ms: the float64 ulp of epoch milliseconds is 2.4e-4 ms)
          assert.ok(
            d.t - windowMs >= starts[k] - 1e-2,
            `stretch ${k}: a window starts ${starts[k] - (d.t - windowMs)} ms before it`,
          );
        }
        const hits = inside.filter((d) => d.faultClass === 'inner race').length;
        assert.ok(hits >= 0.7 * inside.length, `stretch ${k}: ${hits}/${inside.length} inner race`);
      }
      assert.ok(
        diags.some((d) => d.sensor === '2'),
        'sensor 2 is diagnosed once its channel comes',
      );
    } finally {
      await p.close();
    }
  });

  it('a stream that keeps not fitting shows as stream-mismatch with the reason, then recovers', async () => {
    let clock = 1_700_000_000_000;
    const p = new DiagnosisPipeline({
      machines: [
        {
          site: 's',
          machine: 'odd',
          sensors: [{ id: '7', sampleRate: 26667 }],
          modelDir,
          nominalRpm: 1797,
        },
      ],
      workers: 1,
      maxLatencyMs: 10,
      health: { mismatchAfterMs: 2_000 },
      now: () => clock,
    });
    const changes: (HealthChange & { site: string })[] = [];
    const diags: MachineDiagnosis[] = [];
    p.on('health', (c) => changes.push(c));
    p.on('diagnosis', (d) => diags.push(d));
    p.on('error', () => {});
    await p.start();
    try {
      const key = { site: 's', machine: 'odd', sensor: '7' };
      const good = toBlocks(sigAt('none', 26667, 2, 51), { fs: 26667 });
      for (const blk of good.slice(0, 50)) {
        p.push(blk, key);
        clock += 19;
      }
      assert.equal(await p.drain(30_000), true);
      const before = diags.length;
      assert.ok(before > 0);
      // The node comes back at 500 Hz: every block dropped, for 2.5 s of the gateway's clock.
      for (let i = 0; i < 26; i++) {
        assert.equal(p.push({ ...good[50], sampleRate: 500 }, key), false);
        clock += 100;
      }
      const into = changes.find((c) => c.to === 'stream-mismatch');
      assert.ok(into, JSON.stringify(changes));
      assert.match(into.reason, /sensor 7: no block fitted for 2\.\d s: sample rate 500 Hz/);
      const snap = p.snapshot()[0];
      assert.equal(snap.state, 'stream-mismatch');
      assert.match(snap.health.reason ?? '', /^sensor 7: sample rate 500 Hz cannot be brought/);
      assert.equal(snap.sensors[0].state, 'running', 'never latched');
      assert.equal(snap.sensors[0].misfit?.blocks, 26);
      assert.match(snap.sensors[0].misfit?.reason ?? '', /500 Hz/);
      // Fitting blocks return: the state clears by itself and windows are diagnosed again.
      for (const blk of good.slice(51)) {
        p.push(blk, key);
        clock += 19;
      }
      assert.equal(await p.drain(30_000), true);
      const out = changes.find((c) => c.from === 'stream-mismatch');
      assert.ok(out, JSON.stringify(changes));
      assert.match(out.reason, /sensor 7: blocks fit again/);
      assert.notEqual(p.snapshot()[0].state, 'stream-mismatch');
      assert.equal(p.snapshot()[0].sensors[0].misfit, null);
      assert.ok(diags.length > before, 'diagnosed again');
    } finally {
      await p.close();
    }
  });
});
