/**
 * Worker thread of the inference pool (./inference-pool.ts). Each worker
 * starts its own tfjs backend, loads the models it is told to, and for each
 * batch of raw windows runs, per window: the model's own front end (the same
 * createFrontEnd(meta.frontEnd) code as training), the vibration summary
 * (RMS, crest, kurtosis; velocity → ISO zone when the task asks), the
 * clipped fraction, and when asked the envelope evidence; then one CNN call on all spectrograms of the
 * batch. Windows arrive as transferred Float32Arrays and go back the same way
 * so the main thread can reuse them.
 *
 * Why here and not in the main thread: the front end and the envelope cost
 * 1–3 ms per 1 s window at 12 kHz; at hundreds of windows/s that would stall
 * the event loop that ingests frames and serves the API.
 */
import { parentPort } from 'node:worker_threads';
import { bearingFrequencies } from '../contract/bearing.js';
import { defectEvidence } from '../dsp/bearing.js';
import {
  type AmplitudeSpectrum,
  type AmplitudeSpectrumPlan,
  type BandEnvelopePlan,
  createAmplitudeSpectrum,
  createBandEnvelope,
} from '../dsp/envelope.js';
import { timeStatistics, velocityRms, velocityRmsFromSpectrum } from '../dsp/features.js';
import { channelOf, createFrontEnd, type FrontEnd, reusableEnvelope } from '../dsp/frontend.js';
import { isoZone } from '../dsp/iso20816.js';
import { isFaultlineError } from '../errors.js';
import { type LoadedHead, loadModelArtifact, type ModelMetadata } from '../model/artifact.js';
import { initBackend } from '../model/backend.js';
import type * as tfNs from '../model/tf.js';
import { envelopeView, envelopeViewMaxHz, spectrogramView } from './display.js';
import type {
  BatchTiming,
  WindowResult,
  WindowTask,
  WorkerReply,
  WorkerRequest,
} from './inference-protocol.js';
import { estimatedSpeed } from './speed-source.js';

interface Loaded {
  model: tfNs.LayersModel;
  /** A multi-task model's parts: features once, then the primary head and every auxiliary one. */
  multi?: { features: tfNs.LayersModel; classifier: tfNs.LayersModel; heads: LoadedHead[] };
  meta: ModelMetadata;
  frontEnd: FrontEnd;
  band: { lowHz: number; highHz: number };
  /** Envelope plans (and their output arrays) by signal length. */
  envelopes: Map<number, { plan: BandEnvelopePlan; out: Float32Array }>;
  /** Envelope-spectrum plans by `length/rate/maxHz`. */
  spectra: Map<string, AmplitudeSpectrumPlan>;
  size: number;
  input: Float32Array;
}

const port = parentPort;
let tf: typeof tfNs | undefined;
const models = new Map<string, Loaded>();

function reply(m: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(m, transfer);
}

function fail(id: number, err: unknown): void {
  reply({
    type: 'error',
    id,
    code: isFaultlineError(err) ? err.code : undefined,
    message: (err as Error)?.message ?? String(err),
  });
}

async function load(key: string, dir: string): Promise<void> {
  if (models.has(key)) return;
  const m = await loadModelArtifact(dir);
  const frontEnd = createFrontEnd(m.meta.frontEnd);
  const [F, T, K] = frontEnd.inputShape;
  const fe = m.meta.frontEnd;
  const band = fe.order?.envelope ?? {
    lowHz: Math.min(2000, fe.sampleRate / 6),
    highHz: Math.min(5000, 0.45 * fe.sampleRate),
  };
  models.set(key, {
    model: m.model,
    ...(m.heads
      ? { multi: { features: m.features, classifier: m.classifier, heads: m.heads } }
      : {}),
    meta: m.meta,
    frontEnd,
    band,
    envelopes: new Map(),
    spectra: new Map(),
    size: F * T * K,
    input: new Float32Array(0),
  });
}

/** The window's spectrogram pooled for the console's waterfall. */
function displaySpectrogram(m: Loaded, spec: Float32Array): WindowResult['spectrogram'] {
  const [F, T, K] = m.frontEnd.inputShape;
  const fe = m.meta.frontEnd;
  // The first channel is the spectrogram proper; the others are derived views.
  const v = spectrogramView(
    K === 1 ? spec : channelOf(spec, m.frontEnd.inputShape, 0),
    F,
    T,
    m.meta.hop / m.meta.windowLength,
  );
  if (fe.mode !== 'order') v.maxFreqHz = fe.stft.fMax ?? fe.sampleRate / 2;
  return v;
}

/**
 * Band envelope of `x` for the evidence, with its sample rate. When `x` is
 * the window the front end just processed with the same band (order mode
 * with an envelope: the shipped models), its envelope is reused: identical
 * values, one FFT pair of the window's length saved per evidence window.
 * Otherwise it is computed decimated (the evidence reads lines ≤ 1 kHz,
 * which the decimated envelope keeps; see createBandEnvelope).
 */
function envelopeOf(m: Loaded, x: Float32Array): { data: Float32Array; rate: number } {
  const reused = reusableEnvelope(m.frontEnd, x, m.meta.sampleRate, m.band);
  if (reused) return reused;
  let e = m.envelopes.get(x.length);
  if (!e) {
    const plan = createBandEnvelope(m.meta.sampleRate, x.length, { ...m.band, decimate: true });
    e = { plan, out: new Float32Array(plan.outLength) };
    m.envelopes.set(x.length, e);
  }
  return { data: e.plan.compute(x, e.out), rate: e.plan.rate };
}

/**
 * Amplitude spectrum of an envelope, from a plan kept per (length, rate,
 * maxHz): the same values as amplitudeSpectrum, without its buffers'
 * garbage on every window. Valid until the next call.
 */
function spectrumOf(m: Loaded, x: Float32Array, rate: number, maxHz: number): AmplitudeSpectrum {
  const key = `${x.length}/${rate}/${maxHz}`;
  let plan = m.spectra.get(key);
  if (!plan) {
    plan = createAmplitudeSpectrum(x.length, rate, maxHz);
    m.spectra.set(key, plan);
  }
  return plan.compute(x);
}

/**
 * Velocity RMS of window `x`: from the forward spectrum the front end just
 * took of it when there is one (no FFT of its own), else by its own FFT.
 */
function velocityOf(m: Loaded, x: Float32Array, fs: number): number {
  const e = reusableEnvelope(m.frontEnd, x, fs, m.band);
  return e ? velocityRmsFromSpectrum(e.spectrum, e.fftSize, x.length, fs) : velocityRms(x, fs);
}

function runBatch(
  key: string,
  windows: Float32Array[],
  histories: (Float32Array | null)[],
  tasks: WindowTask[],
) {
  const m = models.get(key);
  if (!m || !tf) throw new Error(`model ${key} is not loaded in this worker`);
  const t = tf;
  const timing: BatchTiming = { frontEndMs: 0, cnnMs: 0, evidenceMs: 0, featuresMs: 0 };
  const fs = m.meta.sampleRate;
  const shape = m.frontEnd.inputShape;
  const orderMode = m.meta.frontEnd.mode === 'order';
  const range = { minRpm: m.meta.frontEnd.order.minRpm, maxRpm: m.meta.frontEnd.order.maxRpm };
  if (m.input.length < windows.length * m.size) m.input = new Float32Array(windows.length * m.size);
  const results: WindowResult[] = [];
  const rows: number[] = [];
  for (let i = 0; i < windows.length; i++) {
    const x = windows[i];
    const task = tasks[i];
    try {
      let t0 = performance.now();
      let rpm = task.rpm;
      let rpmSource = task.rpmSource;
      const spec = m.input.subarray(rows.length * m.size, (rows.length + 1) * m.size);
      // The configured bearing wins; without one, the model's training bearing.
      const trained = m.meta.frontEnd.lines?.bearing;
      const bearing = task.bearingConfigured === false && trained ? trained : task.bearing;
      m.frontEnd.process(x, rpm ?? undefined, spec, bearing);
      if (orderMode && rpm === null) {
        rpm = m.frontEnd.lastRpm ?? null;
        rpmSource = 'estimate';
      }
      let t1 = performance.now();
      timing.frontEndMs += t1 - t0;
      t0 = t1;
      const v = timeStatistics(x);
      // Velocity RMS (a 16384-point FFT) only when asked: it changes slowly
      // and the pipeline carries the last value in between (featuresEvery).
      let velocityRmsMmS: number | undefined;
      let zone: WindowResult['isoZone'];
      if (task.velocity !== false) {
        velocityRmsMmS = velocityOf(m, x, fs);
        zone = isoZone(velocityRmsMmS, task.iso.group, task.iso.foundation);
      }
      const full = task.fullScaleG * 0.999;
      let clipped = 0;
      for (let k = 0; k < x.length; k++) if (x[k] >= full || x[k] <= -full) clipped++;
      t1 = performance.now();
      timing.featuresMs += t1 - t0;
      t0 = t1;
      let evidence: WindowResult['evidence'];
      let envelope: WindowResult['envelope'];
      if (task.evidence) {
        // The longer stretch when there is one: finer lines, surer speed.
        const ex = histories[i] ?? x;
        if (rpm === null) {
          const est = estimatedSpeed(ex, fs, range);
          rpm = est.rpm;
          rpmSource = est.source;
        }
        const limitHz = Math.min(1000, fs / 2);
        if (rpm !== null) {
          const env = envelopeOf(m, ex);
          const es = spectrumOf(m, env.data, env.rate, limitHz);
          const bf = bearingFrequencies(bearing, rpm / 60);
          const ev = defectEvidence(es, bf);
          const top = ev.defects.find((d) => d.name === ev.best) ?? ev.defects[0];
          evidence = {
            defect: ev.best,
            frequencyHz: top?.freqHz,
            score: top ? Math.round(top.score * 100) / 100 : undefined,
            // every line's score, not only the winner's: history trends a line before it wins
            scores: Object.fromEntries(
              ev.defects.map((d) => [d.name, Math.round(d.score * 100) / 100]),
            ),
          };
          // The spectrum the evidence was read from, pooled: costs no extra FFT.
          if (task.envelope) envelope = envelopeView(es, envelopeViewMaxHz(bf.BPFI, limitHz));
        } else {
          evidence = { defect: null };
          if (task.envelope) {
            const env = envelopeOf(m, ex);
            const es = spectrumOf(m, env.data, env.rate, limitHz);
            envelope = envelopeView(es, envelopeViewMaxHz(undefined, limitHz));
          }
        }
        timing.evidenceMs += performance.now() - t0;
      }
      results.push({
        ok: true,
        rpm,
        rpmSource,
        rmsG: v.rmsG,
        peakG: v.peakG,
        velocityRmsMmS,
        isoZone: zone,
        crestFactor: v.crestFactor,
        kurtosis: v.kurtosis,
        clippedFraction: clipped / x.length,
        evidence,
        envelope,
        spectrogram: task.spectrogram ? displaySpectrogram(m, spec) : undefined,
      });
      rows.push(i);
    } catch (err) {
      results.push({
        ok: false,
        code: isFaultlineError(err) ? err.code : 'FL_ERR_DSP_PARAMS',
        message: (err as Error).message,
        rpm: task.rpm,
        rpmSource: task.rpmSource,
      });
    }
  }
  if (rows.length > 0) {
    const t0 = performance.now();
    const C = m.meta.classes.length;
    const multi = m.multi;
    // [primary, ...heads] probabilities, each `[rows × classes]` row-major.
    const outs = t.tidy(() => {
      const input = t.tensor4d(m.input.subarray(0, rows.length * m.size), [rows.length, ...shape]);
      if (!multi) return [(m.model.predict(input) as tfNs.Tensor).dataSync() as Float32Array];
      const f = multi.features.predict(input) as tfNs.Tensor;
      return [multi.classifier, ...multi.heads.map((h) => h.classifier)].map(
        (c) => (c.predict(f) as tfNs.Tensor).dataSync() as Float32Array,
      );
    });
    rows.forEach((i, r) => {
      results[i].probs = Array.from(outs[0].subarray(r * C, (r + 1) * C));
      if (multi)
        results[i].heads = Object.fromEntries(
          multi.heads.map((h, k) => {
            const Ck = h.spec.classes.length;
            return [h.spec.name, Array.from(outs[k + 1].subarray(r * Ck, (r + 1) * Ck))];
          }),
        );
    });
    timing.cnnMs += performance.now() - t0;
  }
  return { results, timing };
}

async function handle(msg: WorkerRequest): Promise<void> {
  try {
    switch (msg.type) {
      case 'init': {
        const info = await initBackend({ prefer: msg.backend, log: () => {} });
        tf = info.tf;
        reply({ type: 'ok', id: msg.id, backend: info.name });
        return;
      }
      case 'load':
        await load(msg.key, msg.dir);
        reply({ type: 'ok', id: msg.id });
        return;
      case 'probe': {
        const probed = await loadModelArtifact(msg.dir);
        for (const h of probed.heads ?? []) h.classifier.dispose();
        probed.model.dispose();
        reply({ type: 'ok', id: msg.id });
        return;
      }
      case 'unload': {
        const m = models.get(msg.key);
        for (const h of m?.multi?.heads ?? []) h.classifier.dispose();
        m?.model.dispose();
        models.delete(msg.key);
        reply({ type: 'ok', id: msg.id });
        return;
      }
      case 'batch': {
        let out: ReturnType<typeof runBatch> | undefined;
        let error: unknown;
        try {
          out = runBatch(msg.key, msg.windows, msg.histories, msg.tasks);
        } catch (err) {
          error = err;
        }
        const buffers = msg.windows.map((w) => w.buffer as ArrayBuffer);
        if (out) {
          reply(
            {
              type: 'result',
              id: msg.id,
              results: out.results,
              timing: out.timing,
              windows: msg.windows,
            },
            buffers,
          );
        } else {
          reply(
            {
              type: 'error',
              id: msg.id,
              code: isFaultlineError(error) ? error.code : undefined,
              message: (error as Error)?.message ?? String(error),
              windows: msg.windows,
            },
            buffers,
          );
        }
        return;
      }
    }
  } catch (err) {
    fail(msg.id, err);
  }
}

if (port) {
  // Requests are handled one at a time, in order: a batch never overtakes the
  // load of the model it needs.
  let chain: Promise<void> = Promise.resolve();
  port.on('message', (msg: WorkerRequest) => {
    chain = chain.then(() => handle(msg));
  });
}
