// The owner's views in a real browser against the local stack with sign-in on (real models at ingest): the gallery
// says what each image is labeled and filters by class, labeler, unlabeled and sort with counts beside each value
// (issue 15 point 8), sorted by confidence or recency; the project card shows counts, progress and "continue labeling" (point 9); the Team page
// invites, removes and disables people, each in force on the very next request of the token they already hold, and
// the Audit log page lists who did it (issue 16). Screenshots at 1440x900 and 390x844, light and dark.

import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, screenshot, waitForNextSample } from './lib/browser.js';
import { caller, flowerFiles, uploadThroughApi, waitForIngest, type Call } from './lib/project.js';
import { webStack } from './lib/stack.js';

const PROJECT = 'meadow';
const CLASSES = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'];
const PASSWORD = 'Tulips-in-April-2026';
const IMAGES = 20;

describe.skipIf(!chromiumAvailable())('owner views in the browser', () => {
  const web = webStack('e2e-web-owner', {
    auth: true,
    users: [
      { username: 'olga', password: PASSWORD, groups: ['admin'] },
      { username: 'ann', password: PASSWORD, groups: ['labeler'] },
    ],
  });
  let olga: Call;
  let ann: Call;
  /** sampleId -> [class index, labeler] of what was labeled. */
  const labeled = new Map<string, [number, string]>();

  const token = (username: string, password = PASSWORD) => web.idToken(username, password);

  beforeAll(async () => {
    olga = caller(web.url, { token: await token('olga') });
    ann = caller(web.url, { token: await token('ann') });
    expect((await olga('POST', '/api/projects', { id: PROJECT, name: 'Meadow', classes: CLASSES, members: ['ann'], allowAmbiguous: true })).status).toBe(201);
    await uploadThroughApi(olga, PROJECT, await flowerFiles(IMAGES / CLASSES.length));
    await waitForIngest(olga, PROJECT, IMAGES, 180_000);
    // Olga labels the first 6 images by their folder, Ann the next 4 (one of them as ambiguous); 10 stay unlabeled.
    const images = (await olga('GET', `/api/projects/${PROJECT}/images?limit=100`)).json.images as { imageId: string; key: string }[];
    for (const [i, image] of images.slice(0, 10).entries()) {
      const cls = CLASSES.indexOf(image.key.split('/')[2]);
      const who = i < 6 ? olga : ann;
      const res = await who('POST', `/api/projects/${PROJECT}/samples/${image.imageId}/annotations`, {
        version: 0, requestId: `seed-${image.imageId}`, classIndex: cls, ambiguous: i === 9,
      });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
      labeled.set(image.imageId, [cls, i < 6 ? 'olga' : 'ann']);
    }
  }, 240_000);

  async function signedIn(viewport = { width: 1440, height: 900 }, colorScheme: 'light' | 'dark' = 'light', hash = '#/'): Promise<Page> {
    const page = await (await web.browser.newContext({ viewport, colorScheme })).newPage();
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.goto(`${web.url}/${hash}`);
    await page.getByLabel('User name').fill('olga');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    return page;
  }
  /** The captions of the tiles on screen (the grid renders the rows in view). */
  const tileLabels = (page: Page) => page.locator('[data-testid^="tile-label-"]').allTextContents();
  /** Waits until the gallery has loaded all of its `n` tiles. */
  const waitTiles = (page: Page, n: number) =>
    page.getByTestId('gallery-count').filter({ hasText: new RegExp(`^${n} samples? ·`) }).waitFor({ timeout: 15_000 });

  it('the gallery says what each image is labeled and filters by class, labeler and unlabeled, with counts', async () => {
    const page = await signedIn(undefined, undefined, `#/projects/${PROJECT}/gallery`);
    await page.getByTestId('gallery-view').waitFor();
    await waitTiles(page, IMAGES);
    const [someId, [someClass, someBy]] = [...labeled][0];
    await expect.poll(() => page.getByTestId(`tile-label-${someId}`).textContent()).toContain(CLASSES[someClass]);
    expect(await page.getByTestId(`tile-label-${someId}`).textContent()).toContain(someBy);
    expect(await page.getByTestId(`tile-label-${someId}`).textContent()).toContain('100%');
    await screenshot(page, 'gallery-labels');

    // Class: the option names its count; only that class's tiles remain.
    const tulips = [...labeled.values()].filter(([c]) => CLASSES[c] === 'tulips').length;
    await expect.poll(() => page.getByTestId('filter-class').locator('option[value="tulips"]').textContent()).toBe(`tulips (${tulips})`);
    await page.getByTestId('filter-class').selectOption('tulips');
    await waitTiles(page, tulips);
    expect((await tileLabels(page)).every((t) => t.startsWith('tulips'))).toBe(true);

    // Labeler (with counts), then unlabeled.
    await page.getByTestId('filter-class').selectOption('');
    await expect.poll(() => page.getByTestId('filter-labeler').locator('option[value="ann"]').textContent()).toBe('ann (4)');
    await page.getByTestId('filter-labeler').selectOption('ann');
    await waitTiles(page, 4);
    expect((await tileLabels(page)).filter((t) => t.includes('ambiguous'))).toHaveLength(1);
    await page.getByTestId('filter-labeler').selectOption('');
    await expect.poll(() => page.getByTestId('filter-unlabeled').textContent()).toBe(`Unlabeled (${IMAGES - labeled.size})`);
    await page.getByTestId('filter-unlabeled').click();
    await waitTiles(page, IMAGES - labeled.size);
    expect((await tileLabels(page)).every((t) => t.startsWith('unlabeled'))).toBe(true);
    await page.getByTestId('filter-unlabeled').click();
    await page.getByTestId('filter-ambiguous').click();
    await waitTiles(page, 1);
    await screenshot(page, 'gallery-filtered');

    // Relabeling a tile shows its new label on it when the dialog closes, and the counts follow.
    await page.getByTestId('filter-ambiguous').click();
    await page.getByTestId('filter-unlabeled').click();
    await waitTiles(page, IMAGES - labeled.size);
    const id = (await page.locator('[data-testid^="tile-label-"]').first().getAttribute('data-testid'))!.replace('tile-label-', '');
    await page.getByTestId(`tile-${id}`).click();
    await page.getByRole('dialog', { name: 'Relabel' }).waitFor();
    await page.keyboard.press('5');
    await page.getByTestId('save-status').filter({ hasText: 'All labels saved' }).waitFor();
    await page.keyboard.press('Escape');
    labeled.set(id, [4, 'olga']);
    await expect.poll(() => page.getByTestId(`tile-label-${id}`).textContent()).toMatch(/^tulips\s*olga/);
    await expect.poll(() => page.getByTestId('filter-unlabeled').textContent()).toBe(`Unlabeled (${IMAGES - labeled.size})`);
    await page.getByTestId('filter-unlabeled').click();
    await waitTiles(page, IMAGES);

    // Sorted: "most confident first" shows the tiles' percentages in order (tiles the model has no view of yet last);
    // "recently labeled" puts the tile just relabeled first.
    const tileIds = async () => (await page.locator('[data-testid^="tile-label-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!))).map((t) => t.replace('tile-label-', ''));
    await page.getByTestId('gallery-sort').selectOption('confidence-desc');
    await waitTiles(page, IMAGES);
    await expect.poll(async () => {
      const percents = (await tileLabels(page)).map((t) => Number(/(\d+)%/.exec(t)?.[1] ?? -1));
      const shown = percents.filter((p) => p >= 0);
      return { count: percents.length, ordered: shown.every((p, i) => i === 0 || p <= shown[i - 1]), noneLast: percents.indexOf(-1) < 0 || percents.slice(percents.indexOf(-1)).every((p) => p < 0) };
    }).toEqual({ count: IMAGES, ordered: true, noneLast: true });
    await page.getByTestId('gallery-sort').selectOption('recent');
    await waitTiles(page, IMAGES);
    await expect.poll(async () => (await tileIds())[0]).toBe(id);
    await page.getByTestId('gallery-sort').selectOption('upload');
    await waitTiles(page, IMAGES);

    const phone = await signedIn({ width: 390, height: 844 }, 'dark', `#/projects/${PROJECT}/gallery`);
    await waitTiles(phone, IMAGES);
    // Nothing runs off the side of a phone.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(phone, 'gallery-labels-phone-dark');
  }, 120_000);

  it('the project card shows counts and progress, and continues labeling', async () => {
    const page = await signedIn();
    const card = page.getByTestId(`project-card-${PROJECT}`);
    await card.getByTestId('labeled').filter({ hasText: `${labeled.size} of ${IMAGES} labeled (${Math.round((100 * labeled.size) / IMAGES)}%)` }).waitFor();
    expect(await card.getByTestId('images-ready').textContent()).toBe(`${IMAGES} images ready`);
    expect(await card.textContent()).toContain('2 labelers active today');
    await screenshot(page, 'home-cards');
    await page.getByTestId(`continue-${PROJECT}`).filter({ hasText: 'Continue labeling' }).click();
    await waitForNextSample(page, undefined, 30_000);
  }, 60_000);

  it('the team page invites, removes and disables people, in force on their next request', async () => {
    const page = await signedIn(undefined, undefined, `#/projects/${PROJECT}/team`);
    await page.getByTestId('member-ann').waitFor();
    expect(await page.getByTestId('member-ann').textContent()).toContain('4'); // labels here
    await page.getByTestId('invite-name').fill('bob');
    await page.getByTestId('invite').click();
    const secret = page.getByTestId('temporary-password');
    await secret.waitFor();
    const password = (await secret.locator('code').textContent())!;
    await page.getByTestId('member-bob').waitFor();
    await screenshot(page, 'team');

    const bob = caller(web.url, { token: await token('bob', password) });
    expect((await bob('GET', `/api/projects/${PROJECT}/next?count=1`)).status).toBe(200);
    await page.getByTestId('remove-bob').click();
    await page.getByTestId('member-bob').filter({ hasText: 'Not a member' }).waitFor();
    const after = await bob('GET', `/api/projects/${PROJECT}/next?count=1`);
    expect(after.status).toBe(404);
    expect(after.json.message).toBe(`project "${PROJECT}" not found`);

    expect((await ann('GET', '/api/projects')).status).toBe(200);
    await page.getByTestId('enable-ann').filter({ hasText: 'Disable' }).click();
    await page.getByTestId('member-ann').filter({ hasText: 'disabled' }).waitFor();
    // The page updates in place: the button keeps the keyboard focus.
    expect(await page.getByTestId('enable-ann').evaluate((el) => el === document.activeElement && el.textContent === 'Enable')).toBe(true);
    const refused = await ann('GET', `/api/projects/${PROJECT}/progress`);
    expect(refused.status).toBe(401);
    expect(refused.json.message).toMatch(/disabled/);

    // The audit log page says who did it.
    await page.getByRole('link', { name: 'Audit log' }).click();
    const table = page.getByTestId('audit-table');
    await table.waitFor();
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-action')} ${tr.textContent}`));
    expect(rows[0]).toMatch(/^member\.remove .*olga.*removed a member.*userId: bob/);
    expect(rows.some((r) => r.startsWith('member.add') && r.includes('bob'))).toBe(true);
    expect(rows.some((r) => r.startsWith('images.upload'))).toBe(true);
    expect(rows.at(-1)).toMatch(/^project\.create .*olga/);
    await screenshot(page, 'audit-log');
  }, 90_000);
});
