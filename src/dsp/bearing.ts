/**
 * The check of which bearing defect line stands out in an envelope spectrum
 * (the evidence the gateway shows next to a CNN verdict). The defect
 * frequencies themselves are part of the contract (src/contract/bearing.ts):
 * the console draws its markers with the same formulas. Real bearings slip
 * 1–2 %, so lines are searched within a tolerance.
 */

import type { BearingFrequencies } from '../contract/bearing.js';
import type { AmplitudeSpectrum } from './envelope.js';
import { requireParam } from './signal.js';

/** The fault lines looked for: 2·BSF because a ball defect strikes both races per spin. */
export type DefectName = 'BPFO' | 'BPFI' | 'BSF';

export interface HarmonicEvidence {
  /** Harmonic number (1 = the defect frequency itself). */
  h: number;
  /** Expected frequency, Hz. */
  expectedHz: number;
  /** Frequency of the highest bin within the tolerance, Hz. */
  peakHz: number;
  /** Peak amplitude / median amplitude of the surrounding band. */
  ratio: number;
}

export interface DefectEvidence {
  name: DefectName;
  /** The line searched, Hz (BPFO, BPFI, or 2·BSF). */
  freqHz: number;
  harmonics: HarmonicEvidence[];
  /** Geometric mean of the harmonic ratios: high only when the series stands out. */
  score: number;
}

export interface FaultEvidence {
  /** The defect whose series stands out most, or null when none reaches `minScore`. */
  best: DefectName | null;
  /** All candidates, highest score first. */
  defects: DefectEvidence[];
}

export interface EvidenceOptions {
  /** Harmonics examined (1 … H); default 3. */
  harmonics?: number;
  /** Search tolerance around each line, relative (slip, speed error); default 0.02. */
  tolerance?: number;
  /** Half width of the band whose median is the reference, Hz; default 20. */
  medianHalfWidthHz?: number;
  /** Score a defect needs to be named `best`; default 5 (CWRU normal 97.mat scores 3.6, clear faults 50–500). */
  minScore?: number;
}

/**
 * Which defect frequency stands out in an envelope spectrum: for BPFO, BPFI
 * and 2·BSF and their harmonics, the highest amplitude within ±tolerance of
 * the line divided by the median amplitude within ±medianHalfWidthHz.
 */
export function defectEvidence(
  spectrum: AmplitudeSpectrum,
  freqs: BearingFrequencies,
  options: EvidenceOptions = {},
): FaultEvidence {
  const H = options.harmonics ?? 3;
  const tol = options.tolerance ?? 0.02;
  const medHalf = options.medianHalfWidthHz ?? 20;
  const minScore = options.minScore ?? 5;
  requireParam(Number.isInteger(H) && H >= 1, `harmonics must be a positive integer, got ${H}`);
  requireParam(tol > 0 && tol < 0.5, `tolerance must be in (0, 0.5), got ${tol}`);
  const { amplitude, binHz } = spectrum;
  const last = amplitude.length - 1;
  const lines: [DefectName, number][] = [
    ['BPFO', freqs.BPFO],
    ['BPFI', freqs.BPFI],
    ['BSF', 2 * freqs.BSF],
  ];
  const defects: DefectEvidence[] = [];
  for (const [name, f] of lines) {
    const harmonics: HarmonicEvidence[] = [];
    let logSum = 0;
    for (let h = 1; h <= H; h++) {
      const fh = h * f;
      const lo = Math.max(1, Math.floor((fh * (1 - tol)) / binHz));
      const hi = Math.min(last, Math.ceil((fh * (1 + tol)) / binHz));
      if (f <= 0 || lo > hi) break;
      let kPeak = lo;
      for (let k = lo; k <= hi; k++) if (amplitude[k] > amplitude[kPeak]) kPeak = k;
      const mLo = Math.max(1, Math.floor((fh - medHalf) / binHz));
      const mHi = Math.min(last, Math.ceil((fh + medHalf) / binHz));
      const band = Array.from(amplitude.subarray(mLo, mHi + 1)).sort((a, b) => a - b);
      const med = band[band.length >> 1] ?? 0;
      const ratio =
        med > 0 ? amplitude[kPeak] / med : amplitude[kPeak] > 0 ? Number.POSITIVE_INFINITY : 1;
      harmonics.push({ h, expectedHz: fh, peakHz: kPeak * binHz, ratio });
      logSum += Math.log(Math.max(ratio, 1e-12));
    }
    const score = harmonics.length > 0 ? Math.exp(logSum / harmonics.length) : 0;
    defects.push({ name, freqHz: f, harmonics, score });
  }
  defects.sort((a, b) => b.score - a.score);
  const top = defects[0];
  return { best: top && top.score >= minScore ? top.name : null, defects };
}
