// Originals for export archives, upright. Ingest measured every image after EXIF orientation (sharp `.rotate()`),
// labelers drew on the upright image, so the exported boxes are in that frame; an original whose orientation tag
// is not 1 is therefore re-encoded with its pixels turned and no orientation tag, so that the picture a trainer
// loads matches the boxes whether or not its loader applies EXIF. Every other original is copied byte for byte.

import type { Sharp, SharpOptions } from 'sharp';
import { WinnowError } from '../../domain/errors.js';
import type { ImageFiles } from '../../domain/interchange/export/ports.js';
import type { BlobStore } from '../../domain/ports.js';

/** Same limit as ingest: anything it accepted can be rotated here. */
const LIMIT_INPUT_PIXELS = 268_402_689;

// Loaded on first use: the API function builds export deps only to start jobs and sign links, and ships without
// sharp's native binary (the trainer function, which runs jobs, has it).
let sharpModule: Promise<(input: Uint8Array, options: SharpOptions) => Sharp> | undefined;
const loadSharp = () => (sharpModule ??= import('sharp').then((m) => m.default));
const open = async (bytes: Uint8Array) => (await loadSharp())(bytes, { limitInputPixels: LIMIT_INPUT_PIXELS });

export function sharpImageFiles(blobs: BlobStore): ImageFiles {
  return {
    async open(image) {
      const object = await blobs.get(image.key);
      if (!object) {
        throw new WinnowError(
          'conflict',
          `the original ${image.key} is no longer in the bucket (expired or deleted): export without images, or upload it again`,
        );
      }
      const meta = await (await open(object.body)).metadata();
      if (!meta.orientation || meta.orientation === 1) return { body: object.body, rotated: false };
      return { body: await upright(object.body, meta.format), rotated: true };
    },
  };
}

/** Pixels turned per the EXIF tag, written in the original's format (so its file name stays true), metadata dropped. */
export async function upright(bytes: Uint8Array, format: string | undefined): Promise<Uint8Array> {
  const turned = (await open(bytes)).rotate();
  switch (format) {
    case 'png':
      return turned.png().toBuffer();
    case 'webp':
      return turned.webp({ quality: 95 }).toBuffer();
    case 'tiff':
      return turned.tiff({ quality: 95 }).toBuffer();
    case 'heif':
      return turned.avif({ quality: 90 }).toBuffer();
    default:
      // JPEG (where orientation tags live): high quality, no chroma subsampling, so re-encoding costs little.
      return turned.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer();
  }
}
