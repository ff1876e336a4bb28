// axe-core on every main view of the web app (issue 15, "Done when"): label classification, label boxes, gallery,
// export, upload, home (projects), team, audit, models and sign-in (the agreement panel, filled, in agreement.test.ts), at 1440x900 and 390x844, light and
// dark, on the real local stack with sign-in on. No violation of impact serious or critical may remain; each one
// found is printed with its rule id, impact and the elements it names. One stack, one page per screen size: the
// page signs in once and walks the views by their hash routes.

import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, describeViolations } from './axe-check.js';
import { chromiumAvailable } from './lib/browser.js';
import { caller, flowerFiles, uploadThroughApi, waitForIngest, type Call } from './lib/project.js';
import { webStack } from './lib/stack.js';

const PROJECT = 'meadow-axe';
const BOXES = 'meadow-axe-boxes';
const PASSWORD = 'Axe-on-every-view-2026';
const SCREENS = { desktop: { width: 1440, height: 900 }, phone: { width: 390, height: 844 } } as const;
const SCHEMES = ['light', 'dark'] as const;
describe.skipIf(!chromiumAvailable())('axe-core: no serious or critical violation on any view, desktop and phone, light and dark', () => {
  const web = webStack('e2e-web-axe', { auth: true, users: [{ username: 'olive', password: PASSWORD, groups: ['admin'] }] });
  let api: Call;

  beforeAll(async () => {
    api = caller(web.url, { token: await web.idToken('olive', PASSWORD) });
    expect((await api('POST', '/api/projects', { id: PROJECT, name: 'Meadow axe', classes: ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'] })).status).toBe(201);
    expect(
      (await api('POST', '/api/projects', { id: BOXES, name: 'Meadow axe boxes', classes: ['person', 'flower'], taskType: 'box-review' })).status,
    ).toBe(201);
    const files = await flowerFiles(1);
    await uploadThroughApi(api, PROJECT, files);
    await uploadThroughApi(api, BOXES, ['daisy/9158041313_7a6a102f7a_n.jpg']);
    await waitForIngest(api, PROJECT, files.length);
    await waitForIngest(api, BOXES, 1);
    // A label, so the gallery, audit log and progress show content rather than their empty states.
    const images = (await api('GET', `/api/projects/${PROJECT}/images?limit=1`)).json.images as { imageId: string }[];
    const res = await api('POST', `/api/projects/${PROJECT}/samples/${images[0].imageId}/annotations`, { version: 0, requestId: 'axe-seed', classIndex: 0 });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
  }, 180_000);

  const views: { name: string; hash: string; ready: (page: Page) => Promise<unknown> }[] = [
    { name: 'home', hash: '/', ready: (p) => p.getByTestId(`project-${PROJECT}`).waitFor() },
    { name: 'label', hash: `/projects/${PROJECT}/label`, ready: (p) => p.getByTestId('sample-image').waitFor() },
    { name: 'boxes', hash: `/projects/${BOXES}/label`, ready: (p) => p.getByTestId('box-editor').waitFor() },
    { name: 'gallery', hash: `/projects/${PROJECT}/gallery`, ready: (p) => p.locator('[data-testid^="tile-"]').first().waitFor() },
    { name: 'export', hash: `/projects/${PROJECT}/export`, ready: (p) => p.getByTestId('format-coco').waitFor() },
    { name: 'upload', hash: `/projects/${PROJECT}/upload`, ready: (p) => p.getByTestId('drop-zone').waitFor() },
    { name: 'team', hash: `/projects/${PROJECT}/team`, ready: (p) => p.getByTestId('team-table').waitFor() },
    { name: 'audit', hash: `/projects/${PROJECT}/audit`, ready: (p) => p.getByTestId('audit-table').waitFor() },
    { name: 'models', hash: `/projects/${PROJECT}/models`, ready: (p) => p.getByTestId('project-detector').waitFor() },
  ];

  it('finds none on the sign-in form and on every signed-in view', async () => {
    const problems: string[] = [];
    for (const [size, viewport] of Object.entries(SCREENS)) {
      // bypassCSP: the app's policy (script-src 'self') would refuse the injected axe script.
      const context = await web.browser.newContext({ viewport, bypassCSP: true });
      const page = await context.newPage();
      page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
      await page.goto(`${web.url}/#/`);
      await page.getByTestId('sign-in').waitFor();
      const check = async (name: string) => {
        for (const scheme of SCHEMES) {
          await page.emulateMedia({ colorScheme: scheme });
          const found = await axeViolations(page);
          if (found.length) problems.push(`${name} ${size} ${scheme}:\n  ${describeViolations(found)}`);
        }
      };
      await check('sign-in');
      await page.getByLabel('User name').fill('olive');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      for (const view of views) {
        await page.evaluate((hash) => (location.hash = hash), view.hash);
        await view.ready(page);
        // Let the view's first answers land (progress, counts) before judging it.
        await page.waitForLoadState('networkidle').catch(() => undefined);
        await check(view.name);
      }
      if (size === 'desktop') {
        // The check itself sees what it must: grey on grey text is a serious colour-contrast violation.
        await page.evaluate(() => {
          const p = Object.assign(document.createElement('p'), { textContent: 'Faint text nobody can read' });
          p.setAttribute('style', 'color:#888;background:#999');
          p.setAttribute('data-testid', 'axe-probe');
          document.querySelector('main')!.append(p);
        });
        const probe = await axeViolations(page);
        expect(probe.find((v) => v.id === 'color-contrast')?.targets.join(' ')).toContain('axe-probe');
      }
      await context.close();
    }
    if (problems.length) console.error(`axe-core found serious or critical violations:\n${problems.join('\n')}`);
    expect(problems, problems.join('\n')).toEqual([]);
  }, 150_000);
});
