/**
 * The live pipeline end to end: real worker threads, a real model trained by
 * the model stage on simulator data (./fixture.ts), simulated streams.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DiagnosisPipeline,
  type MachineDiagnosis,
  type WindowDropped,
} from '../../src/diagnose/pipeline.js';
import type { HealthChange } from '../../src/diagnose/types.js';
import { vibrationSummary } from '../../src/dsp/features.js';
import { isFaultlineError } from '../../src/errors.js';
import { contentHash } from '../../src/model/artifact.js';
import { generateBearingSignal } from '../../src/sim/generator.js';
import { modelVariant, simModelDir } from './fixture.js';
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
    assert.equal(p.push(inner[0], key('fast')), false);
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

  it('refuses a sensor whose rate does not fit the model, and keeps the rest running', () => {
    const mismatch = errors.filter((e) => isFaultlineError(e, 'FL_ERR_MODEL_MISMATCH'));
    assert.equal(mismatch.length, 1);
    assert.match(mismatch[0].message, /48000 Hz/);
    const fast = p.snapshot().find((m) => m.machine === 'fast');
    assert.equal(fast?.sensors[0].state, 'refused');
    const ok = p.snapshot().find((m) => m.machine === 'inner-cfg');
    assert.equal(ok?.sensors[0].state, 'running');
    assert.equal(ok?.sensors[0].windowsOut, 22);
  });

  it('counts unknown sensors and refused blocks as dropped', () => {
    const s = p.stats();
    assert.equal(s.dropped.blocks['unknown-sensor'], 1);
    assert.equal(s.dropped.blocks.refused, 1);
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
      const wrongRate = await modelVariant(other, (m) => {
        m.sampleRate = 48000;
      });
      await assert.rejects(p.setModel('m', wrongRate), (e) =>
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
