// What the API sends for a sample: the sample head plus short-lived URLs for its image.

import { displayObject, type DisplayObject } from '../domain/display-image.js';
import { BUCKET_LAYOUT } from '../domain/layout.js';
import type { Annotation, ImageRecord, Sample } from '../domain/model.js';
import type { ObjectUrls } from '../domain/ports.js';
import type { ApiDeps } from './types.js';

/** The URLs browsers get for objects: the composition root's choice, else the blob store's presigned URLs. */
export function objectUrls(deps: ApiDeps): ObjectUrls {
  if (deps.objectUrls) return deps.objectUrls;
  const { blobs } = deps.stores;
  return {
    getUrl: (key, ttl, opts) => blobs.presignGet(key, ttl, { contentType: opts?.contentType }),
    putUrl: (key, contentType, ttl) => blobs.presignPut(key, contentType, ttl),
  };
}

export interface PresentedImage {
  imageId: string;
  key: string;
  width?: number;
  height?: number;
  status: ImageRecord['status'];
  reason?: string;
  url: string;
  thumbUrl: string;
}

/** An image's thumbnail object: WebP (ingest writes it so). */
export const thumbObject = (image: Pick<ImageRecord, 'projectId' | 'imageId'>): DisplayObject => ({
  key: BUCKET_LAYOUT.derivedKey(image.projectId, image.imageId, 'thumb'),
  contentType: 'image/webp',
});

export async function presentImage(deps: ApiDeps, image: ImageRecord): Promise<PresentedImage> {
  const ttl = deps.presignTtlSeconds ?? 900;
  const urls = objectUrls(deps);
  const display = displayObject(image);
  const thumb = thumbObject(image);
  const [url, thumbUrl] = await Promise.all([
    urls.getUrl(display.key, ttl, { contentType: display.contentType }),
    urls.getUrl(thumb.key, ttl, { contentType: thumb.contentType }),
  ]);
  return {
    imageId: image.imageId,
    key: image.key,
    width: image.width,
    height: image.height,
    status: image.status,
    ...(image.reason ? { reason: image.reason } : {}),
    url,
    thumbUrl,
  };
}

/** Samples with their images' URLs; `read`: their image records read already (else each image is read here). */
export async function presentSamples(deps: ApiDeps, samples: Sample[], read?: ReadonlyMap<string, ImageRecord>) {
  const images = new Map<string, Promise<ImageRecord | undefined>>();
  for (const s of samples) {
    if (!images.has(s.imageId)) images.set(s.imageId, read ? Promise.resolve(read.get(s.imageId)) : deps.stores.samples.getImage(s.projectId, s.imageId));
  }
  return Promise.all(
    samples.map(async (sample) => {
      const image = await images.get(sample.imageId)!;
      return { sample: publicSample(sample), image: image ? await presentImage(deps, image) : undefined };
    }),
  );
}

/** The lease's stored probabilities are internal (live error); the labeler sees only its own expiry. */
export function publicSample(sample: Sample) {
  // Its quality sums say whether its labels were audit draws (domain/quality-tally.ts): never shown.
  const { lease, liveTally: _sums, ...rest } = sample;
  return lease ? { ...rest, lease: { labelerId: lease.labelerId, until: lease.until } } : rest;
}

/**
 * An annotation as labelers see it: without the model's score of it (`live`), which would tell, after the fact, which
 * samples were audit draws (the audit stream is shown to nobody as different).
 */
export function publicAnnotation(annotation: Annotation) {
  const { live: _scored, ...rest } = annotation;
  return rest;
}
