// COCO JSON. Layout of the archive:
//   annotations/instances.json   boxes (object detection); always written, `annotations` may be empty
//   annotations/labels.json      image-level labels, classification projects only (see below)
//   images/<file_name>           the upright originals (unless images are left out)
//
// Conventions: `bbox` is [x, y, width, height] in pixels of the upright image (top-left corner, then size), from
// Winnow's [x1, y1, x2, y2] as [x1, y1, x2 - x1, y2 - y1]; `area` = width x height; `iscrowd` 0; `segmentation` [].
// Category ids are 1-based in project class order (id = class index + 1; 0 is often "background" to trainers).
// `file_name` is relative to `images/`. Image ids are 1-based in export order; `winnow_image_id` keeps ours.
// Image-level labels follow the COCO "labels" task of Datumaro/CVAT and the iNaturalist datasets: an annotation
// with `image_id` and `category_id` and no `bbox`. They get their own file so that detection loaders, which expect
// a bbox on every annotation, can read instances.json unchanged.
// Extra fields (`attributes`: ambiguous, labeler, labeled_at, sample_id, confidence) are ignored by COCO readers.
//
// Memory: each file is written in two passes over the store (images, then annotations) instead of buffering
// annotations; the first pass keeps a small per-image index (id, name, size, key) so that later passes and the
// image files use the same ids and names, and an image labeled between passes is never referenced without an entry.

import { boxToCoco } from '../box-formats.js';
import type { ExportContext } from './context.js';
import { assertedClasses, exportImages, px } from './context.js';
import { copyImages } from './archive-images.js';
import type { ExportImage } from './images.js';
import { ExportNamer } from './naming.js';
import type { ExportEntries } from './ports.js';

interface IndexedImage {
  id: number;
  name: string;
  key: string;
  width: number;
  height: number;
}

/** Filled by the first file's image pass; later files and the image files read it. */
interface CocoIndex {
  images: Map<string, IndexedImage>;
  built: boolean;
}

export async function writeCoco(ctx: ExportContext, out: ExportEntries): Promise<void> {
  const index: CocoIndex = { images: new Map(), built: false };
  await out.add('annotations/instances.json', cocoFile(ctx, index, 'instances'));
  if (ctx.project.taskType !== 'box-review') await out.add('annotations/labels.json', cocoFile(ctx, index, 'labels'));
  await copyImages(ctx, out, [...index.images].map(([imageId, ref]) => ({ path: `images/${ref.name}`, imageId, key: ref.key })));
}

async function* cocoFile(ctx: ExportContext, index: CocoIndex, kind: 'instances' | 'labels'): AsyncGenerator<string> {
  const { project } = ctx;
  const info = {
    description: `${project.name} (${kind === 'instances' ? 'boxes' : 'image-level labels'}), exported from Winnow`,
    version: '1.0',
    year: new Date(ctx.stores.clock.now()).getUTCFullYear(),
    contributor: 'Winnow',
    date_created: new Date(ctx.stores.clock.now()).toISOString(),
  };
  const categories = project.classes.map((name, i) => ({ id: i + 1, name, supercategory: 'none' }));
  yield `{"info":${JSON.stringify(info)},\n"licenses":[],\n"categories":${JSON.stringify(categories)},\n"images":[`;
  let first = true;
  const separator = () => (first ? ((first = false), '\n') : ',\n');
  if (!index.built) {
    // First file: the pass that fixes ids and names.
    const namer = new ExportNamer();
    for await (const image of exportImages(ctx)) {
      const ref: IndexedImage = { id: index.images.size + 1, name: namer.name(image), key: image.key, width: image.width, height: image.height };
      index.images.set(image.imageId, ref);
      ctx.counts.images++;
      yield separator() + imageEntry(ref, image.imageId);
    }
    index.built = true;
  } else {
    for (const [imageId, ref] of index.images) yield separator() + imageEntry(ref, imageId);
  }
  yield '\n],\n"annotations":[';
  first = true;
  let annotationId = 0;
  for await (const image of exportImages(ctx)) {
    const ref = index.images.get(image.imageId);
    if (!ref) continue;
    const entries = kind === 'instances' ? boxAnnotations(image, ref) : labelAnnotations(ctx, image, ref);
    for (const entry of entries) {
      entry.id = ++annotationId;
      if (kind === 'instances') ctx.counts.boxes++;
      else ctx.counts.labels++;
      yield separator() + JSON.stringify(entry);
    }
  }
  yield '\n]}\n';
}

function imageEntry(ref: IndexedImage, imageId: string): string {
  return JSON.stringify({ id: ref.id, file_name: ref.name, width: ref.width, height: ref.height, winnow_image_id: imageId });
}

function boxAnnotations(image: ExportImage, ref: IndexedImage): Record<string, unknown>[] {
  return image.boxes.map((b) => {
    const [x, y, w, h] = boxToCoco(b.box).map(px);
    return {
      id: 0,
      image_id: ref.id,
      category_id: b.classIndex + 1,
      bbox: [x, y, w, h],
      area: px(w * h),
      iscrowd: 0,
      segmentation: [],
      attributes: {
        ambiguous: b.ambiguous ?? false,
        labeler: b.labelerId,
        labeled_at: b.at,
        sample_id: b.sampleId,
        ...(b.confidences ? { confidence: b.confidences[b.classIndex] } : {}),
      },
    };
  });
}

function labelAnnotations(ctx: ExportContext, image: ExportImage, ref: IndexedImage): Record<string, unknown>[] {
  const label = image.label;
  if (!label) return [];
  return assertedClasses(ctx.project, label.confidences).map((c) => ({
    id: 0,
    image_id: ref.id,
    category_id: c + 1,
    attributes: {
      confidence: label.confidences[c],
      ambiguous: label.ambiguous,
      labeler: label.labelerId,
      labeled_at: label.at,
      sample_id: label.sampleId,
    },
  }));
}
