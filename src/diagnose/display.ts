/**
 * Display-sized summaries of a window for the operator console, computed in
 * the inference worker only while someone looks at the machine (the gateway
 * asks through `requestSpectrogram` / `requestEnvelope`).
 *
 * Both are pooled down so a diagnosis stays a few kB of JSON: the envelope
 * spectrum keeps the MAXIMUM of each pooled group (a bearing line is one or
 * two bins wide; a mean would flatten it into the floor), the spectrogram
 * the mean (it is a picture, not a measurement).
 */

import type { EnvelopeView, SpectrogramView } from '../contract/machine.js';
import type { AmplitudeSpectrum } from '../dsp/envelope.js';

/**
 * Pools `es` (from 0 Hz) up to `maxHz` into at most `maxBins` bins, keeping
 * each group's maximum. The DC bin (the envelope's mean, removed anyway) is
 * left out so it cannot dominate the scale.
 * @throws RangeError for maxBins < 1 or a non-positive maxHz
 */
export function envelopeView(es: AmplitudeSpectrum, maxHz: number, maxBins = 256): EnvelopeView {
  if (!(maxBins >= 1) || !(maxHz > 0))
    throw new RangeError(`envelopeView needs maxBins ≥ 1 and maxHz > 0, got ${maxBins}, ${maxHz}`);
  const last = Math.min(es.amplitude.length - 1, Math.floor(maxHz / es.binHz));
  const n = Math.max(0, last); // bins 1…last
  const k = Math.max(1, Math.ceil(n / maxBins));
  const out = Math.ceil(n / k);
  const freqHz: number[] = new Array(out);
  const amplitude: number[] = new Array(out);
  for (let i = 0; i < out; i++) {
    const a = 1 + i * k;
    const b = Math.min(last, a + k - 1);
    let peak = 0;
    for (let j = a; j <= b; j++) if (es.amplitude[j] > peak) peak = es.amplitude[j];
    freqHz[i] = Math.round(((a + b) / 2) * es.binHz * 100) / 100;
    amplitude[i] = Number(peak.toPrecision(4));
  }
  return { freqHz, amplitude, df: k * es.binHz, binHz: es.binHz };
}

/**
 * Upper frequency of the console's envelope plot: three times BPFI (the
 * highest defect line, so its 2nd and 3rd harmonics show) with a little room,
 * clamped to 100…`limitHz`; 500 Hz when the speed is unknown.
 */
export function envelopeViewMaxHz(bpfiHz: number | undefined, limitHz: number): number {
  if (bpfiHz === undefined || !(bpfiHz > 0)) return Math.min(500, limitHz);
  return Math.min(limitHz, Math.max(100, 3.2 * bpfiHz));
}

/**
 * Mean-pools a `[F, T]` spectrogram to at most `size × size`.
 * @param hopFraction hop / windowLength of the model (0 < x ≤ 1), for `newFrames`
 */
export function spectrogramView(
  spec: Float32Array,
  F: number,
  T: number,
  hopFraction: number,
  size = 32,
): SpectrogramView {
  const fb = Math.ceil(F / size);
  const tb = Math.ceil(T / size);
  const nf = Math.ceil(F / fb);
  const nt = Math.ceil(T / tb);
  const sum = new Float64Array(nf * nt);
  const cnt = new Uint16Array(nf * nt);
  for (let f = 0; f < F; f++) {
    const row = Math.floor(f / fb) * nt;
    for (let t = 0; t < T; t++) {
      const i = row + Math.floor(t / tb);
      sum[i] += spec[f * T + t];
      cnt[i]++;
    }
  }
  const data: number[] = new Array(nf * nt);
  for (let i = 0; i < data.length; i++) data[i] = Math.round((sum[i] / cnt[i]) * 100) / 100;
  const newFrames = Math.min(nt, Math.max(1, Math.round(nt * hopFraction)));
  return { freqBins: nf, frames: nt, data, newFrames };
}
