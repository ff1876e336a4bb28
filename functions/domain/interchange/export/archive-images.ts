// Copying originals into an archive, upright: a box drawn on the upright image must land on the same pixels in
// whatever the trainer loads, and not every loader applies EXIF orientation (OpenCV before 3.1 does not; PIL
// does not unless asked). So rotated images are written with their pixels turned and no orientation tag.
//
// Each original is a round trip to the bucket (tens of ms on S3): a few are fetched ahead while earlier ones are
// written, in order, so an export with images is not one GET latency per image. At most `depth` are held.

import type { ExportContext } from './context.js';
import type { ExportEntries, ImageFile } from './ports.js';

const DEFAULT_DEPTH = 4;

export class ImageCopier {
  private readonly pending: { path: string; file: Promise<ImageFile> }[] = [];

  constructor(
    private readonly ctx: ExportContext,
    private readonly out: ExportEntries,
    private readonly depth = DEFAULT_DEPTH,
  ) {}

  /** Starts fetching the image; writes the oldest fetched ones once more than `depth` wait. */
  async add(path: string, image: { imageId: string; key: string }): Promise<void> {
    if (!this.ctx.images) return;
    const file = this.ctx.images.open(image);
    file.catch(() => undefined); // surfaced when its turn to be written comes
    this.pending.push({ path, file });
    while (this.pending.length > this.depth) await this.writeOldest();
  }

  /** Writes every image still waiting. Call before the archive is finished. */
  async flush(): Promise<void> {
    while (this.pending.length) await this.writeOldest();
  }

  private async writeOldest(): Promise<void> {
    const { path, file } = this.pending.shift()!;
    const image = await file;
    await this.out.add(path, image.body, { store: true });
    this.ctx.counts.files++;
    if (image.rotated) this.ctx.counts.rotated++;
  }
}

/** Copies images listed up front (an index built by an earlier pass), fetching ahead. */
export async function copyImages(ctx: ExportContext, out: ExportEntries, images: Iterable<{ path: string; imageId: string; key: string }>): Promise<void> {
  const copier = new ImageCopier(ctx, out);
  for (const image of images) await copier.add(image.path, image);
  await copier.flush();
}
