// GET /api/projects/:id/classifier on the in-memory stores with the trainer's real code: who may download the classifier,
// and the clear refusals (no model yet, an embedder Winnow has no ONNX file of, an unknown format). A project trained
// on features brought from elsewhere still exports its plain head, which reproduces the trainer's probabilities.

import { build } from 'esbuild';
import { unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import type { Identity } from '../../functions/api/types.js';
import { parseNpy } from '../../functions/cli/npy.js';
import { annotate } from '../../functions/domain/annotate.js';
import { scoreAll, type F32Embeddings } from '../../functions/domain/learning/index.js';
import { createProject } from '../../functions/domain/projects.js';
import { loadEmbeddings, retrainProject, type ProjectTrainingState } from '../../functions/domain/retrain.js';
import { shardEmbeddings, shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { rankingRetrainPorts } from '../../functions/adapters/ranking-codec.js';
import { appendEmbeddings } from '../../functions/adapters/embeddings/shards.js';
import { ManualClock, sampleFixture } from '../support/fixtures.js';

const MODEL = 'byo-features';
const DIMS = 6;
const CLASSES = ['ok', 'scratch', 'dent'];
const SAMPLES = 30;

/** Who is calling, from a test header (the JWT path is the attack matrix's and authz.test.ts's to check). */
const USERS: Record<string, Identity> = {
  olga: { userId: 'olga', groups: ['admin'] },
  lars: { userId: 'lars', groups: ['labeler'] },
};

describe('GET /api/projects/:id/classifier', () => {
  let stores: MemoryStores;
  let app: ReturnType<typeof createApp>;
  let appProbs: Float32Array;
  let rowOf: Map<string, number>;

  beforeAll(async () => {
    stores = createMemoryStores(new ManualClock());
    await createProject(stores, { id: 'parts', classes: CLASSES, members: ['lars'] }, 'olga');
    await createProject(stores, { id: 'fresh', classes: CLASSES, members: ['lars'] }, 'olga');
    const samples = Array.from({ length: SAMPLES }, (_, i) => sampleFixture('parts', i));
    await stores.samples.putSamplesIfAbsent(samples);
    // Features computed elsewhere: each class along its own axis, plus a little of everything.
    const truth = (i: number) => i % CLASSES.length;
    const vector = (i: number) => Float32Array.from({ length: DIMS }, (_, d) => (d === truth(i) ? 1 : 0) + 0.3 * Math.sin(i * 3 + d));
    await appendEmbeddings(stores.blobs, 'parts', MODEL, samples.map((s, i) => ({ sampleId: s.sampleId, vector: vector(i) })));
    for (const [i, s] of samples.entries()) {
      if (i >= 15) break;
      await annotate(stores, { projectId: 'parts', sampleId: s.sampleId, labelerId: 'lars', version: 0, requestId: `label-${i}-xxxx`, classIndex: truth(i) });
    }
    const state: ProjectTrainingState = {};
    await retrainProject(stores, rankingRetrainPorts, (await stores.projects.get('parts'))!, state, { embedder: MODEL });
    appProbs = scoreAll(state.model!, state.embeddings!);
    rowOf = state.rowOf!;
    app = createApp({
      stores,
      featureVectors: shardFeatureVectors(stores.blobs, stores.clock),
      authenticate: async (request) => USERS[request.headers.get('x-test-user') ?? ''] ?? Promise.reject(new Error('no such test user')),
    });
  });

  const get = async (path: string, user = 'olga') => {
    const res = await app.request(path, { headers: { 'x-test-user': user } });
    const json = res.headers.get('content-type')?.includes('json') ? ((await res.json()) as { code: string; message: string }) : undefined;
    return { res, json };
  };

  it('refuses a labeler of the project with 403', async () => {
    const { res, json } = await get('/api/projects/parts/classifier?format=head', 'lars');
    expect(res.status).toBe(403);
    expect(json?.message).toContain('only admins');
  });

  it('answers 409 naming the problem while the project has no trained model', async () => {
    const { res, json } = await get('/api/projects/fresh/classifier');
    expect(res.status).toBe(409);
    expect(json?.message).toMatch(/project "fresh" has no trained model to export yet: label images of at least two classes/);
  });

  it('answers 409 for an ONNX file when the embeddings came from elsewhere, and points to the head', async () => {
    const { res, json } = await get('/api/projects/parts/classifier');
    expect(res.status).toBe(409);
    expect(json?.message).toContain(`trained on embeddings of "${MODEL}", which Winnow has no ONNX model of`);
    expect(json?.message).toContain('format "head"');
  });

  it('refuses an unknown format and an unknown project', async () => {
    const bad = await get('/api/projects/parts/classifier?format=pickle');
    expect(bad.res.status).toBe(400);
    expect(bad.json?.message).toMatch(/^format: /);
    expect((await get('/api/projects/nope/classifier')).res.status).toBe(404);
  });

  it("exports the plain head, whose softmax(W x + b) is the trainer's probabilities", async () => {
    const { res } = await get('/api/projects/parts/classifier?format=head');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="parts-classifier-head.zip"');
    const zip = unzipSync(new Uint8Array(await res.arrayBuffer()));
    expect(JSON.parse(new TextDecoder().decode(zip['classes.json']))).toEqual(CLASSES);
    const card = JSON.parse(new TextDecoder().decode(zip['model-card.json']));
    expect(card).toMatchObject({ classes: CLASSES, labels: { trainedOn: 15, perClass: { ok: 5, scratch: 5, dent: 5 } }, embedder: { name: MODEL, dims: DIMS } });
    const w = parseNpy(zip['weights.npy']);
    expect([w.rows, w.cols]).toEqual([CLASSES.length, DIMS]);
    const headerLength = zip['bias.npy'][8] | (zip['bias.npy'][9] << 8);
    const bias = new Float32Array(zip['bias.npy'].slice(10 + headerLength).buffer);
    // The stored embeddings (fp16) as the trainer reads them: L2-normalised.
    const state: ProjectTrainingState = {};
    await loadEmbeddings(shardEmbeddings(stores.blobs), 'parts', state, MODEL);
    const stored = (state.embeddings as F32Embeddings).data;
    for (const [, row] of rowOf) {
      const x = stored.subarray(row * DIMS, (row + 1) * DIMS);
      const z = CLASSES.map((_, c) => bias[c] + x.reduce((s, v, d) => s + v * w.data[c * DIMS + d], 0));
      const e = z.map((v) => Math.exp(v - Math.max(...z)));
      const p = e.map((v) => v / e.reduce((a, b) => a + b, 0));
      p.forEach((v, c) => expect(Math.abs(v - appProbs[row * CLASSES.length + c])).toBeLessThanOrEqual(1e-4));
    }
    // The route wrote nothing: the ranking is the trainer's.
    expect((await stores.rankings.get('parts'))?.generation).toBe(1);
  });

  it('keeps sharp and onnxruntime out of the API: the route reaches no module that loads them', async () => {
    const bundled = await build({
      entryPoints: ['functions/api/routes/model-export.ts'], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true,
      packages: 'external', logLevel: 'silent',
    });
    const inputs = Object.keys(bundled.metafile.inputs);
    expect(inputs).toContain('functions/export/model-onnx.ts');
    expect(inputs.filter((f) => /vision\/(decode|analyzer|onnx|embedder|registry|inference-thread)\.ts$/.test(f))).toEqual([]);
    const external = Object.values(bundled.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
    expect(external.filter((p) => /^(sharp|onnxruntime)/.test(p))).toEqual([]);
  });

  // Last: it labels more samples (served through the API, so the labels carry the model's view at lease time).
  it('puts the figures the labeling view shows in the model card', async () => {
    const served = await app.request('/api/projects/parts/next?count=8', { headers: { 'x-test-user': 'lars' } });
    const { samples } = (await served.json()) as { samples: { sample: { sampleId: string; version: number } }[] };
    expect(samples.length).toBe(8);
    for (const { sample } of samples) {
      const i = Number(sample.sampleId.slice(1)); // sampleFixture's ids: s<n>
      const res = await app.request(`/api/projects/parts/samples/${sample.sampleId}/annotations`, {
        method: 'POST',
        headers: { 'x-test-user': 'lars', 'content-type': 'application/json' },
        body: JSON.stringify({ version: sample.version, requestId: `served-${i}-xxxx`, classIndex: i % CLASSES.length }),
      });
      expect(res.status).toBe(201);
    }
    const quality = (await (await app.request('/api/projects/parts/quality', { headers: { 'x-test-user': 'olga' } })).json()) as {
      count: number; errorRate: number | null; windowErrorRate: number | null; accuracy: { accuracy: number | null; low: number | null; high: number | null; n: number; method: string };
    };
    expect(quality.count).toBeGreaterThan(0);
    const { res } = await get('/api/projects/parts/classifier?format=head');
    const card = JSON.parse(new TextDecoder().decode(unzipSync(new Uint8Array(await res.arrayBuffer()))['model-card.json']));
    expect(card.liveError).toMatchObject({ servedLabels: quality.count, errorRate: quality.errorRate, windowErrorRate: quality.windowErrorRate });
    expect(card.accuracyEstimate).toEqual({
      accuracy: quality.accuracy.accuracy, low: quality.accuracy.low, high: quality.accuracy.high, auditedLabels: quality.accuracy.n, method: quality.accuracy.method,
    });
    // The model the labeling view ranks with, as the trainer saved it: its last retrain was before these 8 labels.
    expect(card.model).toMatchObject({ source: 'trainer' });
    expect(card.labels.trainedOn).toBe(15);
  });
});
