/**
 * A small real model for the pipeline tests (and the gateway benchmark): the strided CNN trained by the
 * model stage's trainSourceModel on simulated source-condition recordings
 * (normal / inner / outer / ball at 1797 rpm). Trained once per machine and
 * cached in the OS temp folder (keyed by the settings), since it is a
 * fixture, not the thing under test; a fresh one takes ~10–20 s.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { trainSourceModel } from '../../src/model/pipeline.js';
import type { FaultType } from '../../src/sim/faults.js';
import { simulateRecording } from '../../src/sim/generator.js';

const FIXTURE_VERSION = 'sim-4class-2048-v2';
export const FIXTURE_FRONT_END = {
  sampleRate: 12000,
  windowLength: 2048,
  hop: 1024,
  mode: 'time' as const,
  stft: { nfft: 256, freqBins: 64, frames: 32 },
};

/** Folder of the trained simulator model (trained on first use). */
export async function simModelDir(): Promise<string> {
  const dir = path.join(os.tmpdir(), `faultline-fixture-${FIXTURE_VERSION}`);
  if (existsSync(path.join(dir, 'faultline.json'))) return dir;
  const recordings = (['none', 'inner', 'outer', 'ball'] as FaultType[]).flatMap((fault) =>
    [1, 2].map((seed) => simulateRecording({ fault, condition: 'source-1797rpm', seed }, 8)),
  );
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'faultline-fixture-train-'));
  await trainSourceModel({
    recordings,
    datasetLabel: 'sim:source-1797rpm',
    kind: 'sim',
    frontEnd: FIXTURE_FRONT_END,
    epochs: 6,
    seed: 1,
    outDir: tmp,
    command: 'test fixture',
  });
  try {
    await rename(tmp, dir);
  } catch {
    // Another test process won the race; its model is equivalent.
    await rm(tmp, { recursive: true, force: true });
  }
  return dir;
}

/**
 * A copy of `dir` in a new temp folder with faultline.json edited by `edit`
 * (the content hash covers model.json + weights.bin only, so the copy loads).
 */
export async function modelVariant(
  dir: string,
  edit: (meta: Record<string, unknown>) => void,
): Promise<string> {
  const out = await mkdtemp(path.join(os.tmpdir(), 'faultline-variant-'));
  await cp(dir, out, { recursive: true });
  const file = path.join(out, 'faultline.json');
  const meta = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  edit(meta);
  await writeFile(file, JSON.stringify(meta, null, 2));
  return out;
}
