// The project's embedding shards (format in functions/adapters/embeddings/shards.ts) read for export without loading any
// shard whole: the header (sample ids) first, vectors later in row ranges. A compacted shard of 65,536 rows at
// 1,280 dims is 168 MB; a ranged read of 1,024 rows is 2.6 MB.

import { WinnowError } from '../../domain/errors.js';
import { halfToFloat32 } from '../../domain/half.js';
import type { EmbeddingShardRef, EmbeddingSource } from '../../domain/interchange/export/ports.js';
import type { BlobStore } from '../../domain/ports.js';
import { embeddingsPrefix, listShards } from '../embeddings/shards.js';

/** Bytes [start, end) of an object, or undefined when the object is gone. */
export type RangeReader = (key: string, start: number, end: number) => Promise<Uint8Array | undefined>;

const MAGIC = 'WNEMB001';
/** Most headers fit: a level-0 shard's header is a few hundred bytes. */
const FIRST_READ = 64 * 1024;

interface ShardHeader {
  key: string;
  dims: number;
  sampleIds: string[];
  replaces: string[];
  /** Byte offset of row 0. */
  dataStart: number;
}

export function shardSource(blobs: BlobStore, readRange: RangeReader): EmbeddingSource {
  return {
    async *shards(projectId, model) {
      const headers: ShardHeader[] = [];
      for (const object of await listShards(blobs, embeddingsPrefix(projectId, model))) {
        const header = await readHeader(readRange, object.key);
        if (header) headers.push(header); // deleted since the listing: a compaction replaced it
      }
      // A compactor's output names its inputs; readers skip them (see adapters/embeddings/shards.ts).
      const replaced = new Set(headers.flatMap((h) => h.replaces));
      for (const h of headers) if (!replaced.has(h.key)) yield shardRef(readRange, h);
    },
  };
}

async function readHeader(readRange: RangeReader, key: string): Promise<ShardHeader | undefined> {
  let bytes = await readRange(key, 0, FIRST_READ);
  if (!bytes) return undefined;
  if (bytes.length < 12 || Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== MAGIC) throw damaged(key, 'wrong magic bytes');
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + length > bytes.length) {
    const rest = await readRange(key, bytes.length, 12 + length);
    if (!rest) return undefined;
    bytes = Buffer.concat([bytes, rest]);
  }
  const json = JSON.parse(Buffer.from(bytes.subarray(12, 12 + length)).toString('utf8')) as {
    dims: number;
    rows: number;
    sampleIds: string[];
    replaces?: string[];
  };
  if (json.sampleIds.length !== json.rows) throw damaged(key, 'row count and sample ids disagree');
  return { key, dims: json.dims, sampleIds: json.sampleIds, replaces: json.replaces ?? [], dataStart: 12 + length };
}

function shardRef(readRange: RangeReader, h: ShardHeader): EmbeddingShardRef {
  return {
    dims: h.dims,
    sampleIds: h.sampleIds,
    async read(from, to) {
      const rowBytes = h.dims * 2;
      const bytes = await readRange(h.key, h.dataStart + from * rowBytes, h.dataStart + to * rowBytes);
      if (!bytes) {
        // Compacted away while this export ran: the job retries from the start (see job.ts).
        throw new WinnowError('unavailable', `embedding shard ${h.key} was compacted during the export`);
      }
      if (bytes.byteLength !== (to - from) * rowBytes) throw damaged(h.key, `expected ${(to - from) * rowBytes} bytes for rows ${from}-${to}`);
      // Uint16Array needs an even offset; network bodies may sit anywhere in their buffer.
      const halves = bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2) : new Uint16Array(bytes.slice().buffer);
      return halfToFloat32(halves);
    },
  };
}

const damaged = (key: string, why: string) => new WinnowError('internal', `embedding shard ${key} is damaged: ${why}`);

/** Range reads through the BlobStore port (whole object, then sliced): for in-memory stores in tests. */
export function blobRangeReader(blobs: BlobStore): RangeReader {
  return async (key, start, end) => {
    const object = await blobs.get(key);
    return object && object.body.subarray(start, Math.min(end, object.body.byteLength));
  };
}
