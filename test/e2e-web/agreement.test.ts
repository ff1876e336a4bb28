// Agreement between labelers in the app (issue 15 point 15), in a real browser on the real local stack: two
// labelers label the same six photos (project overlap 2) through the API and disagree on two of them; the owner
// opens the gallery and sees the agreement per pair and per class with the right figures, and one click on a
// "disagree" figure shows exactly the samples it counts, each with both labelers' classes.

import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, describeViolations } from './axe-check.js';
import { chromiumAvailable, screenshot } from './lib/browser.js';
import { caller, flowerFiles, uploadThroughApi, waitForIngest, type Call } from './lib/project.js';
import { webStack } from './lib/stack.js';

const PROJECT = 'meadow-agreement';
const CLASSES = ['daisy', 'dandelion', 'roses', 'sunflowers', 'tulips'];

describe.skipIf(!chromiumAvailable())('agreement between labelers: figures per pair and per class, disagreements one click away', () => {
  const web = webStack('e2e-web-agreement');
  let olga: Call;
  /** The samples Ann and Bob disagree on, with each one's class. */
  const split = new Map<string, { ann: string; bob: string }>();

  beforeAll(async () => {
    olga = caller(web.url, { user: 'olga' });
    const ann = caller(web.url, { user: 'ann' });
    const bob = caller(web.url, { user: 'bob' });
    expect((await olga('POST', '/api/projects', { id: PROJECT, name: 'Meadow agreement', classes: CLASSES, overlap: 2 })).status).toBe(201);
    // Two daisies, two dandelions, one rose, one sunflower (a stable order).
    const all = await flowerFiles(2);
    const files = [...all.filter((f) => /^(daisy|dandelion)\//.test(f)), ...['roses', 'sunflowers'].map((c) => all.find((f) => f.startsWith(`${c}/`))!)];
    await uploadThroughApi(olga, PROJECT, files);
    await waitForIngest(olga, PROJECT, files.length);
    const images = (await olga('GET', `/api/projects/${PROJECT}/images?limit=100`)).json.images as { imageId: string; key: string }[];
    expect(images).toHaveLength(6);
    const label = async (who: Call, name: string, imageId: string, cls: string) => {
      const { sample } = (await who('GET', `/api/projects/${PROJECT}/samples/${imageId}`)).json;
      const res = await who('POST', `/api/projects/${PROJECT}/samples/${imageId}/annotations`, {
        version: sample.version, requestId: `${name}-${imageId}`, classIndex: CLASSES.indexOf(cls),
      });
      expect(res.status, JSON.stringify(res.json)).toBe(201);
    };
    let bobSawDaisy = false;
    for (const image of images) {
      const truth = image.key.split('/').at(-2)!;
      // Bob calls the first daisy a tulip and the rose a daisy; the other four he labels as Ann does.
      const bobs = truth === 'daisy' && !bobSawDaisy ? 'tulips' : truth === 'roses' ? 'daisy' : truth;
      if (truth === 'daisy') bobSawDaisy = true;
      await label(ann, 'ann', image.imageId, truth);
      await label(bob, 'bob', image.imageId, bobs);
      if (bobs !== truth) split.set(image.imageId, { ann: truth, bob: bobs });
    }
    expect(split.size).toBe(2);
  }, 180_000);

  async function ownerGallery(viewport = { width: 1440, height: 900 }): Promise<Page> {
    // bypassCSP: for the injected axe-core script.
    const page = await (await web.browser.newContext({ viewport, bypassCSP: true })).newPage();
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.addInitScript(() => localStorage.setItem('winnow.labeler', 'olga'));
    await page.goto(`${web.url}/#/projects/${PROJECT}/gallery`);
    await page.getByTestId('agreement-summary').waitFor();
    return page;
  }

  const tileIds = (page: Page) =>
    page.locator('button.thumb[data-testid^="tile-"]').evaluateAll((els) =>
      els.map((el) => el.getAttribute('data-testid')!.slice('tile-'.length)).sort(),
    );
  /** Waits until the gallery shows `count` tiles (after a filter reloads it). */
  const waitForTiles = (page: Page, count: number) =>
    page.waitForFunction(
      (n) => document.querySelectorAll('button.thumb[data-testid^="tile-"]').length === n,
      count,
      { timeout: 15_000 },
    );

  it('shows the agreement per pair and per class, and one click shows exactly the samples they disagree on', async () => {
    const page = await ownerGallery();
    expect(await page.getByTestId('agreement-summary').innerText()).toMatch(/^6 images labeled by two or more people · 67% unanimous$/);
    const pair = page.getByTestId('agreement-pair-ann-bob');
    expect((await pair.locator('th, td').allInnerTexts()).map((t) => t.trim())).toEqual(['ann & bob', '6', '67%', '2 disagree']);
    // Per class: images where someone chose it, the share where everyone did, the splits.
    const row = async (cls: string) => (await page.getByTestId(`agreement-class-${cls}`).locator('th, td').allInnerTexts()).map((t) => t.trim());
    expect(await row('daisy')).toEqual(['daisy', '3', '33%', '2 disagree']); // one daisy both agree on; one split daisy/tulips; the rose split
    expect(await row('dandelion')).toEqual(['dandelion', '2', '100%', '0']);
    expect(await row('roses')).toEqual(['roses', '1', '0%', '1 disagree']);
    expect(await row('tulips')).toEqual(['tulips', '1', '0%', '1 disagree']);
    expect(await row('sunflowers')).toEqual(['sunflowers', '1', '100%', '0']);
    await waitForTiles(page, 6);

    // One click: exactly the two samples Ann and Bob disagree on, each tile saying who chose what.
    await pair.getByTestId('show-disagreements').click();
    await waitForTiles(page, 2);
    expect(await tileIds(page)).toEqual([...split.keys()].sort());
    for (const [sampleId, { ann, bob }] of split) {
      expect(await page.getByTestId(`tile-label-${sampleId}`).getByTestId('tile-split').innerText()).toBe(`ann: ${ann} · bob: ${bob}`);
    }
    expect(await page.getByTestId('filter-split').getAttribute('aria-pressed')).toBe('true');

    // Per class: the rose Bob called a daisy is the only split involving roses.
    await page.getByTestId('agreement-class-roses').getByTestId('show-disagreements').click();
    await waitForTiles(page, 1);
    expect(await tileIds(page)).toEqual([...split].filter(([, s]) => s.ann === 'roses').map(([id]) => id));

    // Clearing the filters brings back all six.
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await waitForTiles(page, 6);
    await page.context().close();
  }, 60_000);

  it('passes axe-core (no serious or critical violation) and fits a phone, light and dark', async () => {
    const problems: string[] = [];
    for (const [size, viewport] of [['desktop', { width: 1440, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
      const page = await ownerGallery(viewport);
      await waitForTiles(page, 6);
      for (const scheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        const found = await axeViolations(page);
        if (found.length) problems.push(`agreement ${size} ${scheme}:\n  ${describeViolations(found)}`);
        await page.getByTestId('agreement').scrollIntoViewIfNeeded();
        await screenshot(page, `views/agreement-${size}-${scheme}`);
      }
      const wider = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(wider, `gallery with the agreement panel at ${viewport.width} px scrolls sideways`).toBeLessThanOrEqual(0);
      await page.context().close();
    }
    expect(problems, problems.join('\n')).toEqual([]);
  }, 60_000);

  it('answers a bad disagreement filter with a 400 naming the problem', async () => {
    const noSplit = await olga('GET', `/api/projects/${PROJECT}/gallery?splitA=ann&splitB=bob`);
    expect(noSplit.status).toBe(400);
    expect(JSON.stringify(noSplit.json)).toMatch(/split=true/);
    const half = await olga('GET', `/api/projects/${PROJECT}/gallery?split=true&splitA=ann`);
    expect(half.status).toBe(400);
    expect(JSON.stringify(half.json)).toMatch(/splitB/);
    const unknown = await olga('GET', `/api/projects/${PROJECT}/gallery?split=true&splitClass=orchids`);
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.json)).toMatch(/orchids/);
    const pairOnly = await olga('GET', `/api/projects/${PROJECT}/gallery?split=true&splitA=ann&splitB=bob`);
    expect(pairOnly.status).toBe(200);
    expect(pairOnly.json.items.map((i: { sampleId: string }) => i.sampleId).sort()).toEqual([...split.keys()].sort());
  });
});
