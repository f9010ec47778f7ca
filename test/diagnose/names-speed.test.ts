import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  defectOf,
  hasNormalClass,
  operatorClass,
  operatorProbs,
} from '../../src/contract/fault-names.js';
import { estimatedSpeed, knownSpeed, resolveSpeed } from '../../src/diagnose/speed-source.js';
import { generateBearingSignal } from '../../src/sim/generator.js';

describe('fault names', () => {
  it('maps CWRU codes to location and defect size', () => {
    assert.deepEqual(operatorClass('IR007'), { faultClass: 'inner race', severity: '0.007 in' });
    assert.deepEqual(operatorClass('OR014'), { faultClass: 'outer race', severity: '0.014 in' });
    assert.deepEqual(operatorClass('OR021@6'), { faultClass: 'outer race', severity: '0.021 in' });
    assert.deepEqual(operatorClass('B021'), { faultClass: 'ball', severity: '0.021 in' });
    assert.deepEqual(operatorClass('b007'), { faultClass: 'ball', severity: '0.007 in' });
  });

  it('maps simulator names and passes unknown names through', () => {
    assert.deepEqual(operatorClass('inner'), { faultClass: 'inner race' });
    assert.deepEqual(operatorClass('outer'), { faultClass: 'outer race' });
    assert.deepEqual(operatorClass('ball'), { faultClass: 'ball' });
    assert.deepEqual(operatorClass('normal'), { faultClass: 'normal' });
    assert.deepEqual(operatorClass('misalignment'), { faultClass: 'misalignment' });
    assert.deepEqual(operatorClass('IR7'), { faultClass: 'IR7' });
  });

  it('sums probabilities per operator class and knows which models have a normal class', () => {
    const classes = ['IR007', 'IR014', 'OR007', 'normal'];
    const p = operatorProbs(classes, [0.2, 0.3, 0.1, 0.4]);
    assert.ok(Math.abs(p['inner race'] - 0.5) < 1e-12);
    assert.equal(p['outer race'], 0.1);
    assert.equal(p.normal, 0.4);
    assert.equal(hasNormalClass(classes), true);
    assert.equal(hasNormalClass(['IR007', 'B007', 'OR007']), false);
    assert.equal(defectOf('inner race'), 'BPFI');
    assert.equal(defectOf('outer race'), 'BPFO');
    assert.equal(defectOf('ball'), 'BSF');
    assert.equal(defectOf('normal'), undefined);
  });
});

describe('speed source', () => {
  const x = generateBearingSignal({ fault: 'none', condition: 'source-1797rpm', seed: 3 }, 12000);
  const range = { minRpm: 600, maxRpm: 3600 };

  it('prefers the frame, then the configuration, then the estimate', () => {
    assert.deepEqual(knownSpeed(1500, 1800), { rpm: 1500, source: 'frame' });
    assert.deepEqual(knownSpeed(undefined, 1800), { rpm: 1800, source: 'config' });
    assert.deepEqual(knownSpeed(0, 1800), { rpm: 1800, source: 'config' });
    assert.deepEqual(knownSpeed(Number.NaN, undefined), { rpm: null, source: 'none' });
    assert.deepEqual(resolveSpeed(1500, 1800, x, 12000, range), { rpm: 1500, source: 'frame' });
    assert.deepEqual(resolveSpeed(undefined, 1800, x, 12000, range), {
      rpm: 1800,
      source: 'config',
    });
    const est = resolveSpeed(undefined, undefined, x, 12000, range);
    assert.equal(est.source, 'estimate');
    assert.ok(Math.abs((est.rpm ?? 0) - 1797) < 1797 * 0.02, `estimate ${est.rpm}`);
    assert.deepEqual(resolveSpeed(undefined, undefined, x, 12000, range, false), {
      rpm: null,
      source: 'none',
    });
  });

  it('reports none (not an error) when the spectrum shows no shaft lines', () => {
    assert.deepEqual(estimatedSpeed(new Float32Array(12000), 12000, range), {
      rpm: null,
      source: 'none',
    });
    assert.throws(
      () => estimatedSpeed(new Float32Array(0), 12000, range),
      /FL_ERR|no samples|empty/i,
    );
  });
});
