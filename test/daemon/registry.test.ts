import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ModelRegistry } from '../../src/daemon/registry.js';
import { resolveFrontEndConfig } from '../../src/dsp/frontend.js';
import { isFaultlineError } from '../../src/errors.js';
import { buildCnn } from '../../src/model/architectures.js';
import { type ModelMetadata, saveModelArtifact } from '../../src/model/artifact.js';
import { initBackend } from '../../src/model/backend.js';
import { testArtifactMeta } from '../support/model-artifact.js';

let dir: string;
const models: ModelMetadata[] = [];

/** A tiny untrained model (distinct seeds → distinct weights and hashes). */
async function tinyModel(out: string, seed: number): Promise<ModelMetadata> {
  const frontEnd = resolveFrontEndConfig({
    sampleRate: 1000,
    windowLength: 256,
    hop: 128,
    stft: { nfft: 32, freqBins: 16, frames: 8 },
  });
  const cnn = buildCnn([16, 8, 1], 2, 'strided', { seed });
  try {
    return await saveModelArtifact(
      out,
      cnn.model,
      testArtifactMeta(cnn, {
        classes: ['normal', 'outer'],
        frontEnd,
        training: { seed },
        metrics: { sourceValAccuracy: 0.5 + seed / 100 },
      }),
    );
  } finally {
    cnn.model.dispose();
  }
}

before(async () => {
  await initBackend({ log: () => {} });
  dir = await mkdtemp(path.join(os.tmpdir(), 'fl-registry-'));
  for (const seed of [1, 2, 3]) models.push(await tinyModel(path.join(dir, `m${seed}`), seed));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('register copies and versions models, deduplicated by content hash', async () => {
  const reg = await ModelRegistry.open(path.join(dir, 'reg1'));
  const v1 = await reg.register(path.join(dir, 'm1'), { origin: 'test' });
  assert.match(v1.id, /^v1-[0-9a-f]{8}$/);
  assert.equal(v1.contentHash, models[0].contentHash);
  assert.ok(v1.id.endsWith(models[0].contentHash.slice(0, 8)));
  assert.deepEqual(v1.classes, ['normal', 'outer']);
  // the copy is a loadable model with the same hash
  const copied = JSON.parse(await readFile(path.join(v1.dir, 'faultline.json'), 'utf8'));
  assert.equal(copied.contentHash, v1.contentHash);
  const again = await reg.register(path.join(dir, 'm1'), { origin: 'again' });
  assert.equal(again.id, v1.id, 'same content → same version');
  const v2 = await reg.register(path.join(dir, 'm2'), {
    origin: 'test',
    parent: v1.id,
    machine: 'p1',
  });
  assert.match(v2.id, /^v2-/);
  assert.equal(v2.parent, v1.id);
  assert.equal(reg.list().length, 2);
});

test('activate, rollback and persistence across reopen', async () => {
  const root = path.join(dir, 'reg2');
  let reg = await ModelRegistry.open(root);
  const [a, b, c] = [
    await reg.register(path.join(dir, 'm1'), { origin: 't' }),
    await reg.register(path.join(dir, 'm2'), { origin: 't' }),
    await reg.register(path.join(dir, 'm3'), { origin: 't' }),
  ];
  await reg.activate('p1', a.id, a.contentHash);
  await reg.activate('p1', b.id);
  await reg.activate('p1', c.id);
  await reg.activate('p2', a.id);
  assert.equal(reg.active('p1')?.id, c.id);
  assert.deepEqual(reg.history('p1'), [b.id, a.id]);

  // a new process sees the same state
  reg = await ModelRegistry.open(root);
  assert.equal(reg.active('p1')?.id, c.id);
  assert.equal(reg.active('p2')?.id, a.id);
  assert.equal(reg.configuredHash('p1'), a.contentHash);

  const r = await reg.rollback('p1');
  assert.equal(r.from.id, c.id);
  assert.equal(r.to.id, b.id);
  reg = await ModelRegistry.open(root);
  assert.equal(reg.active('p1')?.id, b.id, 'rollback persisted');
  await reg.rollback('p1');
  assert.equal(reg.active('p1')?.id, a.id);
  await assert.rejects(
    reg.rollback('p1'),
    (e) => isFaultlineError(e, 'FL_ERR_MODEL_FILE') && /no earlier model version/.test(e.message),
  );
  await assert.rejects(reg.rollback('nobody'), (e) => isFaultlineError(e, 'FL_ERR_MODEL_FILE'));
  await assert.rejects(
    reg.activate('p1', 'v99-deadbeef'),
    (e) => isFaultlineError(e, 'FL_ERR_MODEL_FILE') && /not in the registry/.test(e.message),
  );
});

test('promote activates a version and records who, why and whether a guard was overridden', async () => {
  const reg = await ModelRegistry.open(path.join(dir, 'reg-promote'));
  const a = await reg.register(path.join(dir, 'm1'), { origin: 'test' });
  const b = await reg.register(path.join(dir, 'm2'), { origin: 'test' });
  await reg.activate('pump', a.id);
  const rec = await reg.promote('pump', b.id, {
    by: 'ana',
    reason: 'vendor advice',
    forced: true,
    failedGuards: ['class-collapse'],
  });
  assert.equal(reg.active('pump')?.id, b.id);
  assert.deepEqual(reg.history('pump'), [a.id], 'rollback still works after a promotion');
  assert.deepEqual(
    [rec.version, rec.from, rec.by, rec.reason, rec.forced, rec.failedGuards],
    [b.id, a.id, 'ana', 'vendor advice', true, ['class-collapse']],
  );
  assert.ok(Number.isFinite(Date.parse(rec.at)));
  // persisted
  const again = await ModelRegistry.open(path.join(dir, 'reg-promote'));
  assert.deepEqual(again.audit('pump'), [rec]);
  assert.deepEqual(again.audit('other'), []);
  await assert.rejects(reg.promote('pump', 'v9-nothere', { by: 'ana', forced: false }), (e) =>
    isFaultlineError(e, 'FL_ERR_MODEL_FILE'),
  );
  assert.equal(reg.audit('pump').length, 1, 'a refused promotion is not recorded');
  // a machine without an active version gets one
  await reg.promote('new', a.id, { by: 'bo', forced: false });
  assert.equal(reg.active('new')?.id, a.id);
  assert.equal(reg.audit('new')[0].from, undefined);
});

test('concurrent registrations get distinct ids', async () => {
  const reg = await ModelRegistry.open(path.join(dir, 'reg3'));
  const vs = await Promise.all(
    [1, 2, 3].map((s) => reg.register(path.join(dir, `m${s}`), { origin: 't' })),
  );
  assert.equal(new Set(vs.map((v) => v.id)).size, 3);
});

test('a corrupt model folder or registry file is refused', async () => {
  const reg = await ModelRegistry.open(path.join(dir, 'reg4'));
  const broken = path.join(dir, 'broken');
  await tinyModel(broken, 9);
  const w = path.join(broken, 'weights.bin');
  const bytes = await readFile(w);
  bytes[10] ^= 0xff;
  await writeFile(w, bytes);
  await assert.rejects(reg.register(broken, { origin: 't' }), (e) =>
    isFaultlineError(e, 'FL_ERR_MODEL_FILE'),
  );
  assert.equal(reg.list().length, 0, 'nothing registered');
  await assert.rejects(reg.register(path.join(dir, 'missing'), { origin: 't' }), (e) =>
    isFaultlineError(e, 'FL_ERR_MODEL_FILE'),
  );
  const root = path.join(dir, 'reg5');
  await ModelRegistry.open(root);
  await writeFile(path.join(root, 'registry.json'), '{"format": "faultl');
  await assert.rejects(
    ModelRegistry.open(root),
    (e) => isFaultlineError(e, 'FL_ERR_MODEL_FILE') && /corrupt/.test(e.message),
  );
});

test('re-registering a known model checks its hash without loading tfjs', async () => {
  const root = path.join(dir, 'reg6');
  const reg = await ModelRegistry.open(root);
  const v1 = await reg.register(path.join(dir, 'm1'), { origin: 't' });
  // A fresh process (this one has tfjs loaded): importing the gateway, and
  // re-registering at start as the gateway does, must leave tfjs unloaded.
  const repo = path.resolve(import.meta.dirname, '..', '..');
  const script = `
    const { Gateway } = await import(${JSON.stringify(path.join(repo, 'src/daemon/gateway.ts'))});
    const { ModelRegistry } = await import(${JSON.stringify(path.join(repo, 'src/daemon/registry.ts'))});
    const reg = await ModelRegistry.open(${JSON.stringify(root)});
    const v = await reg.register(${JSON.stringify(path.join(dir, 'm1'))}, { origin: 'again' });
    console.log(JSON.stringify({ id: v.id, gateway: typeof Gateway, tf: '_tfengine' in globalThis }));
  `;
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: repo,
      encoding: 'utf8',
    },
  );
  assert.deepEqual(JSON.parse(out.trim().split('\n').at(-1) ?? ''), {
    id: v1.id,
    gateway: 'function',
    tf: false,
  });
  // Changed files of a known model are still refused by the hash.
  const copy = path.join(dir, 'm1-changed');
  await cp(path.join(dir, 'm1'), copy, { recursive: true });
  const w = path.join(copy, 'weights.bin');
  const bytes = await readFile(w);
  bytes[3] ^= 0x01;
  await writeFile(w, bytes);
  await assert.rejects(
    reg.register(copy, { origin: 't' }),
    (e) => isFaultlineError(e, 'FL_ERR_MODEL_FILE') && /hash/.test(e.message),
  );
});

test('a new model proven in a worker (as the gateway does) leaves tfjs out of this thread', async () => {
  const root = path.join(dir, 'reg7');
  // A network that does not match its metadata: 3 classes said, 2 outputs built
  // (same network files, so the same hash: it is offered first).
  const bad = path.join(dir, 'm2-three-classes');
  await cp(path.join(dir, 'm2'), bad, { recursive: true });
  const metaFile = path.join(bad, 'faultline.json');
  const meta = JSON.parse(await readFile(metaFile, 'utf8'));
  meta.classes = ['ball', 'normal', 'outer'];
  await writeFile(metaFile, JSON.stringify(meta));
  const repo = path.resolve(import.meta.dirname, '..', '..');
  const script = `
    const { ModelRegistry } = await import(${JSON.stringify(path.join(repo, 'src/daemon/registry.ts'))});
    const { probeModelInWorker } = await import(${JSON.stringify(path.join(repo, 'src/diagnose/inference-pool.ts'))});
    const reg = await ModelRegistry.open(${JSON.stringify(root)}, { proveModel: (d) => probeModelInWorker(d, 'cpu') });
    let refused = null;
    try { await reg.register(${JSON.stringify(bad)}, { origin: 'bad' }); } catch (e) { refused = e.code + ' ' + e.message; }
    const v = await reg.register(${JSON.stringify(path.join(dir, 'm2'))}, { origin: 'worker-proven' });
    console.log(JSON.stringify({ versions: reg.list().length, hash: v.contentHash, refused, tf: '_tfengine' in globalThis }));
  `;
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script],
    {
      cwd: repo,
      encoding: 'utf8',
    },
  );
  const r = JSON.parse(out.trim().split('\n').at(-1) ?? '');
  assert.equal(r.versions, 1, 'only the good model is registered');
  assert.equal(r.hash, models[1].contentHash);
  assert.match(r.refused, /^FL_ERR_MODEL_FILE .*3 classes/);
  assert.equal(r.tf, false, 'tfjs was never loaded in the registering thread');
});

test('a truncated registry.json is recovered from registry.json.bak, not fatal', async () => {
  const root = path.join(dir, 'reg-trunc');
  const reg = await ModelRegistry.open(root);
  const a = await reg.register(path.join(dir, 'm1'), { origin: 't' });
  const b = await reg.register(path.join(dir, 'm2'), { origin: 't' });
  await reg.activate('p1', a.id);
  await reg.activate('p1', b.id);
  const file = path.join(root, 'registry.json');
  // the .bak holds the copy before the last write
  const bak = JSON.parse(await readFile(`${file}.bak`, 'utf8'));
  assert.equal(bak.machines.p1.active, a.id);
  const text = await readFile(file, 'utf8');
  await writeFile(file, text.slice(0, text.length >> 1));
  const warnings: string[] = [];
  const reopened = await ModelRegistry.open(root, { log: (m) => warnings.push(m) });
  assert.match(reopened.recovered ?? '', /registry\.json: .*JSON/);
  assert.match(warnings.join('\n'), /recovered from .*registry\.json\.bak/);
  assert.equal(reopened.active('p1')?.id, a.id, 'the state of the write before');
  assert.equal(reopened.list().length, 2);
  // the recovered copy is back in place, and the good .bak was kept
  JSON.parse(await readFile(file, 'utf8'));
  assert.equal(JSON.parse(await readFile(`${file}.bak`, 'utf8')).machines.p1.active, a.id);
  assert.equal((await ModelRegistry.open(root)).recovered, undefined);
  // registry.json gone (a crash between renames on a lying disk): the .bak again
  await rm(file);
  assert.equal((await ModelRegistry.open(root)).active('p1')?.id, a.id);
  // both unreadable: still refused, naming both
  await writeFile(file, '{"format": "faultl');
  await writeFile(`${file}.bak`, '{');
  await assert.rejects(
    ModelRegistry.open(root),
    (e) => isFaultlineError(e, 'FL_ERR_MODEL_FILE') && /\.bak cannot replace it/.test(e.message),
  );
});

test('power cut: SIGKILL while the registry is being written leaves a readable registry', {
  timeout: 300_000,
}, async () => {
  const root = path.join(dir, 'reg-kill');
  const reg = await ModelRegistry.open(root);
  const a = await reg.register(path.join(dir, 'm1'), { origin: 't' });
  const b = await reg.register(path.join(dir, 'm2'), { origin: 't' });
  for (let round = 0; round < 5; round++) {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(path.dirname(fileURLToPath(import.meta.url)), 'registry-writer.ts'),
        root,
        a.id,
        b.id,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(child, 'exit');
    // kill it somewhere in its stream of writes: after a varying number of them
    const writes = 5 + round * 37;
    let seen = 0;
    await new Promise<void>((resolve) => {
      child.stdout?.on('data', (d: Buffer) => {
        seen += d.toString().split('\n').length - 1;
        if (seen >= writes) resolve();
      });
      child.once('exit', () => resolve());
    });
    child.kill('SIGKILL');
    await exited;
    assert.ok(seen >= writes, `the writer stopped early after ${seen} writes`);
    const after = await ModelRegistry.open(root);
    assert.ok([a.id, b.id].includes(after.active('p')?.id ?? ''), `round ${round}`);
    assert.equal(after.list().length, 2);
  }
});

test("machine ids that name Object.prototype's members are ordinary entries, across reopen", async () => {
  const root = path.join(dir, 'reg-proto');
  let reg = await ModelRegistry.open(root);
  const a = await reg.register(path.join(dir, 'm1'), { origin: 't' });
  const b = await reg.register(path.join(dir, 'm2'), { origin: 't' });
  const odd = ['__proto__', 'constructor', 'toString'];
  assert.equal(reg.active('constructor'), undefined, 'nothing active before activation');
  assert.deepEqual(reg.history('hasOwnProperty'), []);
  for (const m of odd) {
    await reg.activate(m, a.id);
    await reg.activate(m, b.id);
  }
  for (let round = 0; round < 2; round++) {
    for (const m of odd) {
      assert.equal(reg.active(m)?.id, b.id, `${m} (round ${round})`);
      assert.deepEqual(reg.history(m), [a.id]);
    }
    assert.equal(reg.active('valueOf'), undefined);
    reg = await ModelRegistry.open(root);
  }
  const file = JSON.parse(await readFile(path.join(root, 'registry.json'), 'utf8')) as {
    machines: object;
  };
  assert.deepEqual(Object.keys(file.machines).sort(), [...odd].sort());
  const r = await reg.rollback('__proto__');
  assert.equal(r.to.id, a.id);
  assert.equal(reg.active('constructor')?.id, b.id, 'the others untouched');
});
