// The image records the API presents with each served sample (file name, size, status), cached per process.
// Only ready records are kept: they change only when their file is replaced by a new upload, which the API then
// shows within the cache's lifetime. And the read is started while the sample's lease is still being written,
// instead of after it: ingest gives a whole-image sample its image's id, so for the usual project the record is
// on its way before the lease returns. Projects whose samples are mostly boxes (another id) soon stop guessing.

import type { ImageRecord } from '../domain/model.js';
import type { Clock, SampleStore } from '../domain/ports.js';
import { TtlCache } from './read-cache.js';

/** Guesses judged before deciding whether guessing pays for a project. */
const GUESSES_TO_JUDGE = 20;
/** Share of guesses that must turn out right to keep guessing. */
const MIN_HIT_RATE = 0.5;

export function cachedImages(store: SampleStore, clock: Clock, ttlMs = 10_000): SampleStore {
  const cache = new TtlCache<ImageRecord | undefined>(ttlMs, clock);
  const key = (projectId: string, imageId: string) => `${projectId}\n${imageId}`;
  const guesses = new Map<string, { tries: number; hits: number; open: Set<string> }>();

  const load = (projectId: string, imageId: string) => {
    const k = key(projectId, imageId);
    return cache.get(k, () =>
      store.getImage(projectId, imageId).then((image) => {
        if (image?.status !== 'ready') queueMicrotask(() => cache.forget(k)); // read again next time
        return image;
      }),
    );
  };
  const guess = (projectId: string, sampleId: string) => {
    let g = guesses.get(projectId);
    if (!g) guesses.set(projectId, (g = { tries: 0, hits: 0, open: new Set() }));
    if (g.tries >= GUESSES_TO_JUDGE && g.hits < MIN_HIT_RATE * g.tries) return;
    g.tries++;
    g.open.add(sampleId);
    if (g.open.size > 1000) g.open.clear(); // guesses nobody asked about (refused leases, boxes)
    void load(projectId, sampleId).catch(() => undefined);
  };

  return {
    putImageIfAbsent: async (image) => {
      cache.forget(key(image.projectId, image.imageId));
      return store.putImageIfAbsent(image);
    },
    putImage: async (image) => {
      cache.forget(key(image.projectId, image.imageId));
      await store.putImage(image);
    },
    getImage: async (projectId, imageId) => {
      const g = guesses.get(projectId);
      if (g?.open.delete(imageId)) g.hits++;
      const image = await load(projectId, imageId);
      return image && structuredClone(image);
    },
    listImages: (projectId, opts) => store.listImages(projectId, opts),
    putSamplesIfAbsent: (samples) => store.putSamplesIfAbsent(samples),
    getSample: (projectId, sampleId) => store.getSample(projectId, sampleId),
    getSamples: (projectId, sampleIds) => store.getSamples(projectId, sampleIds),
    listSamples: (projectId, opts) => store.listSamples(projectId, opts),
    queue: (projectId, opts) => store.queue(projectId, opts),
    lease: (projectId, sampleId, lease, now) => {
      guess(projectId, sampleId);
      return store.lease(projectId, sampleId, lease, now);
    },
    advance: (projectId, sampleId, expectedVersion, next) => store.advance(projectId, sampleId, expectedVersion, next),
    setProposals: (projectId, sampleId, proposals) => store.setProposals(projectId, sampleId, proposals),
    deleteImage: async (projectId, imageId) => {
      await store.deleteImage(projectId, imageId);
      cache.forget(key(projectId, imageId));
    },
    deleteSample: (projectId, sampleId) => store.deleteSample(projectId, sampleId),
    listSamplesOfImage: (projectId, imageId) => store.listSamplesOfImage(projectId, imageId),
    deleteMany: async (projectId, items) => {
      await store.deleteMany(projectId, items);
      for (const id of items.imageIds ?? []) cache.forget(key(projectId, id));
    },
    counts: (projectId) => store.counts(projectId),
    recount: (projectId) => store.recount(projectId),
  };
}
