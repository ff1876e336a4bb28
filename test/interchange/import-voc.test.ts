// Pascal VOC XML into import items: bndbox read as pixel edges (box-formats.ts, the same convention the VOC export
// writes, and the one BCCD's own COCO file assumes); malformed files and objects are report rows naming the file and the object.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCoco } from '../../functions/domain/interchange/import/coco.js';
import { parseVoc } from '../../functions/domain/interchange/import/voc.js';
import { SHARED } from '../support/paths.js';

const BCCD = path.join(SHARED, 'datasets/bccd');

const xml = (objects: string, size = '<size><width>640</width><height>480</height><depth>3</depth></size>') =>
  `<annotation><folder>JPEGImages</folder><filename>a.jpg</filename>${size}${objects}</annotation>`;
const object = (name: string, b: (number | string)[], extra = '') =>
  `<object><name>${name}</name>${extra}<bndbox><xmin>${b[0]}</xmin><ymin>${b[1]}</ymin><xmax>${b[2]}</xmax><ymax>${b[3]}</ymax></bndbox></object>`;

describe('Pascal VOC import parsing', () => {
  it('reads file, size and each object as pixel-edge corners, with a detector score when given', () => {
    const parsed = parseVoc(xml(object('WBC', [260, 177, 491, 376]) + object('RBC', [1, 2.5, 30, 40], '<score>0.75</score>')), 'Annotations/a.xml');
    expect(parsed.problems).toEqual([]);
    expect(parsed.classes).toEqual(['WBC', 'RBC']);
    expect(parsed.items).toEqual([
      {
        source: 'Annotations/a.xml', file: 'JPEGImages/a.jpg', width: 640, height: 480,
        boxes: [
          { source: 'object 1', class: 'WBC', box: [260, 177, 491, 376] },
          { source: 'object 2', class: 'RBC', box: [1, 2.5, 30, 40], score: 0.75 },
        ],
      },
    ]);
  });

  it('takes a size of 0 as unknown, and one object as a list of one', () => {
    const parsed = parseVoc(xml(object('RBC', [1, 2, 3, 4]), '<size><width>0</width><height>0</height></size>'), 'a.xml');
    expect(parsed.items[0]).toEqual({ source: 'a.xml', file: 'JPEGImages/a.jpg', boxes: [{ source: 'object 1', class: 'RBC', box: [1, 2, 3, 4] }] });
  });

  it('reads a file without objects as an image labeled empty', () => {
    expect(parseVoc(xml(''), 'a.xml').items[0]).toEqual({ source: 'a.xml', file: 'JPEGImages/a.jpg', width: 640, height: 480, boxes: [], empty: true });
  });

  it('names the object whose class or coordinates are missing or not numbers', () => {
    const parsed = parseVoc(xml('<object><bndbox/></object>' + object('RBC', [1, 'x', 3, 4]) + object('RBC', [1, 2, 3, 4])), 'Annotations/a.xml');
    expect(parsed.problems).toEqual([
      { source: 'Annotations/a.xml object 1', file: 'JPEGImages/a.jpg', ok: false, code: 'unreadable', problem: '<name> is missing' },
      { source: 'Annotations/a.xml object 2', file: 'JPEGImages/a.jpg', ok: false, code: 'unreadable', problem: '<bndbox> needs numeric xmin, ymin, xmax and ymax' },
    ]);
    expect(parsed.items[0].boxes).toHaveLength(1);
  });

  it('refuses malformed XML, entity declarations and files that are not VOC', () => {
    expect(parseVoc('<annotation><filename>a.jpg</annotation>', 'a.xml').problems[0].problem).toMatch(/^not well-formed XML \(line 1\)/);
    expect(parseVoc('<!DOCTYPE x [<!ENTITY a "aaaa">]><annotation/>', 'a.xml').problems[0].problem).toContain('DOCTYPE or ENTITY');
    expect(parseVoc('<svg/>', 'a.xml').problems[0].problem).toBe('not a Pascal VOC file: no <annotation> element');
    expect(parseVoc('<annotation><object/></annotation>', 'a.xml').problems[0].problem).toBe('<filename> is missing');
  });

  it('reads BCCD to exactly the boxes of its own COCO file', async () => {
    const coco = parseCoco(await readFile(path.join(BCCD, 'annotations_coco.json'), 'utf8'), 'coco').items;
    for (const id of ['00000', '00007', '00112']) {
      const voc = parseVoc(await readFile(path.join(BCCD, `Annotations/BloodImage_${id}.xml`), 'utf8'), `BloodImage_${id}.xml`).items[0];
      const fromCoco = coco.find((i) => i.file === `JPEGImages/BloodImage_${id}.jpg`)!;
      expect(voc.file).toBe(fromCoco.file);
      expect(voc.boxes.map((b) => [b.class, b.box])).toEqual(fromCoco.boxes.map((b) => [b.class, b.box]));
    }
  });
});
