// The web app's views in a real browser on the real local stack (issue 15 points 10, 12, 13): export radio buttons
// are ordinary radios next to their text (desktop, phone, dark); nothing overflows a 390 px phone screen; dialogs
// are native modal <dialog>s that keep focus inside and give it back on close; every control has an accessible
// name that contains its visible text. It also saves screenshots of the main views at 1440x900 and 390x844, light and dark,
// to test-output/screenshots/views/ (gitignored) for people to look at.

import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, screenshot } from './lib/browser.js';
import { caller, flowerFiles, uploadThroughApi, waitForIngest, type Call } from './lib/project.js';
import { webStack } from './lib/stack.js';

const PROJECT = 'meadow-views';
const BOXES = 'meadow-views-boxes';
const CLASSES = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'];
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };
const SCHEMES = ['light', 'dark'] as const;

describe.skipIf(!chromiumAvailable())('views: export radios, phone widths, dialogs, accessible names', () => {
  const web = webStack('e2e-web-views');
  let api: Call;

  beforeAll(async () => {
    api = caller(web.url, { user: 'ann' });
    expect((await api('POST', '/api/projects', { id: PROJECT, name: 'Meadow views', classes: CLASSES })).status).toBe(201);
    expect(
      (await api('POST', '/api/projects', { id: BOXES, name: 'Meadow boxes', classes: ['person', 'flower'], taskType: 'box-review' })).status,
    ).toBe(201);
    const files = await flowerFiles(2);
    await uploadThroughApi(api, PROJECT, files);
    await uploadThroughApi(api, BOXES, ['daisy/9158041313_7a6a102f7a_n.jpg']);
    await waitForIngest(api, PROJECT, files.length);
    await waitForIngest(api, BOXES, 1);
  }, 180_000);

  async function open(hash: string, viewport = DESKTOP, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const context = await web.browser.newContext({ viewport, colorScheme });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.addInitScript(() => localStorage.setItem('winnow.labeler', 'ann'));
    await page.goto(`${web.url}/#${hash}`);
    return page;
  }
  const ready = {
    label: (page: Page) => page.getByTestId('sample-image').waitFor(),
    boxes: (page: Page) => page.getByTestId('box-0').waitFor({ timeout: 15_000 }).catch(() => page.getByTestId('box-editor').waitFor()),
    gallery: (page: Page) => page.locator('[data-testid^="tile-"]').first().waitFor(),
    export: (page: Page) => page.getByTestId('format-coco').waitFor(),
    upload: (page: Page) => page.getByTestId('drop-zone').waitFor(),
  };
  const views: { name: keyof typeof ready; hash: string }[] = [
    { name: 'label', hash: `/projects/${PROJECT}/label` },
    { name: 'boxes', hash: `/projects/${BOXES}/label` },
    { name: 'gallery', hash: `/projects/${PROJECT}/gallery` },
    { name: 'export', hash: `/projects/${PROJECT}/export` },
    { name: 'upload', hash: `/projects/${PROJECT}/upload` },
  ];

  /** How far the page is wider than the screen, in CSS pixels (0: no horizontal scrolling). */
  const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

  /**
   * What axe reports as serious or critical for controls, checked in the page (axe-core is not installed here):
   * an aria-label that does not contain the visible text (label-content-name-mismatch), a button, link or form
   * field without any accessible name (button-name, link-name, label), aria-label on an element whose role
   * forbids naming (aria-prohibited-attr), and an image without alt (image-alt).
   */
  const a11yProblems = (page: Page) =>
    page.evaluate(() => {
      const words = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();
      const shown = (el: Element) => el.getClientRects().length > 0 && !el.closest('[hidden], [aria-hidden="true"]');
      const problems: string[] = [];
      const describe = (el: Element) => `${el.tagName.toLowerCase()}${el.getAttribute('data-testid') ? `[${el.getAttribute('data-testid')}]` : ''}`;
      const labelled = (el: HTMLElement) => {
        if (el.getAttribute('aria-label')?.trim() || el.getAttribute('aria-labelledby') || el.getAttribute('title')?.trim()) return true;
        if ((el as HTMLInputElement).labels?.length) return true;
        return false;
      };
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('button[aria-label], a[aria-label], [role="button"][aria-label], input[aria-label]'))) {
        const text = words(el.innerText ?? '');
        if (shown(el) && text !== '' && !words(el.getAttribute('aria-label') ?? '').includes(text)) {
          problems.push(`${describe(el)}: "${el.getAttribute('aria-label')}" hides "${text}"`);
        }
      }
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('button, a[href], [role="button"]'))) {
        const imgAlt = Array.from(el.querySelectorAll('img')).some((img) => img.alt.trim());
        if (shown(el) && !words(el.innerText ?? '') && !labelled(el) && !imgAlt) problems.push(`${describe(el)} has no name`);
      }
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('input:not([type="hidden"]), select, textarea'))) {
        if (shown(el) && !labelled(el)) problems.push(`${describe(el)} (${(el as HTMLInputElement).type}) has no label`);
      }
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('div[aria-label], span[aria-label], p[aria-label]'))) {
        if (!el.getAttribute('role')) problems.push(`${describe(el)}: aria-label without a role`);
      }
      for (const img of Array.from(document.querySelectorAll('img'))) {
        if (!img.hasAttribute('alt')) problems.push(`${describe(img)} without alt`);
      }
      return problems;
    });

  it('draws the export format radios as small radios beside their text, on desktop and phone, light and dark', async () => {
    for (const viewport of [DESKTOP, PHONE]) {
      const page = await open(`/projects/${PROJECT}/export`, viewport);
      await ready.export(page);
      for (const scheme of SCHEMES) {
        await page.emulateMedia({ colorScheme: scheme });
        for (const format of ['coco', 'csv']) {
          const choice = page.getByTestId(`format-${format}`);
          const radio = (await choice.locator('input[type="radio"]').boundingBox())!;
          const title = (await choice.locator('strong').boundingBox())!;
          // Before: the global input style made each radio a 40 px high, full-width circle centred above its text.
          expect(radio.width, `${format} radio width at ${viewport.width}px ${scheme}`).toBeLessThanOrEqual(24);
          expect(radio.height).toBeLessThanOrEqual(24);
          expect(title.x).toBeGreaterThan(radio.x + radio.width);
          expect(Math.abs(title.y + title.height / 2 - (radio.y + radio.height / 2))).toBeLessThan(12);
        }
      }
      await page.context().close();
    }
  }, 60_000);

  it('fits a 390 px phone: no view and no dialog scrolls sideways', async () => {
    for (const view of views) {
      const page = await open(view.hash, PHONE);
      await ready[view.name](page);
      const wide = await page.evaluate(() =>
        Array.from(document.querySelectorAll<HTMLElement>('body *'))
          .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
          .slice(0, 5)
          .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}px`),
      );
      expect(await overflow(page), `${view.name} at 390 px: ${wide.join('; ')}`).toBeLessThanOrEqual(0);
      await page.context().close();
    }
    const page = await open(`/projects/${PROJECT}/gallery`, PHONE);
    await ready.gallery(page);
    await page.locator('[data-testid^="tile-"]').first().click();
    await page.getByTestId('relabel-current').waitFor();
    await page.getByTestId('find-similar').click();
    await page.locator('.similar-grid, [data-testid="relabel"] p.muted').first().waitFor();
    const dialog = (await page.getByTestId('relabel').boundingBox())!;
    expect(dialog.x).toBeGreaterThanOrEqual(0);
    expect(dialog.x + dialog.width).toBeLessThanOrEqual(PHONE.width);
    const inner = await page.getByTestId('relabel').evaluate((el) => el.scrollWidth - el.clientWidth);
    expect(inner, 'relabel dialog content wider than the dialog').toBeLessThanOrEqual(0);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await page.context().close();
  }, 90_000);

  it('keeps focus inside the shortcut sheet and gives it back on close; the relabel dialog too', async () => {
    const page = await open(`/projects/${PROJECT}/label`);
    await ready.label(page);
    const opener = page.getByTestId('open-shortcuts');
    await opener.click();
    const sheet = page.getByTestId('shortcuts');
    await sheet.waitFor();
    // A native modal dialog: the page behind is inert.
    expect(await sheet.evaluate((el) => el.tagName === 'DIALOG' && el.matches(':modal'))).toBe(true);
    const focusInside = (testId: string) => page.evaluate((id) => !!document.activeElement?.closest(`[data-testid="${id}"]`), testId);
    expect(await focusInside('shortcuts')).toBe(true);
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab');
      expect(await focusInside('shortcuts'), `after Tab ${i + 1}`).toBe(true);
    }
    await page.keyboard.press('Escape');
    await sheet.waitFor({ state: 'detached' });
    expect(await opener.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.context().close();

    const gallery = await open(`/projects/${PROJECT}/gallery`);
    await ready.gallery(gallery);
    const tile = gallery.locator('[data-testid^="tile-"]').first();
    await tile.focus();
    await gallery.keyboard.press('Enter');
    const relabel = gallery.getByTestId('relabel');
    await gallery.getByTestId('relabel-current').waitFor();
    expect(await relabel.evaluate((el) => el.tagName === 'DIALOG' && el.matches(':modal'))).toBe(true);
    for (let i = 0; i < 12; i++) {
      await gallery.keyboard.press('Tab');
      expect(await gallery.evaluate(() => !!document.activeElement?.closest('[data-testid="relabel"]')), `after Tab ${i + 1}`).toBe(true);
    }
    await gallery.keyboard.press('Escape');
    await relabel.waitFor({ state: 'detached' });
    expect(await tile.evaluate((el) => el === document.activeElement)).toBe(true);
    await gallery.context().close();
  }, 60_000);

  it('names every control with its visible text on every main view (desktop and phone) and saves screenshots of them, light and dark', async () => {
    for (const view of views) {
      for (const [size, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
        const page = await open(view.hash, viewport);
        await ready[view.name](page);
        expect(await a11yProblems(page), `${view.name} ${size}`).toEqual([]);
        if (view.name === 'label' && size === 'desktop') {
          // Before: "Previous label" / "Next" named the buttons that read "Back" / "Forward".
          await page.getByRole('button', { name: 'Back', exact: true }).waitFor();
          await page.getByRole('button', { name: 'Forward', exact: true }).waitFor();
        }
        for (const scheme of SCHEMES) {
          await page.emulateMedia({ colorScheme: scheme });
          await screenshot(page, `views/${view.name}-${size}-${scheme}`);
        }
        await page.context().close();
      }
    }
  }, 120_000);
});
