// The browser tests' stack, started one way: web/dist built (once across files), the real local stack serving it
// on a fresh data folder (with sign-in when asked, its users added first), and Chromium; all closed and the folder
// deleted after the suite. Call `webStack` inside the suite's `describe`: it registers the suite's first beforeAll
// (so the suite's own beforeAll, registered after it, finds the stack running) and an afterAll.

import { rm } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { addUser, type NewUser } from '../../../functions/auth/users.js';
import type { LocalStack } from '../../../functions/local/stack.js';
import { startTestStack, tempDir } from '../../support/stack.js';
import { ensureWebBuilt, launchChromium } from './browser.js';

export interface WebStackOptions {
  /** The local issuer on (`npm start -- --auth`). */
  auth?: boolean;
  /** Users added to the data folder before the stack starts (for sign-in). */
  users?: NewUser[];
}

export interface WebStack {
  readonly stack: LocalStack;
  /** The stack's base URL (API and web app). */
  readonly url: string;
  readonly browser: Browser;
  /** Signs in through the local issuer (`POST /auth/login`) and returns the ID token. */
  idToken(username: string, password: string): Promise<string>;
}

export function webStack(tempPrefix: string, opts: WebStackOptions = {}): WebStack {
  let stack: LocalStack | undefined;
  let browser: Browser | undefined;
  let dataDir: string | undefined;

  beforeAll(async () => {
    const webDir = await ensureWebBuilt();
    dataDir = await tempDir(tempPrefix);
    for (const user of opts.users ?? []) await addUser(dataDir, user);
    stack = await startTestStack(dataDir, opts.auth ? { auth: true, webDir } : { webDir });
    browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const running = () => {
    if (!stack || !browser) throw new Error('the browser test stack is not running (call webStack inside the describe, use it in hooks and tests)');
    return { stack, browser };
  };
  return {
    get stack() {
      return running().stack;
    },
    get url() {
      return running().stack.url;
    },
    get browser() {
      return running().browser;
    },
    async idToken(username, password) {
      const res = await fetch(`${running().stack.url}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      return ((await res.json()) as { idToken: string }).idToken;
    },
  };
}
