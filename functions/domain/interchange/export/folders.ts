// Class folders for classification training (torchvision ImageFolder, Keras image_dataset_from_directory,
// Ultralytics classify): `<class>/<file>`. Single-label: the class the labeler chose. Multi-label (and the
// image-level label of box-review projects): the image is copied into every class given confidence >= 0.5.
// Ambiguous labels are always left out (a folder cannot say "unsure"), as are unlabeled images. File names are
// the upload's base name, made safe, with the image id added when two would clash.

import { safeRelativePath, baseName } from '../names.js';
import type { ExportContext } from './context.js';
import { assertedClasses, exportImages } from './context.js';
import { ImageCopier } from './archive-images.js';
import { ExportNamer } from './naming.js';
import type { ExportEntries } from './ports.js';

export async function writeFolders(ctx: ExportContext, out: ExportEntries): Promise<void> {
  const folders = classFolders(ctx.project.classes);
  const namer = new ExportNamer();
  const copier = new ImageCopier(ctx, out);
  for await (const image of exportImages(ctx)) {
    const label = image.label;
    if (!label || label.ambiguous) continue;
    const classes = assertedClasses(ctx.project, label.confidences);
    if (classes.length === 0) continue;
    const name = namer.name({ imageId: image.imageId, file: baseName(image.file) });
    ctx.counts.images++;
    ctx.counts.labels += classes.length;
    for (const c of classes) await copier.add(`${folders[c]}/${name}`, image);
  }
  await copier.flush();
}

/** One safe, distinct folder name per class (class names are free text: `a/b`, `..`, `a:b` and `a_b`). */
export function classFolders(classes: string[]): string[] {
  const used = new Set<string>();
  return classes.map((name, i) => {
    let folder = safeRelativePath(name.replace(/[\\/:]/g, '_')) ?? `class_${i}`;
    if (used.has(folder.toLowerCase())) folder = `${folder}_${i}`;
    used.add(folder.toLowerCase());
    return folder;
  });
}
