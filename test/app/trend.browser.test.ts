/**
 * The trend view and the condition report in a real browser (Debian's
 * Chromium through playwright-core) against a real gateway started
 * in-process over a SQLite store seeded, before it starts, with a week of
 * windows, an alert and its acknowledgement (as an earlier run of the
 * gateway would have left them; raw windows kept 2 days, so the week comes
 * from the hourly rollup). The machine is also simulated live, so the
 * report gets an envelope spectrum. Expected numbers are computed here from
 * the seeded values. Screenshots go to test/artifacts/app/.
 *
 * Skips when Chromium is not installed (except with CI=true, where it fails).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { build } from '../../app/build.js';
import type { Alert } from '../../src/contract/alert.js';
import { parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { silentLogger } from '../../src/daemon/log.js';
import { SIM_CLASSES } from '../../src/sim/sim-model.js';
import { SqliteHistoryStore } from '../../src/store/sqlite.js';
import { type HistoryPoint, probsPoint, vibrationPoint } from '../../src/store/types.js';
import { launchChromium, chromiumSkip as skip } from '../support/chromium.js';
import { repoRoot, simModelDir, until } from '../support/gateway-fixture.js';

const artifacts = path.join(repoRoot, 'test', 'artifacts', 'app');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const EVERY = 5 * 60_000;
const NOW = Date.now();
/** From an hour before the week's window to 10 minutes ago, one window every 5 min. */
const T0 = Math.floor((NOW - 7 * DAY) / HOUR) * HOUR - HOUR;
const LAST = NOW - 10 * 60_000;
const where = { site: 't', machine: 'pump-1', sensor: '1' };
const outer = SIM_CLASSES.find((c) => /outer/i.test(c)) ?? SIM_CLASSES[0];
const normal = SIM_CLASSES.find((c) => /normal/i.test(c)) ?? SIM_CLASSES[1];

/** Velocity rises 0.35 mm/s a day with a daily swing; kurtosis climbs; p(outer) follows the day. */
function values(i: number, t: number) {
  const d = Math.floor((t - T0) / DAY);
  return {
    velocity:
      1.2 + 0.35 * d + 0.25 * Math.sin((2 * Math.PI * (t % DAY)) / DAY) + ((i * 7) % 5) / 50,
    kurtosis: 3 + 0.2 * d + ((i * 13) % 11) / 20,
    outer: Math.min(0.9, 0.05 + 0.12 * d),
  };
}

const points: HistoryPoint[] = [];
/** velocity_rms windows per hour, for the expected CSV. */
const perHour = new Map<number, number[]>();
for (let i = 0, t = T0; t <= LAST; i++, t += EVERY) {
  const v = values(i, t);
  points.push(
    vibrationPoint(where, t, {
      rmsG: 0.2 + v.velocity / 50,
      velocityRmsMmS: v.velocity,
      isoZone: v.velocity < 2.3 ? 'A' : v.velocity < 4.5 ? 'B' : 'C',
      kurtosis: v.kurtosis,
      crestFactor: 4,
      peakG: 0.8,
    }),
    probsPoint(where, t, { [normal]: 1 - v.outer, [outer]: v.outer }),
  );
  const h = Math.floor(t / HOUR) * HOUR;
  perHour.set(h, [...(perHour.get(h) ?? []), v.velocity]);
}

/** The seeded alert, 3 days ago, acknowledged. */
const ALERT: Alert = {
  id: randomUUID(),
  site: 't',
  machine: 'pump-1',
  sensor: '1',
  state: 'alarm',
  previousState: 'warning',
  faultClass: 'outer',
  confidence: 0.91,
  isoZone: 'B',
  velocityRmsMmS: 2.9,
  reason: 'outer-race line at BPFO for 10 min',
  modelVersion: 'v1-test',
  time: new Date(Math.floor((NOW - 3 * DAY) / 1000) * 1000).toISOString(),
};
const ALERT_T = Date.parse(ALERT.time);

let dir: string;
let gw: Gateway;
let started: number;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

/** Waits until the trend view finished a load whose status matches `re`. */
async function trendReady(re: RegExp): Promise<string> {
  return until(
    `trend status ${re}`,
    async () => {
      const s = await page.getAttribute('.view.trend', 'data-state');
      const text = (await page.textContent('.trend-status')) ?? '';
      return s === 'ready' && re.test(text) ? text : undefined;
    },
    60_000,
  );
}

const buckets = (group: string) =>
  page.getAttribute(`.trend-panel[data-group="${group}"]`, 'data-buckets').then(Number);

describe('trend view and condition report in Chromium over a week of history', {
  skip,
  timeout: 300_000,
}, () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fl-trend-'));
    await mkdir(artifacts, { recursive: true });
    const stateDir = path.join(dir, 'state');
    await mkdir(stateDir, { recursive: true });
    const seed = new SqliteHistoryStore({
      file: path.join(stateDir, 'history.db'),
      pointRetentionMs: 30 * DAY,
    });
    await seed.writePoints(points);
    await seed.writeAlert(ALERT);
    await seed.ack(ALERT.id, 'Ann Operator', 'bearing ordered');
    await seed.close();
    const webDir = path.join(dir, 'web');
    await build({ webOut: webDir, shell: false });
    started = Date.now();
    gw = await Gateway.start({
      config: parseConfig({
        site: 't',
        gatewayId: 'gw-trend',
        stateDir,
        model: await simModelDir(),
        machines: [
          {
            id: 'pump-1',
            description: 'cooling water pump',
            line: 'Line A',
            sensors: [{ id: 1, sampleRate: 12000 }],
            simulate: { fault: 'outer', severity: 0.8, seed: 22 },
          },
        ],
        broker: { port: 0 },
        http: { port: 0, webDir },
        pipeline: { workers: 1 },
        store: { pointRetentionDays: 2 },
      }),
      log: silentLogger(),
    });
    browser = await launchChromium();
    const ctx = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await browser?.close();
    await gw?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('from the machine view to its trend: the week from the hourly rollup, alert and model change marked', async () => {
    // a hand promotion (of the active version: recorded all the same) is the model change to mark
    const auth = { authorization: `Bearer ${gw.token}` };
    const models = (await (await fetch(`${gw.apiUrl}/api/models`, { headers: auth })).json()) as {
      active: Record<string, string>;
    };
    const promoted = await fetch(`${gw.apiUrl}/api/machines/pump-1/promote`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        version: models.active['pump-1'],
        by: 'Bob Engineer',
        reason: 'bearing replaced',
      }),
    });
    assert.equal(promoted.status, 200, await promoted.text());
    await page.goto(`${gw.apiUrl}/?token=${encodeURIComponent(gw.token)}#/machine/pump-1`);
    await page.click('.view.machine a.trend-link');
    await page.waitForSelector('.view.trend');
    assert.match(page.url(), /#\/machine\/pump-1\/trend$/);
    const status = await trendReady(/7 d from .* step 1 h \(hourly rollup\)/);
    assert.equal(await page.getAttribute('button[data-range="7d"]', 'aria-pressed'), 'true');
    // default measures: velocity, kurtosis, the class probabilities; each panel has about a week of hours
    const groups = await page.$$eval('.trend-panel', (els) =>
      els.map((e) => (e as HTMLElement).dataset.group),
    );
    assert.deepEqual(groups, ['velocity_rms', 'kurtosis', 'probs']);
    for (const g of ['velocity_rms', 'kurtosis']) {
      const n = await buckets(g);
      assert.ok(n >= 6 * 24 && n <= 7 * 24 + 1, `${g}: ${n} hourly buckets (${status})`);
    }
    assert.ok((await buckets('probs')) >= 6 * 24);
    assert.equal(await page.$('.trend-panel .no-data'), null);
    // the seeded alert is marked on every chart, acknowledged, at its time
    const marks = await page.$$(`.time-mark[data-kind="alert"][data-t="${ALERT_T}"]`);
    assert.equal(marks.length, 3);
    assert.match(
      (await marks[0].getAttribute('title')) ?? '',
      /warning → alarm, outer — outer-race line.*acknowledged by Ann Operator/,
    );
    assert.equal(await marks[0].isVisible(), true);
    const model = await page.$$('.time-mark[data-kind="model"]');
    assert.equal(model.length, 3);
    assert.match(
      (await model[0].getAttribute('title')) ?? '',
      /promoted by Bob Engineer.*: bearing replaced/,
    );
    // the chart drew the week: the mean line's last value is in the legend when hovered
    const over = await page.$('.trend-panel[data-group="velocity_rms"] .u-over');
    const box = await over?.boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    const legend =
      (await page.textContent('.trend-panel[data-group="velocity_rms"] .u-legend')) ?? '';
    assert.match(legend, /Velocity RMS mean\s*\d+\.\d\d mm\/s/);
    await page.screenshot({ path: path.join(artifacts, 'trend-week.png') });
  });

  test('CSV export downloads the buckets shown: time, measure, min, mean, max', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('.export-csv'),
    ]);
    assert.match(download.suggestedFilename(), /^pump-1_\d{4}-\d\d-\d\dT\d\d-\d\dZ_.*Z\.csv$/);
    const csv = await readFile((await download.path()) as string, 'utf8');
    const [header, ...rows] = csv.trimEnd().split('\r\n');
    assert.equal(header, 'time,measure,min,mean,max');
    const parsed = rows.map((r) => r.split(','));
    const shown = (await buckets('velocity_rms')) + (await buckets('kurtosis'));
    const byMeasure = (m: string) => parsed.filter((r) => r[1] === m);
    assert.equal(byMeasure('velocity_rms').length + byMeasure('kurtosis').length, shown);
    assert.ok(byMeasure(`prob.${outer}`).length >= 6 * 24);
    assert.deepEqual(
      [...new Set(parsed.map((r) => r[1]))].sort(),
      ['kurtosis', 'velocity_rms', ...SIM_CLASSES.map((c) => `prob.${c}`)]
        .filter((m) => parsed.some((r) => r[1] === m))
        .sort(),
    );
    // every velocity row: a whole hour of the week, with the min/mean/max of the windows seeded in it
    let checked = 0;
    for (const [time, , min, mean, max] of byMeasure('velocity_rms')) {
      const t = Date.parse(time);
      assert.equal(t % HOUR, 0, time);
      assert.ok(t >= NOW - 7 * DAY - HOUR && t < Date.now(), time);
      if (t + HOUR > started) continue; // an hour the live simulation may also have written into
      const v = perHour.get(t) ?? [];
      assert.ok(v.length, `${time}: seeded`);
      assert.ok(Math.abs(Number(min) - Math.min(...v)) < 1e-9, `${time} min`);
      assert.ok(
        Math.abs(Number(mean) - v.reduce((a, b) => a + b, 0) / v.length) < 1e-9,
        `${time} mean`,
      );
      assert.ok(Math.abs(Number(max) - Math.max(...v)) < 1e-9, `${time} max`);
      checked++;
    }
    assert.ok(checked >= 6 * 24, `${checked} hours checked`);
  });

  test('dragging across a chart zooms in at a finer step from the raw windows; reset goes back', async () => {
    const over = await page.$('.trend-panel[data-group="velocity_rms"] .u-over');
    const box = await over?.boundingBox();
    assert.ok(box);
    // the last ~day of the week: inside the 2-day raw retention
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.86, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.93, y, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.99, y, { steps: 5 });
    await page.mouse.up();
    const status = await trendReady(/^Zoomed: /);
    assert.match(status, /step (5|10|15) min \(raw windows\)/);
    assert.equal(await page.getAttribute('button[data-range="7d"]', 'aria-pressed'), 'false');
    assert.ok((await buckets('velocity_rms')) > 60, status);
    await page.click('.reset-zoom');
    await trendReady(/^7 d from .* step 1 h/);
    assert.equal(await page.isDisabled('.reset-zoom'), true);
    // another range and a measure more
    await page.click('button[data-range="24h"]');
    await trendReady(/^24 h from .*\(raw windows\)/);
    await page.check('input[name="measure"][value="iso_zone"]');
    await until('the ISO zone panel', () => page.$('.trend-panel[data-group="iso_zone"]'), 30_000);
    assert.ok((await buckets('iso_zone')) > 100);
  });

  test('the condition report: state, trend, evidence with its envelope spectrum, alerts with acks; print CSS', async () => {
    await page.goto(`${gw.apiUrl}/#/machine/pump-1/report`);
    await until(
      'the report',
      async () => (await page.getAttribute('.view.report', 'data-state')) === 'ready',
      60_000,
    );
    assert.match((await page.textContent('.view.report h1')) ?? '', /Condition report — pump-1/);
    assert.match((await page.textContent('.report-state')) ?? '', /cooling water pump/);
    const row = `.report-alerts tr[data-alert="${ALERT.id}"]`;
    assert.match(
      (await page.textContent(row)) ?? '',
      /Alarm.*outer-race line.*Ann Operator.*bearing ordered/s,
    );
    assert.ok((await buckets('velocity_rms')) >= 6 * 24);
    assert.equal((await page.$$(`.report .time-mark[data-t="${ALERT_T}"]`)).length, 3);
    // the live simulation brings a window with an envelope spectrum
    await until(
      'an envelope spectrum',
      async () => Number(await page.getAttribute('.view.report [data-bins]', 'data-bins')) > 0,
      120_000,
    );
    assert.match((await page.textContent('.view.report')) ?? '', /Last evidence: /);
    assert.equal(await page.isVisible('button.print'), true);
    // print: the console's chrome and the buttons are gone, the page is white
    await page.emulateMedia({ media: 'print' });
    const look = await page.evaluate(() => ({
      topbar: getComputedStyle(document.querySelector('.topbar') as Element).display,
      button: getComputedStyle(document.querySelector('button.print') as Element).display,
      report: getComputedStyle(document.querySelector('.view.report') as Element).display,
      bg: getComputedStyle(document.documentElement).backgroundColor,
    }));
    assert.deepEqual(look, {
      topbar: 'none',
      button: 'none',
      report: 'block',
      bg: 'rgb(255, 255, 255)',
    });
    await page.setViewportSize({ width: 760, height: 1000 }); // about a sheet of A4
    await page.screenshot({ path: path.join(artifacts, 'report-print.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    const pdf = path.join(artifacts, 'report.pdf');
    await page.pdf({ path: pdf, format: 'A4', printBackground: true });
    assert.ok((await stat(pdf)).size > 20_000);
    assert.equal((await readFile(pdf)).subarray(0, 5).toString(), '%PDF-');
    await page.emulateMedia({ media: 'screen' });
    // the button calls window.print()
    await page.evaluate(() => {
      (window as unknown as { printed: number }).printed = 0;
      window.print = () => {
        (window as unknown as { printed: number }).printed++;
      };
    });
    await page.click('button.print');
    assert.equal(await page.evaluate(() => (window as unknown as { printed: number }).printed), 1);
    assert.deepEqual(pageErrors, []);
  });
});
