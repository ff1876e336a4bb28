// Which images and labels an export contains: all / labeled / by labeler / without ambiguous labels, the merge
// join of images and samples, and unique names within an export.

import { describe, expect, it } from 'vitest';
import { labeledImages } from '../../functions/domain/interchange/export/images.js';
import { ExportNamer } from '../../functions/domain/interchange/export/naming.js';
import type { ExportFilter } from '../../functions/domain/interchange/model.js';
import type { Annotation } from '../../functions/domain/model.js';
import { AT, exportFixture, imageId, labelHead } from './export-support.js';

async function mixed() {
  const f = await exportFixture('single-label', ['daisy', 'rose'], { detection: { enabled: true } });
  await f.add({ n: 1, file: 'a.jpg', label: { classIndex: 0, labelerId: 'ann' } });
  await f.add({ n: 2, file: 'b.jpg', label: { classIndex: 1, labelerId: 'bob', ambiguous: true } });
  await f.add({ n: 3, file: 'c.jpg' });
  await f.add({ n: 4, file: 'd.jpg', boxSamples: [{ box: [1, 1, 9, 9], label: { classIndex: 1, labelerId: 'bob' } }, { box: [2, 2, 8, 8] }] });
  await f.add({ n: 5, file: 'pending.jpg', status: 'pending' });
  return f;
}

async function exported(f: Awaited<ReturnType<typeof mixed>>, filter: Partial<ExportFilter>) {
  const out = [];
  for await (const image of labeledImages(f.stores, f.project.id, { include: 'labeled', ...filter })) {
    out.push({ file: image.file, label: image.label?.labelerId, boxes: image.boxes.length, unlabeled: image.unlabeled.map((u) => u.kind) });
  }
  return out;
}

describe('export filters', () => {
  it('labeled (default): images with at least one label, each with its image label and labeled boxes', async () => {
    expect(await exported(await mixed(), {})).toEqual([
      { file: 'a.jpg', label: 'ann', boxes: 0, unlabeled: [] },
      { file: 'b.jpg', label: 'bob', boxes: 0, unlabeled: [] },
      { file: 'd.jpg', label: undefined, boxes: 1, unlabeled: [] },
    ]);
  });

  it('all: every ready image, unlabeled samples listed; pending images are never exported (no size yet)', async () => {
    expect(await exported(await mixed(), { include: 'all' })).toEqual([
      { file: 'a.jpg', label: 'ann', boxes: 0, unlabeled: [] },
      { file: 'b.jpg', label: 'bob', boxes: 0, unlabeled: [] },
      { file: 'c.jpg', label: undefined, boxes: 0, unlabeled: ['image'] },
      { file: 'd.jpg', label: undefined, boxes: 1, unlabeled: ['image', 'box'] },
    ]);
  });

  it('by labeler: only that labeler\'s labels', async () => {
    expect(await exported(await mixed(), { labelerId: 'bob' })).toEqual([
      { file: 'b.jpg', label: 'bob', boxes: 0, unlabeled: [] },
      { file: 'd.jpg', label: undefined, boxes: 1, unlabeled: [] },
    ]);
  });

  it('exclude ambiguous: ambiguous labels are left out (with include "all" the image stays, unlabeled)', async () => {
    const f = await mixed();
    expect((await exported(f, { excludeAmbiguous: true })).map((i) => i.file)).toEqual(['a.jpg', 'd.jpg']);
    expect((await exported(f, { excludeAmbiguous: true, include: 'all' }))[1]).toEqual({ file: 'b.jpg', label: undefined, boxes: 0, unlabeled: ['image'] });
  });

  it('by labeler with overlap: a labeler whose label is not the head gets theirs from the history (undo respected)', async () => {
    const f = await exportFixture('single-label', ['daisy', 'rose'], { overlap: 2 });
    const id = await f.add({ n: 1, file: 'a.jpg', label: { classIndex: 1, labelerId: 'bob', at: '2025-03-01T12:00:00.000Z' } });
    const sample = (await f.stores.samples.getSample(f.project.id, id))!;
    // ann labeled daisy (v0), changed her mind to rose (v1), undid that (v2), then bob labeled rose (v3).
    const annotation = (version: number, over: Partial<Annotation>): Annotation => ({
      projectId: f.project.id, sampleId: id, version, kind: 'label', labelerId: 'ann', confidences: [1, 0], ambiguous: false,
      before: { labeledBy: [] }, requestId: `r${version}`, at: AT, ...over,
    });
    await f.stores.annotations.append(annotation(0, {}));
    await f.stores.annotations.append(annotation(1, { confidences: [0, 1] }));
    await f.stores.annotations.append(annotation(2, { kind: 'undo', undoes: 1, confidences: [] }));
    await f.stores.annotations.append(annotation(3, { labelerId: 'bob', confidences: [0, 1] }));
    await f.stores.samples.advance(f.project.id, id, sample.version, {
      label: labelHead(f.project, { classIndex: 1, labelerId: 'bob' }),
      labeledBy: ['ann', 'bob'],
    });
    const images = [];
    for await (const image of labeledImages(f.stores, f.project.id, { include: 'labeled', labelerId: 'ann' })) images.push(image);
    expect(images.map((i) => [i.imageId, i.label?.labelerId, i.label?.confidences])).toEqual([[imageId(1), 'ann', [1, 0]]]);
  });
});

describe('names inside an export', () => {
  it('keeps upload paths, made safe, and never gives two images the same name or label-file stem', () => {
    const namer = new ExportNamer();
    const names = [
      ['a/cat.jpg', 1],
      ['a/Cat.JPG', 2], // same file on a case-insensitive disk
      ['a/cat.png', 3], // same YOLO/VOC label file (a/cat.txt)
      ['../../x.jpg', 4], // climbs out
      ['c:\\win\\y.jpg', 5], // drive letter, backslashes
      ['tab\there.jpg', 6], // control character
      ['x.jpg', 7], // same as the cleaned '../../x.jpg'
    ].map(([file, n]) => namer.name({ file: file as string, imageId: imageId(n as number) }));
    expect(names).toEqual([
      'a/cat.jpg',
      `a/Cat~${imageId(2).slice(-8)}.JPG`,
      `a/cat~${imageId(3).slice(-8)}.png`,
      'x.jpg',
      'c_/win/y.jpg',
      'tab_here.jpg',
      `x~${imageId(7).slice(-8)}.jpg`,
    ]);
  });
});
