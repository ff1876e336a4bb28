// Box tools of issue 15 (point 7) in a real browser on the real local stack: each class has its own colour
// (Okabe-Ito, on the image and on the class keys); N draws a box, arrows nudge it, Shift+arrows resize it and
// Ctrl+Z undoes each run of edits; a box can be hidden and locked; the boxes are listed in a side panel; zoom
// follows the selected box; per-class progress counts the saved boxes; the caption speaks of boxes, not classes.

import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, screenshot } from './lib/browser.js';
import { caller, uploadThroughApi, waitForIngest, type Call } from './lib/project.js';
import { webStack } from './lib/stack.js';

const PROJECT = 'garden-boxes';
const CLASSES = ['person', 'flower', 'bee'];
const PHOTOS = ['daisy/9158041313_7a6a102f7a_n.jpg', 'roses/10503217854_e66a804309.jpg', 'tulips/10128546863_8de70c610d.jpg'];
/** Okabe-Ito blue, orange and green: the first three class colours in the light scheme. */
const LIGHT_COLOURS = ['rgb(0, 114, 178)', 'rgb(230, 159, 0)', 'rgb(0, 158, 115)'];

type Rect = [number, number, number, number];

describe.skipIf(!chromiumAvailable())('box tools in the browser', () => {
  const web = webStack('e2e-box-tools');
  let api: Call;

  beforeAll(async () => {
    api = caller(web.url, { user: 'ann' });
    const created = await api('POST', '/api/projects', {
      id: PROJECT,
      name: 'Garden boxes',
      classes: CLASSES,
      taskType: 'box-review',
      // No detector: every box here is drawn by the labeler, so the test knows them all.
      detection: { enabled: false },
    });
    expect(created.status).toBe(201);
    await uploadThroughApi(api, PROJECT, PHOTOS);
    await waitForIngest(api, PROJECT, PHOTOS.length);
  }, 180_000);

  async function labelPage(): Promise<Page> {
    const context = await web.browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.addInitScript(() => localStorage.setItem('winnow.labeler', 'ann'));
    await page.goto(`${web.url}/#/projects/${PROJECT}/label`);
    await page.getByTestId('box-editor').waitFor();
    return page;
  }

  /** A box's rectangle in image pixels, as drawn. */
  const rectOf = async (page: Page, i: number): Promise<Rect> => {
    const r = page.getByTestId(`box-${i}`).locator('rect.frame');
    const [x, y, w, h] = await Promise.all(['x', 'y', 'width', 'height'].map(async (a) => Number(await r.getAttribute(a))));
    return [x, y, x + w, y + h];
  };
  const strokeOf = (page: Page, i: number) =>
    page.getByTestId(`box-${i}`).locator('rect.frame').evaluate((el) => getComputedStyle(el).stroke);
  const press = async (page: Page, key: string, times = 1) => {
    for (let k = 0; k < times; k++) await page.keyboard.press(key);
  };

  it('draws, nudges, resizes, undoes, hides and locks boxes by keyboard, each class in its own colour, and counts boxes per class', async () => {
    const page = await labelPage();
    // Box mode's caption speaks of boxes, never "press a class to re-label".
    await expect.poll(() => page.getByTestId('caption').textContent()).toContain('No boxes proposed');
    expect(await page.getByTestId('caption').textContent()).toContain('N draws a new box');

    // Class keys show their colour.
    for (let c = 0; c < CLASSES.length; c++) {
      const swatch = page.getByTestId(`class-${c}`).locator('.swatch');
      expect(await swatch.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(LIGHT_COLOURS[c]);
    }

    // "2" with no box selected picks the class for new boxes; N draws one in the middle of the view.
    await press(page, '2');
    await press(page, 'n');
    await page.getByTestId('box-0').waitFor();
    expect(await page.getByTestId('box-0').getAttribute('aria-label')).toBe('Box 1: flower, accepted, selected');
    const drawn = await rectOf(page, 0);
    expect(drawn[2] - drawn[0]).toBeGreaterThanOrEqual(20);

    // Arrows nudge by a pixel, Alt+arrows by ten; Shift+arrows move the right/bottom edge.
    await press(page, 'ArrowRight', 3);
    await press(page, 'Alt+ArrowDown');
    await press(page, 'ArrowUp', 2);
    await expect.poll(() => rectOf(page, 0)).toEqual([drawn[0] + 3, drawn[1] + 8, drawn[2] + 3, drawn[3] + 8]);
    await press(page, 'Shift+ArrowRight', 5);
    await press(page, 'Shift+ArrowUp', 4);
    await expect.poll(() => rectOf(page, 0)).toEqual([drawn[0] + 3, drawn[1] + 8, drawn[2] + 8, drawn[3] + 4]);
    // Ctrl+Z undoes the run of resizes, then the run of nudges: back where N drew it.
    await press(page, 'Control+z');
    await expect.poll(() => rectOf(page, 0)).toEqual([drawn[0] + 3, drawn[1] + 8, drawn[2] + 3, drawn[3] + 8]);
    await press(page, 'Control+z');
    await expect.poll(() => rectOf(page, 0)).toEqual(drawn);
    // The page did not navigate away on Alt+Arrow or reload on anything else.
    expect(page.url()).toContain(`#/projects/${PROJECT}/label`);

    // Esc deselects; "1" then makes person the draw class; N draws a person box, shown in another colour.
    await press(page, 'Escape');
    await press(page, '1');
    await press(page, 'n');
    await page.getByTestId('box-1').waitFor();
    expect(await page.getByTestId('box-1').getAttribute('data-class')).toBe('0');
    await press(page, 'ArrowLeft', 30); // move it off the flower box
    expect(await strokeOf(page, 0)).toBe(LIGHT_COLOURS[1]);
    expect(await strokeOf(page, 1)).toBe(LIGHT_COLOURS[0]);

    // The side panel lists both boxes; clicking one selects it.
    const list = page.getByTestId('box-list');
    expect(await list.locator('li').count()).toBe(2);
    expect(await page.getByTestId('box-item-1').textContent()).toContain('person');
    await page.getByTestId('box-item-0').getByRole('button', { name: /Select box 1/ }).click();
    await expect.poll(() => page.getByTestId('box-0').getAttribute('aria-label')).toContain('selected');

    // V hides the selected box from the image (still listed), V shows it again.
    await press(page, 'v');
    await expect.poll(() => page.getByTestId('box-0').isVisible()).toBe(false);
    expect(await page.getByTestId('box-hide-0').getAttribute('aria-pressed')).toBe('true');
    await press(page, 'v');
    await expect.poll(() => page.getByTestId('box-0').isVisible()).toBe(true);

    // L locks it: arrows and class keys leave it alone and say why; L again unlocks.
    await press(page, 'l');
    expect(await page.getByTestId('box-0').getAttribute('aria-label')).toContain('locked');
    const locked = await rectOf(page, 0);
    await press(page, 'ArrowRight', 4);
    await press(page, '3');
    expect(await rectOf(page, 0)).toEqual(locked);
    expect(await page.getByTestId('box-0').getAttribute('data-class')).toBe('1');
    await expect.poll(() => page.getByTestId('notice').textContent()).toContain('locked');
    await page.getByTestId('box-lock-0').click();
    expect(await page.getByTestId('box-0').getAttribute('aria-label')).not.toContain('locked');
    await screenshot(page, 'box-tools');

    // Save: progress counts one flower box and one person box.
    await press(page, 'Enter');
    await page.getByTestId('save-status').filter({ hasText: 'All labels saved' }).waitFor();
    await expect.poll(() => page.getByTestId('by-class-flower').locator('.count').textContent(), { timeout: 15_000 }).toBe('1');
    expect(await page.getByTestId('by-class-person').locator('.count').textContent()).toBe('1');
    expect(await page.getByTestId('by-class').getAttribute('aria-label')).toBe('Boxes per class');
    const progress = (await api('GET', `/api/projects/${PROJECT}/progress`)).json;
    expect(progress.byClass.map((c: { count: number }) => c.count)).toEqual([1, 1, 0]);

    // Walking back to the saved boxes: the caption says how to edit boxes, not "press a class to re-label".
    await press(page, 'ArrowLeft');
    await page.getByTestId('history-hint').waitFor();
    const hint = await page.getByTestId('history-hint').textContent();
    expect(hint).toContain('edit the boxes');
    expect(hint).not.toContain('press a class');
    await page.context().close();
  }, 120_000);

  it('keeps the selected box on screen when zoomed: zoom follows the selection', async () => {
    const page = await labelPage();
    await page.getByTestId('box-editor').locator('img').evaluate((img: HTMLImageElement) => img.decode());
    // Two boxes in opposite corners of the image, drawn by mouse at fit.
    const layer = (await page.locator('svg.box-layer').boundingBox())!;
    const [w, h] = (await page.locator('svg.box-layer').getAttribute('viewBox'))!.split(' ').slice(2).map(Number);
    const scale = Math.min(layer.width / w, layer.height / h);
    const left = layer.x + (layer.width - w * scale) / 2;
    const top = layer.y + (layer.height - h * scale) / 2;
    const drag = async (x1: number, y1: number, x2: number, y2: number) => {
      await page.mouse.move(left + x1 * scale, top + y1 * scale);
      await page.mouse.down();
      await page.mouse.move(left + ((x1 + x2) / 2) * scale, top + ((y1 + y2) / 2) * scale, { steps: 3 });
      await page.mouse.move(left + x2 * scale, top + y2 * scale, { steps: 3 });
      await page.mouse.up();
    };
    await drag(4, 4, 30, 30);
    await drag(w - 30, h - 30, w - 4, h - 4);
    await page.getByTestId('box-1').waitFor();

    // Zoom to 3x with the keyboard.
    await press(page, '+', 3);
    await expect.poll(() => page.getByTestId('box-editor').getAttribute('data-zoom')).toBe('3');
    const onScreen = async (i: number) => {
      const frame = (await page.getByTestId('box-editor').boundingBox())!;
      const r = (await page.getByTestId(`box-${i}`).locator('rect.frame').boundingBox())!;
      return r.x >= frame.x - 1 && r.y >= frame.y - 1 && r.x + r.width <= frame.x + frame.width + 1 && r.y + r.height <= frame.y + frame.height + 1;
    };
    // At 3x the two corners cannot both be on screen: whichever is selected is.
    for (const step of [']', '[', ']', '[']) {
      await press(page, step);
      const selected = Number(
        await page.evaluate(() => document.querySelector('g.review-box.selected')?.getAttribute('data-testid')?.slice(4)),
      );
      await expect.poll(() => onScreen(selected)).toBe(true);
      expect(await onScreen(1 - selected)).toBe(false);
    }

    // F zooms to the selected (small) box: the deepest level at which it still fits.
    await press(page, 'f');
    await expect.poll(() => page.getByTestId('box-editor').getAttribute('data-zoom')).not.toBe('3');
    const zoom = Number(await page.getByTestId('box-editor').getAttribute('data-zoom'));
    expect(zoom).toBeGreaterThan(3);
    const selected = Number(await page.evaluate(() => document.querySelector('g.review-box.selected')?.getAttribute('data-testid')?.slice(4)));
    await expect.poll(() => onScreen(selected)).toBe(true);
    await screenshot(page, 'box-tools-zoomed');
    await page.context().close();
  }, 120_000);
});
