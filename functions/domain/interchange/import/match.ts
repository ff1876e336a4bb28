// Which project image an annotation means. First the exact path under the project's upload folder (one read);
// else the only image with the same base name (annotation files often name just `x.jpg`, or a folder that is the
// dataset's name). A name that fits two images is refused rather than guessed. YOLO label files do not know the
// image's extension, so their names are matched without it.

import { imageIdFor } from '../../ingest.js';
import { BUCKET_LAYOUT } from '../../layout.js';
import type { ImageRecord } from '../../model.js';
import type { Stores } from '../../ports.js';
import { baseName, withoutExtension } from '../names.js';

export type ImageMatch =
  | { found: ImageRecord; file: string }
  | { problem: 'missing_file' | 'duplicate' | 'not_ingested' | 'ingest_failed'; why: string; file?: string };

const LIST_PAGE = 1000;

interface ImageIndex {
  byPath: Map<string, ImageRecord[]>;
  byBase: Map<string, ImageRecord[]>;
}

export class ProjectImages {
  private index?: Promise<ImageIndex[]>;
  private readonly prefix: string;

  constructor(
    private readonly stores: Stores,
    private readonly projectId: string,
  ) {
    this.prefix = BUCKET_LAYOUT.uploadKey(projectId, '');
  }

  /** The project-relative name of an image, e.g. `JPEGImages/x.jpg`. */
  fileOf(image: ImageRecord): string {
    return image.key.startsWith(this.prefix) ? image.key.slice(this.prefix.length) : image.key;
  }

  async match(name: string, extensionUnknown = false): Promise<ImageMatch> {
    const wanted = name.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
    if (!extensionUnknown) {
      const exact = await this.stores.samples.getImage(this.projectId, imageIdFor(BUCKET_LAYOUT.uploadKey(this.projectId, wanted)));
      if (exact) return this.usable(exact);
    }
    const index = await this.loadIndex(extensionUnknown);
    const byPath = index.byPath.get(wanted) ?? [];
    const candidates = byPath.length ? byPath : (index.byBase.get(baseName(wanted)) ?? []);
    if (candidates.length > 1) {
      const names = candidates.slice(0, 3).map((c) => this.fileOf(c));
      return { problem: 'duplicate', why: `"${name}" matches ${candidates.length} images of the project (${names.join(', ')}${candidates.length > 3 ? ', ...' : ''}): name it by its full path` };
    }
    if (candidates.length === 1) return this.usable(candidates[0]);
    if (!extensionUnknown && (await this.stores.blobs.head(BUCKET_LAYOUT.uploadKey(this.projectId, wanted)))) {
      return { problem: 'not_ingested', why: `"${wanted}" is uploaded but not ingested yet: wait for ingest and run the import again`, file: wanted };
    }
    return { problem: 'missing_file', why: `no image "${name}" in the project: upload it first` };
  }

  private usable(image: ImageRecord): ImageMatch {
    const file = this.fileOf(image);
    if (image.status === 'failed') return { problem: 'ingest_failed', why: `image "${file}" could not be read: ${image.reason ?? 'ingest failed'}`, file };
    if (image.status !== 'ready' || !image.width || !image.height) {
      return { problem: 'not_ingested', why: `image "${file}" is not ingested yet: wait for ingest and run the import again`, file };
    }
    return { found: image, file };
  }

  /** Every image of the project once per import, indexed by path and base name (with or without extension). */
  private async loadIndex(withoutExt: boolean): Promise<ImageIndex> {
    this.index ??= (async () => {
      const images: ImageRecord[] = [];
      let cursor: string | undefined;
      do {
        const page = await this.stores.samples.listImages(this.projectId, { cursor, limit: LIST_PAGE });
        images.push(...page.items);
        cursor = page.cursor;
      } while (cursor);
      return [false, true].map((stripped) => {
        const byPath = new Map<string, ImageRecord[]>();
        const byBase = new Map<string, ImageRecord[]>();
        const add = (map: Map<string, ImageRecord[]>, key: string, image: ImageRecord) => map.set(key, [...(map.get(key) ?? []), image]);
        for (const image of images) {
          const file = stripped ? withoutExtension(this.fileOf(image)) : this.fileOf(image);
          add(byPath, file, image);
          add(byBase, baseName(file), image);
        }
        return { byPath, byBase };
      });
    })();
    const [plain, stripped] = await this.index;
    return withoutExt ? stripped : plain;
  }
}
