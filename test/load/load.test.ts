/**
 * Short load test: $FAULTLINE_LOAD_SENSORS simulated sensors (default 4)
 * for $FAULTLINE_LOAD_S seconds (default 20) through mosquitto into the
 * gateway. Below capacity nothing may be dropped, every channel must keep
 * its rate, and memory must stay flat. The long version is
 * `npx tsx bench/run.ts --only soak`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { haveMosquitto } from '../helpers/mosquitto.js';
import { runLoad } from './load-run.js';

const sensors = Number(process.env.FAULTLINE_LOAD_SENSORS ?? 4);
const seconds = Number(process.env.FAULTLINE_LOAD_S ?? 20);

test(`load: ${sensors} sensors for ${seconds} s, nothing dropped, memory flat`, {
  skip: !(await haveMosquitto()) ? 'mosquitto not installed' : false,
  timeout: 120_000 + seconds * 1000,
}, async () => {
  const r = await runLoad({ sensors, seconds });
  console.log(`# load: ${JSON.stringify(r)}`);
  assert.equal(
    r.sustainedChannels,
    sensors,
    `channels keeping ≥ 95 % of ${r.offeredFramesPerS.toFixed(1)} frames/s`,
  );
  assert.equal(r.droppedWindows, 0, 'dropped windows');
  assert.equal(r.droppedBlocks, 0, 'dropped blocks');
  assert.ok(r.windowsOut > 0, 'windows diagnosed');
  assert.ok(r.latencyP99Ms < 2000, `p99 latency ${r.latencyP99Ms} ms`);
  assert.ok(
    r.rssGrowthMiB < 40,
    `RSS grew ${r.rssGrowthMiB.toFixed(1)} MiB: ${r.rssMiB.join(' ')}`,
  );
});
