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
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { MachineView } from '../../src/contract/machine.js';
import type { Gateway } from '../../src/daemon/gateway.js';
import { appArtifacts, chromiumSkip as skip } from '../support/chromium.js';
import { type ConsoleSession, openConsoleSession } from '../support/console-session.js';
import { simModelDir, until } from '../support/gateway-fixture.js';

let s: ConsoleSession;
let gw: Gateway;
let page: Page;
let other: Page;
let consoleErrors: string[];
const machine = (id: string) => s.get<MachineView>(`/api/machines/${id}`);

describe('shelving from the console in Chromium', { skip, timeout: 180_000 }, () => {
  before(async () => {
    s = await openConsoleSession({
      name: 'shelf',
      model: await simModelDir(),
      seed: 51,
      fleetSpeed: 2,
      pages: 2,
    });
    ({
      gw,
      consoleErrors,
      pages: [page, other],
    } = s);
  });

  after(() => s?.close());

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
    await page.screenshot({ path: path.join(appArtifacts, 'machine-shelved.png') });
    await other.screenshot({ path: path.join(appArtifacts, 'fleet-shelved.png') });

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
