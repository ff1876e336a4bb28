// The labeler's dead ends of issue 15, each in a real browser against the real local stack (real models at ingest):
// walking back through history never loses or replaces a saved label (Enter keeps it, re-labels keep the ambiguous
// flag and start from the saved level, Backspace undoes the label on screen); a server that goes away mid-session
// is said plainly, labeling goes on over a deep prefetch, and everything is saved once it is back; small images are
// never blown up beyond 2x (with 1:1 and zoom); "You: N total" counts samples; an unknown project says so once,
// with a way back; the export page explains why YOLO/VOC do not fit a classification project.

import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, screenshot, waitForNextSample } from './lib/browser.js';
import { caller, flowerFiles, labeledClass, uploadThroughApi, waitForIngest, type Call } from './lib/project.js';
import { webStack } from './lib/stack.js';

const CLASSES = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'];
const PROJECT = 'meadow';
const IMAGES = 40;

describe.skipIf(!chromiumAvailable())('labeling without dead ends', () => {
  const web = webStack('e2e-web-dead-ends');
  let api: Call;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    api = caller(web.url, { user: 'ann' });
    expect((await api('POST', '/api/projects', { id: PROJECT, name: 'Meadow', classes: CLASSES })).status).toBe(201);
    await uploadThroughApi(api, PROJECT, await flowerFiles(IMAGES / CLASSES.length));
    await waitForIngest(api, PROJECT, IMAGES, 180_000);
  }, 240_000);

  async function labelPage(viewport = { width: 1280, height: 800 }, hash = `#/projects/${PROJECT}/label`): Promise<Page> {
    const context = await web.browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.addInitScript(() => localStorage.setItem('winnow.labeler', 'ann'));
    await page.goto(`${web.url}/${hash}`);
    return page;
  }

  const sample = async (sampleId: string) => (await api('GET', `/api/projects/${PROJECT}/samples/${sampleId}`)).json.sample;
  const inView = (page: Page, id: string) =>
    page.waitForFunction((want) => document.querySelector<HTMLElement>('[data-testid="sample-image"]')?.dataset.sampleId === want, id);
  const allSaved = (page: Page, timeout = 15_000) => page.getByTestId('save-status').filter({ hasText: 'All labels saved' }).waitFor({ timeout });

  it('walks back without losing a label: Enter keeps it, ambiguity and levels carry over, Backspace undoes the one on screen', async () => {
    const page = await labelPage();
    let shown = await waitForNextSample(page, undefined, 30_000);
    const labeled: string[] = [];
    // 0: daisy, ambiguous (A then 1)
    await page.keyboard.press('a');
    await page.getByTestId('ambiguous-on').waitFor();
    await page.keyboard.press('1');
    labeled.push(shown);
    shown = await waitForNextSample(page, shown);
    // 1: tulips at confidence 0.5 (Shift+5 twice: 0.25, 0.5; Enter saves)
    await page.keyboard.press('Shift+Digit5');
    await page.keyboard.press('Shift+Digit5');
    await expect.poll(() => page.getByTestId('level-4').textContent()).toBe('50%');
    await page.keyboard.press('Enter');
    labeled.push(shown);
    shown = await waitForNextSample(page, shown);
    // 2, 3: roses, dandelion
    for (const key of ['3', '2']) {
      await page.keyboard.press(key);
      labeled.push(shown);
      shown = await waitForNextSample(page, shown);
    }
    await allSaved(page);
    const before = await Promise.all(labeled.map(sample));
    expect(before.map(labeledClass)).toEqual([0, 4, 2, 1]);

    // ---- 1. Enter on a history entry keeps the saved label (no write), whatever the model suggests ----
    await page.keyboard.press('ArrowLeft');
    await inView(page, labeled[3]);
    await expect.poll(() => page.getByTestId('accept').textContent()).toContain('Keep label');
    await page.keyboard.press('Enter');
    await inView(page, shown); // Enter moved on: the front of the queue again
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await inView(page, labeled[2]);
    await page.keyboard.press(' ');
    await inView(page, labeled[3]);
    await allSaved(page);
    for (const k of [2, 3]) {
      const now = await sample(labeled[k]);
      expect({ version: now.version, class: labeledClass(now) }).toEqual({ version: before[k].version, class: labeledClass(before[k]) });
    }

    // ---- 2. re-labeling in history keeps the ambiguous flag ----
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await inView(page, labeled[0]);
    await page.getByTestId('ambiguous-on').waitFor(); // the saved flag is the starting point
    await page.keyboard.press('4');
    await inView(page, labeled[1]);
    // ---- 2. Shift+digit starts from the saved level (0.5 -> 0.75), Enter saves it ----
    await page.keyboard.press('Shift+Digit5');
    await expect.poll(() => page.getByTestId('level-4').textContent()).toBe('75%');
    await page.keyboard.press('Enter');
    await inView(page, labeled[2]);
    await allSaved(page);
    const daisy = await sample(labeled[0]);
    expect({ class: labeledClass(daisy), ambiguous: daisy.label.ambiguous }).toEqual({ class: 3, ambiguous: true });
    expect((await sample(labeled[1])).label.confidences[4]).toBe(0.75);

    // ---- 3. Backspace while walking back undoes the label on screen (roses, now in view), not the newest ----
    await page.keyboard.press('Backspace');
    await inView(page, labeled[2]); // it stays, to be labeled again
    await page.getByTestId('notice').filter({ hasText: 'Undone' }).waitFor();
    expect(await page.getByTestId('history-position').count()).toBe(0); // at the front of the queue now
    await allSaved(page);
    expect((await sample(labeled[2])).label).toBeUndefined();
    expect(labeledClass(await sample(labeled[3]))).toBe(1); // the newest label is untouched
    await page.keyboard.press('5');
    await waitForNextSample(page, labeled[2]);
    await allSaved(page);

    // ---- 6. "You: N total" counts samples: 4 labeled, 2 of them re-labeled, one undone and labeled again ----
    const progress = (await api('GET', `/api/projects/${PROJECT}/progress`)).json;
    expect(progress.me.total).toBe(4);
    expect(progress.labeled).toBe(4);
    await page.getByTestId('progress').filter({ hasText: '· 4 total' }).waitFor({ timeout: 10_000 });
    await screenshot(page, 'dead-ends-history');
  }, 120_000);

  it('says when the server is unreachable, keeps labeling over a deep prefetch and saves everything once it is back', async () => {
    const page = await labelPage();
    let shown = await waitForNextSample(page, undefined, 30_000);
    // The prefetch fills up (a few minutes of work) before the server goes away.
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('[data-testid="label-view"]')?.dataset.ahead) >= 20, undefined, {
      timeout: 30_000,
    });
    await page.route('**/api/**', (route) => route.abort('internetdisconnected'));
    const expected = new Map<string, number>();
    for (let i = 0; i < 15; i++) {
      const classIndex = i % CLASSES.length;
      await page.keyboard.press(String(classIndex + 1));
      expected.set(shown, classIndex);
      shown = await waitForNextSample(page, shown);
      if (i === 0) {
        const banner = page.getByTestId('offline-banner');
        await banner.waitFor({ timeout: 10_000 });
        expect(await banner.textContent()).toMatch(/Can’t reach the server\. Your labels are safe in this browser/);
      }
    }
    const banner = page.getByTestId('offline-banner');
    await banner.filter({ hasText: '15 waiting' }).waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('offline-ahead').textContent()).toMatch(/\d+ images? loaded ahead: keep labeling/);
    expect(await page.locator('.viewer .error').count()).toBe(0); // no "Could not load the next image"
    await screenshot(page, 'dead-ends-offline');

    // Back: nothing to press; the page notices by itself, sends the labels and fetches more.
    await page.unroute('**/api/**');
    await banner.waitFor({ state: 'detached', timeout: 30_000 });
    await allSaved(page, 45_000);
    for (const [sampleId, classIndex] of expected) expect({ sampleId, class: labeledClass(await sample(sampleId)) }).toEqual({ sampleId, class: classIndex });
    await page.keyboard.press('1');
    await waitForNextSample(page, shown);
  }, 150_000);

  it('never enlarges an image beyond 2x to fit, and shows it at 1:1 or zoomed on request', async () => {
    const page = await labelPage({ width: 1920, height: 1200 });
    await waitForNextSample(page, undefined, 30_000);
    const painted = () =>
      page.evaluate(() => {
        const img = document.querySelector<HTMLImageElement>('[data-testid="sample-image"] img')!;
        const r = img.getBoundingClientRect();
        // object-fit: contain paints the picture at this scale inside the element's box.
        return { scale: Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight), natural: img.naturalWidth };
      });
    await page.waitForFunction(() => document.querySelector<HTMLImageElement>('[data-testid="sample-image"] img')?.complete);
    const fit = await painted();
    // These photos are at most ~500 px wide: on this stage, fitting them would take well over 2x.
    expect(fit.natural).toBeLessThan(700);
    expect(fit.scale).toBeLessThanOrEqual(2.001);
    expect(fit.scale).toBeGreaterThan(1.9);
    await page.keyboard.press('z');
    await expect.poll(async () => (await painted()).scale).toBeCloseTo(1, 3);
    expect(await page.getByTestId('image-actual').getAttribute('aria-pressed')).toBe('true');
    await page.keyboard.press('+');
    await expect.poll(async () => (await painted()).scale).toBeCloseTo(1.5, 3);
    await screenshot(page, 'dead-ends-zoom');
    await page.getByTestId('image-fit').click();
    await expect.poll(async () => (await painted()).scale).toBeCloseTo(fit.scale, 3);
  }, 60_000);

  it('shows one "project not found" state with a way back for an unknown project', async () => {
    const page = await labelPage(undefined, '#/projects/no-such-project/label');
    const state = page.getByTestId('project-not-found');
    await state.waitFor({ timeout: 15_000 });
    expect(await state.textContent()).toContain('There is no project “no-such-project”');
    await page.waitForTimeout(1500);
    const text = (await page.textContent('body')) ?? '';
    expect(text).not.toMatch(/Loading/);
    await screenshot(page, 'dead-ends-not-found');
    await page.getByRole('link', { name: /Back to your projects/ }).click();
    await page.getByTestId(`project-${PROJECT}`).waitFor();

    await page.goto(`${web.url}/#/projects/no-such-project/gallery`);
    await page
      .getByTestId('project-not-found')
      .waitFor({ timeout: 15_000 })
      .catch(async (err) => {
        throw new Error(`${(err as Error).message}\npage: ${await page.textContent('body')}`);
      });
    expect((await page.textContent('body')) ?? '').not.toMatch(/not available on this server/);
  }, 60_000);

  it('explains on the export page why YOLO and VOC do not fit a classification project', async () => {
    const page = await labelPage(undefined, `#/projects/${PROJECT}/export`);
    const yolo = page.getByRole('radio', { name: /^YOLO/ });
    await expect.poll(() => yolo.isDisabled(), { timeout: 15_000 }).toBe(true);
    expect(await page.getByRole('radio', { name: /^Pascal VOC/ }).isDisabled()).toBe(true);
    expect(await page.getByTestId('unfit-yolo').textContent()).toMatch(/image-level.*Class folders/);
    // The API says the same to anyone who asks anyway.
    const refused = await api('POST', `/api/projects/${PROJECT}/exports`, { format: 'yolo', images: false });
    expect(refused.status).toBe(400);
    expect(refused.json.message).toMatch(/yolo carries boxes only.*folders/);
    await screenshot(page, 'dead-ends-export');
  }, 60_000);
});
