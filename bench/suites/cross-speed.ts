/**
 * Cross-speed transfer on simulated machines: a CNN trained at 600 rpm and
 * tested at 1200 rpm (and the reverse), with the time-mode front end (Hz
 * axis) and the order-mode one (angular resampling to a fixed number of
 * samples per revolution, rpm known), source-only and after DANN with
 * UNLABELLED target windows. Metrics are target test accuracies in percent.
 *
 * `npx tsx bench/run.ts --only cross-speed` (about 5–10 min on 2 cores).
 */
import { createFrontEnd, resolveFrontEndConfig } from '../../src/dsp/frontend.js';
import { alignDomains } from '../../src/model/adapt/align.js';
import { initBackend } from '../../src/model/backend.js';
import { prepareDomain } from '../../src/model/domains.js';
import * as tf from '../../src/model/tf.js';
import {
  accuracyOf,
  buildSeededCnn,
  predictProbs,
  snapshotWeights,
  trainClassifier,
} from '../../src/model/train.js';
import { simulateRecording } from '../../src/sim/generator.js';
import type { Recording } from '../../src/types.js';

export const name = 'cross-speed';

const CLASSES = ['normal', 'inner', 'outer', 'ball'];
const FAULTS = ['none', 'inner', 'outer', 'ball'] as const;
const SLOW = 'target-600rpm';
const FAST = 'target-1200rpm';

export async function run(): Promise<Record<string, number>> {
  await initBackend({ log: () => {} });
  const recs: Recording[] = [];
  for (const condition of [SLOW, FAST] as const) {
    FAULTS.forEach((fault, i) => {
      recs.push(simulateRecording({ fault, condition, seed: 20 + i }, 12));
    });
  }
  const metrics: Record<string, number> = {};
  const rows: string[] = [];
  for (const mode of ['time', 'order'] as const) {
    const fe = createFrontEnd(
      resolveFrontEndConfig({
        sampleRate: 12000,
        windowLength: 12000,
        hop: 1500,
        mode,
        stft:
          mode === 'order'
            ? { nfft: 256, freqBins: 64, frames: 32 }
            : { nfft: 512, freqBins: 64, frames: 32 },
      }),
    );
    const data = {
      [SLOW]: prepareDomain(recs, [SLOW], CLASSES, fe),
      [FAST]: prepareDomain(recs, [FAST], CLASSES, fe),
    };
    const pairs: [typeof SLOW | typeof FAST, typeof SLOW | typeof FAST][] = [
      [SLOW, FAST],
      [FAST, SLOW],
    ];
    for (const [s, t] of pairs) {
      const cnn = buildSeededCnn([...fe.inputShape], 4, 'strided', 1);
      await trainClassifier(cnn.model, data[s].train, data[s].val, { epochs: 10, seed: 1 });
      const so = accuracyOf(predictProbs(cnn.model, data[t].test), data[t].test.y, 4);
      const base = snapshotWeights(cnn.model);
      const unlabelled = { ...data[t].train, y: new Int32Array(data[t].train.n).fill(-1) };
      await alignDomains(cnn, data[s].train, data[s].val, unlabelled, {
        strategy: 'dann',
        steps: 150,
        evalEvery: 25,
        seed: 1,
      });
      const dann = accuracyOf(predictProbs(cnn.model, data[t].test), data[t].test.y, 4);
      tf.dispose(base);
      cnn.model.dispose();
      const key = `${mode}_${s.replace('target-', '')}_to_${t.replace('target-', '')}`;
      metrics[`${key}_source_only_pct`] = Math.round(so * 1000) / 10;
      metrics[`${key}_dann_pct`] = Math.round(dann * 1000) / 10;
      rows.push(
        `| ${mode} | ${s} → ${t} | ${(so * 100).toFixed(1)} % | ${(dann * 100).toFixed(1)} % | ${data[t].test.n} |`,
      );
    }
  }
  process.stderr.write(
    `\n| front end | task | source-only | dann | test windows |\n|---|---|---|---|---|\n${rows.join('\n')}\n`,
  );
  return metrics;
}
