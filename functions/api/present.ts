// What the API sends for a sample: the sample head plus short-lived URLs for its image.

import { displayObject } from '../domain/display-image.js';
import { BUCKET_LAYOUT } from '../domain/layout.js';
import type { ImageRecord, Sample } from '../domain/model.js';
import type { ApiDeps } from './types.js';

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

export async function presentImage(deps: ApiDeps, image: ImageRecord): Promise<PresentedImage> {
  const ttl = deps.presignTtlSeconds ?? 900;
  const { blobs } = deps.stores;
  const display = displayObject(image);
  const [url, thumbUrl] = await Promise.all([
    blobs.presignGet(display.key, ttl, { contentType: display.contentType }),
    blobs.presignGet(BUCKET_LAYOUT.derivedKey(image.projectId, image.imageId, 'thumb'), ttl),
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

export async function presentSamples(deps: ApiDeps, samples: Sample[]) {
  const images = new Map<string, Promise<ImageRecord | undefined>>();
  for (const s of samples) {
    if (!images.has(s.imageId)) images.set(s.imageId, deps.stores.samples.getImage(s.projectId, s.imageId));
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
  const { lease, ...rest } = sample;
  return lease ? { ...rest, lease: { labelerId: lease.labelerId, until: lease.until } } : rest;
}
