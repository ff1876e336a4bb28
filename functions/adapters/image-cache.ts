// The image records the API presents with each served sample (file name, size, status), cached per process.
// Only ready records are kept: they change only when their file is replaced by a new upload, which the API then
// shows within the cache's lifetime. And the read is started while the sample's lease is still being written,
// instead of after it: ingest gives a whole-image sample its image's id, so for the usual project the record is
// on its way before the lease returns. Projects whose samples are mostly boxes (another id) soon stop guessing.
// With the ranking at hand (the API's cached one), a lease does better than one guess: the records of the ranked
// samples from the leased one on are read together (one BatchGetItem for the next AHEAD), so the leases that follow,
// by this labeler or any other, find their image already here: one image read per AHEAD labels instead of one each.
// The entries read ahead are kept exactly like single reads (ready ones only, for the same lifetime, dropped by
// every write and deletion through this cache).

import type { ImageRecord, RankedQueue } from '../domain/model.js';
import type { Clock, RankingStore, SampleStore } from '../domain/ports.js';
import { TtlCache } from './read-cache.js';

/** Ranked samples whose image records one lease reads ahead (DynamoDB's BatchGetItem holds 100 keys). */
const AHEAD = 100;
/** How deep into a ranking a leased sample is looked for (the lease walk takes samples from the front). */
const SEARCH_LIMIT = 20_000;
/** Records read ahead before deciding whether reading ahead pays for a project (box samples have other ids). */
const AHEAD_TO_JUDGE = 200;

/** Guesses judged before deciding whether guessing pays for a project. */
const GUESSES_TO_JUDGE = 20;
/** Share of guesses that must turn out right to keep guessing. */
const MIN_HIT_RATE = 0.5;

export interface ImageCacheOptions {
  /** The ranking each lease is looked up in, to read the next ranked samples' images ahead (none: one guess a lease). */
  rankings?: Pick<RankingStore, 'get'>;
}

export function cachedImages(store: SampleStore, clock: Clock, ttlMs = 10_000, opts: ImageCacheOptions = {}): SampleStore {
  const cache = new TtlCache<ImageRecord | undefined>(ttlMs, clock);
  const key = (projectId: string, imageId: string) => `${projectId}\n${imageId}`;
  const guesses = new Map<string, { tries: number; hits: number; open: Set<string> }>();
  const aheadStats = new Map<string, { asked: number; found: number }>();

  /** Only ready records are kept: any other (or none) is read again by the next reader. */
  const keepReady = (k: string) => (image: ImageRecord | undefined) => {
    if (image?.status !== 'ready') queueMicrotask(() => cache.forget(k));
    return image;
  };
  const load = (projectId: string, imageId: string) => {
    const k = key(projectId, imageId);
    return cache.get(k, () => store.getImage(projectId, imageId).then(keepReady(k)));
  };
  const readAheadPays = (projectId: string) => {
    const s = aheadStats.get(projectId);
    return !s || s.asked < AHEAD_TO_JUDGE || s.found * 2 >= s.asked;
  };
  /**
   * One batch read of the images of `ids` (ranked sample ids: a whole-image sample has its image's id), each entered
   * in the cache; `judged` counts it towards whether reading ahead pays for the project.
   */
  const readBatch = (projectId: string, ids: string[], judged = true) => {
    const batch = store.getImages(projectId, ids).then((images) => {
      if (judged) {
        let s = aheadStats.get(projectId);
        if (!s) aheadStats.set(projectId, (s = { asked: 0, found: 0 }));
        s.asked += ids.length;
        s.found += images.length;
      }
      return new Map(images.map((image) => [image.imageId, image]));
    });
    for (const id of ids) {
      const k = key(projectId, id);
      void cache.prime(k, batch.then((found) => found.get(id)).then(keepReady(k))).catch(() => undefined);
    }
  };
  const readAhead = (rankings: Pick<RankingStore, 'get'>, projectId: string, sampleId: string) => {
    if (cache.has(key(projectId, sampleId))) return; // read ahead by an earlier lease
    if (!readAheadPays(projectId)) return guess(projectId, sampleId);
    void rankings
      .get(projectId)
      .then((ranking) => {
        if (cache.has(key(projectId, sampleId))) return; // another lease's batch meanwhile
        const at = ranking ? positionOf(ranking, sampleId) : -1;
        if (at < 0) return guess(projectId, sampleId); // served from the upload-order queue
        const ids: string[] = [];
        const ranked = ranking!.sampleIds;
        for (let i = at; i < ranked.length && i < at + 4 * AHEAD && ids.length < AHEAD; i++) {
          if (!cache.has(key(projectId, ranked[i]))) ids.push(ranked[i]);
        }
        readBatch(projectId, ids);
      })
      .catch(() => undefined); // the record is read when presented
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
    getImages: async (projectId, imageIds) => {
      // The ones not held are read together (one BatchGetItem), not one by one.
      const missing = [...new Set(imageIds)].filter((id) => !cache.has(key(projectId, id)));
      if (missing.length > 0) readBatch(projectId, missing, false);
      const images = await Promise.all(imageIds.map((id) => load(projectId, id)));
      return images.flatMap((image) => (image ? [structuredClone(image)] : []));
    },
    listImages: (projectId, listOpts) => store.listImages(projectId, listOpts),
    putSamplesIfAbsent: (samples) => store.putSamplesIfAbsent(samples),
    getSample: (projectId, sampleId) => store.getSample(projectId, sampleId),
    getSamples: (projectId, sampleIds) => store.getSamples(projectId, sampleIds),
    listSamples: (projectId, opts) => store.listSamples(projectId, opts),
    queue: (projectId, opts) => store.queue(projectId, opts),
    lease: (projectId, sampleId, lease, now) => {
      if (opts.rankings) readAhead(opts.rankings, projectId, sampleId);
      else guess(projectId, sampleId);
      return store.lease(projectId, sampleId, lease, now);
    },
    advance: (projectId, sampleId, expectedVersion, next) => store.advance(projectId, sampleId, expectedVersion, next),
    ...(store.prepareAdvance ? { prepareAdvance: (projectId: string) => store.prepareAdvance!(projectId) } : {}),
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

/** The leased sample's position in the ranking, looked for among its first SEARCH_LIMIT samples (-1: not there). */
function positionOf(ranking: RankedQueue, sampleId: string): number {
  const ids = ranking.sampleIds;
  for (let i = 0, n = Math.min(ids.length, SEARCH_LIMIT); i < n; i++) if (ids[i] === sampleId) return i;
  return -1;
}
