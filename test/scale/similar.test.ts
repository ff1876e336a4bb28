// The similar route's look-alikes (functions/domain/similar.ts) through the trainer's runner, on embeddings stored as
// ingest stores them: a small project gets the true nearest neighbours (every row compared); a project above
// EXACT_UP_TO is answered exactly until its index is built, then from the index with recall@10 >= 0.95 against the
// exact answer on embeddings with topic structure (what bench:scale measures at 100k and 1M).

import { describe, expect, it } from 'vitest';
import { appendEmbeddings } from '../../functions/adapters/embeddings/shards.js';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { EXACT_UP_TO } from '../../functions/domain/similar.js';
import { inProcessRunner } from '../../functions/trainer/runner.js';
import { ShiftedClock } from '../contract/fixtures.js';

const EMBEDDER = 'test-embedder';

/** A deterministic pseudo-random generator (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function projectWith(vectors: Float32Array[]) {
  const stores = createMemoryStores(new ShiftedClock());
  const rows = vectors.map((vector, i) => ({ sampleId: `s${i}`, vector }));
  for (let i = 0; i < rows.length; i += 20_000) await appendEmbeddings(stores.blobs, 'p', EMBEDDER, rows.slice(i, i + 20_000));
  return { runner: inProcessRunner(stores), stores };
}

/** Cosine similarity in float64 of the vectors as written (values exactly representable in fp16). */
function exactNeighbours(vectors: Float32Array[], query: number, k: number) {
  const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const q = vectors[query];
  const nq = norm(q);
  return vectors
    .map((v, i) => ({ i, sim: v.reduce((s, x, d) => s + x * q[d], 0) / (norm(v) * nq) }))
    .filter((x) => x.i !== query)
    .sort((a, b) => b.sim - a.sim)
    .slice(0, k);
}

describe('similar', () => {
  it('a small project: the true nearest neighbours, most similar first, the sample itself left out', async () => {
    const next = rng(7);
    // Multiples of 1/64 in [-2, 2]: exact in fp16, so the stored vectors are the ones written.
    const vectors = Array.from({ length: 400 }, () => Float32Array.from({ length: 16 }, () => Math.round((next() * 4 - 2) * 64) / 64));
    const { runner, stores } = await projectWith(vectors);
    for (const query of [0, 17, 399]) {
      const got = await runner.similar('p', EMBEDDER, `s${query}`, 12);
      const want = exactNeighbours(vectors, query, 12);
      expect(got.map((n) => n.sampleId)).toEqual(want.map((w) => `s${w.i}`));
      got.forEach((n, j) => expect(n.similarity).toBeCloseTo(want[j].sim, 3));
    }
    expect(await runner.similar('p', EMBEDDER, 'not-a-sample', 12)).toEqual([]);
    // An image ingested after those look-ups (a copy of s17 at twice the scale) finds its look-alikes, s17 first.
    await appendEmbeddings(stores.blobs, 'p', EMBEDDER, [{ sampleId: 'fresh', vector: vectors[17].map((x) => x * 2) }]);
    const fresh = await runner.similar('p', EMBEDDER, 'fresh', 3);
    expect(fresh[0]).toEqual({ sampleId: 's17', similarity: 1 });
  });

  it('a project above the exact size: exact until its index is ready, then recall@10 >= 0.95 from the index', async () => {
    const n = EXACT_UP_TO + 10_000;
    const dims = 16;
    const next = rng(11);
    const unit = () => {
      const v = Float32Array.from({ length: dims }, () => next() - 0.5);
      const s = Math.hypot(...v);
      return v.map((x) => x / s);
    };
    const topics = Array.from({ length: 100 }, unit);
    const subtopics = Array.from({ length: 1000 }, unit);
    const vectors = Array.from({ length: n }, () => {
      const sub = Math.floor(next() * 1000);
      const [a, b, c] = [topics[Math.floor(sub / 10)], subtopics[sub], unit()];
      return Float32Array.from({ length: dims }, (_, d) => a[d] + 0.7 * b[d] + 0.5 * c[d]);
    });
    const { runner } = await projectWith(vectors);
    const queries = Array.from({ length: 40 }, (_, q) => Math.floor(((q + 0.5) * n) / 40));

    // Before any index: every row compared (the exact answer).
    const first = await runner.similar('p', EMBEDDER, `s${queries[0]}`, 10);
    const exactFirst = await runner.similar('p', EMBEDDER, `s${queries[0]}`, 10, { exact: true });
    expect(first).toEqual(exactFirst);

    await runner.similar('p', EMBEDDER, `s${queries[0]}`, 10, { waitForIndex: true });
    let found = 0;
    for (const q of queries) {
      const id = `s${q}`;
      const [got, exact] = [await runner.similar('p', EMBEDDER, id, 10), await runner.similar('p', EMBEDDER, id, 10, { exact: true })];
      expect(got).toHaveLength(10);
      expect(got.map((x) => x.sampleId)).not.toContain(id);
      // Most similar first, and every similarity the true one of that sample.
      const truth = new Map(exact.map((x) => [x.sampleId, x.similarity]));
      for (let j = 1; j < got.length; j++) expect(got[j].similarity).toBeLessThanOrEqual(got[j - 1].similarity);
      for (const x of got) if (truth.has(x.sampleId)) expect(x.similarity).toBe(truth.get(x.sampleId));
      found += got.filter((x) => truth.has(x.sampleId)).length;
    }
    expect(found / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);
  }, 60_000);
});
