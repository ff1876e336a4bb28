// The image record ingest leaves for a synthetic image, as the benchmarks seed them: image number `i` is
// img-<i, zero-padded>.jpg, a 640x480 JPEG of 120 kB uploaded `i` milliseconds after 2025-01-01.

import type { ImageRecord } from '../../../functions/domain/model.js';

export function syntheticImage(
  projectId: string,
  i: number,
  opts: { imageId: string; nameDigits: number; status?: ImageRecord['status'] },
): ImageRecord {
  const status = opts.status ?? 'ready';
  const name = `img-${String(i).padStart(opts.nameDigits, '0')}.jpg`;
  const at = new Date(Date.UTC(2025, 0, 1, 0, 0, 0, 0) + i).toISOString();
  return {
    projectId,
    imageId: opts.imageId,
    key: `uploads/${projectId}/${name}`,
    etag: `"${i.toString(16).padStart(32, '0')}"`,
    bytes: 120_000,
    width: 640,
    height: 480,
    contentType: 'image/jpeg',
    status,
    ...(status === 'failed' ? { reason: 'not an image: the file could not be decoded' } : {}),
    order: `${at}|${name}`,
    createdAt: at,
    updatedAt: at,
  };
}
