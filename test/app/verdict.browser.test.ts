/**
 * A verdict from the web console in a real browser (Debian's Chromium
 * through playwright-core) against a real in-process gateway: the ack form
 * of the faulty machine's latest alert confirms the fault with a class from
 * the model's list; the gateway stores the verdict and labels the windows
 * around the alert, and the machine view shows the count. Screenshot in
 * test/artifacts/app/.
 *
 * Skips when Chromium is not installed (except with CI=true, where it fails).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Alert } from '../../src/contract/alert.js';
import type { MachineView } from '../../src/contract/machine.js';
import type { Gateway } from '../../src/daemon/gateway.js';
import { appArtifacts, chromiumSkip as skip } from '../support/chromium.js';
import { type ConsoleSession, openConsoleSession } from '../support/console-session.js';
import { simModelDir, until } from '../support/gateway-fixture.js';

let s: ConsoleSession;
let gw: Gateway;
let page: Page;
let consoleErrors: string[];
const get = <T>(route: string) => s.get<T>(route);

describe('a verdict from the console in Chromium', { skip, timeout: 180_000 }, () => {
  before(async () => {
    s = await openConsoleSession({ name: 'verdict', model: await simModelDir(), seed: 71 });
    ({
      gw,
      consoleErrors,
      pages: [page],
    } = s);
  });

  after(() => s?.close());

  test('confirm the fault of an alert with a class of the model: the count appears on the machine view', async () => {
    // the machine settles in alarm (no newer alert re-renders the form while it is filled)
    await until('pump-bad in alarm with an alert', async () => {
      const m = await get<MachineView>('/api/machines/pump-bad');
      return m.state === 'alarm' && (await get<Alert[]>('/api/alerts?machine=pump-bad')).length > 0;
    });
    const [latest] = await get<Alert[]>('/api/alerts?machine=pump-bad');
    assert.ok(latest);
    await page.goto(`${gw.apiUrl}/?token=${encodeURIComponent(gw.token)}#/machine/pump-bad`);
    const form = `form.ack-form[data-alert="${latest.id}"]`;
    await page.waitForSelector(form);
    assert.equal((await page.textContent('.verdict-counts'))?.trim(), '—', 'no verdicts yet');
    // the class list is the model's, shown once the fault is confirmed
    assert.equal(await page.isVisible(`${form} select[name="faultClass"]`), false);
    await page.fill(`${form} input[name="by"]`, 'ana');
    await page.selectOption(`${form} select[name="verdict"]`, 'confirmed');
    assert.deepEqual(
      await page.$$eval(`${form} select[name="faultClass"] option`, (os) =>
        os.map((o) => (o as HTMLOptionElement).value),
      ),
      ['ball', 'inner', 'normal', 'outer'],
    );
    await page.selectOption(`${form} select[name="faultClass"]`, 'outer');
    await page.click(`${form} button[type="submit"]`);

    await page.waitForFunction(() =>
      /Outer \d+/.test(document.querySelector('.verdict-counts')?.textContent ?? ''),
    );
    const m = await get<MachineView>('/api/machines/pump-bad');
    const n = m.verdicts?.outer ?? 0;
    assert.ok(n > 0, 'windows labelled outer');
    assert.equal((await page.textContent('.verdict-counts'))?.trim(), `Outer ${n}`);
    await page.waitForSelector(`li.alert.acked[data-alert="${latest.id}"] .ack-note`);
    assert.match(
      (await page.textContent(`li.alert[data-alert="${latest.id}"] .ack-note`)) ?? '',
      /Acknowledged by ana .*confirmed: Outer/,
    );
    const stored = (await get<Alert[]>('/api/alerts?machine=pump-bad')).find(
      (a) => a.id === latest.id,
    );
    assert.deepEqual(stored?.acknowledged?.verdict, { kind: 'confirmed', faultClass: 'outer' });
    await page.screenshot({ path: path.join(appArtifacts, 'machine-verdict.png') });
    assert.deepEqual(consoleErrors, []);
  });
});
