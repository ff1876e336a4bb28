// COCO JSON into import items: [x, y, w, h] becomes corners, image-level categories become classes, detector
// scores are kept for proposals, and everything unreadable is a report row naming where it is.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCoco } from '../../functions/domain/interchange/import/coco.js';
import { SHARED } from '../support/paths.js';

const doc = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    categories: [{ id: 1, name: 'RBC' }, { id: 2, name: 'WBC' }],
    images: [
      { id: 10, file_name: 'JPEGImages/a.jpg', width: 640, height: 480 },
      { id: 11, file_name: 'b.jpg', width: 320, height: 200, ambiguous: true },
    ],
    annotations: [
      { id: 1, image_id: 10, category_id: 2, bbox: [260, 177, 231, 199] },
      { id: 2, image_id: 10, category_id: 1, bbox: [0.5, 1.25, 10, 20], score: 0.87 },
      { id: 3, image_id: 11, category_id: 1 },
      { id: 4, image_id: 11, category_id: 2, confidence: 0.5 },
    ],
    ...over,
  });

describe('COCO import parsing', () => {
  it('turns [x, y, w, h] into [x1, y1, x2, y2], keeps scores, and reads image-level categories as classes', () => {
    const parsed = parseCoco(doc(), 'ann.json');
    expect(parsed.problems).toEqual([]);
    expect(parsed.classes).toEqual(['RBC', 'WBC']);
    expect(parsed.items).toEqual([
      {
        source: 'ann.json images[0] (id 10)', file: 'JPEGImages/a.jpg', width: 640, height: 480,
        boxes: [
          { source: 'annotations[0]', class: 'WBC', box: [260, 177, 491, 376] },
          { source: 'annotations[1]', class: 'RBC', box: [0.5, 1.25, 10.5, 21.25], score: 0.87 },
        ],
      },
      {
        source: 'ann.json images[1] (id 11)', file: 'b.jpg', width: 320, height: 200, ambiguous: true, boxes: [],
        classes: [{ name: 'RBC', confidence: 1 }, { name: 'WBC', confidence: 0.5 }],
      },
    ]);
  });

  it('names every unreadable part: unknown category, unknown image, a bbox that is not four numbers, an image without file name', () => {
    const parsed = parseCoco(doc({
      images: [{ id: 10, file_name: 'a.jpg' }, { id: 12 }],
      annotations: [
        { image_id: 10, category_id: 7, bbox: [1, 2, 3, 4] },
        { image_id: 99, category_id: 1, bbox: [1, 2, 3, 4] },
        { image_id: 10, category_id: 1, bbox: [1, 2, 3] },
        { image_id: 10, category_id: 1, bbox: [1, 2, 3, 4] },
      ],
    }), 'ann.json');
    expect(parsed.problems).toEqual([
      { source: 'ann.json images[1]', file: '', ok: false, code: 'unreadable', problem: 'an image needs a "file_name"' },
      { source: 'ann.json annotations[0]', file: 'a.jpg', ok: false, code: 'unknown_class', problem: 'category_id 7 is not in "categories"' },
      { source: 'ann.json annotations[1]', file: '', ok: false, code: 'unreadable', problem: 'image_id 99 is not in "images"' },
      { source: 'ann.json annotations[2]', file: 'a.jpg', ok: false, code: 'unreadable', problem: 'bbox [1,2,3] is not [x, y, width, height] in pixels' },
    ]);
    expect(parsed.items[0].boxes).toEqual([{ source: 'annotations[3]', class: 'RBC', box: [1, 2, 4, 6] }]);
  });

  it('refuses a file that is not JSON, or not COCO', () => {
    expect(parseCoco('{"images": [', 'x.json').problems[0]).toMatchObject({ source: 'x.json', code: 'unreadable', problem: expect.stringContaining('not valid JSON') });
    expect(parseCoco('{"annotations": []}', 'x.json').problems[0].problem).toBe('not a COCO file: no "images" list');
  });

  it('reads the BCCD COCO file whole: 364 images, 4886 boxes, classes in category order', async () => {
    const parsed = parseCoco(await readFile(path.join(SHARED, 'datasets/bccd/annotations_coco.json'), 'utf8'), 'annotations_coco.json');
    expect(parsed.problems).toEqual([]);
    expect(parsed.classes).toEqual(['RBC', 'WBC', 'Platelets']);
    expect(parsed.items).toHaveLength(364);
    expect(parsed.items.reduce((n, i) => n + i.boxes.length, 0)).toBe(4886);
    expect(parsed.items[0]).toMatchObject({ file: 'JPEGImages/BloodImage_00000.jpg', width: 640, height: 480 });
    expect(parsed.items[0].boxes[0]).toEqual({ source: 'annotations[0]', class: 'WBC', box: [260, 177, 491, 376] });
  });
});
