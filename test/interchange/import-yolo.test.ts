// YOLO into import items: class names from data.yaml (list or map) or a Darknet names file, one item per label
// file naming its image without extension, boxes kept as fractions until the image's size is known.

import { describe, expect, it } from 'vitest';
import { imageStemForLabel, parseYoloLabels, parseYoloNamesFile, parseYoloYaml } from '../../functions/domain/interchange/import/yolo.js';

describe('YOLO import parsing', () => {
  it('reads names as a list or as an index map, and Darknet names files', () => {
    expect(parseYoloYaml('path: .\ntrain: images/train\nnames: [RBC, WBC, Platelets]\n', 'data.yaml')).toEqual({ names: ['RBC', 'WBC', 'Platelets'], problems: [] });
    expect(parseYoloYaml('names:\n  0: RBC\n  2: Platelets\n  1: WBC\n', 'data.yaml').names).toEqual(['RBC', 'WBC', 'Platelets']);
    expect(parseYoloNamesFile('RBC\r\nWBC\n\nPlatelets\n')).toEqual(['RBC', 'WBC', 'Platelets']);
  });

  it('says what is wrong with a data.yaml', () => {
    expect(parseYoloYaml('nc: 3\n', 'data.yaml').problems[0]).toMatchObject({ source: 'data.yaml', code: 'unreadable', problem: expect.stringContaining('no "names" list') });
    expect(parseYoloYaml('names:\n  0: a\n  2: c\n', 'data.yaml').problems[0].problem).toBe('names: no name for class 1');
    expect(parseYoloYaml('names: [a, b\n', 'data.yaml').problems[0].problem).toMatch(/^not valid YAML/);
  });

  it('finds the image of a label file: labels/<split>/x.txt belongs to images/<split>/x.*', () => {
    expect(imageStemForLabel('labels/train/BloodImage_00000.txt')).toBe('images/train/BloodImage_00000');
    expect(imageStemForLabel('data/labels/x.txt')).toBe('data/images/x');
    expect(imageStemForLabel('x.txt')).toBe('x');
  });

  it('keeps centre/size fractions as fractional corners, with an optional confidence', () => {
    const parsed = parseYoloLabels('1 0.5 0.5 0.25 0.5\n\n0 0.1 0.2 0.1 0.2 0.93\n', 'labels/train/a.txt', ['RBC', 'WBC']);
    expect(parsed.problems).toEqual([]);
    expect(parsed.items).toEqual([
      {
        source: 'labels/train/a.txt', file: 'images/train/a', extensionUnknown: true,
        boxes: [
          { source: 'line 1', class: 'WBC', box: [0.375, 0.25, 0.625, 0.75], normalized: true },
          { source: 'line 3', class: 'RBC', box: [0.05, 0.1, 0.15000000000000002, 0.30000000000000004], normalized: true, score: 0.93 },
        ],
      },
    ]);
  });

  it('reads an empty label file as an image labeled empty (YOLO\'s background image)', () => {
    expect(parseYoloLabels('\n', 'labels/train/a.txt', ['RBC']).items[0]).toEqual({ source: 'labels/train/a.txt', file: 'images/train/a', extensionUnknown: true, boxes: [], empty: true });
  });

  it('names the line with a class outside the names, a polygon, or text that is not numbers', () => {
    const parsed = parseYoloLabels('5 0.5 0.5 0.1 0.1\n0 0.1 0.1 0.2 0.2 0.3 0.3 0.4 0.4\n0 a b c d\n', 'labels/a.txt', ['RBC', 'WBC']);
    expect(parsed.problems).toEqual([
      { source: 'labels/a.txt line 1', file: 'images/a', ok: false, code: 'unknown_class', problem: 'class 5 is not one of the 2 names (0..1: RBC, WBC)' },
      { source: 'labels/a.txt line 2', file: 'images/a', ok: false, code: 'unreadable', problem: 'expected "class cx cy w h [confidence]", got 9 values (polygons are not supported: export boxes)' },
      { source: 'labels/a.txt line 3', file: 'images/a', ok: false, code: 'unreadable', problem: '"0 a b c d" is not all numbers' },
    ]);
  });
});
