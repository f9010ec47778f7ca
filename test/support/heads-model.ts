/**
 * A small multi-task model for the gateway and console tests of the heads
 * (issue 16): the simulator's four classes at 1797 rpm plus a `location` and a
 * `condition` head, the condition's classes being the two speeds of its data
 * (it trains on the source one; the heads' presence is under test, not their
 * accuracy). Cached in the OS temp folder like ./pipeline-model.ts; ~15 s fresh.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { trainSourceModel } from '../../src/model/pipeline.js';
import { SIM_FRONT_END, simRecordings } from '../../src/sim/sim-model.js';

const FIXTURE_VERSION = 'sim-heads-v1';

/** Folder of the multi-head model (trained on first use). */
export async function headsModelDir(): Promise<string> {
  const dir = path.join(os.tmpdir(), `faultline-fixture-${FIXTURE_VERSION}`);
  if (existsSync(path.join(dir, 'faultline.json'))) return dir;
  const recordings = [
    ...simRecordings({ recordingsPerClass: 3, durationS: 6 }),
    ...simRecordings({ condition: 'target-1200rpm', recordingsPerClass: 1, durationS: 6 }),
  ];
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'faultline-fixture-heads-'));
  await trainSourceModel({
    recordings,
    domains: ['source-1797rpm'],
    datasetLabel: 'sim:heads',
    kind: 'sim',
    frontEnd: SIM_FRONT_END,
    epochs: 4,
    seed: 1,
    outDir: tmp,
    command: 'test fixture',
    heads: ['location', 'condition'],
  });
  try {
    await rename(tmp, dir);
  } catch {
    // Another test process won the race; its model is equivalent.
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
}
