// In-memory fakes of every storage port, for unit tests and quick experiments. Same semantics as the AWS adapters;
// the contract suite in test/contract runs against both.

import { systemClock, type Clock, type Stores } from '../../domain/ports.js';
import { shardEmbeddings } from '../embeddings/store.js';
import { MemoryAnnotationStore } from './annotations.js';
import { MemoryBlobStore } from './blobs.js';
import { MemoryLabelerStore } from './labelers.js';
import { MemoryProjectStore } from './projects.js';
import { MemoryRankingStore } from './rankings.js';
import { MemorySampleStore } from './samples.js';

export { MemoryAnnotationStore, MemoryBlobStore, MemoryLabelerStore, MemoryProjectStore, MemoryRankingStore, MemorySampleStore };

export interface MemoryStores extends Stores {
  /** Typed as the fake so tests can serve its `memory://` presigned URLs. */
  blobs: MemoryBlobStore;
  /** Typed as the fakes so tests can scan them (deletion leaves nothing). */
  projects: MemoryProjectStore;
  samples: MemorySampleStore;
  annotations: MemoryAnnotationStore;
  labelers: MemoryLabelerStore;
  rankings: MemoryRankingStore;
}

export function createMemoryStores(clock: Clock = systemClock): MemoryStores {
  const blobs = new MemoryBlobStore(clock);
  return {
    projects: new MemoryProjectStore(),
    samples: new MemorySampleStore(),
    annotations: new MemoryAnnotationStore(),
    labelers: new MemoryLabelerStore(),
    rankings: new MemoryRankingStore(),
    blobs,
    // The embeddings are shard objects in the bucket in every stack: here in the fake bucket, as ingest writes them.
    embeddings: shardEmbeddings(blobs),
    clock,
  };
}
