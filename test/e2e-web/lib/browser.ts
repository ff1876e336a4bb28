// Debian's Chromium (apt package `chromium`) driven by playwright-core, launched the one way that works here:
// the system binary (playwright never downloads a browser here), headless, no sandbox (root in a container),
// nothing that reaches the network on its own. `launch()` gives each browser a fresh temporary profile.

import { mkdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWeb, webBuildIsStale, WEB_DIST } from '../../../functions/local/web-build.js';
import { requireTool } from '../../support/require-tool.js';
import { TEST_OUTPUT } from '../../support/paths.js';

export const CHROMIUM = process.env.WINNOW_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SCREENSHOTS = path.join(TEST_OUTPUT, 'screenshots');
export { WEB_DIST };

/** True when the browser suite can run; throws on CI (which installs Chromium) when it is missing. */
export function chromiumAvailable(): boolean {
  return requireTool(CHROMIUM, 'the browser end-to-end tests need Debian’s Chromium (apt-get install -y chromium)');
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Builds web/dist when the sources are newer, once across parallel test files (a lock folder). */
export async function ensureWebBuilt(log: (line: string) => void = () => undefined): Promise<string> {
  const lock = path.join(os.tmpdir(), 'winnow-web-build.lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch {
      // Another process builds; a lock older than three minutes was left by a crash.
      const age = Date.now() - (await stat(lock).then((s) => s.mtimeMs, () => Date.now()));
      if (age > 180_000) await rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    if (webBuildIsStale()) await buildWeb(log);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
  return WEB_DIST;
}

/** Saves a PNG of what the page shows to test-output/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await mkdir(path.dirname(file), { recursive: true });
  // Wait until the images on screen are decoded, so the picture shows what a person would see.
  await page.evaluate(() => Promise.all(Array.from(document.images, (img) => img.decode().catch(() => undefined))));
  await page.screenshot({ path: file });
  return file;
}

/** Waits until a sample other than `previous` is in view and returns its id. */
export async function waitForNextSample(page: Page, previous: string | undefined, timeout = 15_000): Promise<string> {
  const handle = await page.waitForFunction(
    (prev) => {
      const id = document.querySelector<HTMLElement>('[data-testid="sample-image"]')?.dataset.sampleId;
      return id && id !== prev ? id : undefined;
    },
    previous,
    { timeout },
  );
  return (await handle.jsonValue()) as string;
}
