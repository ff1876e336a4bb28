// What a labeler expects besides the keys (issue 15): with more than 9 classes, / opens a class search that
// filters as one types and labels with Enter; a strip of the last labeled thumbnails revisits one with a click;
// "this session" says how many labels, for how long, at what rate. Real browser, real local stack.

import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, screenshot, waitForNextSample } from './lib/browser.js';
import { caller, flowerFiles, labeledClass, uploadThroughApi, waitForIngest, type Call } from './lib/project.js';
import { webStack } from './lib/stack.js';

const PROJECT = 'many-classes';
const CLASSES = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips', 'lily', 'orchid', 'iris', 'lotus', 'poppy', 'aster', 'violet'];

describe.skipIf(!chromiumAvailable())('class search, history strip and session summary', () => {
  const web = webStack('e2e-web-extras');
  let api: Call;
  let page: Page;

  beforeAll(async () => {
    api = caller(web.url, { user: 'ann' });
    expect((await api('POST', '/api/projects', { id: PROJECT, name: 'Many classes', classes: CLASSES })).status).toBe(201);
    const files = await flowerFiles(2);
    await uploadThroughApi(api, PROJECT, files);
    await waitForIngest(api, PROJECT, files.length);
    page = await (await web.browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.addInitScript(() => localStorage.setItem('winnow.labeler', 'ann'));
    await page.goto(`${web.url}/#/projects/${PROJECT}/label`);
  }, 180_000);

  const sample = async (sampleId: string) => (await api('GET', `/api/projects/${PROJECT}/samples/${sampleId}`)).json.sample;
  const visibleClasses = () =>
    page.locator('.class-row:not([hidden]) .class-name').allTextContents();

  it('finds a class by typing after /, moves with the arrows, and labels with Enter', async () => {
    const first = await waitForNextSample(page, undefined, 30_000);
    await page.keyboard.press('/');
    const search = page.getByTestId('class-search');
    expect(await search.evaluate((el) => el === document.activeElement)).toBe(true);
    // Typing filters (letters are search text here, not shortcuts: "s" does not skip, "a" is not "ambiguous").
    await page.keyboard.type('as');
    await expect.poll(visibleClasses).toEqual(['aster']);
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.keyboard.type('li');
    await expect.poll(visibleClasses).toEqual(['dandelion', 'tulips', 'lily']);
    const hit = () => page.locator('.class-row.search-hit .class-name').textContent();
    expect(await hit()).toBe('dandelion');
    await page.keyboard.press('ArrowUp'); // wraps to the last match
    expect(await hit()).toBe('lily');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
    expect(await hit()).toBe('lily');
    await page.keyboard.press('Enter');
    const second = await waitForNextSample(page, first);
    // The search is cleared and the keys are the labeling keys again.
    expect(await search.inputValue()).toBe('');
    expect(await search.evaluate((el) => el === document.activeElement)).toBe(false);
    expect(await visibleClasses()).toHaveLength(CLASSES.length);
    await expect.poll(async () => labeledClass(await sample(first))).toBe(CLASSES.indexOf('lily'));

    // Digits still label (class 2: dandelion), as before the search.
    await page.keyboard.press('2');
    await waitForNextSample(page, second);
    await expect.poll(async () => labeledClass(await sample(second))).toBe(1);
  }, 60_000);

  it('revisits a labeled image from the history strip and counts this session’s labels', async () => {
    await page.keyboard.press('3');
    const strip = page.getByTestId('history-strip');
    await expect.poll(() => strip.locator('button').count()).toBe(3);
    // This session: three labels, a time and a rate.
    await expect.poll(() => page.getByTestId('session-count').textContent()).toBe('3');
    expect(Number(await page.getByTestId('session-rate').textContent())).toBeGreaterThan(0);
    expect(await page.getByTestId('session-time').textContent()).toMatch(/\d+ (s|min)/);

    // A click on the first thumbnail shows that image with its saved label (lily).
    await strip.locator('button').first().click();
    await page.getByTestId('history-position').waitFor();
    expect(await page.getByTestId('saved-label').textContent()).toContain('lily');
    expect(await strip.locator('button').first().getAttribute('aria-current')).toBe('true');
    await screenshot(page, 'history-strip');
  }, 60_000);
});
