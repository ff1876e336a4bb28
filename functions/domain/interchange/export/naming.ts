// File names inside an export. Upload names come from users, so they are made safe (names.ts) and then unique:
// two uploads can clean to the same name (`a:b.jpg`, `a_b.jpg`), differ only by case (`Cat.jpg`, `cat.jpg`, one
// file on macOS and Windows), or share a stem (`a.jpg`, `a.png`, which YOLO and VOC would both label as `a.txt` /
// `a.xml`). The later image in export order gets its image id appended to the stem. Export order is fixed
// (image-id order), so every pass over the same labels names every image the same way.

import { exportPath, withoutExtension } from '../names.js';

export class ExportNamer {
  private readonly taken = new Set<string>();

  /** A safe relative path, unique within this namer by stem (case-insensitive, extension ignored). */
  name(image: { imageId: string; file: string }): string {
    const safe = exportPath(image.file);
    const stem = withoutExtension(safe);
    const ext = safe.slice(stem.length);
    const candidates = [safe, `${stem}~${image.imageId.slice(-8)}${ext}`, `${stem}~${image.imageId}${ext}`];
    for (let i = 2; ; i++) {
      const candidate = candidates.shift() ?? `${stem}~${image.imageId}-${i}${ext}`;
      const key = withoutExtension(candidate).toLowerCase();
      if (!this.taken.has(key)) {
        this.taken.add(key);
        return candidate;
      }
    }
  }
}

/** `a/b.jpg` -> `a/b` + suffix, for label files beside images (`.txt`, `.xml`). */
export function sibling(path: string, extension: string): string {
  return `${withoutExtension(path)}${extension}`;
}

/** A name on one line of a line-per-item file (classes.txt, labels.txt): line breaks become spaces. */
export const oneLine = (text: string) => text.replace(/[\r\n]+/g, ' ');
