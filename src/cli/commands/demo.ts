/**
 * `faultline demo` — the embedded-defaults job until the gateway lands: it
 * synthesises a bearing with an inner-race fault, shows what an analyst would
 * look at (vibration summary, ISO zone, bearing frequencies, envelope
 * evidence), draws the spectrogram in the terminal and writes it as a PNG.
 * No broker, database or data download is involved.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { bearingFrequencies, CWRU_DE_BEARING } from '../../contract/bearing.js';
import { createStft, defectEvidence, envelopeSpectrum, vibrationSummary } from '../../dsp/index.js';
import { FaultlineError } from '../../errors.js';
import { spectrogramPng } from '../../report/png.js';
import type { FaultType } from '../../sim/faults.js';
import { BearingSignalGenerator } from '../../sim/generator.js';
import type { Spectrogram } from '../../types.js';

/** Characters from quiet to loud, for a spectrogram drawn in a terminal. */
const SHADES = ' .:-=+*#%@';

/** Draws `spec` (rows = bands, highest first) as text, one character per cell. */
export function asciiSpectrogram(spec: Spectrogram, rows: number, cols: number): string {
  const { data, freqBins, frames } = spec;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo || 1;
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    // Top row is the highest band: average the bands and frames each cell covers.
    const f0 = Math.floor(((rows - 1 - r) * freqBins) / rows);
    const f1 = Math.max(f0 + 1, Math.floor(((rows - r) * freqBins) / rows));
    let line = '';
    for (let c = 0; c < cols; c++) {
      const t0 = Math.floor((c * frames) / cols);
      const t1 = Math.max(t0 + 1, Math.floor(((c + 1) * frames) / cols));
      let s = 0;
      for (let f = f0; f < f1; f++) for (let t = t0; t < t1; t++) s += data[f * frames + t];
      const v = (s / ((f1 - f0) * (t1 - t0)) - lo) / span;
      line += SHADES[Math.min(SHADES.length - 1, Math.floor(v * SHADES.length))];
    }
    lines.push(`|${line}|`);
  }
  return lines.join('\n');
}

interface DemoOptions {
  fault: string;
  rpm: string;
  seconds: string;
  out?: string;
  seed: string;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'synthesise a faulty bearing and show its spectrogram, vibration summary and fault frequencies',
    )
    .option('--fault <type>', 'none | inner | outer | ball', 'inner')
    .option('--rpm <rpm>', 'shaft speed, rpm', '1797')
    .option('--seconds <s>', 'signal length, s', '2')
    .option('--seed <n>', 'random seed', '7')
    .option('--out <file>', 'spectrogram PNG path (default: <tmp>/faultline-demo.png)')
    .action(async (opts: DemoOptions) => {
      const fault = opts.fault as FaultType;
      if (!['none', 'inner', 'outer', 'ball'].includes(fault)) {
        throw new FaultlineError(
          'FL_ERR_CLI_USAGE',
          `--fault must be none|inner|outer|ball, got '${opts.fault}'`,
        );
      }
      const rpm = Number(opts.rpm);
      const seconds = Number(opts.seconds);
      const fs = 12_000;
      if (!(seconds > 0 && seconds <= 60)) {
        throw new FaultlineError(
          'FL_ERR_CLI_USAGE',
          `--seconds must be in (0, 60], got '${opts.seconds}'`,
        );
      }
      const gen = new BearingSignalGenerator({
        fault: { type: fault },
        rpm,
        sampleRate: fs,
        seed: Number(opts.seed),
      });
      const x = gen.next(Math.round(seconds * fs));

      const out = (s: string) => process.stdout.write(`${s}\n`);
      const freqs = bearingFrequencies(CWRU_DE_BEARING, rpm / 60);
      const summary = vibrationSummary(x, fs);
      const evidence = defectEvidence(envelopeSpectrum(x, fs), freqs);
      out(
        `Faultline demo — synthetic 6205 bearing, ${fault === 'none' ? 'healthy' : `${fault}-race fault`.replace('ball-race', 'ball')}, ${rpm} rpm, ${seconds} s at ${fs} Hz`,
      );
      out('');
      out(
        `  shaft ${freqs.shaftHz.toFixed(2)} Hz   BPFO ${freqs.BPFO.toFixed(1)} Hz   BPFI ${freqs.BPFI.toFixed(1)} Hz   BSF ${freqs.BSF.toFixed(1)} Hz   FTF ${freqs.FTF.toFixed(2)} Hz`,
      );
      out(
        `  RMS ${summary.rmsG.toFixed(3)} g   peak ${summary.peakG.toFixed(3)} g   crest ${summary.crestFactor.toFixed(2)}   kurtosis ${summary.kurtosis.toFixed(2)}`,
      );
      out(
        `  velocity RMS (10–1000 Hz) ${summary.velocityRmsMmS.toFixed(2)} mm/s → ISO 20816-3 zone ${summary.isoZone} (group 2, rigid)`,
      );
      const top = evidence.defects
        .map((d) => `${d.name === 'BSF' ? '2·BSF' : d.name} ${d.score.toFixed(1)}`)
        .join('   ');
      out(
        `  envelope evidence (2–5 kHz band): ${top}   → ${evidence.best ?? 'no defect line stands out'}`,
      );
      out('');

      // The person-facing view: finer than the CNN's 64×64 input.
      const spec = createStft(
        {
          nfft: 1024,
          freqBins: 128,
          frames: Math.max(16, Math.round(seconds * 100)),
          scale: 'db',
          normalisation: 'none',
        },
        fs,
        x.length,
      ).compute(x);
      out(`  spectrogram 0–${fs / 2} Hz (dB), time → over ${seconds} s`);
      out(asciiSpectrogram(spec, 16, 72));
      const file = opts.out ?? path.join(os.tmpdir(), 'faultline-demo.png');
      await mkdir(path.dirname(path.resolve(file)), { recursive: true });
      await writeFile(file, spectrogramPng(spec, { colormap: 'inferno', pixelScale: 3 }));
      out('');
      out(`  spectrogram image: ${file}`);
    });
}
