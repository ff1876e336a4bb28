// The box formats a trainer reads (COCO, Pascal VOC, YOLO), on a hand-made box-review project, compared with the
// exact files a trainer must get: COCO [x, y, w, h], VOC corners as pixel edges, YOLO normalised centres.

import { describe, expect, it } from 'vitest';
import { writeCoco } from '../../functions/domain/interchange/export/coco.js';
import { writeVoc } from '../../functions/domain/interchange/export/voc.js';
import { writeYolo } from '../../functions/domain/interchange/export/yolo.js';
import { parse as parseYaml } from 'yaml';
import { AT, collect, exportFixture, imageId, plainImageFiles } from './export-support.js';

async function cells() {
  const f = await exportFixture('box-review', ['cell', 'platelet']);
  await f.add({
    n: 1,
    file: 'a/one.jpg',
    width: 200,
    height: 100,
    label: { confidences: [0, 0], boxes: [{ box: [10, 20, 110, 70], classIndex: 0 }, { box: [0, 0, 50, 50], classIndex: 1 }] },
  });
  await f.add({ n: 2, file: 'two.jpg', width: 640, height: 480, label: { confidences: [0, 0], boxes: [] } });
  await f.add({ n: 3, file: 'three.jpg', width: 640, height: 480 }); // unlabeled
  return f;
}

describe('COCO', () => {
  it('writes bbox as [x, y, width, height] in pixels: box [10,20,110,70] -> [10,20,100,50]', async () => {
    const f = await cells();
    const out = collect();
    await writeCoco(f.ctx(), out);
    const coco = JSON.parse(out.text('annotations/instances.json'));
    expect(coco.categories).toEqual([
      { id: 1, name: 'cell', supercategory: 'none' },
      { id: 2, name: 'platelet', supercategory: 'none' },
    ]);
    expect(coco.images).toEqual([
      { id: 1, file_name: 'a/one.jpg', width: 200, height: 100, winnow_image_id: imageId(1) },
      { id: 2, file_name: 'two.jpg', width: 640, height: 480, winnow_image_id: imageId(2) },
    ]);
    const attributes = { ambiguous: false, labeler: 'ann', labeled_at: AT, sample_id: imageId(1) };
    expect(coco.annotations).toEqual([
      { id: 1, image_id: 1, category_id: 1, bbox: [10, 20, 100, 50], area: 5000, iscrowd: 0, segmentation: [], attributes },
      { id: 2, image_id: 1, category_id: 2, bbox: [0, 0, 50, 50], area: 2500, iscrowd: 0, segmentation: [], attributes },
    ]);
    // Box-review projects have no image-level labels file; no images were asked for.
    expect([...out.files.keys()]).toEqual(['annotations/instances.json']);
  });

  it('copies the images under images/<file_name>, stored uncompressed', async () => {
    const f = await cells();
    await f.stores.blobs.put('uploads/proj/a/one.jpg', new Uint8Array([1, 2, 3]), 'image/jpeg');
    await f.stores.blobs.put('uploads/proj/two.jpg', new Uint8Array([4]), 'image/jpeg');
    const out = collect();
    const ctx = f.ctx({}, { images: plainImageFiles(f.stores) });
    await writeCoco(ctx, out);
    expect([...out.files.keys()]).toEqual(['annotations/instances.json', 'images/a/one.jpg', 'images/two.jpg']);
    expect([...out.files.get('images/a/one.jpg')!]).toEqual([1, 2, 3]);
    expect(out.stored).toEqual(new Set(['images/a/one.jpg', 'images/two.jpg']));
    expect(ctx.counts).toMatchObject({ images: 2, boxes: 2, files: 2 });
  });

  it('puts image-level labels of classification projects in labels.json, as annotations without bbox', async () => {
    const f = await exportFixture('multi-label', ['sky', 'sea', 'sand']);
    await f.add({ n: 1, file: 'beach.jpg', label: { confidences: [1, 0.75, 0.25] } });
    await f.add({ n: 2, file: 'dog.jpg', boxSamples: [{ box: [5.5, 6, 25.5, 16], label: { confidences: [0, 0, 1] } }] });
    const out = collect();
    await writeCoco(f.ctx(), out);
    const instances = JSON.parse(out.text('annotations/instances.json'));
    const labels = JSON.parse(out.text('annotations/labels.json'));
    expect(labels.images).toEqual(instances.images);
    expect(instances.annotations).toEqual([
      {
        id: 1, image_id: 2, category_id: 3, bbox: [5.5, 6, 20, 10], area: 200, iscrowd: 0, segmentation: [],
        attributes: { ambiguous: false, labeler: 'ann', labeled_at: AT, sample_id: `${imageId(2)}-b1`, confidence: 1 },
      },
    ]);
    // Multi-label: every class given at least 0.5 (0.25 is "probably not").
    expect(labels.annotations.map((a: { image_id: number; category_id: number; bbox?: unknown }) => [a.image_id, a.category_id, a.bbox])).toEqual([
      [1, 1, undefined],
      [1, 2, undefined],
    ]);
    expect(labels.annotations[1].attributes.confidence).toBe(0.75);
  });
});

describe('Pascal VOC', () => {
  it('writes corners as pixel edges: [10,20,110,70] -> xmin 10, ymin 20, xmax 110, ymax 70', async () => {
    const f = await cells();
    const out = collect();
    await writeVoc(f.ctx(), out);
    expect(out.text('Annotations/a/one.xml')).toBe(
      [
        '<annotation>',
        '  <folder>JPEGImages</folder>',
        '  <filename>a/one.jpg</filename>',
        '  <source>',
        '    <database>Test project</database>',
        '    <annotation>Winnow</annotation>',
        '  </source>',
        '  <size>',
        '    <width>200</width>',
        '    <height>100</height>',
        '    <depth>3</depth>',
        '  </size>',
        '  <segmented>0</segmented>',
        '  <object>',
        '    <name>cell</name>',
        '    <pose>Unspecified</pose>',
        '    <truncated>0</truncated>',
        '    <difficult>0</difficult>',
        '    <bndbox>',
        '      <xmin>10</xmin>',
        '      <ymin>20</ymin>',
        '      <xmax>110</xmax>',
        '      <ymax>70</ymax>',
        '    </bndbox>',
        '  </object>',
        '  <object>',
        '    <name>platelet</name>',
        '    <pose>Unspecified</pose>',
        '    <truncated>0</truncated>',
        '    <difficult>0</difficult>',
        '    <bndbox>',
        '      <xmin>0</xmin>',
        '      <ymin>0</ymin>',
        '      <xmax>50</xmax>',
        '      <ymax>50</ymax>',
        '    </bndbox>',
        '  </object>',
        '</annotation>',
        '',
      ].join('\n'),
    );
    // A labeled image without boxes still gets its XML (no objects): a verified negative.
    expect(out.text('Annotations/two.xml')).not.toContain('<object>');
    expect(out.text('ImageSets/Main/trainval.txt')).toBe('a/one\ntwo\n');
    expect(out.text('labels.txt')).toBe('cell\nplatelet\n');
    expect(out.files.has('Annotations/three.xml')).toBe(false);
  });

  it('marks ambiguous boxes difficult and escapes names for XML', async () => {
    const f = await exportFixture('box-review', ['a<b & "c"']);
    await f.add({ n: 1, file: "it's.jpg", label: { ambiguous: true, confidences: [0], boxes: [{ box: [1.4, 1.6, 10.5, 20.49], classIndex: 0 }] } });
    const out = collect();
    await writeVoc(f.ctx(), out);
    const xml = out.text("Annotations/it's.xml");
    expect(xml).toContain('<name>a&lt;b &amp; &quot;c&quot;</name>');
    expect(xml).toContain('<filename>it&apos;s.jpg</filename>');
    expect(xml).toContain('<difficult>1</difficult>');
    // Rounded to whole pixels: every corner within 0.5 px of the labeled box.
    expect(xml).toContain('<xmin>1</xmin>\n      <ymin>2</ymin>\n      <xmax>11</xmax>\n      <ymax>20</ymax>');
  });
});

describe('YOLO', () => {
  it('writes class cx cy w h normalised by the image size, an empty file for a labeled image without boxes', async () => {
    const f = await cells();
    const out = collect();
    const ctx = f.ctx();
    await writeYolo(ctx, out);
    expect(out.text('labels/train/a/one.txt')).toBe('0 0.3 0.45 0.5 0.5\n1 0.125 0.25 0.25 0.5\n');
    expect(out.text('labels/train/two.txt')).toBe('');
    expect(out.files.has('labels/train/three.txt')).toBe(false);
    expect(out.text('classes.txt')).toBe('cell\nplatelet\n');
    const data = parseYaml(out.text('data.yaml'));
    expect(data).toEqual({ train: 'images/train', val: 'images/train', nc: 2, names: { 0: 'cell', 1: 'platelet' } });
    expect(out.text('data.yaml')).toContain('\n  0: cell\n');
    expect(ctx.counts).toMatchObject({ images: 2, boxes: 2 });
  });

  it('with include "all" puts unlabeled images beside, without a label file', async () => {
    const f = await cells();
    await f.stores.blobs.put('uploads/proj/three.jpg', new Uint8Array([9]), 'image/jpeg');
    await f.stores.blobs.put('uploads/proj/a/one.jpg', new Uint8Array([1]), 'image/jpeg');
    await f.stores.blobs.put('uploads/proj/two.jpg', new Uint8Array([2]), 'image/jpeg');
    const out = collect();
    await writeYolo(f.ctx({ include: 'all' }, { images: plainImageFiles(f.stores) }), out);
    expect([...out.files.keys()].filter((k) => k.startsWith('images/'))).toEqual([
      'images/train/a/one.jpg',
      'images/train/two.jpg',
      'images/unlabeled/three.jpg',
    ]);
  });

  it('clips boxes that stick out of the image, in every format', async () => {
    const f = await exportFixture('box-review', ['cell']);
    await f.add({ n: 1, file: 'edge.jpg', width: 100, height: 100, label: { confidences: [0], boxes: [{ box: [-10, 90, 50, 130], classIndex: 0 }] } });
    const yolo = collect();
    await writeYolo(f.ctx(), yolo);
    expect(yolo.text('labels/train/edge.txt')).toBe('0 0.25 0.95 0.5 0.1\n');
    const coco = collect();
    await writeCoco(f.ctx(), coco);
    expect(JSON.parse(coco.text('annotations/instances.json')).annotations[0].bbox).toEqual([0, 90, 50, 10]);
  });
});
