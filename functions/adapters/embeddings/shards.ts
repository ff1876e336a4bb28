// Embedding storage for the trainer: append-only fp16 shard objects in the bucket, merged by a compactor, read in
// bulk into one matrix. Only the BlobStore port is used, so it runs the same on S3, s3rver and in memory.
//
// Layout: `embeddings/<project>/<model>/<order>.emb`, where `<order>` = `<13-digit epoch ms>-<level>-<random>` sorts
// in write order (level 0 = written by ingest, 1 = written by the compactor). One object:
//
//   bytes 0-7   magic "WNEMB001"
//   bytes 8-11  header length H (uint32 little-endian); 12 + H is a multiple of 8
//   then        header JSON (UTF-8, space-padded): { model, dims, rows, dtype: "float16", sampleIds[], order,
//               replaces[], createdAt }
//   then        rows x dims float16, little-endian, row-major (row i belongs to sampleIds[i])
//
// Ingest writes small shards: an image and its box samples, or the few images that finished while the previous
// shard was being written (see functions/ingest/embedding-sink.ts). The compactor merges small shards into
// shards of up to `targetRows` rows; the last shard it writes names the inputs in `replaces`, then it deletes them.
// Readers skip any shard named in another's `replaces`, so a reader racing a compaction, or a compactor that died
// between writing and deleting, never sees a row twice or loses one. When a sample id appears in several shards
// the one in the later shard (by key order) wins. Run one compactor per project at a time (the trainer).

import { mapBounded } from '../../domain/concurrency.js';
import { BUCKET_LAYOUT } from '../../domain/layout.js';
import type { BlobStore, StoredObject } from '../../domain/ports.js';
import { WinnowError } from '../../domain/errors.js';
import { float32ToHalf, halfToFloat32 } from '../../domain/half.js';

const MAGIC = 'WNEMB001';
export const SHARD_CONTENT_TYPE = 'application/vnd.winnow.embeddings';
const SHARD_SUFFIX = '.emb';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('embedding shards assume a little-endian machine');
}

export interface EmbeddingShard {
  model: string;
  dims: number;
  sampleIds: string[];
  /** rows x dims fp16 bits. */
  vectors: Uint16Array;
  order: string;
  /** Keys of the shards this one supersedes (compactor output only). */
  replaces: string[];
  createdAt: string;
}

interface ShardHeader {
  model: string;
  dims: number;
  rows: number;
  dtype: 'float16';
  sampleIds: string[];
  order: string;
  replaces: string[];
  createdAt: string;
}

export function encodeShard(shard: EmbeddingShard): Uint8Array {
  const rows = shard.sampleIds.length;
  if (shard.vectors.length !== rows * shard.dims) throw new WinnowError('internal', `shard has ${shard.vectors.length} values for ${rows} x ${shard.dims}`);
  const header: ShardHeader = {
    model: shard.model,
    dims: shard.dims,
    rows,
    dtype: 'float16',
    sampleIds: shard.sampleIds,
    order: shard.order,
    replaces: shard.replaces,
    createdAt: shard.createdAt,
  };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil((12 + json.length) / 8) * 8 - 12;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const out = new Uint8Array(12 + padded + shard.vectors.byteLength);
  out.set(Buffer.from(MAGIC, 'latin1'), 0);
  new DataView(out.buffer).setUint32(8, padded, true);
  out.set(json, 12);
  out.set(new Uint8Array(shard.vectors.buffer, shard.vectors.byteOffset, shard.vectors.byteLength), 12 + padded);
  return out;
}

export function decodeShard(bytes: Uint8Array, key = 'shard'): EmbeddingShard {
  const bad = (why: string) => new WinnowError('internal', `embedding shard ${key} is damaged: ${why}`);
  if (bytes.length < 12 || Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== MAGIC) throw bad('wrong magic bytes');
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + headerLength > bytes.length) throw bad('header runs past the end');
  const header = JSON.parse(Buffer.from(bytes.subarray(12, 12 + headerLength)).toString('utf8')) as ShardHeader;
  const start = 12 + headerLength;
  const expected = header.rows * header.dims * 2;
  if (bytes.length - start !== expected || header.sampleIds.length !== header.rows) throw bad(`expected ${expected} matrix bytes`);
  // Uint16Array needs an even byte offset; bodies from the network may sit anywhere in their buffer.
  const aligned = (bytes.byteOffset + start) % 2 === 0;
  const vectors = aligned
    ? new Uint16Array(bytes.buffer, bytes.byteOffset + start, header.rows * header.dims)
    : new Uint16Array(bytes.slice(start).buffer);
  return { model: header.model, dims: header.dims, sampleIds: header.sampleIds, vectors, order: header.order, replaces: header.replaces ?? [], createdAt: header.createdAt };
}

export const embeddingsPrefix = (projectId: string, model: string) => `${BUCKET_LAYOUT.embeddingsPrefix(projectId)}${model}/`;

function orderKey(ms: number, level: 0 | 1): string {
  const random = Math.floor(Math.random() * 2 ** 32).toString(16).padStart(8, '0');
  return `${String(ms).padStart(13, '0')}-${level}-${random}`;
}

export interface EmbeddingRow {
  sampleId: string;
  /** Any length-`dims` vector (stored as fp16). */
  vector: Float32Array;
}

/** Writes one level-0 shard (ingest: one or a few images and their boxes) and returns its key. */
export async function appendEmbeddings(
  blobs: BlobStore,
  projectId: string,
  model: string,
  rows: EmbeddingRow[],
  now = Date.now(),
): Promise<string> {
  if (rows.length === 0) throw new WinnowError('internal', 'no embeddings to append');
  const dims = rows[0].vector.length;
  const vectors = new Uint16Array(rows.length * dims);
  rows.forEach((r, i) => {
    if (r.vector.length !== dims) throw new WinnowError('internal', `embedding for ${r.sampleId} has ${r.vector.length} dims, expected ${dims}`);
    float32ToHalf(r.vector, vectors.subarray(i * dims, (i + 1) * dims));
  });
  const order = orderKey(now, 0);
  const key = `${embeddingsPrefix(projectId, model)}${order}${SHARD_SUFFIX}`;
  const shard = { model, dims, sampleIds: rows.map((r) => r.sampleId), vectors, order, replaces: [], createdAt: new Date(now).toISOString() };
  await blobs.put(key, encodeShard(shard), SHARD_CONTENT_TYPE);
  return key;
}

/** Every shard object under the prefix, in key (= write) order. */
export async function listShards(blobs: BlobStore, prefix: string): Promise<StoredObject[]> {
  const all: StoredObject[] = [];
  let cursor: string | undefined;
  do {
    const page = await blobs.list(prefix, { cursor, limit: 1000 });
    all.push(...page.items.filter((o) => o.key.endsWith(SHARD_SUFFIX)));
    cursor = page.cursor;
  } while (cursor);
  return all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Keeps the last occurrence of each sample id, in shard order; returns ids and the fp16 matrix. */
export function mergeShards(shards: EmbeddingShard[], dims: number): { sampleIds: string[]; vectors: Uint16Array } {
  const total = shards.reduce((n, s) => n + s.sampleIds.length, 0);
  const last = new Map<string, number>();
  let index = 0;
  for (const s of shards) for (const id of s.sampleIds) last.set(id, index++);
  const vectors = new Uint16Array(last.size * dims);
  const sampleIds: string[] = [];
  if (last.size === total) {
    // No sample was re-embedded: plain concatenation.
    let at = 0;
    for (const s of shards) {
      vectors.set(s.vectors, at);
      at += s.vectors.length;
      for (const id of s.sampleIds) sampleIds.push(id);
    }
    return { sampleIds, vectors };
  }
  index = 0;
  for (const s of shards) {
    for (let r = 0; r < s.sampleIds.length; r++, index++) {
      if (last.get(s.sampleIds[r]) !== index) continue;
      vectors.set(s.vectors.subarray(r * dims, (r + 1) * dims), sampleIds.length * dims);
      sampleIds.push(s.sampleIds[r]);
    }
  }
  return { sampleIds, vectors };
}

/** The shards a reader should use: drops those another listed shard replaces, and checks one model/dims. */
export function liveShards(entries: { key: string; shard: EmbeddingShard }[]): { key: string; shard: EmbeddingShard }[] {
  const replaced = new Set(entries.flatMap((e) => e.shard.replaces));
  const live = entries.filter((e) => !replaced.has(e.key));
  const dims = live[0]?.shard.dims;
  for (const e of live) {
    if (e.shard.dims !== dims) throw new WinnowError('internal', `embedding shard ${e.key} has ${e.shard.dims} dims, others ${dims}`);
  }
  return live;
}

/**
 * Takes these samples' rows out of every shard of the project (every model): each shard holding one is rewritten
 * in place without it (same key, so readers and the compactor see no new shard). Returns the rows removed.
 */
export async function removeSampleRows(blobs: BlobStore, projectId: string, sampleIds: ReadonlySet<string>): Promise<number> {
  if (sampleIds.size === 0) return 0;
  let removed = 0;
  const shards = await listShards(blobs, BUCKET_LAYOUT.embeddingsPrefix(projectId));
  await mapBounded(shards, 4, async ({ key }) => {
    const got = await blobs.get(key);
    if (!got) return;
    let shard: EmbeddingShard;
    try {
      shard = decodeShard(got.body, key);
    } catch {
      return; // a damaged shard, which readers refuse anyway
    }
    const keep = shard.sampleIds.map((id, i) => (sampleIds.has(id) ? -1 : i)).filter((i) => i >= 0);
    if (keep.length === shard.sampleIds.length) return;
    removed += shard.sampleIds.length - keep.length;
    const vectors = new Uint16Array(keep.length * shard.dims);
    keep.forEach((row, i) => vectors.set(shard.vectors.subarray(row * shard.dims, (row + 1) * shard.dims), i * shard.dims));
    await blobs.put(key, encodeShard({ ...shard, sampleIds: keep.map((i) => shard.sampleIds[i]), vectors }), SHARD_CONTENT_TYPE);
  });
  return removed;
}
