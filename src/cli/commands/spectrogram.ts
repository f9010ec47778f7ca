/**
 * `faultline spectrogram <file> --out spec.png` — draws the spectrogram of a
 * signal file (.mat/.wav/.csv/.npy) as a PNG, frequency up, and prints the
 * axes; with a known shaft speed (--rpm, or the X###RPM of a CWRU file) it
 * also prints the shaft and bearing defect frequencies and which defect
 * line stands out in the envelope spectrum.
 *
 * Default view: a long, fine spectrogram for people (256 bands, one frame per
 * nfft/4 samples over the whole file); `--cnn` shows instead what the CNN's
 * front end sees for the first window (64 × 64, time or order mode).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import {
  type BearingFrequencies,
  bearingFrequencies,
  CWRU_DE_BEARING,
} from '../../contract/bearing.js';
import { CWRU_FILES, cwruChannel, cwruRpmVariable } from '../../data/cwru.js';
import { matScalar, readMat } from '../../data/mat.js';
import { readSignalChannel, signalFormatOf } from '../../data/signals.js';
import {
  createFrontEnd,
  createStft,
  defectEvidence,
  envelopeSpectrum,
  type FaultEvidence,
  MAX_FFT_SIGNAL_SAMPLES,
} from '../../dsp/index.js';
import { FaultlineError } from '../../errors.js';
import { COLOR_MAPS, type ColorMapName, spectrogramPng } from '../../report/png.js';
import type { Spectrogram } from '../../types.js';
import { nonNegativeNumber, positiveInt, positiveNumber } from './parse.js';

interface SpectrogramOptions {
  out: string;
  channel?: string;
  fs?: number;
  start: number;
  duration?: number;
  rpm?: number;
  cnn?: boolean;
  mode: 'time' | 'order';
  freqBins: number;
  nfft: number;
  hop?: number;
  fmin: number;
  fmax?: number;
  colormap: ColorMapName;
  pixelScale?: number;
  dynamicRange: number;
  json?: boolean;
}

/** Widest image (frames) drawn; the hop grows beyond it so a long file still fits. */
const MAX_FRAMES = 4096;

export function registerSpectrogramCommand(program: Command): void {
  program
    .command('spectrogram')
    .description(
      'draw the spectrogram of a signal file (.mat/.wav/.csv/.npy) as a PNG; print fault frequencies when the rpm is known',
    )
    .argument(
      '<file>',
      'signal file; CWRU <number>.mat files are recognised (rate, DE channel, stored rpm)',
    )
    .requiredOption('--out <png>', 'PNG file to write')
    .option(
      '--channel <name>',
      'csv column / wav or npy channel index / mat variable; for CWRU files DE, FE or BA (default DE)',
    )
    .option(
      '--fs <hz>',
      'sample rate, Hz (needed for csv, npy and non-CWRU mat files)',
      positiveNumber('--fs'),
    )
    .option('--start <s>', 'start of the excerpt, seconds', nonNegativeNumber('--start'), 0)
    .option(
      '--duration <s>',
      'length of the excerpt, seconds (default: to the end)',
      positiveNumber('--duration'),
    )
    .option(
      '--rpm <rpm>',
      "shaft speed, rpm (default: the file's stored rpm, if any)",
      positiveNumber('--rpm'),
    )
    .option('--cnn', "show the CNN front end's 64 × 64 view of the first 1 s window instead")
    .option(
      '--mode <mode>',
      'with --cnn: time or order (order needs the rpm or estimates it)',
      'time',
    )
    .option(
      '--freq-bins <n>',
      'frequency bands (rows) of the long view',
      positiveInt('--freq-bins'),
      256,
    )
    .option(
      '--nfft <n>',
      'FFT size of the long view, samples (power of two)',
      positiveInt('--nfft'),
      1024,
    )
    .option(
      '--hop <n>',
      'samples between frames of the long view (default nfft/4)',
      positiveInt('--hop'),
    )
    .option('--fmin <hz>', 'lowest frequency shown, Hz', nonNegativeNumber('--fmin'), 0)
    .option(
      '--fmax <hz>',
      'highest frequency shown, Hz (default: Nyquist)',
      positiveNumber('--fmax'),
    )
    .option('--colormap <name>', `colour map: ${COLOR_MAPS.join(', ')}`, 'viridis')
    .option(
      '--pixel-scale <n>',
      'pixels per cell (default 1; 4 with --cnn)',
      positiveInt('--pixel-scale'),
    )
    .option(
      '--dynamic-range <dB>',
      'dB below the maximum mapped to the bottom colour (long view)',
      positiveNumber('--dynamic-range'),
      80,
    )
    .option('--json', 'print a JSON summary instead of text')
    .action(async (file: string, o: SpectrogramOptions) => {
      const summary = await drawSpectrogram(file, o);
      if (o.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else process.stdout.write(formatSummary(summary));
    });
}

interface Summary {
  file: string;
  channel: string;
  sampleRate: number;
  startS: number;
  durationS: number;
  samples: number;
  out: string;
  view: 'long' | 'cnn-time' | 'cnn-order';
  freqBins: number;
  frames: number;
  widthPx: number;
  heightPx: number;
  /** Axis unit of fMin/fMax: Hz, or orders of shaft speed. */
  axisUnit: 'Hz' | 'order';
  fMin: number;
  fMax: number;
  /** Seconds between frames (long view). */
  frameStepS?: number;
  rpm?: number;
  rpmSource?: 'option' | 'file' | 'estimated';
  /** Shaft and bearing defect frequencies, Hz (bearing: CWRU drive end, SKF 6205). */
  faultFrequencies?: BearingFrequencies;
  evidence?: FaultEvidence;
}

async function drawSpectrogram(file: string, o: SpectrogramOptions): Promise<Summary> {
  if (!COLOR_MAPS.includes(o.colormap)) {
    throw new FaultlineError(
      'FL_ERR_CLI_USAGE',
      `--colormap ${o.colormap} is not one of ${COLOR_MAPS.join(', ')}`,
    );
  }
  const { samples, fs, channel, fileRpm } = await readInput(file, o);
  const first = Math.round(o.start * fs);
  const count = o.duration !== undefined ? Math.round(o.duration * fs) : samples.length - first;
  if (first >= samples.length || count <= 0) {
    throw new FaultlineError(
      'FL_ERR_CLI_USAGE',
      `--start ${o.start} s is past the end of ${file} (${(samples.length / fs).toFixed(2)} s at ${fs} Hz)`,
    );
  }
  const x = samples.subarray(first, Math.min(samples.length, first + count));
  let rpm = o.rpm ?? fileRpm;
  let rpmSource: Summary['rpmSource'] =
    o.rpm !== undefined ? 'option' : fileRpm !== undefined ? 'file' : undefined;

  let spec: Spectrogram;
  let summaryAxes: Pick<Summary, 'view' | 'axisUnit' | 'fMin' | 'fMax' | 'frameStepS'>;
  let freqTicks: number[];
  let timeTicks: number[];
  let range: [number, number] | undefined;
  let pixelScale = o.pixelScale ?? 1;
  if (o.cnn) {
    if (o.mode !== 'time' && o.mode !== 'order') {
      throw new FaultlineError('FL_ERR_CLI_USAGE', `--mode must be time or order, got ${o.mode}`);
    }
    const fe = createFrontEnd({ sampleRate: fs, windowLength: Math.round(fs), mode: o.mode });
    if (x.length < fe.config.windowLength) {
      throw new FaultlineError(
        'FL_ERR_SIGNAL_TOO_SHORT',
        `--cnn needs 1 s (${fe.config.windowLength} samples) from --start; the excerpt has ${x.length}`,
      );
    }
    const data = fe.process(
      x.slice(0, fe.config.windowLength),
      o.mode === 'order' ? rpm : undefined,
    );
    if (o.mode === 'order' && rpm === undefined) {
      rpm = fe.lastRpm;
      rpmSource = 'estimated';
    }
    spec = { data, freqBins: fe.inputShape[0], frames: fe.inputShape[1] };
    const order = o.mode === 'order';
    const fMax = fe.config.stft.fMax ?? (order ? fe.config.order.samplesPerRev / 2 : fs / 2);
    summaryAxes = {
      view: order ? 'cnn-order' : 'cnn-time',
      axisUnit: order ? 'order' : 'Hz',
      fMin: fe.config.stft.fMin,
      fMax,
    };
    const step = order ? 5 : 1000;
    freqTicks = ticks(fe.config.stft.fMin, fMax, step, spec.freqBins);
    timeTicks = [];
    pixelScale = o.pixelScale ?? 4;
  } else {
    const hop0 = o.hop ?? o.nfft / 4;
    if (x.length < o.nfft) {
      throw new FaultlineError(
        'FL_ERR_SIGNAL_TOO_SHORT',
        `the excerpt has ${x.length} samples, fewer than --nfft ${o.nfft}`,
      );
    }
    const frames = Math.min(MAX_FRAMES, Math.floor((x.length - o.nfft) / hop0) + 1);
    const fMax = o.fmax ?? fs / 2;
    const plan = createStft(
      {
        nfft: o.nfft,
        freqBins: o.freqBins,
        frames,
        fMin: o.fmin,
        fMax,
        scale: 'db',
        normalisation: 'none',
      },
      fs,
      x.length,
    );
    spec = plan.compute(x);
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of spec.data) if (v > hi) hi = v;
    range = [hi - o.dynamicRange, hi];
    summaryAxes = { view: 'long', axisUnit: 'Hz', fMin: o.fmin, fMax, frameStepS: plan.hop / fs };
    freqTicks = ticks(o.fmin, fMax, fMax - o.fmin > 2000 ? 1000 : 100, spec.freqBins);
    timeTicks = [];
    const frameStep = plan.hop > 0 ? plan.hop : 1;
    for (let s = 0; s * fs <= x.length; s++) timeTicks.push((s * fs - o.nfft / 2) / frameStep);
    timeTicks = timeTicks.filter((t) => t >= 0 && t < frames);
  }
  const png = spectrogramPng(spec, {
    colormap: o.colormap,
    range,
    pixelScale,
    freqTicks,
    timeTicks,
  });
  await writeFile(o.out, png);

  const summary: Summary = {
    file,
    channel,
    sampleRate: fs,
    startS: first / fs,
    durationS: x.length / fs,
    samples: x.length,
    out: o.out,
    freqBins: spec.freqBins,
    frames: spec.frames,
    widthPx: spec.frames * pixelScale + 8,
    heightPx: spec.freqBins * pixelScale + 8,
    ...summaryAxes,
  };
  if (rpm !== undefined) {
    summary.rpm = rpm;
    summary.rpmSource = rpmSource;
    summary.faultFrequencies = bearingFrequencies(CWRU_DE_BEARING, rpm / 60);
    if (x.length <= MAX_FFT_SIGNAL_SAMPLES && fs >= 10000) {
      summary.evidence = defectEvidence(
        envelopeSpectrum(x, fs, { lowHz: 2000, highHz: 5000 }),
        summary.faultFrequencies,
      );
    }
  }
  return summary;
}

/** Band indices (fractional) of multiples of `step` within [fMin, fMax]. */
function ticks(fMin: number, fMax: number, step: number, bins: number): number[] {
  const out: number[] = [];
  for (let f = Math.ceil(fMin / step) * step; f <= fMax; f += step)
    out.push(((f - fMin) / (fMax - fMin)) * bins);
  return out;
}

async function readInput(
  file: string,
  o: SpectrogramOptions,
): Promise<{ samples: Float32Array; fs: number; channel: string; fileRpm?: number }> {
  const format = signalFormatOf(file);
  const cwruNumber =
    format === 'mat' ? Number(path.basename(file, path.extname(file))) : Number.NaN;
  const cwru = CWRU_FILES.find((e) => e.number === cwruNumber);
  if (cwru) {
    const sel = (o.channel ?? 'DE').toUpperCase();
    const variable = ['DE', 'FE', 'BA'].includes(sel)
      ? cwruChannel(cwru.number).replace('_DE_', `_${sel}_`)
      : o.channel;
    const ch = await readSignalChannel(file, variable);
    const rpmVars = await readMat(file, { variables: [cwruRpmVariable(cwru.number)] });
    let fileRpm: number | undefined;
    try {
      fileRpm = matScalar(rpmVars, cwruRpmVariable(cwru.number), file);
    } catch {
      fileRpm = undefined; // some CWRU files lack it; the speed is then unknown unless --rpm
    }
    return { samples: ch.samples, fs: o.fs ?? cwru.sampleRate, channel: ch.channel, fileRpm };
  }
  const ch = await readSignalChannel(file, o.channel);
  const fs = o.fs ?? ch.fileSampleRate;
  if (fs === undefined) {
    throw new FaultlineError(
      'FL_ERR_CLI_USAGE',
      `${file} does not store its sample rate; give it with --fs <hz>`,
    );
  }
  return { samples: ch.samples, fs, channel: ch.channel };
}

function formatSummary(s: Summary): string {
  const lines = [
    `${s.file} [${s.channel}] ${s.sampleRate} Hz, ${s.startS.toFixed(2)}–${(s.startS + s.durationS).toFixed(2)} s (${s.samples} samples)`,
    `wrote ${s.out}: ${s.view} view, ${s.freqBins} bands × ${s.frames} frames, ${s.fMin}–${s.fMax} ${s.axisUnit === 'Hz' ? 'Hz' : 'orders'} (frequency up)` +
      (s.frameStepS !== undefined ? `, ${(s.frameStepS * 1000).toFixed(1)} ms per frame` : ''),
  ];
  if (s.faultFrequencies && s.rpm !== undefined) {
    const f = s.faultFrequencies;
    lines.push(
      `shaft ${s.rpm.toFixed(0)} rpm (${s.rpmSource}) = ${f.shaftHz.toFixed(2)} Hz; bearing SKF 6205 (CWRU drive end):`,
      `  BPFO ${f.BPFO.toFixed(1)} Hz  BPFI ${f.BPFI.toFixed(1)} Hz  BSF ${f.BSF.toFixed(1)} Hz (2·BSF ${(2 * f.BSF).toFixed(1)})  FTF ${f.FTF.toFixed(1)} Hz`,
    );
  }
  if (s.evidence) {
    const parts = s.evidence.defects.map(
      (d) => `${d.name === 'BSF' ? '2·BSF' : d.name} ${d.score.toFixed(1)}`,
    );
    lines.push(
      `envelope 2–5 kHz, peak/median: ${parts.join(', ')} → ${s.evidence.best ?? 'no defect line stands out'}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
