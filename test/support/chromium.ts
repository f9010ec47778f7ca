/**
 * Debian's Chromium for the console's browser tests (driven through
 * playwright-core). A test file that needs it uses `chromiumSkip` as its
 * suite's `skip`: without Chromium the suite skips with a message, except
 * under CI=true, where a missing browser is a broken CI machine and fails.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { repoRoot } from './gateway-fixture.js';

export const CHROMIUM = process.env.FAULTLINE_CHROMIUM ?? '/usr/bin/chromium';

/** Where the browser tests write their screenshots (gitignored). */
export const appArtifacts = path.join(repoRoot, 'test', 'artifacts', 'app');

async function chromiumMissing(): Promise<string | false> {
  try {
    await access(CHROMIUM);
    return false;
  } catch {
    if (process.env.CI === 'true')
      throw new Error(`Chromium not found at ${CHROMIUM}; CI needs it for the console tests`);
    return `Chromium not found at ${CHROMIUM} (set FAULTLINE_CHROMIUM)`;
  }
}

/** false when Chromium is there, else why the suite skips. */
export const chromiumSkip: string | false = await chromiumMissing();

/** Debian's Chromium, headless, as every console test drives it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
