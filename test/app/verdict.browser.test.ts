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
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { build } from '../../app/build.js';
import type { Alert } from '../../src/contract/alert.js';
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
const consoleErrors: string[] = [];

function config(stateDir: string, model: string, webDir: string): GatewayConfigInput {
  return {
    site: 'verdict',
    gatewayId: 'gw-verdict',
    stateDir,
    model,
    machines: [
      {
        id: 'pump-bad',
        sensors: [{ id: 1, sampleRate: 12000 }],
        simulate: { fault: 'outer', severity: 0.8, seed: 71 },
      },
    ],
    broker: { port: 0 },
    http: { port: 0, webDir },
    fleet: { speed: 1 },
    pipeline: { workers: 1 },
  };
}

async function get<T>(route: string): Promise<T> {
  const res = await fetch(`${gw.apiUrl}${route}`, {
    headers: { authorization: `Bearer ${gw.token}` },
  });
  return (await res.json()) as T;
}

describe('a verdict from the console in Chromium', { skip, timeout: 180_000 }, () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fl-console-verdict-'));
    await mkdir(artifacts, { recursive: true });
    const webDir = path.join(dir, 'web');
    await build({ webOut: webDir, shell: false });
    gw = await Gateway.start({
      config: parseConfig(config(path.join(dir, 'state'), await simModelDir(), webDir)),
      log: quiet,
    });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1366, height: 768 } })).newPage();
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
    await page.screenshot({ path: path.join(artifacts, 'machine-verdict.png') });
    assert.deepEqual(consoleErrors, []);
  });
});
