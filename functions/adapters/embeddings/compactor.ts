// Merges many small embedding shards (one per ingested image) into few large ones, so the trainer lists and
// fetches hundreds of objects instead of a million. Safe against concurrent readers (see shards.ts).

import type { BlobStore } from '../../domain/ports.js';
import {
  decodeShard,
  embeddingsPrefix,
  encodeShard,
  liveShards,
  listShards,
  mergeShards,
  SHARD_CONTENT_TYPE,
  type EmbeddingShard,
} from './shards.js';

export interface CompactOptions {
  /** Compact only when at least this many small shards exist (default 16). */
  minShards?: number;
  /** Rows per output shard (default 65536, ~48 MB of fp16 at 384 dims). */
  targetRows?: number;
  /** Shards of at least this many bytes are left alone (default 8 MiB). */
  smallBytes?: number;
  now?: number;
}

export interface CompactResult {
  /** Input shards merged (and deleted). */
  merged: number;
  /** Keys written. */
  written: string[];
  rows: number;
}

export async function compactEmbeddings(blobs: BlobStore, projectId: string, model: string, opts: CompactOptions = {}): Promise<CompactResult> {
  const minShards = opts.minShards ?? 16;
  const targetRows = opts.targetRows ?? 65536;
  const smallBytes = opts.smallBytes ?? 8 * 1024 * 1024;
  const prefix = embeddingsPrefix(projectId, model);
  const small = (await listShards(blobs, prefix)).filter((o) => o.bytes < smallBytes);
  if (small.length < minShards) return { merged: 0, written: [], rows: 0 };

  const fetched = await Promise.all(small.map(async (o) => ({ key: o.key, object: await blobs.get(o.key) })));
  const entries = fetched.filter((f) => f.object).map((f) => ({ key: f.key, shard: decodeShard(f.object!.body, f.key) }));
  const live = liveShards(entries);
  // Inputs already replaced by a finished compaction (a crash before its deletes) just get deleted.
  const inputs = entries.map((e) => e.key);
  const dims = live[0]?.shard.dims ?? 0;
  const { sampleIds, vectors } = mergeShards(live.map((e) => e.shard), dims);

  const newest = live.reduce((max, e) => (e.shard.order > max ? e.shard.order : max), '');
  const ms = Number(newest.slice(0, 13)) || (opts.now ?? Date.now());
  const written: string[] = [];
  const chunks = Math.max(1, Math.ceil(sampleIds.length / targetRows));
  for (let c = 0; c < chunks; c++) {
    const from = c * targetRows;
    const to = Math.min(sampleIds.length, from + targetRows);
    const order = `${String(ms).padStart(13, '0')}-1-${String(c).padStart(4, '0')}${Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0')}`;
    const shard: EmbeddingShard = {
      model,
      dims,
      sampleIds: sampleIds.slice(from, to),
      vectors: vectors.subarray(from * dims, to * dims),
      order,
      // Only the last output supersedes the inputs: until it exists, readers still use them.
      replaces: c === chunks - 1 ? inputs : [],
      createdAt: new Date(opts.now ?? Date.now()).toISOString(),
    };
    const key = `${prefix}${order}.emb`;
    await blobs.put(key, encodeShard(shard), SHARD_CONTENT_TYPE);
    written.push(key);
  }
  await Promise.all(inputs.map((key) => blobs.delete(key)));
  return { merged: inputs.length, written, rows: sampleIds.length };
}
