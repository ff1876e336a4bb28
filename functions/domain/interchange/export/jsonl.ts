// JSON Lines in the shape of a SageMaker Ground Truth output manifest: one JSON object per image, `source-ref`
// pointing at the original, then one label attribute and its `-metadata` per kind of label:
//
//   box-review projects:      "<project>": { image_size: [{width, height, depth}], annotations: [{class_id, left,
//                             top, width, height}] }, metadata type "groundtruth/object-detection"
//   classification projects:  "<project>": class id (single-label, "groundtruth/image-classification") or a list
//                             of class ids (multi-label, "...-multilabel"); labeled box samples, when the project
//                             has them, go to "<project>-boxes" in the object-detection shape
//
// Box pixels are of the upright image (left/top = x1/y1, width/height = x2 - x1, y2 - y1). Class ids are 0-based
// in project order (`class-map` names them). Confidences are the labeler's. `ambiguous` and `labeler` are added to
// the metadata (Ground Truth readers ignore unknown keys). `source-ref` is `s3://<bucket>/<key>` of the original;
// in an archive with images, `winnow-file` is the copy's path inside the archive. With include "all", unlabeled
// images are lines with `source-ref` only (an input manifest line).

import { topClass } from '../../label-validation.js';
import type { ExportContext } from './context.js';
import { assertedClasses, exportImages, px } from './context.js';
import { copyImages } from './archive-images.js';
import { countImage } from './csv.js';
import type { ExportImage } from './images.js';
import { ExportNamer } from './naming.js';
import type { ExportEntries } from './ports.js';

export async function writeJsonl(ctx: ExportContext, out: ExportEntries): Promise<void> {
  const names = new Map<string, { name: string; key: string }>();
  await out.add('output.manifest', manifestLines(ctx, names));
  await copyImages(ctx, out, [...names].map(([imageId, { name, key }]) => ({ path: `images/${name}`, imageId, key })));
}

async function* manifestLines(ctx: ExportContext, names: Map<string, { name: string; key: string }>): AsyncGenerator<string> {
  const namer = ctx.images ? new ExportNamer() : undefined;
  for await (const image of exportImages(ctx)) {
    let file: string | undefined;
    if (namer) {
      file = namer.name(image);
      names.set(image.imageId, { name: file, key: image.key });
    }
    countImage(ctx, image);
    yield JSON.stringify(manifestLine(ctx, image, file && `images/${file}`)) + '\n';
  }
}

export function manifestLine(ctx: ExportContext, image: ExportImage, archivePath?: string): Record<string, unknown> {
  const { project } = ctx;
  const line: Record<string, unknown> = {
    'source-ref': ctx.bucket ? `s3://${ctx.bucket}/${image.key}` : image.key,
    ...(archivePath ? { 'winnow-file': archivePath } : {}),
  };
  const attr = project.id;
  const jobName = `labeling-job/winnow-${project.id}`;
  const classMap = Object.fromEntries(project.classes.map((c, i) => [String(i), c]));
  const label = image.label;
  if (project.taskType !== 'box-review' && label) {
    const common = {
      'job-name': jobName,
      'human-annotated': 'yes',
      'creation-date': label.at,
      labeler: label.labelerId,
      ambiguous: label.ambiguous,
    };
    if (project.taskType === 'multi-label') {
      const ids = assertedClasses(project, label.confidences);
      line[attr] = ids;
      line[`${attr}-metadata`] = {
        ...common,
        type: 'groundtruth/image-classification-multilabel',
        'class-map': Object.fromEntries(ids.map((i) => [String(i), project.classes[i]])),
        'confidence-map': Object.fromEntries(ids.map((i) => [String(i), label.confidences[i]])),
      };
    } else {
      const top = topClass(label.confidences);
      if (top >= 0) {
        line[attr] = top;
        line[`${attr}-metadata`] = {
          ...common,
          type: 'groundtruth/image-classification',
          'class-name': project.classes[top],
          confidence: label.confidences[top],
        };
      }
    }
  }
  // A box-review label with no boxes says "nothing here": an empty list, not a missing attribute.
  const boxLabeled = project.taskType === 'box-review' ? label !== undefined || image.boxes.length > 0 : image.boxes.length > 0;
  if (boxLabeled) {
    const boxAttr = project.taskType === 'box-review' ? attr : `${attr}-boxes`;
    const dates = [label?.at, ...image.boxes.map((b) => b.at)].filter((d): d is string => !!d).sort();
    line[boxAttr] = {
      image_size: [{ width: image.width, height: image.height, depth: 3 }],
      annotations: image.boxes.map(({ box: [x1, y1, x2, y2], classIndex }) => ({
        class_id: classIndex,
        left: px(x1),
        top: px(y1),
        width: px(x2 - x1),
        height: px(y2 - y1),
      })),
    };
    line[`${boxAttr}-metadata`] = {
      objects: image.boxes.map((b) => ({ confidence: b.confidences ? b.confidences[b.classIndex] : 1, ambiguous: b.ambiguous ?? false })),
      'class-map': classMap,
      type: 'groundtruth/object-detection',
      'human-annotated': 'yes',
      'creation-date': dates[dates.length - 1],
      'job-name': jobName,
      labeler: label?.labelerId ?? image.boxes[0]?.labelerId,
    };
  }
  return line;
}
