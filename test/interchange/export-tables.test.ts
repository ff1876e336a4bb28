// CSV (origin format, extended), JSON Lines (Ground Truth output manifest) and class folders, on hand-made
// classification projects: exact rows, spreadsheet injection neutralised, names made safe and unique.

import { describe, expect, it } from 'vitest';
import { writeCsv } from '../../functions/domain/interchange/export/csv.js';
import { classFolders, writeFolders } from '../../functions/domain/interchange/export/folders.js';
import { writeJsonl } from '../../functions/domain/interchange/export/jsonl.js';
import { csvCell } from '../../functions/domain/interchange/names.js';
import { AT, collect, exportFixture, imageId, plainImageFiles } from './export-support.js';

describe('CSV', () => {
  it('writes the origin columns first, then confidences, ambiguous, labeler, time, ids and exact coordinates', async () => {
    const f = await exportFixture('single-label', ['daisy', 'rose'], { detection: { enabled: true } });
    await f.add({
      n: 1,
      file: 'flowers/one.jpg',
      label: { classIndex: 1 },
      boxSamples: [{ box: [10, 20, 110.4, 70.6], label: { confidences: [0.75, 0], labelerId: 'bob' } }, { box: [1, 1, 5, 5] }],
    });
    const out = collect();
    await writeCsv(f.ctx(), out);
    expect(out.text('labels.csv').split('\n')).toEqual([
      'filename,bbox,annotation,feat_idx,confidence_daisy,confidence_rose,ambiguous,labeler,labeled_at,sample_id,kind,x1,y1,x2,y2',
      `flowers/one.jpg,,rose,,0,1,false,ann,${AT},${imageId(1)},image,,,,`,
      `flowers/one.jpg,20-10-71-110,daisy,,0.75,0,false,bob,${AT},${imageId(1)}-b1,box,10,20,110.4,70.6`,
      '',
    ]);
    expect([...out.files.keys()]).toEqual(['labels.csv']);
  });

  it('lists unlabeled samples with include "all" (no annotation, no confidences)', async () => {
    const f = await exportFixture('single-label', ['daisy', 'rose'], { detection: { enabled: true } });
    await f.add({ n: 1, file: 'one.jpg', boxSamples: [{ box: [1, 2, 3, 4] }] });
    const out = collect();
    await writeCsv(f.ctx({ include: 'all' }), out);
    expect(out.text('labels.csv').split('\n').slice(1)).toEqual([
      `one.jpg,,,,,,,,,${imageId(1)},image,,,,`,
      `one.jpg,2-1-4-3,,,,,,,,${imageId(1)}-b1,box,1,2,3,4`,
      '',
    ]);
  });

  it('neutralises cells a spreadsheet would run as formulas; numbers stay numbers', async () => {
    const f = await exportFixture('single-label', ['=SUM(A1)', '+plus', '-minus', '@at']);
    await f.add({ n: 1, file: '=cmd()|calc.jpg', label: { classIndex: 0, labelerId: '@evil' } });
    await f.add({ n: 2, file: 'b.jpg', label: { classIndex: 1, labelerId: '-2+3' } });
    await f.add({ n: 3, file: 'c.jpg', label: { classIndex: 2 } });
    await f.add({ n: 4, file: 'd,"quoted".jpg', label: { classIndex: 3 } });
    const out = collect();
    await writeCsv(f.ctx(), out);
    const lines = out.text('labels.csv').split('\n');
    expect(lines[0]).toBe(
      "filename,bbox,annotation,feat_idx,confidence_=SUM(A1),confidence_+plus,confidence_-minus,confidence_@at,ambiguous,labeler,labeled_at,sample_id,kind,x1,y1,x2,y2",
    );
    expect(lines[1].startsWith(`'=cmd()|calc.jpg,,'=SUM(A1),,1,0,0,0,false,'@evil,`)).toBe(true);
    expect(lines[2].startsWith(`b.jpg,,'+plus,,0,1,0,0,false,'-2+3,`)).toBe(true);
    expect(lines[3].startsWith(`c.jpg,,'-minus,`)).toBe(true);
    expect(lines[4].startsWith(`"d,""quoted"".jpg",,'@at,`)).toBe(true);
    // No text cell of the file starts with a formula character.
    for (const line of lines.slice(1, -1)) for (const cell of line.split(',')) expect(cell).not.toMatch(/^[=+@]/);
    // Negative numbers are written as numbers (none occur in exports; the cell function is what guarantees it).
    expect(csvCell(-3.5)).toBe('-3.5');
    expect(csvCell('-3.5')).toBe("'-3.5");
  });

  it('with images, names files images/<file> and copies them, made safe', async () => {
    const f = await exportFixture('single-label', ['daisy']);
    await f.add({ n: 1, file: '../../etc/passwd.jpg', label: { classIndex: 0 } });
    await f.add({ n: 2, file: 'bad\u0007name:x.jpg', label: { classIndex: 0 } });
    await f.stores.blobs.put('uploads/proj/../../etc/passwd.jpg', new Uint8Array([1]), 'image/jpeg');
    await f.stores.blobs.put('uploads/proj/bad\u0007name:x.jpg', new Uint8Array([2]), 'image/jpeg');
    const out = collect();
    await writeCsv(f.ctx({}, { images: plainImageFiles(f.stores) }), out);
    expect([...out.files.keys()]).toEqual(['labels.csv', 'images/etc/passwd.jpg', 'images/bad_name_x.jpg']);
    const names = out.text('labels.csv').split('\n').slice(1, 3).map((l) => l.split(',')[0]);
    expect(names).toEqual(['images/etc/passwd.jpg', 'images/bad_name_x.jpg']);
  });
});

describe('JSON Lines (Ground Truth output manifest)', () => {
  it('writes the object-detection shape for box-review projects', async () => {
    const f = await exportFixture('box-review', ['cell', 'platelet']);
    await f.add({ n: 1, file: 'one.jpg', width: 200, height: 100, label: { confidences: [0, 0], boxes: [{ box: [10, 20, 110, 70], classIndex: 1 }] } });
    await f.add({ n: 2, file: 'two.jpg', width: 200, height: 100, label: { confidences: [0, 0], boxes: [] } });
    const out = collect();
    await writeJsonl(f.ctx({}, { bucket: 'winnow-data' }), out);
    const lines = out.text('output.manifest').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({
      'source-ref': 's3://winnow-data/uploads/proj/one.jpg',
      proj: { image_size: [{ width: 200, height: 100, depth: 3 }], annotations: [{ class_id: 1, left: 10, top: 20, width: 100, height: 50 }] },
      'proj-metadata': {
        objects: [{ confidence: 1, ambiguous: false }],
        'class-map': { 0: 'cell', 1: 'platelet' },
        type: 'groundtruth/object-detection',
        'human-annotated': 'yes',
        'creation-date': AT,
        'job-name': 'labeling-job/winnow-proj',
        labeler: 'ann',
      },
    });
    expect(lines[1].proj.annotations).toEqual([]);
  });

  it('writes the classification shapes: single-label class id, multi-label list with a confidence map', async () => {
    const single = await exportFixture('single-label', ['daisy', 'rose']);
    await single.add({ n: 1, file: 'one.jpg', label: { confidences: [0, 0.75], ambiguous: true } });
    const a = collect();
    await writeJsonl(single.ctx(), a);
    const line = JSON.parse(a.text('output.manifest'));
    expect(line['source-ref']).toBe('uploads/proj/one.jpg');
    expect(line.proj).toBe(1);
    expect(line['proj-metadata']).toMatchObject({ type: 'groundtruth/image-classification', 'class-name': 'rose', confidence: 0.75, ambiguous: true });

    const multi = await exportFixture('multi-label', ['sky', 'sea', 'sand']);
    await multi.add({ n: 1, file: 'beach.jpg', label: { confidences: [1, 0.5, 0.25] } });
    const b = collect();
    await writeJsonl(multi.ctx(), b);
    const m = JSON.parse(b.text('output.manifest'));
    expect(m.proj).toEqual([0, 1]);
    expect(m['proj-metadata']).toMatchObject({
      type: 'groundtruth/image-classification-multilabel',
      'class-map': { 0: 'sky', 1: 'sea' },
      'confidence-map': { 0: 1, 1: 0.5 },
    });
  });
});

describe('class folders', () => {
  it('puts each image in its class folder (multi-label: every class >= 0.5), leaving ambiguous labels out', async () => {
    const f = await exportFixture('multi-label', ['sky', 'sea']);
    await f.add({ n: 1, file: 'x/beach.jpg', label: { confidences: [1, 0.75] } });
    await f.add({ n: 2, file: 'y/beach.jpg', label: { confidences: [0.25, 1] } });
    await f.add({ n: 3, file: 'fog.jpg', label: { confidences: [1, 0], ambiguous: true } });
    for (const file of ['x/beach.jpg', 'y/beach.jpg', 'fog.jpg']) await f.stores.blobs.put(`uploads/proj/${file}`, new Uint8Array([7]), 'image/jpeg');
    const out = collect();
    const ctx = f.ctx({}, { images: plainImageFiles(f.stores) });
    await writeFolders(ctx, out);
    // Two uploads named beach.jpg: the second gets its image id so neither overwrites the other.
    expect([...out.files.keys()]).toEqual(['sky/beach.jpg', 'sea/beach.jpg', `sea/beach~${imageId(2).slice(-8)}.jpg`]);
    expect(ctx.counts).toMatchObject({ images: 2, labels: 3, files: 3 });
  });

  it('makes class names safe, distinct folder names', () => {
    expect(classFolders(['a/b', '..', 'a:b', 'a_b', 'CON', 'ok'])).toEqual(['a_b', 'class_1', 'a_b_2', 'a_b_3', '_CON', 'ok']);
  });
});
