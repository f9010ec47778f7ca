/**
 * The web console in a real browser (Debian's Chromium through
 * playwright-core) against a real gateway started in-process: embedded broker,
 * a simulated fleet of one healthy and one faulty machine at twice real time,
 * the simulator model, SQLite, and the console built into a temporary folder
 * served by the gateway. Screenshots of every view go to test/artifacts/app/.
 *
 * Skips when Chromium is not installed (except with CI=true, where it fails).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from '../../app/build.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { silentLogger } from '../../src/daemon/log.js';
import {
  loadModelArtifact,
  readModelMetadata,
  saveModelArtifact,
} from '../../src/model/artifact.js';
import { trainSimModel } from '../../src/sim/sim-model.js';
import { launchChromium, chromiumSkip as skip } from '../support/chromium.js';
import { until } from '../support/gateway-fixture.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = path.join(repoRoot, 'test', 'artifacts', 'app');
/** The simulator model, trained once (≈ 20 s) and reused by later runs (test/artifacts is gitignored). */
const modelCache = path.join(repoRoot, 'test', 'artifacts', 'app-sim-model');
const quiet = silentLogger();

let dir: string;
let gw: Gateway;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];

async function simModel(): Promise<string> {
  try {
    await readModelMetadata(modelCache);
    return modelCache;
  } catch {
    await rm(modelCache, { recursive: true, force: true });
    await trainSimModel(modelCache);
    return modelCache;
  }
}

function config(stateDir: string, model: string, webDir: string): GatewayConfigInput {
  return {
    site: 'e2e',
    gatewayId: 'gw-e2e',
    stateDir,
    model,
    machines: [
      {
        id: 'pump-ok',
        description: 'healthy pump',
        line: 'Line A',
        sensors: [{ id: 1, sampleRate: 12000 }],
        simulate: { fault: 'none', seed: 21 },
      },
      {
        id: 'pump-bad',
        description: 'outer-race fault',
        line: 'Line B',
        sensors: [{ id: 2, sampleRate: 12000 }],
        simulate: { fault: 'outer', severity: 0.8, seed: 22 },
      },
      {
        // A 26 667 Hz node configured to read channel 1 of its mono frames: nothing fits.
        id: 'pump-miswired',
        description: 'sensor set up for the wrong axis',
        line: 'Line B',
        sensors: [{ id: 3, sampleRate: 26667, channel: 1 }],
        simulate: { fault: 'none', seed: 23 },
      },
    ],
    alerts: { mismatchAfterMs: 2000 },
    broker: { port: 0 },
    http: { port: 0, webDir },
    fleet: { speed: 2 },
    pipeline: { workers: 1 },
    adaptation: { steps: 10 },
  };
}

async function api<T>(route: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${gw.apiUrl}${route}`, {
    ...init,
    headers: {
      authorization: `Bearer ${gw.token}`,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
  });
  assert.ok(res.ok, `${route}: ${res.status}`);
  return (await res.json()) as T;
}

const shot = (name: string, fullPage = false) =>
  page.screenshot({ path: path.join(artifacts, name), fullPage });

describe('operator console in Chromium against a live gateway', { skip, timeout: 240_000 }, () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fl-console-'));
    await mkdir(artifacts, { recursive: true });
    const webDir = path.join(dir, 'web');
    await build({ webOut: webDir, shell: false });
    gw = await Gateway.start({
      config: parseConfig(config(path.join(dir, 'state'), await simModel(), webDir)),
      log: quiet,
    });
    browser = await launchChromium();
    ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    page = await ctx.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  });

  after(async () => {
    await browser?.close();
    await gw?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a wrong token is refused, by the gateway and by the console', async () => {
    const other = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    try {
      const p = await other.newPage();
      const wrong = 'w'.repeat(43);
      // The page itself is open (it holds no data): without a token the console asks for one…
      const res = await p.goto(`${gw.apiUrl}/`);
      assert.equal(res?.status(), 200);
      await p.waitForSelector('#login');
      assert.match((await p.textContent('#login .refused')) ?? '', /needs the gateway token/);
      // …with a wrong one the API refuses it and the console says so, instead of raw JSON…
      await p.goto(`${gw.apiUrl}/?token=${wrong}`);
      await p.waitForSelector('#login .refused');
      assert.match(
        (await p.textContent('#login .refused')) ?? '',
        /Access refused: the token does not match/,
      );
      // …and so does a console holding a stale token (page served on the cookie of an earlier visit).
      await p.goto(`${gw.apiUrl}/?token=${encodeURIComponent(gw.token)}`);
      await p.waitForSelector('.tile');
      await p.evaluate((t) => sessionStorage.setItem('faultline.token', t), wrong);
      await p.reload();
      await p.waitForSelector('#login');
      assert.match(
        (await p.textContent('#login .refused')) ?? '',
        /Access refused: the token does not match/,
      );
      assert.equal(await p.$('.tile'), null);
      await p.screenshot({ path: path.join(artifacts, 'token-refused.png') });
    } finally {
      await other.close();
    }
  });

  test('the fleet loads without console errors and shows every machine', async () => {
    await page.goto(`${gw.apiUrl}/?token=${encodeURIComponent(gw.token)}`);
    await page.waitForSelector('.tile[data-machine="pump-ok"]');
    await page.waitForSelector('.tile[data-machine="pump-bad"]');
    assert.equal(
      new URL(page.url()).searchParams.get('token'),
      null,
      'the token is removed from the address bar',
    );
    const ids = await page.$$eval('.tile', (els) =>
      els.map((e) => (e as HTMLElement).dataset.machine).sort(),
    );
    assert.deepEqual(ids, ['pump-bad', 'pump-miswired', 'pump-ok']);
    assert.match((await page.textContent('#conn')) ?? '', /live/);
    assert.match((await page.textContent('.statusbar')) ?? '', /Times in .+mm\/s/);
    // The Line filter works on the gateway's configured lines.
    const lines = await page.$$eval('#filter-line option', (els) =>
      els.map((e) => (e as HTMLOptionElement).value),
    );
    assert.deepEqual(lines, ['', 'Line A', 'Line B']);
    await page.selectOption('#filter-line', 'Line A');
    await page.waitForFunction(() => document.querySelectorAll('.tile').length === 1);
    assert.equal(await page.getAttribute('.tile', 'data-machine'), 'pump-ok');
    await page.selectOption('#filter-line', '');
    await page.waitForFunction(() => document.querySelectorAll('.tile').length === 3);
  });

  test('a sensor whose blocks do not fit shows stream-mismatch with the reason, on its tile and in its view', async () => {
    const tile = '.tile[data-machine="pump-miswired"]';
    await until(
      'pump-miswired in stream-mismatch',
      () =>
        page
          .getAttribute(`${tile} .badge`, 'data-state')
          .then((s) => (s === 'stream-mismatch' ? s : undefined)),
      30_000,
    );
    assert.match((await page.textContent(`${tile} .badge`)) ?? '', /≠\s*Stream mismatch/);
    assert.match(
      (await page.textContent(`${tile} .reason`)) ?? '',
      /sensor 3: .*reads channel 1 but the block has 1/,
    );
    assert.equal(await page.isVisible(`${tile} .reason`), true);
    assert.equal(await page.isVisible('.tile[data-machine="pump-ok"] .reason'), false);
    await page.goto(`${gw.apiUrl}/#/machine/pump-miswired`);
    await page.waitForSelector('.view.machine .state-reason');
    assert.match(
      (await page.textContent('.view.machine .state-reason')) ?? '',
      /reads channel 1 but the block has 1/,
    );
    assert.match(
      (await page.textContent('.view.machine .facts')) ?? '',
      /Sensor 3.*blocks dropped: reads channel 1/,
    );
    await shot('stream-mismatch-1366x768.png');
    await page.goto(`${gw.apiUrl}/#/`);
    await page.waitForSelector('.view.fleet');
  });

  test('the faulty machine turns to its alert state, with text and glyph, first in the list', async () => {
    const t0 = Date.now();
    const state = await until(
      'pump-bad in warning or alarm',
      () =>
        page
          .getAttribute('.tile[data-machine="pump-bad"] .badge', 'data-state')
          .then((s) => (s === 'warning' || s === 'alarm' ? s : undefined)),
      30_000,
    );
    const badge = (await page.textContent('.tile[data-machine="pump-bad"] .badge')) ?? '';
    assert.match(badge, state === 'alarm' ? /✖\s*Alarm/ : /▲\s*Warning/);
    assert.equal(
      await page.getAttribute('.tile:first-child', 'data-machine'),
      'pump-bad',
      'most urgent first',
    );
    assert.match(
      (await page.textContent('.tile[data-machine="pump-bad"] .fault')) ?? '',
      /Outer race · \d+ % confidence/,
    );
    assert.match(
      (await page.textContent('.tile[data-machine="pump-bad"] .zone')) ?? '',
      /ISO [ABCD]/,
    );
    assert.match(
      (await page.textContent('.tile[data-machine="pump-bad"] .velocity')) ?? '',
      /\d mm\/s/,
    );
    assert.equal(
      await page.getAttribute('.tile[data-machine="pump-ok"] .badge', 'data-state'),
      'ok',
    );
    console.log(
      `# pump-bad reached ${state} in the browser ${Date.now() - t0} ms after the fleet appeared`,
    );
    await page.waitForTimeout(1500); // let the sparklines fill
    await shot('fleet-1366x768.png');
  });

  test('keyboard: Enter opens a focused tile, Esc goes back and restores focus', async () => {
    await page.focus('.tile[data-machine="pump-bad"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.view.machine');
    assert.equal(new URL(page.url()).hash, '#/machine/pump-bad');
    await page.keyboard.press('Escape');
    await page.waitForSelector('.view.fleet');
    assert.equal(
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.machine),
      'pump-bad',
    );
  });

  test('machine detail shows the live charts; acknowledging an alert updates the gateway', async () => {
    await page.focus('.tile[data-machine="pump-bad"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.view.machine .uplot');
    assert.equal(
      await page.$$eval('.view.machine .uplot', (els) => els.length),
      3,
      'probabilities, velocity, envelope',
    );
    assert.ok(await page.$('canvas.waterfall'));
    await page.waitForSelector('table.defects tbody tr');
    const defects = await page.$$eval('table.defects tbody td:first-child', (els) =>
      els.map((e) => e.textContent),
    );
    assert.deepEqual(defects, ['FTF', 'BSF', 'BPFO', 'BPFI']);
    assert.match((await page.textContent('.facts')) ?? '', /Model version\s*[0-9a-f]{6,}/);
    assert.match(
      (await page.textContent('table.defects caption')) ?? '',
      /gateway default: CWRU 6205.*1797 rpm/,
    );
    // The gateway sends this viewed machine's spectrogram and envelope spectrum: the waterfall
    // fills (not one flat colour) and the envelope chart plots a spectrum, not the fallback stem.
    const wfStats = await until(
      'the waterfall to fill',
      async () => {
        const st = await page.$eval('canvas.waterfall', (c) => {
          const cv = c as HTMLCanvasElement;
          const px = (cv.getContext('2d') as CanvasRenderingContext2D).getImageData(
            0,
            0,
            cv.width,
            cv.height,
          ).data;
          const colours = new Set<number>();
          let bright = 0;
          for (let i = 0; i < px.length; i += 4) {
            colours.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
            if (px[i] + px[i + 1] + px[i + 2] > 150) bright++;
          }
          return {
            colours: colours.size,
            bright,
            pixels: px.length / 4,
            w: cv.width,
            h: cv.height,
          };
        });
        return st.colours > 20 && st.bright > st.pixels * 0.02 ? st : undefined;
      },
      15_000,
    );
    console.log(
      `# waterfall ${wfStats.w}×${wfStats.h}: ${wfStats.colours} colours, ${wfStats.bright} bright pixels`,
    );
    await until(
      'the envelope spectrum',
      async () =>
        /Envelope spectrum of the last second/.test(
          (await page.textContent('.view.machine')) ?? '',
        ) || undefined,
      10_000,
    );
    const form = await page.waitForSelector('.ack-form', { timeout: 20_000 });
    const alertId = await form.getAttribute('data-alert');
    assert.ok(alertId);
    await page.fill(`.ack-form[data-alert="${alertId}"] input[name="by"]`, 'Ana Operator');
    await page.fill(
      `.ack-form[data-alert="${alertId}"] input[name="comment"]`,
      'bearing inspection booked',
    );
    await page.click(`.ack-form[data-alert="${alertId}"] button[type="submit"]`);
    await page.waitForSelector(`li[data-alert="${alertId}"] .ack-note`);
    const alerts = await api<{ id: string; acknowledged?: { by: string; comment?: string } }[]>(
      `/api/alerts?machine=pump-bad`,
    );
    const acked = alerts.find((a) => a.id === alertId);
    assert.equal(acked?.acknowledged?.by, 'Ana Operator');
    assert.equal(acked?.acknowledged?.comment, 'bearing inspection booked');
    await page.waitForTimeout(1000);
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('machine-1366x768.png');
    await shot('machine-1366-full.png', true);
  });

  test('adaptation runs end to end on a small job and shows the guards', async () => {
    await page.goto(`${gw.apiUrl}/#/adapt/pump-ok`);
    await page.waitForSelector('#adapt-machine');
    assert.equal(await page.inputValue('#adapt-machine'), 'pump-ok');
    await page.fill('#adapt-seconds', '2');
    await page.selectOption('#adapt-strategy', 'dann');
    await page.click('#adapt-start');
    await page.waitForSelector('.phase.current');
    const status = await until(
      'the adaptation to finish',
      async () => {
        const t = (await page.textContent('#adapt-status')) ?? '';
        return /Promoted|Not promoted|Failed/.test(t) ? t : undefined;
      },
      150_000,
    );
    assert.doesNotMatch(status, /Failed/, status);
    const rows = await page.$$eval('.guards tbody tr', (els) =>
      els.map((e) => e.textContent ?? ''),
    );
    // One machine's live data: the single-machine guards (src/model/adapt/guards.ts), one row each.
    assert.equal(rows.length, 4);
    assert.match(rows[0], /Source accuracy.*%.*%/);
    assert.match(rows[1], /Label-free transfer/);
    assert.match(rows[2], /Steady verdict/);
    assert.match(rows[3], /Same diagnosis/);
    const jobs = await api<{ state: string; guards?: unknown[] }[]>('/api/machines/pump-ok/adapt');
    assert.ok(['done', 'rejected'].includes(jobs[0].state), jobs[0].state);
    assert.equal(jobs[0].guards?.length, rows.length);
    assert.equal(
      await page.getAttribute('#step-progress', 'value'),
      await page.getAttribute('#step-progress', 'max'),
    );
    await shot('adapt-1366x768.png');
  });

  test('a candidate that failed a guard is promoted from the console with a reason, and audited', async () => {
    const reg = gw.registry;
    assert.ok(reg);
    const from = reg.active('pump-ok');
    assert.ok(from);
    const src = await loadModelArtifact(from.dir);
    const w = src.model.getWeights();
    const bumped = w[w.length - 1].add(1e-4);
    src.model.setWeights([...w.slice(0, -1), bumped]);
    const candDir = path.join(dir, 'candidate');
    const { contentHash: _h, format: _f, formatVersion: _v, createdAt: _c, ...meta } = src.meta;
    await saveModelArtifact(candDir, src.model, {
      ...meta,
      adaptation: {
        strategy: 'dann',
        sourceModelHash: src.meta.contentHash,
        sourceModelDir: from.dir,
        promoted: false,
        guards: [{ name: 'class-collapse', passed: false, detail: 'test candidate' }],
        selection: 'test',
      },
    });
    bumped.dispose();
    src.model.dispose();
    const cand = await reg.register(candDir, {
      origin: 'console test candidate',
      machine: 'pump-ok',
    });
    // a fresh page: the adaptation view lists the registry as it is when it opens
    await page.goto(`${gw.apiUrl}/#/`);
    await page.reload();
    await page.goto(`${gw.apiUrl}/#/adapt/pump-ok`);
    const form = `.promote-form[data-version="${cand.id}"]`;
    await page.waitForSelector(form);
    assert.match(
      (await page.textContent(`tr[data-version="${cand.id}"]`)) ?? '',
      /failed: class-collapse/,
    );
    await page.fill(`${form} input[name="by"]`, 'Ana Operator');
    await page.fill(`${form} input[name="reason"]`, 'vendor confirmed the bearing change');
    let question = '';
    page.once('dialog', (d) => {
      question = d.message();
      void d.accept();
    });
    await page.click(`${form} button[type="submit"]`);
    await until('the promotion', () => reg.active('pump-ok')?.id === cand.id || undefined, 10_000);
    assert.match(question, /although guard\(s\) class-collapse failed/);
    const audit = reg.audit('pump-ok').at(-1);
    assert.deepEqual(
      [audit?.version, audit?.by, audit?.reason, audit?.forced],
      [cand.id, 'Ana Operator', 'vendor confirmed the bearing change', true],
    );
    await page.waitForSelector(`tr.active[data-version="${cand.id}"]`);
    await shot('promote-1366x768.png');
  });

  test('gateway health lists every sensor, the broker, the database and the backend', async () => {
    await page.goto(`${gw.apiUrl}/#/gateway`);
    await page.waitForSelector('table.sensors tbody tr');
    const sensors = await page.$$eval('table.sensors tbody td:first-child', (els) =>
      els.map((e) => e.textContent).sort(),
    );
    assert.deepEqual(sensors, ['pump-bad/2', 'pump-miswired/3', 'pump-ok/1']);
    const text = (await page.textContent('.gw-body')) ?? '';
    assert.match(text, /MQTT broker\s*State\s*● connected/);
    assert.match(text, /History database \(sqlite\)\s*State\s*● connected/);
    assert.match(text, /Backend\s*(wasm|node|cpu)/);
    assert.match(text, /Latency\s*[\d.]+ ms/);
    // The alarm rate, per machine and for the site, as the gateway counts it.
    const rate = await api<{ alarmRate: { machines: Record<string, unknown> } }>('/api/gateway');
    await page.waitForSelector('table.alarm-rates tr.site');
    const rows = await page.$$eval('table.alarm-rates tbody td:first-child', (els) =>
      els.map((e) => e.textContent),
    );
    assert.deepEqual(rows.slice(1).sort(), Object.keys(rate.alarmRate.machines).sort());
    assert.equal(rows[0], 'Site');
    await shot('gateway-1366x768.png');
  });

  test('a new tab works on the gateway cookie without the token in its URL', async () => {
    const tab = await ctx.newPage();
    try {
      await tab.goto(`${gw.apiUrl}/#/`);
      await tab.waitForSelector('.tile[data-machine="pump-ok"]');
      await until(
        'the live stream',
        async () => /live/.test((await tab.textContent('#conn')) ?? ''),
        10_000,
      );
    } finally {
      await tab.close();
    }
  });

  test('a large control-room screen shows the same fleet, and no console error occurred', async () => {
    await page.setViewportSize({ width: 2560, height: 1440 });
    await page.goto(`${gw.apiUrl}/#/`);
    await page.waitForSelector('.tile[data-machine="pump-bad"]');
    await page.waitForTimeout(1500);
    await shot('fleet-2560x1440.png');
    assert.deepEqual(consoleErrors, []);
  });
});
