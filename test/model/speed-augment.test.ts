/**
 * Order-mode speed augmentation (src/model/domains.ts): extra training
 * windows mapped as if the shaft turned k times as fast put every
 * shaft-locked line at 1/k of its order, and leave validation and test alone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSpeedAugment } from '../../src/cli/commands/front-end-options.js';
import { CWRU_DE_BEARING } from '../../src/contract/bearing.js';
import { createFrontEnd, resolveFrontEndConfig } from '../../src/dsp/frontend.js';
import { isFaultlineError } from '../../src/errors.js';
import {
  DEFAULT_FRACTIONS,
  DEFAULT_SPEED_AUGMENT,
  prepareDomain,
  speedAugmentFor,
} from '../../src/model/domains.js';
import type { InputSet } from '../../src/model/inputs.js';
import type { Recording } from '../../src/types.js';

const RPM = 1200;
const FS = 12_000;

/** A 3 kHz resonance whose amplitude is modulated `order` times per revolution. */
function modulated(label: string, order: number, seconds = 6): Recording {
  const fr = RPM / 60;
  const samples = new Float32Array(FS * seconds);
  for (let i = 0; i < samples.length; i++) {
    const t = i / FS;
    samples[i] =
      (1 + 0.8 * Math.cos(2 * Math.PI * order * fr * t)) * Math.sin(2 * Math.PI * 3000 * t);
  }
  return { id: `am:${label}`, label, domain: 'd', sampleRate: FS, samples, rpm: RPM, meta: {} };
}

/** Order of the strongest row (time-averaged) of window `i` (shaft axis, one band). */
function peakOrder(set: InputSet, i: number, maxOrder: number): number {
  const [F, T, K] = set.shape;
  const size = F * T * K;
  let best = -1;
  let bestV = Number.NEGATIVE_INFINITY;
  // The DC row holds the envelope's mean; lines start above one order.
  for (let r = 2; r < F; r++) {
    let v = 0;
    for (let t = 0; t < T; t++) v += set.x[i * size + (r * T + t) * K];
    if (v > bestV) {
      bestV = v;
      best = r;
    }
  }
  return ((best + 0.5) * maxOrder) / F;
}

test('speed-shifted training windows move the lines to order/k; validation and test are untouched', () => {
  const config = resolveFrontEndConfig({ version: 2, mode: 'order' });
  const fe = createFrontEnd(config);
  const maxOrder = config.lines?.maxOrder ?? 16;
  const recs = [modulated('a', 5), modulated('b', 7)];
  const plain = prepareDomain(recs, ['d'], ['a', 'b'], fe, DEFAULT_FRACTIONS);
  const aug = prepareDomain(recs, ['d'], ['a', 'b'], fe, DEFAULT_FRACTIONS, {
    speedFactors: [0.87, 1.15],
  });
  assert.equal(aug.val.n, plain.val.n);
  assert.equal(aug.test.n, plain.test.n);
  assert.ok(
    aug.train.n > 2.5 * plain.train.n && aug.train.n < 3.5 * plain.train.n,
    `${plain.train.n} windows → ${aug.train.n}`,
  );
  for (let i = 0; i < plain.train.n; i++)
    assert.ok(
      Math.abs(peakOrder(plain.train, i, maxOrder) - (plain.train.y[i] === 0 ? 5 : 7)) < 0.3,
    );
  // Class a's line (order 5) also sits at 5/0.87 and 5/1.15 in the extra windows.
  const seen = new Set<string>();
  for (let i = plain.train.n; i < aug.train.n; i++) {
    if (aug.train.y[i] !== 0) continue;
    const o = peakOrder(aug.train, i, maxOrder);
    for (const k of [0.87, 1.15]) if (Math.abs(o - 5 / k) < 0.3) seen.add(String(k));
  }
  assert.deepEqual([...seen].sort(), ['0.87', '1.15']);
});

test('speed augmentation leaves time mode alone (its spectrogram is in Hz)', () => {
  const fe = createFrontEnd(resolveFrontEndConfig({ version: 2, mode: 'time' }));
  const recs = [modulated('a', 5, 2), modulated('b', 7, 2)];
  const plain = prepareDomain(recs, ['d'], ['a', 'b'], fe);
  const aug = prepareDomain(recs, ['d'], ['a', 'b'], fe, DEFAULT_FRACTIONS, {
    speedFactors: [0.87, 1.15],
  });
  assert.equal(aug.train.n, plain.train.n);
  assert.deepEqual(aug.train.x, plain.train.x);
});

test('auto: speed factors for shaft-order axes only; explicit factors win', () => {
  const shaft = resolveFrontEndConfig({ version: 2, mode: 'order' });
  const faults = resolveFrontEndConfig({
    version: 2,
    mode: 'order',
    lines: { axes: ['BPFO', 'BPFI', 'BSF2'], bearing: CWRU_DE_BEARING },
  });
  const time = resolveFrontEndConfig({ version: 2, mode: 'time' });
  assert.deepEqual(speedAugmentFor(shaft), [...DEFAULT_SPEED_AUGMENT]);
  assert.deepEqual(speedAugmentFor(faults), []);
  assert.deepEqual(speedAugmentFor(time), []);
  assert.deepEqual(speedAugmentFor(faults, [0.9, 1.1]), [0.9, 1.1]);
  assert.deepEqual(speedAugmentFor(time, [0.9, 1.1]), [], 'time mode reads Hz');
  assert.deepEqual(parseSpeedAugment('none'), []);
  assert.equal(parseSpeedAugment('auto'), 'auto');
  assert.deepEqual(parseSpeedAugment('0.9, 1.1'), [0.9, 1.1]);
  for (const bad of ['3', 'fast', '0.9,,1.1'])
    assert.throws(
      () => parseSpeedAugment(bad),
      (e: unknown) => isFaultlineError(e) && e.code === 'FL_ERR_CLI_USAGE',
    );
});
