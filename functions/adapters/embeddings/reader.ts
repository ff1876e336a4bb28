// Loads a project's embeddings into one matrix for the trainer. Keep one reader per (project, model) between
// training runs: a later load() fetches only the shards it has not seen (new ingests, compactor output).

import type { BlobStore, EmbeddingMatrix, EmbeddingSource } from '../../domain/ports.js';
import { decodeShard, embeddingsPrefix, liveShards, listShards, mergeShards, type EmbeddingShard } from './shards.js';
import { halfToFloat32 } from '../../domain/half.js';

export type { EmbeddingMatrix };

export interface LoadStats {
  shards: number;
  fetched: number;
  fetchedBytes: number;
}

const MAX_ATTEMPTS = 5;

export class EmbeddingReader implements EmbeddingSource {
  private readonly cache = new Map<string, EmbeddingShard>();
  /** The last matrix and the shard keys it was built from: unchanged shards give the same matrix back. */
  private last?: { keys: string; matrix: EmbeddingMatrix };
  /** What the last load() did, for progress reports and benchmarks. */
  lastLoad: LoadStats = { shards: 0, fetched: 0, fetchedBytes: 0 };

  constructor(
    private readonly blobs: BlobStore,
    readonly projectId: string,
    readonly model: string,
  ) {}

  async load(): Promise<EmbeddingMatrix> {
    for (let attempt = 1; ; attempt++) {
      const listed = await listShards(this.blobs, embeddingsPrefix(this.projectId, this.model));
      const stats: LoadStats = { shards: listed.length, fetched: 0, fetchedBytes: 0 };
      const keys = new Set(listed.map((o) => o.key));
      for (const key of this.cache.keys()) if (!keys.has(key)) this.cache.delete(key);
      const unseen = listed.filter((o) => !this.cache.has(o.key));
      const fetched = await Promise.all(unseen.map(async (o) => ({ key: o.key, object: await this.blobs.get(o.key) })));
      // A shard deleted since the listing was compacted into one this listing may not include: list again.
      const vanished = fetched.some((f) => !f.object);
      for (const f of fetched) {
        if (!f.object) continue;
        this.cache.set(f.key, decodeShard(f.object.body, f.key));
        stats.fetched++;
        stats.fetchedBytes += f.object.body.byteLength;
      }
      if (vanished && attempt < MAX_ATTEMPTS) continue;
      this.lastLoad = stats;
      const live = liveShards(listed.filter((o) => this.cache.has(o.key)).map((o) => ({ key: o.key, shard: this.cache.get(o.key)! })));
      const liveKeys = live.map((e) => e.key).join('\n');
      if (this.last?.keys !== liveKeys) this.last = { keys: liveKeys, matrix: toMatrix(this.model, live.map((e) => e.shard)) };
      return this.last.matrix;
    }
  }
}

function toMatrix(model: string, shards: EmbeddingShard[]): EmbeddingMatrix {
  const dims = shards[0]?.dims ?? 0;
  const { sampleIds, vectors } = mergeShards(shards, dims);
  return {
    model,
    dims,
    rows: sampleIds.length,
    sampleIds,
    fp16: vectors,
    toFloat32: () => halfToFloat32(vectors),
    row: (i) => halfToFloat32(vectors.subarray(i * dims, (i + 1) * dims)),
  };
}
