// Embedding shards: what ingest appends, the trainer reads back as one matrix, before and after compaction,
// including the awkward moments (a reader racing a compactor, a compactor that died before deleting).

import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../functions/adapters/memory/blobs.js';
import { systemClock } from '../../functions/domain/ports.js';
import { compactEmbeddings } from '../../functions/adapters/embeddings/compactor.js';
import { EmbeddingReader } from '../../functions/adapters/embeddings/reader.js';
import { shardEmbeddings } from '../../functions/adapters/embeddings/store.js';
import { appendEmbeddings, decodeShard, embeddingsPrefix, encodeShard, listShards } from '../../functions/adapters/embeddings/shards.js';
import { float32ToHalf, halfToFloat32, toHalf } from '../../functions/domain/half.js';
import { l2normalize } from '../../functions/vision/outputs.js';

const DIMS = 48;

/** Deterministic unit vectors, so a row's expected value can be recomputed from its id. */
function vectorFor(id: string, dims = DIMS): Float32Array {
  let seed = [...id].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const v = new Float32Array(dims).map(() => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32 - 0.5;
  });
  return l2normalize(v);
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** Ingest-like writes: one shard per image with the image and two box samples. */
async function ingest(blobs: MemoryBlobStore, images: number, from = 0, at = 1_700_000_000_000): Promise<string[]> {
  const ids: string[] = [];
  for (let i = from; i < from + images; i++) {
    const rows = [`img${i}`, `img${i}#1`, `img${i}#2`].map((sampleId) => ({ sampleId, vector: vectorFor(sampleId) }));
    await appendEmbeddings(blobs, 'flowers', 'mobilenetv2-features', rows, at + i);
    ids.push(...rows.map((r) => r.sampleId));
  }
  return ids;
}

function expectMatrix(matrix: Awaited<ReturnType<EmbeddingReader['load']>>, ids: string[]) {
  expect([...matrix.sampleIds].sort()).toEqual([...ids].sort());
  expect(matrix.dims).toBe(DIMS);
  const all = matrix.toFloat32();
  matrix.sampleIds.forEach((id, r) => expect(maxAbsDiff(all.subarray(r * DIMS, (r + 1) * DIMS), vectorFor(id))).toBeLessThan(1e-3));
}

describe('fp16', () => {
  it('encodes exact values exactly and rounds to nearest even', () => {
    expect([1, -2, 0.5, 65504, 0, -0].map(toHalf)).toEqual([0x3c00, 0xc000, 0x3800, 0x7bff, 0, 0x8000]);
    expect(toHalf(1e6)).toBe(0x7c00); // overflow -> Infinity
    expect(toHalf(2 ** -24)).toBe(1); // smallest subnormal
    expect(toHalf(1e-9)).toBe(0);
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // halfway, rounds to even
    expect(toHalf(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('round-trips unit vectors within 1e-3 per value', () => {
    const v = vectorFor('x', 1280);
    expect(maxAbsDiff(halfToFloat32(float32ToHalf(v)), v)).toBeLessThan(1e-3);
  });
});

describe('shard format', () => {
  it('round-trips ids and values, even from an odd offset in a larger buffer', () => {
    const ids = ['a', 'b', 'é-ünïcode'];
    const vectors = float32ToHalf(new Float32Array(ids.flatMap((id) => [...vectorFor(id)])));
    const bytes = encodeShard({ model: 'm', dims: DIMS, sampleIds: ids, vectors, order: 'o', replaces: [], createdAt: 't' });
    const offset = new Uint8Array(bytes.length + 1);
    offset.set(bytes, 1);
    const shard = decodeShard(offset.subarray(1));
    expect(shard.sampleIds).toEqual(ids);
    expect([...shard.vectors]).toEqual([...vectors]);
  });

  it('rejects a damaged shard with the key', () => {
    expect(() => decodeShard(new Uint8Array(20), 'embeddings/p/m/x.emb')).toThrow('embedding shard embeddings/p/m/x.emb is damaged');
  });
});

describe('append, read, compact', () => {
  it('a reader loads every row, and later fetches only new shards', async () => {
    const blobs = new MemoryBlobStore(systemClock);
    const ids = await ingest(blobs, 30);
    const reader = new EmbeddingReader(blobs, 'flowers', 'mobilenetv2-features');
    expectMatrix(await reader.load(), ids);
    expect(reader.lastLoad).toMatchObject({ shards: 30, fetched: 30 });

    ids.push(...(await ingest(blobs, 5, 30)));
    const matrix = await reader.load();
    expectMatrix(matrix, ids);
    expect(reader.lastLoad).toMatchObject({ shards: 35, fetched: 5 });
    // Rows come in write order.
    expect(matrix.sampleIds.slice(0, 4)).toEqual(['img0', 'img0#1', 'img0#2', 'img1']);
  });

  it('compaction merges small shards into few large ones without changing what readers see', async () => {
    const blobs = new MemoryBlobStore(systemClock);
    const ids = await ingest(blobs, 40);
    const reader = new EmbeddingReader(blobs, 'flowers', 'mobilenetv2-features');
    await reader.load();

    const result = await compactEmbeddings(blobs, 'flowers', 'mobilenetv2-features', { targetRows: 50 });
    expect(result).toMatchObject({ merged: 40, rows: 120 });
    expect(result.written).toHaveLength(3); // 50 + 50 + 20 rows
    expect(await listShards(blobs, embeddingsPrefix('flowers', 'mobilenetv2-features'))).toHaveLength(3);
    expectMatrix(await reader.load(), ids);
    expect(reader.lastLoad).toMatchObject({ shards: 3, fetched: 3 });

    // Too few small shards: nothing to do.
    expect(await compactEmbeddings(blobs, 'flowers', 'mobilenetv2-features')).toMatchObject({ merged: 0 });
  });

  it('shards a finished compaction replaced are ignored even if they were never deleted', async () => {
    const blobs = new MemoryBlobStore(systemClock);
    const ids = await ingest(blobs, 20);
    const prefix = embeddingsPrefix('flowers', 'mobilenetv2-features');
    const before = await Promise.all((await listShards(blobs, prefix)).map(async (o) => ({ key: o.key, body: (await blobs.get(o.key))!.body })));
    await compactEmbeddings(blobs, 'flowers', 'mobilenetv2-features');
    // Simulate a compactor that died after writing its output and before deleting its inputs.
    for (const { key, body } of before) await blobs.put(key, body, 'application/octet-stream');

    const matrix = await new EmbeddingReader(blobs, 'flowers', 'mobilenetv2-features').load();
    expect(matrix.rows).toBe(ids.length);
    expectMatrix(matrix, ids);
    // The next compaction cleans them up.
    expect(await compactEmbeddings(blobs, 'flowers', 'mobilenetv2-features')).toMatchObject({ merged: 21, rows: 60 });
    expect(await listShards(blobs, prefix)).toHaveLength(1);
  });

  it('a re-embedded sample keeps only its latest vector', async () => {
    const blobs = new MemoryBlobStore(systemClock);
    await ingest(blobs, 3);
    const newer = l2normalize(new Float32Array(DIMS).fill(1));
    await appendEmbeddings(blobs, 'flowers', 'mobilenetv2-features', [{ sampleId: 'img1', vector: newer }], 1_800_000_000_000);
    const matrix = await new EmbeddingReader(blobs, 'flowers', 'mobilenetv2-features').load();
    expect(matrix.rows).toBe(9);
    expect(maxAbsDiff(matrix.row(matrix.sampleIds.indexOf('img1')), newer)).toBeLessThan(1e-3);
  });

  it('projects and models are kept apart', async () => {
    const blobs = new MemoryBlobStore(systemClock);
    await ingest(blobs, 2);
    await appendEmbeddings(blobs, 'flowers', 'dinov2-vits14-reg', [{ sampleId: 'img0', vector: vectorFor('img0', 384) }]);
    await appendEmbeddings(blobs, 'cells', 'mobilenetv2-features', [{ sampleId: 'c0', vector: vectorFor('c0') }]);
    expect((await new EmbeddingReader(blobs, 'flowers', 'mobilenetv2-features').load()).rows).toBe(6);
    expect(await new EmbeddingReader(blobs, 'flowers', 'dinov2-vits14-reg').load()).toMatchObject({ rows: 1, dims: 384 });
    expect(await new EmbeddingReader(blobs, 'empty', 'mobilenetv2-features').load()).toMatchObject({ rows: 0 });
  });

  it("removing samples (deleted images) takes their rows out of every model's shards of the project, and only theirs", async () => {
    const blobs = new MemoryBlobStore(systemClock);
    const ids = await ingest(blobs, 4);
    await compactEmbeddings(blobs, 'flowers', 'mobilenetv2-features');
    await ingest(blobs, 2, 4);
    await appendEmbeddings(blobs, 'flowers', 'dinov2-vits14-reg', [{ sampleId: 'img1', vector: vectorFor('img1', 384) }, { sampleId: 'img2', vector: vectorFor('img2', 384) }]);
    await appendEmbeddings(blobs, 'cells', 'mobilenetv2-features', [{ sampleId: 'img1', vector: vectorFor('img1') }]);
    const embeddings = shardEmbeddings(blobs);
    const gone = ['img1', 'img1#1', 'img1#2', 'img5'];
    expect(await embeddings.removeSamples('flowers', gone)).toBe(5); // 4 mobilenet rows (one in the compacted shard's) + 1 dinov2
    const left = await new EmbeddingReader(blobs, 'flowers', 'mobilenetv2-features').load();
    expectMatrix(left, [...ids, 'img4', 'img4#1', 'img4#2', 'img5#1', 'img5#2'].filter((id) => !gone.includes(id)));
    expect(maxAbsDiff(left.row(left.sampleIds.indexOf('img2#1')), vectorFor('img2#1'))).toBeLessThan(1e-3);
    expect((await new EmbeddingReader(blobs, 'flowers', 'dinov2-vits14-reg').load()).sampleIds).toEqual(['img2']);
    // Another project's sample of the same id stays.
    expect((await new EmbeddingReader(blobs, 'cells', 'mobilenetv2-features').load()).sampleIds).toEqual(['img1']);
    expect(await embeddings.removeSamples('flowers', gone)).toBe(0);
  });
});
