/**
 * The operator teaches the model, in a real browser (Debian's Chromium
 * through playwright-core) against a real in-process gateway (issue #16):
 * an alert on a faulty machine, an ack with a verdict given in the console's
 * ack form, then "learn from verdicts" on the machine view, which opens the
 * adaptation view with the run's progress, its guards (the held-out verdict
 * windows among them) and the promote/rollback controls; then rollback and
 * promote of the learned version by hand. Screenshot in test/artifacts/app/.
 *
 * Skips when Chromium is not installed (except with CI=true, where it fails).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Alert } from '../../src/contract/alert.js';
import type { AdaptJob, MachineView } from '../../src/contract/machine.js';
import type { Gateway } from '../../src/daemon/gateway.js';
import { appArtifacts, chromiumSkip as skip } from '../support/chromium.js';
import { type ConsoleSession, openConsoleSession } from '../support/console-session.js';
import { simModelDir, until } from '../support/gateway-fixture.js';

let s: ConsoleSession;
let gw: Gateway;
let page: Page;
let consoleErrors: string[];
const get = <T>(route: string) => s.get<T>(route);

const runs = async () => (await get<MachineView>('/api/machines/pump-bad')).model?.version;

describe('learning from verdicts in the console, in Chromium', { skip, timeout: 600_000 }, () => {
  before(async () => {
    s = await openConsoleSession({
      name: 'learn',
      model: await simModelDir(),
      seed: 73,
      extra: { verdicts: { windows: 64, aroundS: 10, minPerClass: 10 } },
      viewport: { width: 1366, height: 900 },
    });
    ({
      gw,
      consoleErrors,
      pages: [page],
    } = s);
    // promote and rollback ask for a confirmation
    page.on('dialog', (d) => void d.accept());
  });

  after(() => s?.close());

  test('a verdict on an alert, then "learn from verdicts", its guards, rollback and promote', async () => {
    await until(
      'pump-bad in alarm with an alert',
      async () => {
        const m = await get<MachineView>('/api/machines/pump-bad');
        return (
          m.state === 'alarm' && (await get<Alert[]>('/api/alerts?machine=pump-bad')).length > 0
        );
      },
      120_000,
    );
    const [latest] = await get<Alert[]>('/api/alerts?machine=pump-bad');
    assert.ok(latest);
    const fromVersion = await runs();
    await page.goto(`${gw.apiUrl}/?token=${encodeURIComponent(gw.token)}#/machine/pump-bad`);
    const form = `form.ack-form[data-alert="${latest.id}"]`;
    await page.waitForSelector(form);
    // before any verdict: no action, the minimum named
    await page.waitForSelector('.learn-note');
    assert.match((await page.textContent('.learn-note')) ?? '', /needs 10 labelled windows/);
    assert.equal(await page.isVisible('button.learn-start'), false);
    // the windows up to aroundS after the alert are labelled too: answer once they have come
    await page.waitForTimeout(Math.max(0, Date.parse(latest.time) + 11_000 - Date.now()));
    await page.fill(`${form} input[name="by"]`, 'ana');
    await page.selectOption(`${form} select[name="verdict"]`, 'confirmed');
    await page.selectOption(`${form} select[name="faultClass"]`, 'outer');
    await page.click(`${form} button[type="submit"]`);
    await page.waitForFunction(() =>
      /Outer \d+/.test(document.querySelector('.verdict-counts')?.textContent ?? ''),
    );
    const labelled = (await get<MachineView>('/api/machines/pump-bad')).verdicts?.outer ?? 0;
    assert.ok(labelled >= 10, `${labelled} windows labelled outer`);

    // the action appears once a class has enough; it starts the run and opens the adaptation view
    await page.waitForSelector('button.learn-start');
    await page.click('button.learn-start');
    await page.waitForFunction(() => location.hash === '#/adapt/pump-bad');
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('.stepper li')).some((li) =>
        /Learn from verdicts/.test(li.textContent ?? ''),
      ),
    );
    await page.waitForFunction(
      () =>
        /Promoted|Not promoted|Failed/.test(
          document.querySelector('#adapt-status')?.textContent ?? '',
        ),
      undefined,
      { timeout: 420_000 },
    );
    const [job] = await get<AdaptJob[]>('/api/machines/pump-bad/adapt');
    assert.equal(job.fromVerdicts, true);
    assert.ok(job.state === 'done' || job.state === 'rejected', `${job.state}: ${job.error ?? ''}`);
    assert.ok(job.version && job.heldOut);
    const guardTitles = await page.$$eval('.guards tbody tr td:first-child div:first-child', (ds) =>
      ds.map((d) => d.textContent),
    );
    assert.ok(guardTitles.includes('Held-out verdict windows not worse'), guardTitles.join(', '));
    assert.match(
      (await page.textContent('#adapt-held-out')) ?? '',
      new RegExp(`${job.heldOut.windows} held out: accuracy`),
    );
    const version = job.version;

    if (job.state === 'done') {
      // promoted by the gateway: roll back from the console, then promote it again by hand
      assert.equal(await runs(), version);
      await page.click('#adapt-rollback');
      await until('the rollback', async () => (await runs()) === fromVersion, 60_000);
      const pf = `form.promote-form[data-version="${version}"]`;
      await page.waitForSelector(pf);
      await page.fill(`${pf} input[name="by"]`, 'ana');
      await page.click(`${pf} button[type="submit"]`);
    } else {
      // a guard failed: the console's promote needs a reason
      assert.equal(await runs(), fromVersion);
      const pf = `form.promote-form[data-version="${version}"]`;
      await page.waitForSelector(pf);
      await page.fill(`${pf} input[name="by"]`, 'ana');
      await page.fill(`${pf} input[name="reason"]`, 'the verdict was checked on site');
      await page.click(`${pf} button[type="submit"]`);
    }
    await until('the learned version promoted', async () => (await runs()) === version, 60_000);
    await page.waitForSelector(`tr.active[data-version="${version}"]`);
    await page.screenshot({
      path: path.join(appArtifacts, 'learn-from-verdicts.png'),
      fullPage: true,
    });
    console.log(
      `# console learning: ${job.state}; held-out accuracy ${job.heldOut.before} → ${job.heldOut.after} on ${job.heldOut.windows} windows; ${JSON.stringify(job.trained)} trained`,
    );
    assert.deepEqual(consoleErrors, []);
  });
});
