// At start-up, find uploads that have no finished image record (events lost while the stack was down, an ingest
// interrupted by a crash, or one given up after repeated errors) and queue them. Ingest is idempotent, so queueing
// too much is harmless.

import { imageIdFor } from '../domain/ingest.js';
import { parseUploadKey } from '../domain/layout.js';
import type { Log, Stores } from '../domain/ports.js';
import type { IngestQueue } from './ingest-queue.js';

export async function reconcileUploads(
  stores: Stores,
  queue: IngestQueue,
  log: Log,
  prefix = 'uploads/',
): Promise<number> {
  let cursor: string | undefined;
  let queued = 0;
  do {
    const page = await stores.blobs.list(prefix, { cursor, limit: 1000 });
    for (const object of page.items) {
      const parsed = parseUploadKey(object.key);
      if (!parsed) continue;
      const image = await stores.samples.getImage(parsed.projectId, imageIdFor(object.key));
      if (image && image.etag === object.etag && image.status !== 'pending') continue;
      // The listing gives the key as it is: queued as it is (no encoding a decoder would have to undo).
      queue.push([
        {
          key: object.key,
          eventName: 'ObjectCreated:Put',
          eventTime: (object.lastModified ?? new Date()).toISOString(),
          size: object.bytes,
          etag: object.etag,
        },
      ]);
      queued++;
    }
    cursor = page.cursor;
  } while (cursor);
  if (queued) log(`reconcile: queued ${queued} upload(s) without a finished image record`);
  return queued;
}
