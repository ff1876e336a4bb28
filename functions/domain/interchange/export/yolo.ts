// YOLO (Ultralytics / Darknet detection). Layout of the archive:
//   data.yaml                  names, nc, train/val folders (read by Ultralytics as is)
//   classes.txt                class names, one per line (Darknet's obj.names)
//   images/train/<file>        upright originals of labeled images (unless images are left out)
//   labels/train/<stem>.txt    one line per box: `class cx cy w h`
//   images/unlabeled/<file>    with include "all": images without labels, and no label file for them
//
// Every line is `class_index x_center y_center width height`, class index 0-based in project order, the four
// numbers normalised by the upright image's width and height (6 decimals). A labeled image without boxes gets an
// empty .txt: YOLO reads that as a background image, which is what "labeled, nothing there" means. There is no
// train/val split: `val` points at the training images; split before training if you need one.

import { stringify } from 'yaml';
import { boxToYolo } from '../box-formats.js';
import type { ExportContext } from './context.js';
import { exportImages, unit } from './context.js';
import { ImageCopier } from './archive-images.js';
import type { ExportImage } from './images.js';
import { ExportNamer, oneLine, sibling } from './naming.js';
import type { ExportEntries } from './ports.js';

export async function writeYolo(ctx: ExportContext, out: ExportEntries): Promise<void> {
  await out.add('data.yaml', dataYaml(ctx));
  await out.add('classes.txt', ctx.project.classes.map((c) => `${oneLine(c)}\n`).join(''));
  const namer = new ExportNamer();
  const copier = new ImageCopier(ctx, out);
  for await (const image of exportImages(ctx)) {
    const name = namer.name(image);
    if (image.label === undefined && image.boxes.length === 0) {
      await copier.add(`images/unlabeled/${name}`, image);
      continue;
    }
    await out.add(`labels/train/${sibling(name, '.txt')}`, yoloLabels(image));
    ctx.counts.images++;
    ctx.counts.boxes += image.boxes.length;
    await copier.add(`images/train/${name}`, image);
  }
  await copier.flush();
}

export function yoloLabels(image: Pick<ExportImage, 'width' | 'height' | 'boxes'>): string {
  return image.boxes
    .map(({ box, classIndex }) => `${classIndex} ${boxToYolo(box, image.width, image.height).map(unit).join(' ')}\n`)
    .join('');
}

function dataYaml(ctx: ExportContext): string {
  // A Map keeps the keys numbers (`0: daisy`), the form Ultralytics documents.
  const names = new Map(ctx.project.classes.map((c, i) => [i, c]));
  const header =
    `# ${oneLine(ctx.project.name)}: exported from Winnow.\n` +
    '# Paths are relative to this file (Ultralytics uses its folder when `path` is absent).\n' +
    '# No train/val split: every labeled image is under images/train.\n';
  return header + stringify({ train: 'images/train', val: 'images/train', nc: ctx.project.classes.length, names });
}
