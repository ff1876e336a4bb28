// Box review in a real browser: YOLOX (the real model) proposes boxes at ingest; the labeler keeps the person,
// re-classes or rejects any other proposal, draws a new box by dragging and re-classes it from the keyboard, saves.

import { beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, screenshot } from './lib/browser.js';
import { caller, uploadThroughApi, waitForIngest, type Call } from './lib/project.js';
import { webStack } from './lib/stack.js';

const PROJECT = 'meadow-boxes';
/** A daisy photo in which YOLOX finds a person. */
const PHOTO = 'daisy/9158041313_7a6a102f7a_n.jpg';

type Box = [number, number, number, number];

describe.skipIf(!chromiumAvailable())('box review in the browser', () => {
  const web = webStack('e2e-boxes');
  let api: Call;

  beforeAll(async () => {
    api = caller(web.url, { user: 'ann' });
    const created = await api('POST', '/api/projects', {
      id: PROJECT,
      name: 'Meadow boxes',
      classes: ['person', 'flower'],
      taskType: 'box-review',
      detection: { enabled: true },
    });
    expect(created.status).toBe(201);
    await uploadThroughApi(api, PROJECT, [PHOTO]);
    await waitForIngest(api, PROJECT, 1);
  });

  it('keeps, re-classes and rejects proposals by keyboard, draws a box, and saves the boxes', async () => {
    const { images } = (await api('GET', `/api/projects/${PROJECT}/images`)).json;
    const sampleId: string = images[0].imageId;
    const { sample, image } = (await api('GET', `/api/projects/${PROJECT}/samples/${sampleId}`)).json;
    const proposals: { box: Box; classIndex: number; score: number }[] = sample.proposals;
    // The detector found the person, and named it with the project's class.
    expect(proposals.some((p) => p.classIndex === 0)).toBe(true);
    const first = proposals[0];

    const page = await (await web.browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await page.addInitScript(() => localStorage.setItem('winnow.labeler', 'ann'));
    await page.goto(`${web.url}/#/projects/${PROJECT}/label`);
    await page.getByTestId('box-editor').waitFor();
    await page.getByTestId('box-0').waitFor();
    expect(await page.getByTestId('box-0').getAttribute('aria-label')).toContain('selected');

    // Box 1: keep it if the model named a class, else give it "person". Box 2: re-class as "flower". Rest: reject.
    const keep: { box: Box; classIndex: number; source: string }[] = [];
    await page.keyboard.press(first.classIndex >= 0 ? 'y' : '1');
    keep.push({ box: first.box, classIndex: first.classIndex >= 0 ? first.classIndex : 0, source: 'model' });
    if (proposals[1]) {
      await page.keyboard.press('2');
      keep.push({ box: proposals[1].box, classIndex: 1, source: 'model' });
    }
    for (let i = 2; i < proposals.length; i++) await page.keyboard.press('x');
    for (let i = 0; i < proposals.length; i++) {
      await expect.poll(() => page.getByTestId(`box-${i}`).getAttribute('data-status')).toBe(i < keep.length ? 'accepted' : 'rejected');
    }

    // Draw a new box on a patch of the image that no proposal covers.
    const [x, y] = freeSpot(proposals.map((p) => p.box), image.width, image.height, 40);
    const layer = await page.locator('svg.box-layer').boundingBox();
    const scale = Math.min(layer!.width / image.width, layer!.height / image.height);
    const left = layer!.x + (layer!.width - image.width * scale) / 2;
    const top = layer!.y + (layer!.height - image.height * scale) / 2;
    await page.mouse.move(left + x * scale, top + y * scale);
    await page.mouse.down();
    await page.mouse.move(left + (x + 20) * scale, top + (y + 15) * scale, { steps: 4 });
    await page.mouse.move(left + (x + 40) * scale, top + (y + 30) * scale, { steps: 4 });
    await page.mouse.up();
    const drawn = page.getByTestId(`box-${proposals.length}`);
    await drawn.waitFor();
    expect(await drawn.getAttribute('class')).toContain('labeler');
    // The new box is selected: re-class it as "flower" from the keyboard.
    await page.keyboard.press('2');
    await expect.poll(() => drawn.getAttribute('data-class')).toBe('1');
    await screenshot(page, 'box-review');

    await page.keyboard.press('Enter');
    await page.getByTestId('save-status').filter({ hasText: 'All labels saved' }).waitFor();
    // The only image is reviewed: nothing left.
    await page.getByTestId('empty').waitFor();

    const saved = (await api('GET', `/api/projects/${PROJECT}/samples/${sampleId}`)).json.sample;
    const boxes: { box: Box; classIndex: number; source: string }[] = saved.label.boxes;
    expect(boxes).toHaveLength(keep.length + 1);
    expect(boxes.slice(0, keep.length).map(({ box, classIndex, source }) => ({ box, classIndex, source }))).toEqual(keep);
    const mine = boxes[keep.length];
    expect(mine).toMatchObject({ classIndex: 1, source: 'labeler' });
    // Where it was drawn, within a pixel or two of rounding.
    expect(Math.abs(mine.box[0] - x)).toBeLessThanOrEqual(2);
    expect(Math.abs(mine.box[1] - y)).toBeLessThanOrEqual(2);
    expect(Math.abs(mine.box[2] - (x + 40))).toBeLessThanOrEqual(2);
    expect(Math.abs(mine.box[3] - (y + 30))).toBeLessThanOrEqual(2);
  }, 120_000);
});

/** Top-left corner of a size×size square inside the image that touches no box. */
function freeSpot(boxes: Box[], width: number, height: number, size: number): [number, number] {
  const overlaps = (x: number, y: number) => boxes.some((b) => x < b[2] + 4 && x + size > b[0] - 4 && y < b[3] + 4 && y + size > b[1] - 4);
  for (let y = 8; y + size < height - 8; y += 8) {
    for (let x = 8; x + size < width - 8; x += 8) if (!overlaps(x, y)) return [x, y];
  }
  throw new Error('no free spot on the image for a new box');
}
