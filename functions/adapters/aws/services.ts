// The services both composition roots build from the same adapters: the local stack (functions/local) and the
// Lambdas (functions/*/lambda.ts). One place decides which reads the API caches and what happens after an image
// is analysed, so the two cannot drift apart.

import type { IngestDeps } from '../../domain/ingest.js';
import type { Stores } from '../../domain/ports.js';
import { embeddingSink } from '../../ingest/embedding-sink.js';
import { cachedImages } from '../image-cache.js';
import { cachedProjects, cachedRankings } from '../read-cache.js';

/**
 * The stores the API serves labelers from: every labeling request reads the project, its ranking and the image
 * of each served sample, so those are cached briefly per process (per warm container in the cloud).
 */
export function servingStores(stores: Stores) {
  const rankings = cachedRankings(stores.rankings, stores.clock);
  return {
    ...stores,
    projects: cachedProjects(stores.projects, stores.clock),
    rankings,
    samples: cachedImages(stores.samples, stores.clock, undefined, { rankings }),
  } satisfies Stores;
}

/**
 * After ingest analysed an image: append its embeddings to the project's shards, then tell the trainer (new
 * vectors change the ranking). Undefined without an embedder (samples are then served in upload order).
 */
export function afterAnalysis(stores: Pick<Stores, 'blobs'>, embedder: string | undefined, onEmbedded: (projectId: string) => void): IngestDeps['onAnalyzed'] {
  const sink = embeddingSink(stores.blobs, embedder);
  return sink && (async (project, image, samples, analysis) => {
    await sink(project, image, samples, analysis);
    onEmbedded(project.id);
  });
}
