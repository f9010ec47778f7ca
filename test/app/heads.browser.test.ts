/**
 * A multi-task model's heads in the web console, in a real browser (Debian's
 * Chromium through playwright-core) against a real in-process gateway: the
 * machine view's facts and the alert list show every head beside the primary
 * fault. Screenshot in test/artifacts/app/.
 *
 * Skips when Chromium is not installed (except with CI=true, where it fails).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Alert } from '../../src/contract/alert.js';
import { headsText } from '../../src/contract/heads-text.js';
import type { MachineView } from '../../src/contract/machine.js';
import type { Gateway } from '../../src/daemon/gateway.js';
import { appArtifacts, chromiumSkip as skip } from '../support/chromium.js';
import { type ConsoleSession, openConsoleSession } from '../support/console-session.js';
import { until } from '../support/gateway-fixture.js';
import { headsModelDir } from '../support/heads-model.js';

let s: ConsoleSession;
let gw: Gateway;
let page: Page;
let consoleErrors: string[];
const get = <T>(route: string) => s.get<T>(route);

describe("a multi-task model's heads in the console", { skip, timeout: 180_000 }, () => {
  before(async () => {
    s = await openConsoleSession({
      name: 'heads',
      model: await headsModelDir(),
      seed: 71,
      extra: { alerts: { silentAfterMs: 2000 } },
    });
    ({
      gw,
      consoleErrors,
      pages: [page],
    } = s);
  });

  after(() => s?.close());

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
    await page.screenshot({ path: path.join(appArtifacts, 'machine-heads.png') });
    assert.deepEqual(consoleErrors, []);
  });
});
