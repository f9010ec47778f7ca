/**
 * The one manifest parser (src/data/byo.ts): label column, header case,
 * comments, empty labels, and the bearing columns — for CSV and JSON alike,
 * and through loadLabelledData (the path `train`/`eval --label-column` use).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bearingFrequencies, CWRU_DE_BEARING } from '../../src/contract/bearing.js';
import { loadByo, readByoManifest } from '../../src/data/byo.js';
import { describeRecordings, loadDataset } from '../../src/data/dataset.js';
import { isFaultlineError } from '../../src/errors.js';
import { loadLabelledData } from '../../src/model/domains.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let root: string;
let n = 0;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fl-manifest-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const SIGNAL = `${Array.from({ length: 400 }, (_, i) => (Math.sin(i / 5) / 2).toFixed(5)).join('\n')}\n`;

/** A fresh folder with `a.csv` … `e.csv` and the given manifest files. */
async function folder(files: Record<string, string>): Promise<string> {
  const dir = path.join(root, `f${n++}`);
  await mkdir(dir, { recursive: true });
  for (const f of ['a.csv', 'b.csv', 'c.csv', 'd.csv', 'e.csv'])
    await writeFile(path.join(dir, f), SIGNAL);
  for (const [f, text] of Object.entries(files)) await writeFile(path.join(dir, f), text);
  return dir;
}

/** Asserts `p` rejects with FL_ERR_DATASET_MANIFEST whose message matches every pattern. */
async function manifestError(p: Promise<unknown>, ...patterns: RegExp[]): Promise<string> {
  let message = '';
  await assert.rejects(p, (e) => {
    assert.ok(isFaultlineError(e), String(e));
    assert.equal(e.code, 'FL_ERR_DATASET_MANIFEST', e.message);
    message = e.message;
    return true;
  });
  for (const re of patterns) assert.match(message, re);
  return message;
}

const CSV_MIXED_CASE = `# exported 2024-05-02 by the plant historian
File,Label,DOMAIN,Sample_Rate,Channel,RPM,Location
a.csv,IR-0.2mm,rigA,1000,,600,inner
# a comment between rows
b.csv,OR-0.2mm,rigA,1000,,600,outer
c.csv,N,rigB,1000,,900,normal
`;

test('CSV: header case and comments ignored; the label column chosen without case', async () => {
  const dir = await folder({ 'manifest.csv': CSV_MIXED_CASE });
  const byLabel = await loadByo(dir);
  assert.deepEqual(
    byLabel.map((r) => [r.meta.file, r.label, r.domain, r.rpm]),
    [
      ['a.csv', 'IR-0.2mm', 'rigA', 600],
      ['b.csv', 'OR-0.2mm', 'rigA', 600],
      ['c.csv', 'N', 'rigB', 900],
    ],
  );
  for (const col of ['location', 'LOCATION', ' Location ']) {
    const recs = await loadByo(dir, { labelColumn: col });
    assert.deepEqual(
      recs.map((r) => r.label),
      ['inner', 'outer', 'normal'],
      col,
    );
  }
  // Lines count comments: a.csv is on line 3, b.csv on line 5.
  const m = await readByoManifest(dir, { labelColumn: 'location' });
  assert.deepEqual(
    m.rows.map((r) => r.line),
    [3, 5, 6],
  );
  // The same through loadLabelledData, which `eval`/`train --label-column` use.
  const loaded = await loadLabelledData(dir, { labelColumn: 'Location' });
  assert.equal(loaded.kind, 'byo');
  assert.deepEqual(
    loaded.recordings.map((r) => r.label),
    ['inner', 'outer', 'normal'],
  );
});

test('an empty cell in the label column is a row error with its line, listed with every other problem', async () => {
  const dir = await folder({
    'manifest.csv': `file,label,domain,sample_rate,channel,location
a.csv,IR,rigA,1000,,inner
b.csv,OR,rigA,1000,,
c.csv,N,rigB,1000,,normal
d.csv,N,rigB,,,
missing.csv,N,rigB,1000,,normal
`,
  });
  // The old re-parse kept 'OR' for b.csv here; now it is refused.
  const msg = await manifestError(
    loadLabelledData(dir, { labelColumn: 'location' }),
    /3 bad row\(s\)/,
    /line 3: label column 'location' is empty/,
    /line 5: label column 'location' is empty; sample_rate is empty/,
    /line 6: file 'missing\.csv' not found/,
  );
  assert.doesNotMatch(msg, /line [24]:/);
  // The default column is complete here apart from the same other problems.
  await manifestError(loadByo(dir), /2 bad row\(s\)/, /line 5: sample_rate is empty/);
});

test('a label column the header lacks, or a column named twice, is refused up front', async () => {
  const dir = await folder({ 'manifest.csv': CSV_MIXED_CASE });
  await manifestError(
    loadByo(dir, { labelColumn: 'severity' }),
    /header lacks column\(s\) severity/,
    /the label column is 'severity'/,
  );
  const twice = await folder({
    'manifest.csv': 'file,label,domain,sample_rate,Label\na.csv,IR,rigA,1000,x\n',
  });
  await manifestError(loadByo(twice), /names column\(s\) label twice/);
  const noLabel = await folder({
    'manifest.csv': 'file,domain,sample_rate,location\na.csv,rigA,1000,inner\n',
  });
  await manifestError(loadByo(noLabel), /header lacks column\(s\) label/);
  assert.deepEqual(
    (await loadByo(noLabel, { labelColumn: 'location' })).map((r) => r.label),
    ['inner'],
  );
});

test('JSON: keys without case, the label column, an empty label with its line', async () => {
  const good = await folder({
    'manifest.json': JSON.stringify(
      [
        { File: 'a.csv', LABEL: 'IR', Domain: 'rigA', sample_rate: 1000, Location: 'inner' },
        { file: 'b.csv', label: 'OR', domain: 'rigA', SAMPLE_RATE: '1000', location: 'outer' },
      ],
      null,
      2,
    ),
  });
  assert.deepEqual(
    (await loadByo(good)).map((r) => r.label),
    ['IR', 'OR'],
  );
  assert.deepEqual(
    (await loadByo(good, { labelColumn: 'LOCATION' })).map((r) => r.label),
    ['inner', 'outer'],
  );
  const bad = await folder({
    'manifest.json': JSON.stringify(
      {
        recordings: [
          { file: 'a.csv', label: 'IR', domain: 'rigA', sample_rate: 1000, location: 'inner' },
          { file: 'b.csv', label: 'OR', domain: 'rigA', sample_rate: 1000, location: '  ' },
          { file: 'c.csv', label: 'N', domain: 'rigB', sample_rate: 1000 },
        ],
      },
      null,
      2,
    ),
  });
  await manifestError(
    loadByo(bad, { labelColumn: 'location' }),
    /2 bad row\(s\)/,
    /line 10: label column 'location' is empty/,
    /line 17: label column 'location' is empty/,
  );
  const dupKeys = await folder({
    'manifest.json':
      '[\n  {"file": "a.csv", "label": "IR", "Label": "OR", "domain": "rigA", "sample_rate": 1000}\n]\n',
  });
  await manifestError(loadByo(dupKeys), /line 2 \(entry 0\): key\(s\) label given twice/);
});

test('a CWRU folder refuses a label column other than label', async () => {
  const dir = path.join(root, 'cwru-like');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, '105.mat'), 'not read');
  await assert.rejects(loadLabelledData(dir, { labelColumn: 'location' }), (e) => {
    assert.ok(isFaultlineError(e));
    assert.equal(e.code, 'FL_ERR_DATASET_OPTION');
    assert.match(e.message, /bring-your-own folders; .* is CWRU/);
    return true;
  });
});

const BEARING_HEADER =
  'file,label,domain,sample_rate,channel,bearing,N_Balls,ball_d,pitch_d,contact_angle_deg';

test('bearing per row: a designation, the four geometry columns, or both when they agree', async () => {
  const dir = await folder({
    'manifest.csv': `${BEARING_HEADER}
a.csv,inner,rigA,1000,,6205,,,,
b.csv,outer,rigA,1000,,SKF 6205-2RS JEM,9,7.94,39.04,0
c.csv,inner,rigB,1000,,,8,0.235,1.245,0
d.csv,outer,rigB,1000,,za-2115,,,,
e.csv,normal,rigC,1000,,,,,,
`,
  });
  const recs = await loadByo(dir);
  const by = new Map(recs.map((r) => [String(r.meta.file), r]));
  assert.deepEqual(by.get('a.csv')?.bearing, CWRU_DE_BEARING);
  assert.equal(by.get('a.csv')?.meta.bearingDesignation, '6205');
  // Both given: the columns' own numbers are kept (the manufacturer's data wins).
  assert.deepEqual(by.get('b.csv')?.bearing, {
    balls: 9,
    ballDiameter: 7.94,
    pitchDiameter: 39.04,
    contactAngleDeg: 0,
  });
  assert.equal(by.get('b.csv')?.meta.bearingDesignation, '6205');
  const mfpt = by.get('c.csv')?.bearing;
  assert.ok(mfpt);
  const f = bearingFrequencies(mfpt, 1);
  assert.ok(Math.abs(f.BPFI - 4.755) < 5e-4, `BPFI ${f.BPFI}`);
  assert.ok(Math.abs(f.BPFO - 3.245) < 5e-4, `BPFO ${f.BPFO}`);
  assert.equal(by.get('c.csv')?.meta.bearingDesignation, undefined);
  assert.equal(by.get('d.csv')?.bearing?.balls, 16);
  assert.equal(by.get('e.csv')?.bearing, undefined);
  assert.ok(!('bearing' in (by.get('e.csv') ?? {})));

  const entries = describeRecordings(recs);
  assert.deepEqual(
    entries.map((e) => e.bearing?.designation ?? null),
    ['6205', '6205', 'MFPT', 'ZA-2115', null],
  );
  assert.deepEqual(entries[2].bearing, {
    designation: 'MFPT',
    balls: 8,
    ballDiameter: 0.235,
    pitchDiameter: 1.245,
    contactAngleDeg: 0,
  });
  // The geometry is the row's own copy, not the shared table constant.
  const a = by.get('a.csv')?.bearing;
  assert.ok(a && a !== CWRU_DE_BEARING && !Object.isFrozen(a));
});

test('bad bearings are row errors, all listed at once with their lines', async () => {
  const dir = await folder({
    'manifest.csv': `${BEARING_HEADER}
a.csv,inner,rigA,1000,,6305-2RS,,,,
b.csv,outer,rigA,1000,,6205,8,0.235,1.245,0
c.csv,inner,rigB,1000,,,8,0.235,,
d.csv,outer,rigB,1000,,,2.5,1.3,1.245,90
e.csv,inner,rigB,1000,,,8,0.2x,1.245,0
`,
  });
  await manifestError(
    loadByo(dir),
    /5 bad row\(s\)/,
    /line 2: bearing '6305-2RS' is not in the table \(known: 6203, 6205, MFPT, UER204, ZA-2115\)/,
    /line 3: bearing '6205' \(6205: 9 × 0\.3126 \/ 1\.537, 0°\) disagrees with the geometry columns \(8 × 0\.235 \/ 1\.245, 0°\)/,
    /line 4: bearing geometry needs all of n_balls, ball_d, pitch_d, contact_angle_deg; pitch_d, contact_angle_deg are empty/,
    /line 5: n_balls 2\.5 must be an integer ≥ 3; ball_d 1\.3 must be smaller than pitch_d 1\.245 \(same unit\); contact_angle_deg 90 must be in \[0, 90\)/,
    /line 6: ball_d "0\.2x" is not a number/,
  );
  const amb = await folder({
    'manifest.json': JSON.stringify([
      { file: 'a.csv', label: 'x', domain: 'd', sample_rate: 1000, Bearing: '6205/6203' },
    ]),
  });
  // '6205/6203' is one word cut at '/': the 6205 — but two words naming two entries are refused.
  assert.equal((await loadByo(amb))[0].bearing?.balls, 9);
  const amb2 = await folder({
    'manifest.json': JSON.stringify([
      { file: 'a.csv', label: 'x', domain: 'd', sample_rate: 1000, bearing: '6205 6203' },
      {
        file: 'b.csv',
        label: 'x',
        domain: 'd',
        sample_rate: 1000,
        n_balls: 8,
        ball_d: 0.235,
        pitch_d: 1.245,
        contact_angle_deg: 0,
      },
    ]),
  });
  await manifestError(loadByo(amb2), /1 bad row\(s\)/, /bearing '6205 6203' names 6205 and 6203/);
});

test('dataset inspect shows the bearing per row and per domain (real CLI)', async () => {
  const dir = await folder({
    'manifest.csv': `${BEARING_HEADER},location
a.csv,IR,rigA,1000,,6205-2RS,,,,,inner
b.csv,OR,rigB,1000,,,8,0.235,1.245,0,outer
c.csv,N,rigC,1000,,,,,,,normal
`,
  });
  const run = promisify(execFile);
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'dataset', 'inspect', dir, '--label-column', 'location'],
    { cwd: repoRoot },
  );
  assert.match(stdout, /\s+bearing\n/);
  assert.match(stdout, /a\.csv\s+inner\s+rigA\s.*6205 \(9 × 0\.3126 \/ 1\.537, 0°\)\n/);
  assert.match(stdout, /b\.csv\s+outer\s+rigB\s.*MFPT \(8 × 0\.235 \/ 1\.245, 0°\)\n/);
  assert.match(stdout, /c\.csv\s+normal\s+rigC\s.*\s-\n/);
  assert.match(
    stdout,
    /bearing: rigA 6205 \(9 × 0\.3126 \/ 1\.537, 0°\); rigB MFPT \(8 × 0\.235 \/ 1\.245, 0°\); rigC -/,
  );
});

test('loadDataset passes the label column through; the CWRU check does not touch byo folders', async () => {
  const dir = await folder({ 'manifest.csv': CSV_MIXED_CASE });
  const recs = await loadDataset(dir, { labelColumn: 'location', targetRate: 500 });
  assert.deepEqual(
    recs.map((r) => [r.label, r.sampleRate, r.samples.length]),
    [
      ['inner', 500, 200],
      ['outer', 500, 200],
      ['normal', 500, 200],
    ],
  );
});
