/**
 * Shelving from the web console in a real browser (Debian's Chromium through
 * playwright-core) against a real in-process gateway: the machine view's
 * Shelve form shelves the faulty machine (the gateway records it), the
 * badge shows on the machine view and its fleet tile, a second console
 * learns it over the stream, and Unshelve ends it. Screenshots go to
 * test/artifacts/app/.
 *
 * Skips when Chromium is not installed (except with CI=true, where it fails).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { build } from '../../app/build.js';
import type { MachineView } from '../../src/contract/machine.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { launchChromium, chromiumSkip as skip } from '../support/chromium.js';
import { quiet, repoRoot, simModelDir, until } from '../support/gateway-fixture.js';

const artifacts = path.join(repoRoot, 'test', 'artifacts', 'app');

let dir: string;
let gw: Gateway;
let browser: Browser;
let page: Page;
let other: Page;
const consoleErrors: string[] = [];

function config(stateDir: string, model: string, webDir: string): GatewayConfigInput {
  return {
    site: 'shelf',
    gatewayId: 'gw-shelf',
    stateDir,
    model,
    machines: [
      {
        id: 'pump-bad',
        sensors: [{ id: 1, sampleRate: 12000 }],
        simulate: { fault: 'outer', severity: 0.8, seed: 51 },
      },
    ],
    broker: { port: 0 },
    http: { port: 0, webDir },
    fleet: { speed: 2 },
    pipeline: { workers: 1 },
  };
}

async function machine(id: string): Promise<MachineView> {
  const res = await fetch(`${gw.apiUrl}/api/machines/${id}`, {
    headers: { authorization: `Bearer ${gw.token}` },
  });
  return (await res.json()) as MachineView;
}

describe('shelving from the console in Chromium', { skip, timeout: 180_000 }, () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fl-console-shelf-'));
    await mkdir(artifacts, { recursive: true });
    const webDir = path.join(dir, 'web');
    await build({ webOut: webDir, shell: false });
    gw = await Gateway.start({
      config: parseConfig(config(path.join(dir, 'state'), await simModelDir(), webDir)),
      log: quiet,
    });
    browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    page = await ctx.newPage();
    other = await ctx.newPage();
    for (const p of [page, other]) {
      p.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      p.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    }
  });

  after(async () => {
    await browser?.close();
    await gw?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('shelve from the machine view: badge there and on the fleet tile of another console; unshelve', async () => {
    const token = encodeURIComponent(gw.token);
    await other.goto(`${gw.apiUrl}/?token=${token}`);
    await other.waitForSelector('.tile[data-machine="pump-bad"]');
    await page.goto(`${gw.apiUrl}/?token=${token}#/machine/pump-bad`);
    await page.waitForSelector('.view.machine form.shelve-form');
    assert.equal(await page.$('.view.machine .badge.shelved'), null, 'not shelved yet');

    await page.fill('form.shelve-form input[name="by"]', 'ana');
    await page.fill('form.shelve-form input[name="reason"]', 'bearing swap');
    await page.selectOption('form.shelve-form select[name="duration"]', String(4 * 3600));
    await page.click('form.shelve-form button[type="submit"]');
    await page.waitForSelector('.view.machine .badge.shelved');
    const m = await until('the gateway to record the shelf', async () => {
      const v = await machine('pump-bad');
      return v.shelved ? v : undefined;
    });
    assert.equal(m.shelved?.by, 'ana');
    assert.equal(m.shelved?.reason, 'bearing swap');
    const hours = (Date.parse(m.shelved?.until ?? '') - Date.parse(m.shelved?.since ?? '')) / 3.6e6;
    assert.ok(Math.abs(hours - 4) < 0.01, `shelved for ${hours} h`);
    assert.match(
      (await page.textContent('.shelf-note')) ?? '',
      /Shelved by ana until .*bearing swap/,
    );
    assert.match(
      (await page.getAttribute('.view.machine .badge.shelved', 'title')) ?? '',
      /Shelved by ana: bearing swap/,
    );
    // the other console learns it from the stream
    await other.waitForSelector('.tile[data-machine="pump-bad"] .badge.shelved');
    await page.screenshot({ path: path.join(artifacts, 'machine-shelved.png') });
    await other.screenshot({ path: path.join(artifacts, 'fleet-shelved.png') });

    await page.click('form.shelve-form.shelved button[type="submit"]');
    await until(
      'the gateway to unshelve',
      async () => (await machine('pump-bad')).shelved === null,
    );
    await page.waitForSelector('.view.machine .badge.shelved', { state: 'detached' });
    await other.waitForSelector('.tile[data-machine="pump-bad"] .badge.shelved', {
      state: 'detached',
    });
    assert.ok(await page.$('form.shelve-form:not(.shelved)'), 'the Shelve form is back');
    assert.deepEqual(consoleErrors, []);
  });
});
