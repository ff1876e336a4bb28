// Pascal VOC: one XML per labeled image. Layout of the archive:
//   Annotations/<stem>.xml          one per labeled image (labeled without boxes: no <object>)
//   JPEGImages/<file>               the upright originals (unless images are left out)
//   ImageSets/Main/trainval.txt     ids (paths under JPEGImages without extension) of the labeled images
//   ImageSets/Main/unlabeled.txt    with include "all": ids of images without labels (no XML for them)
//   labels.txt                      class names, one per line, in project order
//
// Coordinates follow the VOC devkit: whole pixels, 1-based, corners inclusive. A box [x1, y1, x2, y2] in Winnow's
// 0-based, end-exclusive pixels becomes xmin = round(x1) + 1, ymin = round(y1) + 1, xmax = round(x2),
// ymax = round(y2) (so [10, 20, 110, 70] -> 11, 21, 110, 70), and reads back as [xmin - 1, ymin - 1, xmax, ymax]:
// within 0.5 px of the original (box-formats.ts, shared with the importer). Ambiguous boxes are marked <difficult>1</difficult> (VOC's "hard to tell").
// Image-level labels have no place in VOC's detection XML; use COCO labels.json, CSV, JSON Lines or folders.

import type { ExportContext } from './context.js';
import { exportImages } from './context.js';
import { ImageCopier } from './archive-images.js';
import type { ExportImage } from './images.js';
import { ExportNamer, oneLine, sibling } from './naming.js';
import type { ExportEntries } from './ports.js';
import { boxToVoc } from '../box-formats.js';
import { withoutExtension } from '../names.js';

export async function writeVoc(ctx: ExportContext, out: ExportEntries): Promise<void> {
  const namer = new ExportNamer();
  const copier = new ImageCopier(ctx, out);
  const labeled: string[] = [];
  const unlabeled: string[] = [];
  for await (const image of exportImages(ctx)) {
    const name = namer.name(image);
    const isLabeled = image.label !== undefined || image.boxes.length > 0;
    if (isLabeled) {
      await out.add(`Annotations/${sibling(name, '.xml')}`, vocXml(ctx, image, name));
      labeled.push(withoutExtension(name));
      ctx.counts.images++;
      ctx.counts.boxes += image.boxes.length;
    } else unlabeled.push(withoutExtension(name));
    await copier.add(`JPEGImages/${name}`, image);
  }
  await copier.flush();
  await out.add('ImageSets/Main/trainval.txt', lines(labeled));
  if (ctx.filter.include === 'all') await out.add('ImageSets/Main/unlabeled.txt', lines(unlabeled));
  await out.add('labels.txt', lines(ctx.project.classes.map(oneLine)));
}

const lines = (items: string[]) => items.map((i) => `${i}\n`).join('');

export function vocXml(ctx: ExportContext, image: ExportImage, name: string): string {
  const objects = image.boxes.map((b) => {
    const c = boxToVoc(b.box);
    return (
      '  <object>\n' +
      `    <name>${xml(ctx.project.classes[b.classIndex])}</name>\n` +
      '    <pose>Unspecified</pose>\n' +
      '    <truncated>0</truncated>\n' +
      `    <difficult>${b.ambiguous ? 1 : 0}</difficult>\n` +
      `    <bndbox>\n      <xmin>${c.xmin}</xmin>\n      <ymin>${c.ymin}</ymin>\n      <xmax>${c.xmax}</xmax>\n      <ymax>${c.ymax}</ymax>\n    </bndbox>\n` +
      '  </object>\n'
    );
  });
  return (
    '<annotation>\n' +
    '  <folder>JPEGImages</folder>\n' +
    `  <filename>${xml(name)}</filename>\n` +
    `  <source>\n    <database>${xml(ctx.project.name)}</database>\n    <annotation>Winnow</annotation>\n  </source>\n` +
    `  <size>\n    <width>${image.width}</width>\n    <height>${image.height}</height>\n    <depth>3</depth>\n  </size>\n` +
    '  <segmented>0</segmented>\n' +
    objects.join('') +
    '</annotation>\n'
  );
}

/** XML text: the five escapes, and control characters XML 1.0 cannot carry at all dropped. */
export const xml = (text: string) =>
  text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!);
