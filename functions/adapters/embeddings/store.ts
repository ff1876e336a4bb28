// The domain's embedding ports on the shard objects of shards.ts: the EmbeddingStore (the trainer's incremental reader and
// compactor, deletion's row removal) and import-features' FeatureVectors (append vectors, tell the stored dims).

import type { FeatureVectors } from '../../domain/import-features.js';
import type { BlobStore, Clock, EmbeddingStore } from '../../domain/ports.js';
import { compactEmbeddings } from './compactor.js';
import { EmbeddingReader } from './reader.js';
import { appendEmbeddings, decodeShard, embeddingsPrefix, listShards, removeSampleRows } from './shards.js';

export function shardEmbeddings(blobs: BlobStore): EmbeddingStore {
  return {
    source: (projectId, model) => new EmbeddingReader(blobs, projectId, model),
    compact: (projectId, model) => compactEmbeddings(blobs, projectId, model),
    removeSamples: (projectId, sampleIds) => removeSampleRows(blobs, projectId, new Set(sampleIds)),
  };
}

export function shardFeatureVectors(blobs: BlobStore, clock: Clock): FeatureVectors {
  return {
    async storedDims(projectId, model) {
      const shards = await listShards(blobs, embeddingsPrefix(projectId, model));
      if (shards.length === 0) return undefined;
      // Any shard tells the dims; the smallest is the cheapest to read.
      const smallest = shards.reduce((a, b) => (b.bytes < a.bytes ? b : a));
      const object = await blobs.get(smallest.key);
      return object ? decodeShard(object.body, smallest.key).dims : undefined;
    },
    async append(projectId, model, rows) {
      await appendEmbeddings(blobs, projectId, model, rows, clock.now());
    },
  };
}
