import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { colorMapLut, spectrogramPng } from '../../src/report/png.js';

describe('spectrogramPng', () => {
  it('puts the highest band on the top row and maps min/max to the colour-map ends', () => {
    // 2 bands × 3 frames: band 1 (high) is all max, band 0 all min.
    const data = Float32Array.from([0, 0, 0, 1, 1, 1]);
    const img = PNG.sync.read(
      spectrogramPng({ data, freqBins: 2, frames: 3 }, { colormap: 'viridis', pixelScale: 2 }),
    );
    assert.equal(img.width, 6);
    assert.equal(img.height, 4);
    const lut = colorMapLut('viridis');
    const px = (x: number, y: number) => [
      ...img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3),
    ];
    assert.deepEqual(px(0, 0), [...lut.subarray(255 * 3, 256 * 3)]); // top = band 1 = max = yellow
    assert.deepEqual(px(5, 3), [...lut.subarray(0, 3)]); // bottom = band 0 = min = dark purple
    assert.deepEqual(px(0, 0), [0xfd, 0xe7, 0x25]);
  });

  it('adds an 8-pixel tick margin when ticks are asked for', () => {
    const img = PNG.sync.read(
      spectrogramPng(
        { data: new Float32Array(12), freqBins: 3, frames: 4 },
        { freqTicks: [1], timeTicks: [2] },
      ),
    );
    assert.deepEqual([img.width, img.height], [12, 11]);
  });
});
