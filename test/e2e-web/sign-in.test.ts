// Sign-in in a real browser against the local stack with the local issuer on (`npm start -- --auth`): the form,
// a refused password, then labeling with the ID token, a reload that stays signed in, and signing out.

import { beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, screenshot, waitForNextSample } from './lib/browser.js';
import { caller, flowerFiles, labeledClass, uploadThroughApi, waitForIngest, type Call } from './lib/project.js';
import { webStack } from './lib/stack.js';

const PROJECT = 'private-garden';
const PASSWORD = 'Tulips-in-April-2026';

describe.skipIf(!chromiumAvailable())('sign-in in the browser', () => {
  const web = webStack('e2e-signin', { auth: true, users: [{ username: 'owner', password: PASSWORD, groups: ['admin'] }] });
  let api: Call;

  beforeAll(async () => {
    api = caller(web.url, { token: await web.idToken('owner', PASSWORD) });
    expect((await api('POST', '/api/projects', { id: PROJECT, name: 'Private garden', classes: ['daisy', 'tulips'] })).status).toBe(201);
    await uploadThroughApi(api, PROJECT, (await flowerFiles(1)).slice(0, 2));
    await waitForIngest(api, PROJECT, 2);
  });

  it('signs in through the form and labels with the token', async () => {
    const page = await (await web.browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    const apiRequests: { url: string; authorization?: string; user?: string }[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/api/')) {
        apiRequests.push({ url: r.url(), authorization: r.headers()['authorization'], user: r.headers()['x-winnow-user'] });
      }
    });
    await page.goto(`${web.url}/#/projects/${PROJECT}/label`);
    await page.getByTestId('sign-in').waitFor();
    await page.getByLabel('User name').fill('owner');
    await screenshot(page, 'sign-in');

    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('sign-in-error').filter({ hasText: 'wrong username or password' }).waitFor();
    expect(apiRequests).toEqual([]);

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Straight to the view the link pointed at.
    const shown = await waitForNextSample(page, undefined, 30_000);
    await page.keyboard.press('2');
    await waitForNextSample(page, shown);
    await page.getByTestId('save-status').filter({ hasText: 'All labels saved' }).waitFor();

    const { sample } = (await api('GET', `/api/projects/${PROJECT}/samples/${shown}`)).json;
    expect(labeledClass(sample)).toBe(1);
    expect(sample.label.labelerId).toBe('owner');
    expect(apiRequests.length).toBeGreaterThan(0);
    expect(apiRequests.every((r) => r.authorization?.startsWith('Bearer ') && r.user === undefined)).toBe(true);

    // A reload keeps the tab signed in; signing out shows the form again.
    await page.reload();
    await waitForNextSample(page, undefined, 30_000);
    await page.getByRole('link', { name: '← Projects' }).click();
    expect(await page.getByTestId('labeler').textContent()).toBe('owner');
    await page.getByTestId('sign-out').click();
    await page.getByTestId('sign-in').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('winnow.auth'))).not.toContain('token');
  }, 120_000);
});
