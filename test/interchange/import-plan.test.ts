// Planning and applying an import on the in-memory stores: every bad input is a named report row and leaves the
// project exactly as it was; clean imports write labels (append-only, idempotent) or proposals.

import { describe, expect, it } from 'vitest';
import { importRequestId } from '../../functions/domain/interchange/import/apply.js';
import { importLabels, type ImportLabelsInput } from '../../functions/domain/interchange/import/import-labels.js';
import type { ImportItem } from '../../functions/domain/interchange/model.js';
import { annotate } from '../../functions/domain/annotate.js';
import { CELLS, fixture, type Fixture } from './support.js';

const item = (file: string, boxes: [string, number[]][], over: Partial<ImportItem> = {}): ImportItem => ({
  source: `Annotations/${file}.xml`,
  file,
  boxes: boxes.map(([cls, box], i) => ({ source: `object ${i + 1}`, class: cls, box: box as [number, number, number, number] })),
  ...over,
});

const run = (f: Fixture, items: ImportItem[], over: Partial<ImportLabelsInput> = {}) =>
  importLabels(f.stores, { projectId: f.projectId, mode: 'labels', items, labelerId: 'olga', ...over }).then((r) => r.report);

/** Runs an import that must fail, and checks that it wrote nothing. */
async function refused(f: Fixture, items: ImportItem[], over: Partial<ImportLabelsInput> = {}) {
  const before = await f.snapshot();
  const report = await run(f, items, over);
  expect(report).toMatchObject({ ok: false, applied: false });
  expect(await f.snapshot()).toEqual(before);
  return report.rows.filter((r) => !r.ok);
}

describe('importing labels: what is refused (nothing written, the row named)', () => {
  it('an unknown class, naming the project classes', async () => {
    const f = await fixture();
    await f.image('JPEGImages/a.jpg');
    await f.image('JPEGImages/b.jpg');
    const failed = await refused(f, [item('JPEGImages/a.jpg', [['RBC', [1, 1, 10, 10]]]), item('JPEGImages/b.jpg', [['RBC', [1, 1, 10, 10]], ['Neutrophil', [5, 5, 20, 20]]])]);
    expect(failed).toEqual([
      { source: 'Annotations/JPEGImages/b.jpg.xml object 2', file: 'JPEGImages/b.jpg', image: 'JPEGImages/b.jpg', ok: false, code: 'unknown_class', problem: `unknown class "Neutrophil": the project's classes are ${CELLS.join(', ')}` },
    ]);
  });

  it('a box beyond the image by more than half a pixel', async () => {
    const f = await fixture();
    await f.image('a.jpg', { width: 640, height: 480 });
    const failed = await refused(f, [item('a.jpg', [['RBC', [600, 400, 641, 470]], ['WBC', [-0.6, 0, 10, 10]]])]);
    expect(failed.map((r) => [r.source, r.code, r.problem])).toEqual([
      ['Annotations/a.jpg.xml object 1', 'outside_image', 'box [600, 400, 641, 470] reaches 1 px beyond the 640 x 480 image'],
      ['Annotations/a.jpg.xml object 2', 'outside_image', 'box [-0.6, 0, 10, 10] reaches 0.6 px beyond the 640 x 480 image'],
    ]);
  });

  it('a box of negative size', async () => {
    const f = await fixture();
    await f.image('a.jpg');
    const failed = await refused(f, [item('a.jpg', [['RBC', [10, 50, 20, 40]], ['RBC', [30, 5, 20, 40]]])]);
    expect(failed.map((r) => [r.source, r.code, r.problem])).toEqual([
      ['Annotations/a.jpg.xml object 1', 'empty_box', 'box [10, 50, 20, 40] has no height (x2 must exceed x1 and y2 exceed y1)'],
      ['Annotations/a.jpg.xml object 2', 'empty_box', 'box [30, 5, 20, 40] has no width (x2 must exceed x1 and y2 exceed y1)'],
    ]);
  });

  it('leaves out a zero-size box (BCCD has two) with a note, and imports the rest of the image', async () => {
    const f = await fixture();
    const imageId = await f.image('a.jpg');
    const report = await run(f, [item('a.jpg', [['RBC', [504, 337, 504, 337]], ['WBC', [10, 20, 30, 40]]])]);
    expect(report).toMatchObject({ ok: true, applied: true });
    expect(report.rows).toContainEqual(expect.objectContaining({
      source: 'Annotations/a.jpg.xml object 1', ok: true, action: 'left out: zero-size box [504, 337, 504, 337] marks nothing',
    }));
    const sample = await f.stores.samples.getSample(f.projectId, imageId);
    expect(sample?.label?.boxes?.map((b) => b.box)).toEqual([[10, 20, 30, 40]]);
  });

  it('the same file twice in the annotations', async () => {
    const f = await fixture();
    await f.image('JPEGImages/a.jpg');
    const failed = await refused(f, [item('JPEGImages/a.jpg', [['RBC', [1, 1, 9, 9]]]), { ...item('JPEGImages/a.jpg', []), source: 'second.xml' }]);
    expect(failed).toEqual([
      expect.objectContaining({ source: 'second.xml', code: 'duplicate', problem: 'same file as Annotations/JPEGImages/a.jpg.xml: give each image once' }),
    ]);
  });

  it('two names that find the same image (full path and bare name)', async () => {
    const f = await fixture();
    await f.image('JPEGImages/a.jpg');
    const failed = await refused(f, [item('JPEGImages/a.jpg', [['RBC', [1, 1, 9, 9]]]), item('a.jpg', [['RBC', [1, 1, 9, 9]]])]);
    expect(failed.map((r) => r.problem)).toEqual(['"a.jpg" and "JPEGImages/a.jpg" (Annotations/JPEGImages/a.jpg.xml) are the same image: give each image once']);
  });

  it('a bare name that matches two images of the project', async () => {
    const f = await fixture();
    await f.image('train/a.jpg');
    await f.image('val/a.jpg');
    const failed = await refused(f, [item('a.jpg', [['RBC', [1, 1, 9, 9]]])]);
    expect(failed).toEqual([
      expect.objectContaining({ source: 'Annotations/a.jpg.xml', code: 'duplicate', problem: '"a.jpg" matches 2 images of the project (train/a.jpg, val/a.jpg): name it by its full path' }),
    ]);
  });

  it('missing files: not in the project, uploaded but not ingested, still pending, and failed ingest with its reason', async () => {
    const f = await fixture();
    await f.image('ok.jpg');
    await f.stores.blobs.put('uploads/cells/new.jpg', new Uint8Array([1]), 'image/jpeg');
    await f.image('pending.jpg', undefined, { status: 'pending', width: undefined, height: undefined });
    await f.image('broken.jpg', undefined, { status: 'failed', reason: 'truncated JPEG', width: undefined, height: undefined });
    const failed = await refused(f, ['ok.jpg', 'gone.jpg', 'new.jpg', 'pending.jpg', 'broken.jpg'].map((file) => item(file, [['RBC', [1, 1, 9, 9]]])));
    expect(failed.map((r) => [r.file, r.code, r.problem])).toEqual([
      ['gone.jpg', 'missing_file', 'no image "gone.jpg" in the project: upload it first'],
      ['new.jpg', 'not_ingested', '"new.jpg" is uploaded but not ingested yet: wait for ingest and run the import again'],
      ['pending.jpg', 'not_ingested', 'image "pending.jpg" is not ingested yet: wait for ingest and run the import again'],
      ['broken.jpg', 'ingest_failed', 'image "broken.jpg" could not be read: truncated JPEG'],
    ]);
  });

  it('a size that differs from the upright image, with a hint when only the EXIF rotation explains it', async () => {
    const f = await fixture();
    await f.image('a.jpg', { width: 640, height: 480 });
    await f.image('turned.jpg', { width: 480, height: 640 });
    const failed = await refused(f, [item('a.jpg', [], { width: 320, height: 240 }), item('turned.jpg', [], { width: 640, height: 480 })]);
    expect(failed.map((r) => [r.file, r.code, r.problem])).toEqual([
      ['a.jpg', 'size_mismatch', 'the annotation says 320 x 240, the image is 640 x 480 upright: is it the same image?'],
      ['turned.jpg', 'size_mismatch', 'the annotation says 640 x 480, the image is 480 x 640 upright (the annotation was made on the image before its EXIF rotation was applied)'],
    ]);
  });

  it('proposals for a project that does not review boxes', async () => {
    const f = await fixture('single-label');
    await f.image('a.jpg');
    const failed = await refused(f, [item('a.jpg', [['RBC', [1, 1, 9, 9]]])], { mode: 'proposals' });
    expect(failed[0]).toMatchObject({ code: 'wrong_task', problem: 'proposals are boxes to review: project "cells" is single-label, not box-review' });
  });

  it('a confidence the project does not offer', async () => {
    const f = await fixture('single-label');
    await f.image('a.jpg');
    const failed = await refused(f, [item('a.jpg', [], { classes: [{ name: 'WBC', confidence: 0.6 }] })]);
    expect(failed[0]).toMatchObject({ code: 'invalid_label', problem: 'confidence 0.6 for "WBC" is not one of the project\'s levels (0, 0.25, 0.5, 0.75, 1)' });
  });

  it('a dry run, clean or not, writes nothing', async () => {
    const f = await fixture();
    await f.image('a.jpg');
    const before = await f.snapshot();
    const report = await run(f, [item('a.jpg', [['RBC', [1, 1, 9, 9]]])], { dryRun: true });
    expect(report).toMatchObject({ ok: true, applied: false, dryRun: true, summary: { items: 1, boxes: 1, labels: 1, failed: 0 } });
    expect(report.rows).toEqual([{ source: 'Annotations/a.jpg.xml', file: 'a.jpg', image: 'a.jpg', ok: true, action: 'label: 1 box' }]);
    expect(await f.snapshot()).toEqual(before);
  });
});

describe('importing labels: what is written', () => {
  it('labels a box-review image with its boxes, matched by bare name, clamping within half a pixel', async () => {
    const f = await fixture();
    const a = await f.image('JPEGImages/a.jpg', { width: 640, height: 480 });
    const report = await run(f, [item('a.jpg', [['wbc', [259, 176, 491, 376]], ['RBC', [600, 400, 640.4, 480.2]]], { width: 640, height: 480 })]);
    expect(report).toMatchObject({ ok: true, applied: true, summary: { items: 1, boxes: 2, labels: 1, kept: 0, unchanged: 0, failed: 0 } });
    expect(report.rows).toEqual([
      { source: 'Annotations/a.jpg.xml', file: 'a.jpg', image: 'JPEGImages/a.jpg', ok: true, action: 'label: 2 boxes' },
      { source: 'Annotations/a.jpg.xml object 2', file: 'a.jpg', image: 'JPEGImages/a.jpg', ok: true, action: 'clamped to the image edge: [600, 400, 640, 480]' },
    ]);
    const sample = await f.stores.samples.getSample(f.projectId, a);
    expect(sample).toMatchObject({ version: 1, labeledBy: ['olga'] });
    expect(sample?.queueKey).toBeUndefined();
    expect(sample?.label).toMatchObject({
      confidences: [0, 0, 0],
      ambiguous: false,
      labelerId: 'olga',
      boxes: [
        { box: [259, 176, 491, 376], classIndex: 1, source: 'labeler' },
        { box: [600, 400, 640, 480], classIndex: 0, source: 'labeler' },
      ],
    });
  });

  it('converts YOLO fractions against the image\'s real size and finds the image without its extension', async () => {
    const f = await fixture();
    const a = await f.image('images/train/a.png', { width: 640, height: 480 });
    const yolo: ImportItem = {
      source: 'labels/train/a.txt', file: 'images/train/a', extensionUnknown: true,
      boxes: [{ source: 'line 1', class: 'WBC', box: [0.375, 0.25, 0.625, 0.75], normalized: true }],
    };
    expect((await run(f, [yolo])).ok).toBe(true);
    expect((await f.stores.samples.getSample(f.projectId, a))?.label?.boxes?.[0].box).toEqual([240, 120, 400, 360]);
  });

  it('imports an image labeled empty as "no objects"', async () => {
    const f = await fixture();
    const a = await f.image('a.jpg');
    const report = await run(f, [item('a.jpg', [], { empty: true })]);
    expect(report.rows[0].action).toBe('label: no objects');
    expect((await f.stores.samples.getSample(f.projectId, a))?.label?.boxes).toEqual([]);
  });

  it('keeps existing labels unless asked to overwrite; an overwrite keeps the history', async () => {
    const f = await fixture();
    const a = await f.image('a.jpg');
    await annotate(f.stores, { projectId: f.projectId, sampleId: a, version: 0, labelerId: 'ana', requestId: 'r1', boxes: [{ box: [0, 0, 5, 5], classIndex: 2, source: 'labeler' }] });
    const items = [item('a.jpg', [['RBC', [1, 1, 9, 9]]])];

    const kept = await run(f, items);
    expect(kept).toMatchObject({ ok: true, applied: true, summary: { labels: 0, kept: 1 } });
    expect(kept.rows[0].action).toBe('kept the existing label by ana (overwrite to replace)');
    expect((await f.stores.samples.getSample(f.projectId, a))?.label?.labelerId).toBe('ana');

    const replaced = await run(f, items, { overwrite: true });
    expect(replaced.rows[0].action).toBe('label: 1 box (replacing the label by ana; history kept)');
    expect((await f.stores.samples.getSample(f.projectId, a))?.label).toMatchObject({ labelerId: 'olga', boxes: [{ box: [1, 1, 9, 9], classIndex: 0 }] });
    const history = await f.stores.annotations.listForSample(f.projectId, a);
    expect(history.map((h) => [h.version, h.labelerId, h.boxes?.[0].classIndex])).toEqual([[0, 'ana', 2], [1, 'olga', 0]]);
  });

  it('adds nothing when run again, and finishes a run that stopped halfway', async () => {
    const f = await fixture();
    const a = await f.image('a.jpg');
    const b = await f.image('b.jpg');
    const items = [item('a.jpg', [['RBC', [1, 1, 9, 9]]]), item('b.jpg', [['WBC', [2, 2, 8, 8]]])];
    // A first run died after writing b's annotation record, before moving b's head.
    const label = { confidences: [0, 0, 0], ambiguous: false, boxes: [{ box: [2, 2, 8, 8] as [number, number, number, number], classIndex: 1, source: 'labeler' as const }] };
    await f.stores.annotations.append({
      projectId: f.projectId, sampleId: b, version: 0, kind: 'label', labelerId: 'olga', ...label,
      before: { labeledBy: [] }, requestId: importRequestId(f.projectId, { sampleId: b, label }, 0), at: new Date(f.clock.now()).toISOString(),
    });

    const first = await run(f, items, { overwrite: true });
    expect(first.summary).toMatchObject({ labels: 2, unchanged: 0 });
    for (const id of [a, b]) {
      expect(await f.stores.annotations.listForSample(f.projectId, id)).toHaveLength(1);
      expect((await f.stores.samples.getSample(f.projectId, id))?.version).toBe(1);
    }
    const again = await run(f, items, { overwrite: true });
    expect(again.summary).toMatchObject({ labels: 0, unchanged: 2 });
    expect(again.rows.map((r) => r.action)).toEqual(['unchanged: already has this label', 'unchanged: already has this label']);
    expect((await f.stores.annotations.listForProject(f.projectId)).items).toHaveLength(2);
  });

  it('sets proposals to review with their scores, leaving labels and the queue alone', async () => {
    const f = await fixture();
    const a = await f.image('a.jpg');
    const proposals = [{ ...item('a.jpg', [['Platelets', [10, 10, 30, 30]]]), boxes: [{ source: 'annotations[0]', class: 'Platelets', box: [10, 10, 30, 30] as [number, number, number, number], score: 0.9 }] }];
    const report = await run(f, proposals, { mode: 'proposals' });
    expect(report).toMatchObject({ ok: true, applied: true, summary: { proposals: 1, labels: 0 } });
    expect(report.rows[0].action).toBe('proposals: 1 proposal');
    const sample = await f.stores.samples.getSample(f.projectId, a);
    expect(sample).toMatchObject({ version: 0, proposals: [{ box: [10, 10, 30, 30], classIndex: 2, source: 'model', score: 0.9 }] });
    expect(sample?.label).toBeUndefined();
    expect(sample?.queueKey).toBeDefined();
    expect((await run(f, proposals, { mode: 'proposals' })).summary).toMatchObject({ proposals: 0, unchanged: 1 });
  });

  it('labels whole images by class in a classification project, and box samples only where they exist', async () => {
    const f = await fixture('multi-label');
    const a = await f.image('a.jpg');
    const b = await f.image('b.jpg');
    await f.stores.samples.putSamplesIfAbsent([{ projectId: f.projectId, sampleId: `${a}-b1`, imageId: a, kind: 'box', box: [10, 10, 50, 50], version: 0, labeledBy: [], order: 'o', queueKey: 'o', createdAt: 'c' }]);
    const items = [
      item('a.jpg', [['WBC', [10.3, 10, 50, 49.8]]], { classes: [{ name: 'RBC', confidence: 1 }, { name: 'platelets', confidence: 0.5 }] }),
      item('b.jpg', [], { empty: true }),
    ];
    const report = await run(f, items);
    expect(report.rows.map((r) => r.action)).toEqual([`label: RBC, Platelets 0.5; box sample ${a}-b1: label: WBC`, 'label: none of the classes']);
    expect((await f.stores.samples.getSample(f.projectId, a))?.label?.confidences).toEqual([1, 0, 0.5]);
    expect((await f.stores.samples.getSample(f.projectId, `${a}-b1`))?.label?.confidences).toEqual([0, 1, 0]);
    expect((await f.stores.samples.getSample(f.projectId, b))?.label?.confidences).toEqual([0, 0, 0]);

    const failed = await refused(f, [item('b.jpg', [['WBC', [1, 1, 5, 5]]])]);
    expect(failed[0]).toMatchObject({ code: 'wrong_task', problem: expect.stringContaining('no box sample at [1, 1, 5, 5] in this image') });
  });
});
