/**
 * Short load test: $FAULTLINE_LOAD_SENSORS simulated sensors (default 4)
 * for $FAULTLINE_LOAD_S seconds (default 20) through mosquitto into the
 * gateway. Whatever the machine's speed: every channel keeps delivering,
 * no frame is lost or garbled on the way, no block is refused, a window is
 * dropped only when the machine cannot keep up (`queue-full`, never for
 * another reason), and memory stays flat. How fast this machine is (ingest
 * rate, latency, windows it could not keep up with) is printed, not
 * asserted: capacity belongs to `npx tsx bench/run.ts --only soak`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runLoad } from '../support/load-run.js';
import { haveMosquitto } from '../support/mosquitto.js';

const sensors = Number(process.env.FAULTLINE_LOAD_SENSORS ?? 4);
const seconds = Number(process.env.FAULTLINE_LOAD_S ?? 20);

test(`load: ${sensors} sensors for ${seconds} s, nothing lost, memory flat`, {
  skip: !(await haveMosquitto()) ? 'mosquitto not installed' : false,
  timeout: 600_000 + seconds * 1000,
}, async () => {
  const r = await runLoad({ sensors, seconds });
  console.log(`# load: ${JSON.stringify(r)}`);
  console.log(
    `# load: ${r.sustainedChannels}/${sensors} channels kept ≥ 95 % of ${r.offeredFramesPerS.toFixed(1)} frames/s; p99 latency ${r.latencyP99Ms} ms; windows dropped ${JSON.stringify(r.droppedWindowsByReason)}`,
  );
  assert.ok(
    r.framesPerChannel.every((f) => f > 0),
    `every channel delivered frames: ${r.framesPerChannel.join(' ')}`,
  );
  assert.equal(r.gaps, 0, 'frames lost on the way (sequence gaps)');
  assert.equal(r.badFrames, 0, 'frames garbled on the way');
  assert.equal(r.droppedBlocks, 0, 'dropped blocks');
  const { 'queue-full': _behind, ...otherDrops } = r.droppedWindowsByReason;
  assert.deepEqual(otherDrops, {}, 'windows dropped for another reason than a full queue');
  assert.ok(r.windowsOut > 0, 'windows diagnosed');
  assert.ok(
    r.rssGrowthMiB < 40,
    `RSS grew ${r.rssGrowthMiB.toFixed(1)} MiB: ${r.rssMiB.join(' ')}`,
  );
});
