// The origin CSV (filename,bbox,annotation,feat_idx) and the columns Winnow's CSV export adds (a confidence per
// class, ambiguous, labeler, time) into import items: whole-image rows become classes, bbox rows boxes.

import { describe, expect, it } from 'vitest';
import { parseOriginCsv } from '../../functions/domain/interchange/import/csv.js';

describe('origin CSV import parsing', () => {
  it('reads whole-image labels and boxes (top-left-bottom-right) and passes over unlabeled rows', () => {
    const csv = [
      'filename,bbox,annotation,feat_idx',
      'images/49.jpg,,forest,0',
      'images/48.jpg,,,1',
      'images/48.jpg,12-40-200-310,lake,2',
      'images/48.jpg,1-2-3-4,,3',
    ].join('\n');
    const parsed = parseOriginCsv(csv, 'refs.csv');
    expect(parsed.problems).toEqual([]);
    expect(parsed.classes).toEqual(['forest', 'lake']);
    expect(parsed.items).toEqual([
      { source: 'refs.csv line 2', file: 'images/49.jpg', boxes: [], classes: [{ name: 'forest', confidence: 1 }] },
      { source: 'refs.csv line 4', file: 'images/48.jpg', boxes: [{ source: 'line 4', class: 'lake', box: [40, 12, 310, 200] }] },
    ]);
  });

  it('reads the extended columns: confidences per class, ambiguous, labeler and time; and undoes formula neutralising', () => {
    const csv = [
      'filename,bbox,annotation,feat_idx,confidence_daisy,confidence_roses,ambiguous,labeler,time',
      `"'=cmd.jpg",,daisy,,0.75,0.25,true,ana,2026-11-22T10:00:00.000Z`,
      'b.jpg,,roses,,0,1,false,ben,2026-11-22T10:01:00.000Z',
    ].join('\r\n');
    const parsed = parseOriginCsv(csv, 'export.csv');
    expect(parsed.problems).toEqual([]);
    expect(parsed.classes).toEqual(['daisy', 'roses']);
    expect(parsed.items).toEqual([
      {
        source: 'export.csv line 2', file: '=cmd.jpg', boxes: [], ambiguous: true, labelerId: 'ana', at: '2026-11-22T10:00:00.000Z',
        classes: [{ name: 'daisy', confidence: 0.75 }, { name: 'roses', confidence: 0.25 }],
      },
      { source: 'export.csv line 3', file: 'b.jpg', boxes: [], labelerId: 'ben', at: '2026-11-22T10:01:00.000Z', classes: [{ name: 'roses', confidence: 1 }] },
    ]);
  });

  it('reads the export\'s exact box columns over the rounded bbox, and all-zero confidences as "none of the classes"', () => {
    const csv = [
      'filename,bbox,annotation,feat_idx,confidence_a,confidence_b,ambiguous,labeler,labeled_at,sample_id,kind,x1,y1,x2,y2',
      'images/x.jpg,,,,0,0,false,ana,t1,s1,image,,,,',
      'images/x.jpg,20-10-60-50,b,,0,1,false,ana,t1,s1,box,10.4,20.25,49.6,60',
      'images/y.jpg,,,,,,,,,s2,image,,,,',
    ].join('\n');
    const parsed = parseOriginCsv(csv, 'labels.csv');
    expect(parsed.problems).toEqual([]);
    expect(parsed.items).toEqual([
      {
        source: 'labels.csv line 2', file: 'images/x.jpg', empty: true, labelerId: 'ana', at: 't1',
        boxes: [{ source: 'line 3', class: 'b', box: [10.4, 20.25, 49.6, 60] }],
      },
    ]);
  });

  it('names each bad line: bbox, confidence, ambiguous, field count, empty filename, duplicates', () => {
    const csv = [
      'filename,bbox,annotation,confidence_a,ambiguous',
      'a.jpg,1-2-3,a,,',
      'a.jpg,,a,2,',
      'a.jpg,,a,,maybe',
      'a.jpg,,a',
      ',,a,,',
      'b.jpg,,a,,',
      'b.jpg,,a,,',
    ].join('\n');
    const rows = parseOriginCsv(csv, 'x.csv').problems.map((p) => `${p.source}: ${p.problem}`);
    expect(rows).toEqual([
      'x.csv line 2: bbox "1-2-3" is not top_row-left_col-bottom_row-right_col in pixels (e.g. 10-20-110-220)',
      'x.csv line 3: confidence_a "2" is not a number from 0 to 1',
      'x.csv line 4: ambiguous "maybe" is not true or false',
      'x.csv line 5: 3 fields, the header has 5 (quote fields that contain commas)',
      'x.csv line 6: filename is empty',
      'x.csv line 8: same filename as line 7',
    ]);
  });

  it('needs a filename column', () => {
    expect(parseOriginCsv('file_path,annotation\na.jpg,x\n', 'x.csv').problems[0].problem).toBe('line 1: the header needs a "filename" column (found: file_path, annotation)');
  });
});
