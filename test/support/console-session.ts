/**
 * One console under test: the web console built into a temp folder, a real
 * in-process gateway serving it with one simulated faulty machine
 * (`pump-bad`, outer race), and Chromium pages that collect the console's
 * errors, so a suite can assert that none were logged. The browser suites
 * that need exactly this start it here instead of each building its own.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from '../../app/build.js';
import { type GatewayConfigInput, parseConfig } from '../../src/daemon/config.js';
import { Gateway } from '../../src/daemon/gateway.js';
import { appArtifacts, launchChromium } from './chromium.js';
import { quiet } from './gateway-fixture.js';

export interface ConsoleSessionOptions {
  /** Names the temp folder, the site and the gateway id. */
  name: string;
  /** Model folder the gateway loads. */
  model: string;
  /** Seed of pump-bad's simulated signal. */
  seed: number;
  /** Simulated time per wall-clock second; default 1. */
  fleetSpeed?: number;
  /** Further gateway settings (alerts, verdicts, …). */
  extra?: Partial<GatewayConfigInput>;
  viewport?: { width: number; height: number };
  /** Pages opened in the one browser context; default 1. */
  pages?: number;
}

export interface ConsoleSession {
  dir: string;
  gw: Gateway;
  browser: Browser;
  context: BrowserContext;
  pages: Page[];
  /** Errors the pages logged (console errors and uncaught exceptions). */
  consoleErrors: string[];
  /** GET on the gateway's API with its token, parsed. */
  get<T>(route: string): Promise<T>;
  close(): Promise<void>;
}

export async function openConsoleSession(o: ConsoleSessionOptions): Promise<ConsoleSession> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `fl-console-${o.name}-`));
  await mkdir(appArtifacts, { recursive: true });
  const webDir = path.join(dir, 'web');
  await build({ webOut: webDir, shell: false });
  const config: GatewayConfigInput = {
    site: o.name,
    gatewayId: `gw-${o.name}`,
    stateDir: path.join(dir, 'state'),
    model: o.model,
    machines: [
      {
        id: 'pump-bad',
        sensors: [{ id: 1, sampleRate: 12000 }],
        simulate: { fault: 'outer', severity: 0.8, seed: o.seed },
      },
    ],
    broker: { port: 0 },
    http: { port: 0, webDir },
    fleet: { speed: o.fleetSpeed ?? 1 },
    pipeline: { workers: 1 },
    ...o.extra,
  };
  const gw = await Gateway.start({ config: parseConfig(config), log: quiet });
  const browser = await launchChromium().catch(async (err: unknown) => {
    await gw.close();
    throw err;
  });
  const context = await browser.newContext({
    viewport: o.viewport ?? { width: 1366, height: 768 },
  });
  const consoleErrors: string[] = [];
  const pages: Page[] = [];
  for (let i = 0; i < (o.pages ?? 1); i++) {
    const p = await context.newPage();
    p.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    p.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    pages.push(p);
  }
  return {
    dir,
    gw,
    browser,
    context,
    pages,
    consoleErrors,
    async get<T>(route: string): Promise<T> {
      const res = await fetch(`${gw.apiUrl}${route}`, {
        headers: { authorization: `Bearer ${gw.token}` },
      });
      return (await res.json()) as T;
    },
    async close() {
      await browser.close();
      await gw.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
