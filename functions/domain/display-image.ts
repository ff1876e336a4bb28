// Which object the app shows for an image. Ingest writes a WebP display copy, except for an original that is
// already fit to be shown (a still, upright, small JPEG, PNG or WebP, sniffed from its bytes and decoded): that one
// is served itself, and the copy (a full-image encode and a PUT per image) is never made. An original is only ever
// served with its sniffed raster type forced on the response, so whatever the object's stored Content-Type says,
// or whatever its key ends in, a browser never treats it as markup or script (SVG and HTML never get this far).

import { BUCKET_LAYOUT } from './layout.js';
import type { ImageRecord } from './model.js';

/** Content types an original may be served with as its display image. */
export const ORIGINAL_DISPLAY_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp']);

export interface DisplayObject {
  key: string;
  /** The Content-Type to force on the response. */
  contentType: string;
}

/** What ingest records for an image it made no display copy of: the original, with its sniffed format. */
export function originalDisplay(image: Pick<ImageRecord, 'key'>, format: string): DisplayObject | undefined {
  const contentType = `image/${format}`;
  return ORIGINAL_DISPLAY_TYPES.has(contentType) ? { key: image.key, contentType } : undefined;
}

export const derivedDisplay = (image: Pick<ImageRecord, 'projectId' | 'imageId'>): DisplayObject => ({
  key: BUCKET_LAYOUT.derivedKey(image.projectId, image.imageId, 'display'),
  contentType: 'image/webp',
});

/** The object to serve as this image's display image, and the content type to serve it with. */
export function displayObject(image: ImageRecord): DisplayObject {
  const recorded = image.display;
  if (recorded && recorded.key === image.key && ORIGINAL_DISPLAY_TYPES.has(recorded.contentType)) return { ...recorded };
  return derivedDisplay(image);
}
