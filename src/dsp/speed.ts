/**
 * Shaft-speed estimation from a vibration spectrum, for when a node sends no
 * tachometer reading. A shaft-locked signal puts lines at the 1× speed and
 * its harmonics; a harmonic-sum search over the whitened log-magnitude
 * spectrum finds the fundamental whose harmonics line up best.
 *
 * Whitening (log magnitude minus its local median) turns each line into its
 * prominence, and capping the prominence keeps one strong fixed-frequency
 * resonance from outvoting a whole harmonic series. The octave error of a
 * plain harmonic sum (2·f0 also collects the even harmonics) is handled by
 * subtracting the sum at the half-harmonic positions (h − ½)·f: those are
 * the odd harmonics when the candidate is 2·f0, and noise when it is f0.
 * The winner is refined from the interpolated peaks (parabolic fit on the
 * log magnitude) of the harmonics found, weighted towards the higher ones,
 * whose relative resolution is finer.
 */
import { FaultlineError } from '../errors.js';
import { fftPlan } from './fftutil.js';
import { checkSignal, MAX_FFT_SIGNAL_SAMPLES, nextPow2, requireParam } from './signal.js';

export interface ShaftSpeedOptions {
  /** Lowest shaft speed searched, rpm; default 600. */
  minRpm?: number;
  /** Highest shaft speed searched, rpm; default 3600. Keep the range under an octave when you can. */
  maxRpm?: number;
  /** Harmonics summed (1× … H×); default 8. */
  harmonics?: number;
  /** Prominence (peak / local median) a harmonic needs to count as found; default 3. */
  minProminence?: number;
  /** Harmonics that must be found, else FL_ERR_SPEED_UNKNOWN; default 2. */
  minHarmonics?: number;
}

export interface ShaftSpeedEstimate {
  /** Shaft speed, Hz. */
  shaftHz: number;
  /** Shaft speed, rpm. */
  rpm: number;
  /** Harmonics (of the first `harmonics`) whose prominence passed `minProminence`. */
  harmonicsFound: number;
  /** Harmonic-sum score of the winner (sum of capped log-prominences); higher is surer. */
  score: number;
}

const PROMINENCE_CAP = Math.log(30);

/**
 * Estimates the shaft speed of `x` sampled at `fs` Hz.
 * Resolution: a window of T s gives 1/T Hz FFT bins; interpolation and
 * harmonics bring the error well below that (about 0.1–0.5 % at 1 s, 30 Hz).
 * @throws FL_ERR_SPEED_UNKNOWN when too few harmonics stand out;
 *   FL_ERR_SIGNAL_* on empty / non-finite / too long input
 */
export function estimateShaftSpeed(
  x: ArrayLike<number>,
  fs: number,
  options: ShaftSpeedOptions = {},
): ShaftSpeedEstimate {
  const minRpm = options.minRpm ?? 600;
  const maxRpm = options.maxRpm ?? 3600;
  const H = options.harmonics ?? 8;
  const minProm = Math.log(options.minProminence ?? 3);
  const minHarmonics = options.minHarmonics ?? 2;
  requireParam(Number.isFinite(fs) && fs > 0, `fs must be > 0 Hz, got ${fs}`);
  requireParam(
    minRpm > 0 && maxRpm > minRpm,
    `speed range ${minRpm}…${maxRpm} rpm must satisfy 0 < minRpm < maxRpm`,
  );
  requireParam(
    Number.isInteger(H) && H >= 1 && H <= 64,
    `harmonics must be an integer in 1…64, got ${H}`,
  );
  checkSignal(x, 'speed-estimation input', MAX_FFT_SIGNAL_SAMPLES);
  const minHz = minRpm / 60;
  const maxHz = maxRpm / 60;
  requireParam(maxHz < fs / 2, `maxRpm ${maxRpm} is above the Nyquist frequency of ${fs} Hz`);

  // Hann-windowed, zero-padded ×2 (finer grid for the search; the window's
  // own resolution is still 1/T).
  const n = x.length;
  const N = nextPow2(n) * 2;
  const fft = fftPlan(N);
  const buf = new Float64Array(N);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  for (let i = 0; i < n; i++)
    buf[i] = (x[i] - mean) * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
  const spec = new Float64Array(2 * N);
  fft.realTransform(spec, buf);
  const binHz = fs / N;
  const half = N / 2;
  // Highest bin looked at: H·maxHz plus the whitening window.
  const medHalf = Math.max(8, Math.round(8 / binHz)); // ±8 Hz of context
  const kTop = Math.min(half, Math.ceil(((H + 0.5) * maxHz) / binHz) + medHalf + 2);
  const logMag = new Float64Array(kTop + 1);
  let peakPow = 0;
  for (let k = 0; k <= kTop; k++) {
    const p = spec[2 * k] ** 2 + spec[2 * k + 1] ** 2;
    if (p > peakPow) peakPow = p;
    logMag[k] = p;
  }
  const floor = peakPow * 1e-20 + 1e-300;
  for (let k = 0; k <= kTop; k++) logMag[k] = 0.5 * Math.log(logMag[k] + floor);
  const prom = whiten(logMag, medHalf);

  // Harmonic sum over a candidate grid fine enough that the top harmonic
  // moves by at most half a bin between candidates.
  const kMaxHarm = Math.floor((kTop - 1) * binHz);
  const harmonicWeight = new Float64Array(H + 1);
  for (let h = 1; h <= H; h++) harmonicWeight[h] = 1 / Math.sqrt(h);
  const score = (f: number): number => {
    let s = 0;
    for (let h = 1; h <= H; h++) {
      const fh = h * f;
      if (fh >= kMaxHarm) break;
      // 1/√h: a series starting at 1× outscores its own sub-harmonic (whose
      // matching lines fall on even h) when only a few harmonics are visible.
      const w = harmonicWeight[h];
      s += w * peakNear(prom, fh / binHz);
      s -= w * peakNear(prom, ((h - 0.5) * f) / binHz);
    }
    return s;
  };
  const step = binHz / (2 * H);
  let bestF = 0;
  let bestS = Number.NEGATIVE_INFINITY;
  for (let f = minHz; f <= maxHz; f += step) {
    const s = score(f);
    if (s > bestS) {
      bestS = s;
      bestF = f;
    }
  }

  // Refine: interpolated peak of each harmonic that stands out.
  let wSum = 0;
  let fSum = 0;
  let found = 0;
  for (let h = 1; h <= H; h++) {
    const centre = (h * bestF) / binHz;
    const reach = Math.max(2, Math.ceil((h * step) / binHz) + 1);
    let kBest = -1;
    for (
      let k = Math.max(1, Math.floor(centre - reach));
      k <= Math.min(kTop - 1, Math.ceil(centre + reach));
      k++
    ) {
      if (kBest < 0 || logMag[k] > logMag[kBest]) kBest = k;
    }
    if (kBest < 1 || prom[kBest] < minProm) continue;
    const a = logMag[kBest - 1];
    const b = logMag[kBest];
    const c = logMag[kBest + 1];
    const den = a - 2 * b + c;
    const delta = den < 0 ? (0.5 * (a - c)) / den : 0;
    const fh = (kBest + Math.max(-0.5, Math.min(0.5, delta))) * binHz;
    const w = h * Math.min(prom[kBest], PROMINENCE_CAP);
    fSum += (fh / h) * w;
    wSum += w;
    found++;
  }
  if (found < minHarmonics || wSum === 0) {
    throw new FaultlineError(
      'FL_ERR_SPEED_UNKNOWN',
      `only ${found} of ${H} shaft harmonics stand out (need ${minHarmonics}) between ${minRpm} and ${maxRpm} rpm; ` +
        'give the rpm, widen or correct the search range, or use a longer window',
    );
  }
  const shaftHz = fSum / wSum;
  return { shaftHz, rpm: shaftHz * 60, harmonicsFound: found, score: bestS };
}

/** Log-prominence over the local median, clipped to [0, PROMINENCE_CAP]. */
function whiten(logMag: Float64Array, halfWidth: number): Float64Array {
  const n = logMag.length;
  // The median is evaluated every `stride` bins and interpolated: the
  // baseline varies slowly, and a full running median would cost O(n·w·log w).
  const stride = Math.max(1, Math.floor(halfWidth / 4));
  const nodes = Math.ceil(n / stride) + 1;
  const med = new Float64Array(nodes);
  const tmp = new Float64Array(2 * halfWidth + 1);
  for (let j = 0; j < nodes; j++) {
    const c = Math.min(n - 1, j * stride);
    const lo = Math.max(0, c - halfWidth);
    const hi = Math.min(n - 1, c + halfWidth);
    const m = hi - lo + 1;
    const w = tmp.subarray(0, m);
    w.set(logMag.subarray(lo, hi + 1));
    w.sort();
    med[j] = w[m >> 1];
  }
  const out = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const j = Math.floor(k / stride);
    const t = k / stride - j;
    const base = med[j] + t * ((med[Math.min(nodes - 1, j + 1)] ?? med[j]) - med[j]);
    const p = logMag[k] - base;
    out[k] = p <= 0 ? 0 : Math.min(p, PROMINENCE_CAP);
  }
  return out;
}

/** Max of `prom` over the bins within ±1 of fractional bin `pos`. */
function peakNear(prom: Float64Array, pos: number): number {
  const k = Math.round(pos);
  let m = 0;
  for (let i = k - 1; i <= k + 1; i++) if (i >= 0 && i < prom.length && prom[i] > m) m = prom[i];
  return m;
}
