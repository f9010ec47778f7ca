/**
 * A multi-task model's heads in the web console, in a real browser (Debian's
 * Chromium through playwright-core) against a real in-process gateway: the
 * machine view's facts and the alert list show every head beside the primary
 * fault. Screenshot in test/artifacts/app/.
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
import { headsText } from '../../src/contract/heads-text.js';
import type { MachineView } from '../../src/contract/machine.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { launchChromium, chromiumSkip as skip } from '../support/chromium.js';
import { quiet, repoRoot, until } from '../support/gateway-fixture.js';
import { headsModelDir } from '../support/heads-model.js';

const artifacts = path.join(repoRoot, 'test', 'artifacts', 'app');

let dir: string;
let gw: Gateway;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

function config(stateDir: string, model: string, webDir: string): GatewayConfigInput {
  return {
    site: 'heads',
    gatewayId: 'gw-heads-console',
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
    alerts: { silentAfterMs: 2000 },
  };
}

async function get<T>(route: string): Promise<T> {
  const res = await fetch(`${gw.apiUrl}${route}`, {
    headers: { authorization: `Bearer ${gw.token}` },
  });
  return (await res.json()) as T;
}

describe("a multi-task model's heads in the console", { skip, timeout: 180_000 }, () => {
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fl-console-heads-'));
    await mkdir(artifacts, { recursive: true });
    const webDir = path.join(dir, 'web');
    await build({ webOut: webDir, shell: false });
    gw = await Gateway.start({
      config: parseConfig(config(path.join(dir, 'state'), await headsModelDir(), webDir)),
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

  test('the machine view shows every head; the alert list shows the heads of each alert', async () => {
    const alert = await until('an alert of pump-bad with heads', async () => {
      const [a] = await get<Alert[]>('/api/alerts?machine=pump-bad');
      return a?.heads ? a : undefined;
    });
    await page.goto(`${gw.apiUrl}/?token=${encodeURIComponent(gw.token)}#/machine/pump-bad`);
    await page.waitForSelector('.heads');
    const shown = (await page.textContent('.heads')) ?? '';
    // The fact is the latest window's heads, as the API has them (it may move on while we read).
    assert.match(
      shown,
      /^(normal|inner race|outer race|ball) \(\d\.\d\d\), condition \S+ \(\d\.\d\d\)$/,
    );
    const m = await get<MachineView>('/api/machines/pump-bad');
    assert.ok(m.diagnosis?.heads?.location);
    await page.waitForSelector(`li.alert[data-alert="${alert.id}"] .alert-heads`);
    assert.equal(
      await page.textContent(`li.alert[data-alert="${alert.id}"] .alert-heads`),
      `heads: ${headsText(alert.heads)}`,
    );
    await page.screenshot({ path: path.join(artifacts, 'machine-heads.png') });
    assert.deepEqual(consoleErrors, []);
  });
});
