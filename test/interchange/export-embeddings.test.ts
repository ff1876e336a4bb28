// Embeddings export: features.npy (float32, [n, d]) and labels.csv whose feat_idx points at each sample's row,
// read from the real shard format (one shard per ingested image, a compacted shard, a re-embedded sample whose
// later vector must win), range by range.

import { describe, expect, it } from 'vitest';
import { blobRangeReader, shardSource } from '../../functions/adapters/export/embedding-shards.js';
import { parseNpy } from '../../functions/cli/npy.js';
import { writeEmbeddings } from '../../functions/domain/interchange/export/embeddings.js';
import { float32ToHalf, halfToFloat32 } from '../../functions/domain/half.js';
import { appendEmbeddings } from '../../functions/adapters/embeddings/shards.js';
import { compactEmbeddings } from '../../functions/adapters/embeddings/compactor.js';
import { collect, exportFixture, imageId } from './export-support.js';

const D = 6;
const MODEL = 'test-model';
const vector = (seed: number) => Float32Array.from({ length: D }, (_, i) => Math.sin(seed * 7 + i) * 0.5);
/** What fp16 storage keeps of a vector. */
const stored = (v: Float32Array) => halfToFloat32(float32ToHalf(v, new Uint16Array(v.length)));

describe('embeddings export', () => {
  it('writes each exported sample\'s latest vector at the row its feat_idx names', async () => {
    const f = await exportFixture('single-label', ['daisy', 'rose'], { detection: { enabled: true } });
    await f.add({ n: 1, file: 'a.jpg', label: { classIndex: 0 }, boxSamples: [{ box: [1, 2, 30, 40], label: { classIndex: 1 } }] });
    await f.add({ n: 2, file: 'b.jpg', label: { classIndex: 1 } });
    await f.add({ n: 3, file: 'c.jpg' }); // unlabeled: not in a "labeled" export
    const ids = [imageId(1), `${imageId(1)}-b1`, imageId(2), imageId(3)];
    const vectors = new Map(ids.map((id, i) => [id, vector(i)]));
    // Ingest wrote one shard per image (out of id order); the compactor merged 20 of them; one sample was
    // re-embedded afterwards (its later vector wins).
    let t = 1_700_000_000_000;
    for (let i = 0; i < 20; i++) await appendEmbeddings(f.stores.blobs, f.project.id, MODEL, [{ sampleId: `other-${i}`, vector: vector(100 + i) }], t++);
    await appendEmbeddings(f.stores.blobs, f.project.id, MODEL, [{ sampleId: ids[2], vector: vector(50) }], t++);
    await compactEmbeddings(f.stores.blobs, f.project.id, MODEL, { minShards: 2, targetRows: 8, now: t++ });
    await appendEmbeddings(f.stores.blobs, f.project.id, MODEL, [ids[3], ids[2]].map((id) => ({ sampleId: id, vector: vectors.get(id)! })), t++);
    await appendEmbeddings(f.stores.blobs, f.project.id, MODEL, [ids[0], ids[1]].map((id) => ({ sampleId: id, vector: vectors.get(id)! })), t++);

    const out = collect();
    const ctx = f.ctx({}, { embeddings: shardSource(f.stores.blobs, blobRangeReader(f.stores.blobs)) });
    await writeEmbeddings(ctx, out, MODEL);

    expect([...out.files.keys()]).toEqual(['features.npy', 'labels.csv', 'embeddings.json']);
    expect(out.stored.has('features.npy')).toBe(true);
    // A plain Uint8Array: parseNpy copies with .slice(), which on a pooled Buffer is a view, not a copy.
    const npy = parseNpy(new Uint8Array(out.files.get('features.npy')!));
    expect([npy.rows, npy.cols]).toEqual([3, D]);
    const rows = out.text('labels.csv').trim().split('\n').slice(1).map((l) => l.split(','));
    expect(rows.map((r) => [r[0], r[2], r[9]])).toEqual([
      ['a.jpg', 'daisy', ids[0]],
      ['a.jpg', 'rose', ids[1]],
      ['b.jpg', 'rose', ids[2]],
    ]);
    for (const r of rows) {
      const featIdx = Number(r[3]);
      expect([...npy.data.subarray(featIdx * D, (featIdx + 1) * D)], r[9]).toEqual([...stored(vectors.get(r[9])!)]);
    }
    // Every row is used once.
    expect(rows.map((r) => Number(r[3])).sort()).toEqual([0, 1, 2]);
    expect(JSON.parse(out.text('embeddings.json'))).toEqual({ model: MODEL, dims: D, rows: 3, dtype: 'float32', project: 'proj' });
    expect(ctx.counts.rows).toBe(3);
  });

  it('says so when the project has no embeddings for the model', async () => {
    const f = await exportFixture('single-label', ['daisy']);
    await f.add({ n: 1, file: 'a.jpg', label: { classIndex: 0 } });
    const ctx = f.ctx({}, { embeddings: shardSource(f.stores.blobs, blobRangeReader(f.stores.blobs)) });
    await expect(writeEmbeddings(ctx, collect(), MODEL)).rejects.toThrow(/no embeddings from model "test-model"/);
  });
});
