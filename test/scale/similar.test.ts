// The similar route's look-alikes (functions/domain/similar.ts) through the trainer's runner, on embeddings stored as
// ingest stores them: a small project gets the true nearest neighbours (every row compared); a project above
// EXACT_UP_TO is answered exactly until its index is built, then from the index with recall@10 >= 0.95 against the
// exact answer on embeddings with topic structure (what bench:scale measures at 100k and 1M). Through the API (with the
// API's read caches), the answer's records are read as they are now, in batches: a relabeled look-alike shows its new
// label, a deleted one never appears, and the images come in one batch read, not one read per look-alike.

import { describe, expect, it } from 'vitest';
import { servingStores } from '../../functions/adapters/aws/services.js';
import { appendEmbeddings } from '../../functions/adapters/embeddings/shards.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { createMemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { localAuthenticate } from '../../functions/api/auth-local.js';
import { inProcessDeletionRunner } from '../../functions/deletion/runners.js';
import { createProject } from '../../functions/domain/projects.js';
import { EXACT_UP_TO } from '../../functions/domain/similar.js';
import { inProcessRunner } from '../../functions/trainer/runner.js';
import { inMemorySimilar, maxSamplesFor } from '../../functions/trainer/similar-in-memory.js';
import { ShiftedClock } from '../contract/fixtures.js';
import { ManualClock, rid, sampleFixture } from '../support/fixtures.js';

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

describe('the similar route', () => {
  /** 30 images in 3 groups of look-alikes (whole-image samples with their image's id), and a box inside img1 near group 0. */
  async function setup() {
    const clock = new ManualClock();
    const stores = createMemoryStores(clock);
    await createProject(stores, { id: 'p', classes: ['a', 'b', 'c'], auditRate: 0 }, 'owner');
    const ids = Array.from({ length: 30 }, (_, i) => `img${i}`);
    for (const id of ids) {
      await stores.samples.putImage({ projectId: 'p', imageId: id, key: `uploads/p/${id}.jpg`, etag: 'e', bytes: 10, status: 'ready', order: id, createdAt: 'c', updatedAt: 'u', width: 4, height: 3 });
    }
    const box = { ...sampleFixture('p', 99, { sampleId: 'img1-x0_0_2_2', imageId: 'img1', kind: 'box', box: [0, 0, 2, 2] }), order: 'img1#1', queueKey: 'img1#1' };
    await stores.samples.putSamplesIfAbsent([...ids.map((id, i) => ({ ...sampleFixture('p', i, { sampleId: id, imageId: id }), order: id, queueKey: id })), box]);
    const next = rng(3);
    const groups = [0, 1, 2].map(() => Float32Array.from({ length: 16 }, () => next() - 0.5));
    const near = (g: number) => groups[g].map((x) => x + (next() - 0.5) * 0.2);
    await appendEmbeddings(stores.blobs, 'p', EMBEDDER, [...ids.map((sampleId, i) => ({ sampleId, vector: near(i % 3) })), { sampleId: box.sampleId, vector: near(0) }]);
    const runner = inProcessRunner(stores);
    // The API's stores as the local stack and the API Lambda build them (read caches included); reads counted below them.
    const reads: Record<string, number> = { getSample: 0, getSamples: 0, getImage: 0, getImages: 0 };
    for (const m of ['getSample', 'getSamples', 'getImage', 'getImages'] as const) {
      const original = stores.samples[m].bind(stores.samples) as (...a: unknown[]) => Promise<unknown>;
      (stores.samples as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => ((reads[m] = (reads[m] ?? 0) + 1), original(...a));
    }
    const apiStores = servingStores(stores);
    const app = createApp({
      stores: apiStores,
      featureVectors: shardFeatureVectors(apiStores.blobs, clock),
      authenticate: localAuthenticate,
      similar: (projectId, sampleId, k) => runner.similar(projectId, EMBEDDER, sampleId, k),
      deletions: inProcessDeletionRunner(apiStores, { settleMs: 0, onError: (_job, err) => console.error(err) }),
    });
    const call = async (method: string, path: string, body?: unknown, user = 'owner') => {
      const res = await app.request(path, { method, headers: { 'x-winnow-user': user, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, json: (await res.json()) as any };
    };
    const similar = async (sampleId: string, k: number) => {
      for (const m of Object.keys(reads)) reads[m] = 0;
      return call('GET', `/api/projects/p/samples/${sampleId}/similar?k=${k}`);
    };
    return { runner, call, similar, reads };
  }

  it('answers with the look-alikes as they are now, their records read in batches (not one read per image)', async () => {
    const { runner, call, similar, reads } = await setup();
    const want = await runner.similar('p', EMBEDDER, 'img0', 9);
    // Group 0 (img3, img6, ... and the box in img1), most similar first.
    expect(want.map((n) => n.sampleId)).toContain('img1-x0_0_2_2');
    const first = await similar('img0', 9);
    expect(first.status).toBe(200);
    expect(first.json.items.map((x: any) => [x.sample.sampleId, x.similarity])).toEqual(want.map((n) => [n.sampleId, n.similarity]));
    for (const x of first.json.items) {
      expect(x.image).toMatchObject({ imageId: x.sample.imageId, key: `uploads/p/${x.sample.imageId}.jpg`, status: 'ready' });
      expect(x.image.url).toBeTruthy();
    }
    // The sample's head with its look-alikes' in one batch, their images in one batch beside it and the box's image in
    // one more (its id is not its image's): no single read.
    expect(reads).toEqual({ getSample: 0, getSamples: 1, getImages: 2, getImage: 0 });

    // A look-alike relabeled since shows its new label; one whose image was deleted is left out (the trainer's
    // embeddings still hold it until the next retrain).
    const [relabeled, deleted] = [want[0].sampleId, want[1].sampleId];
    const labeled = await call('POST', `/api/projects/p/samples/${relabeled}/annotations`, { version: 0, requestId: rid(), classIndex: 2 });
    expect(labeled.status).toBe(201);
    const job = await call('POST', '/api/projects/p/deletions', { imageIds: [deleted] });
    expect(job.status).toBe(202);
    for (let i = 0; (await call('GET', `/api/projects/p/deletions/${job.json.jobId}`)).json.status !== 'done'; i++) {
      expect(i).toBeLessThan(200);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await runner.similar('p', EMBEDDER, 'img0', 9)).map((n) => n.sampleId)).toContain(deleted);
    const again = await similar('img0', 9);
    expect(again.json.items.map((x: any) => x.sample.sampleId)).toEqual(want.map((n) => n.sampleId).filter((id) => id !== deleted));
    expect(again.json.items.find((x: any) => x.sample.sampleId === relabeled).sample.label).toMatchObject({ confidences: [0, 0, 1], labelerId: 'owner' });
    expect(again.json.items.some((x: any) => x.image.imageId === deleted)).toBe(false);
    // Images read moments ago come from the API's cache: one batch asks for the ids it does not hold (the box's, which
    // is no image's, and the deleted image's).
    expect(reads).toEqual({ getSample: 0, getSamples: 1, getImages: 1, getImage: 0 });

    // A sample that is not there is a 404 naming it, and so is the deleted one (the trainer still finds look-alikes of it).
    for (const id of ['nope', deleted]) {
      const missing = await similar(id, 5);
      expect(missing.status).toBe(404);
      expect(missing.json.message).toContain(id);
    }
  });
});

describe('look-alikes searched in the API process (the cloud API function)', () => {
  it('the same answer as the trainer\'s, one project kept at a time, and above what its memory holds an answer that says so', async () => {
    const stores = createMemoryStores(new ManualClock());
    const next = rng(5);
    for (const p of ['p', 'q']) {
      await createProject(stores, { id: p, classes: ['a', 'b'], auditRate: 0 }, 'owner');
      await stores.samples.putSamplesIfAbsent(Array.from({ length: 60 }, (_, i) => sampleFixture(p, i)));
      await appendEmbeddings(stores.blobs, p, EMBEDDER, Array.from({ length: 60 }, (_, i) => ({ sampleId: `s${i}`, vector: Float32Array.from({ length: 16 }, () => next() - 0.5) })));
    }
    const runner = inProcessRunner(stores);
    const inApi = inMemorySimilar(stores, { embedder: EMBEDDER, memoryMb: 512 });
    for (const [p, id] of [['p', 's3'], ['q', 's3'], ['p', 's40']]) {
      expect(await inApi(p, id, 7), `${p}/${id}`).toEqual(await runner.similar(p, EMBEDDER, id, 7, { exact: true }));
    }
    // 1 MB holds 41 samples of 2048-d: a 60-sample project is told why, through the route.
    expect(maxSamplesFor(1)).toBe(41);
    const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate, similar: inMemorySimilar(stores, { embedder: EMBEDDER, memoryMb: 1 }) });
    const ask = async (id: string) => {
      const res = await app.request(`/api/projects/p/samples/${id}/similar?k=5`, { headers: { 'x-winnow-user': 'owner' } });
      return { status: res.status, json: (await res.json()) as any };
    };
    const refused = await ask('s3');
    expect(refused.status).toBe(200);
    expect(refused.json.items).toEqual([]);
    expect(refused.json.message).toMatch(/60 samples .* up to 41 .* 1 MB \(raise api\.memoryMb in cdk\.json/);
    expect((await ask('nope')).status).toBe(404);
  });
});
