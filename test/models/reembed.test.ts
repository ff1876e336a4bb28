// Switching a project's embedder to one the user brings: a 64-d conv/pool/linear ONNX embedder generated here (the
// shipped one is 1280-d) is registered through the API from its file, tried on the project's photos (norms and
// nearest neighbours shown), and the project is re-embedded with it as a background job with progress. The ranking
// moves to the new embeddings once they are complete, and the old embeddings are deleted afterwards.

import { afterAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../functions/local/stack.js';
import { EmbeddingReader } from '../../functions/adapters/embeddings/reader.js';
import { listShards } from '../../functions/adapters/embeddings/shards.js';
import { apiClient, startTestStack, tempDir, waitFor } from '../support/stack.js';
import { tinyEmbedder } from './onnx-builder.js';
import { uploadAndInspect, uploadPhotos } from './support.js';

const PHOTOS = [
  'daisy/100080576_f52e8ee070_n.jpg',
  'daisy/10172379554_b296050f82_n.jpg',
  'daisy/9158041313_7a6a102f7a_n.jpg',
  'roses/10090824183_d02c613f10_m.jpg',
  'tulips/113902743_8f537f769b_n.jpg',
  'dandelion/13946048982_4e6ec56987.jpg',
];

describe('re-embedding a project with a registered embedder of another dimension', () => {
  let stack: LocalStack | undefined;
  afterAll(async () => {
    await stack?.close();
  });

  it('registers a generated 64-d embedder, re-embeds the project in the background and switches the trainer to it', async () => {
    stack = await startTestStack(await tempDir('byo-embedder'), { trainer: { afterMs: 200 } });
    const api = apiClient(stack.url, 'owner');
    expect((await api('POST', '/api/projects', { id: 'flowers', classes: ['daisy', 'other'] })).status).toBe(201);
    await uploadPhotos(api, 'flowers', PHOTOS);
    const ranked = await waitFor(async () => {
      const r = await stack!.stores.rankings.get('flowers');
      return r && r.sampleIds.length === PHOTOS.length && r;
    }, 'the first ranking');
    expect(ranked.model).toBe('mobilenetv2-features');
    const oldPrefix = 'embeddings/flowers/mobilenetv2-features/';
    expect((await listShards(stack.stores.blobs, oldPrefix)).length).toBeGreaterThan(0);

    // Register from the file alone: the proposal reads a 64-d embedding from the graph.
    const inspected = await uploadAndInspect(api, tinyEmbedder(64, 32), { name: 'tiny64', role: 'embedder' });
    expect(inspected.status).toBe(200);
    expect(inspected.json.graph.inputs[0]).toMatchObject({ name: 'image', shape: ['batch', 3, 32, 32], dynamic: [0] });
    expect(inspected.json.proposal.manifest).toMatchObject({ role: 'embedder', input: { shape: ['batch', 3, 32, 32] }, outputs: [{ name: 'embedding', decode: 'embedding', dims: 64 }] });
    const registered = await api('POST', '/api/models', { manifest: inspected.json.proposal.manifest, projectId: 'flowers' });
    expect(registered.status).toBe(201);
    // The trial shown before acceptance: each photo's raw embedding norm and its nearest neighbours among the others.
    const items = registered.json.trial.items;
    expect(items).toHaveLength(4);
    for (const item of items) {
      expect(item.embedding.dims).toBe(64);
      expect(item.embedding.norm).toBeGreaterThan(0);
      expect(item.embedding.neighbours).toHaveLength(3);
      expect(item.embedding.neighbours[0].similarity).toBeLessThanOrEqual(1.0001);
    }

    // A job record left running by a server that stopped mid-way reads as interrupted, with what to do.
    const stale = { projectId: 'flowers', model: 'tiny64', from: 'default', status: 'running', total: 6, done: 2, skipped: 0, startedAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:05.000Z', startedBy: 'owner' };
    await stack.stores.blobs.put('models/jobs/reembed/flowers.json', new TextEncoder().encode(JSON.stringify(stale)), 'application/json');
    expect((await api('GET', '/api/projects/flowers/models')).json.reembed).toMatchObject({ status: 'failed', reason: expect.stringMatching(/^interrupted: no progress since 2026-01-01T00:00:05.000Z/) });

    // The cost first, then the switch.
    const cost = await api('GET', '/api/projects/flowers/models?embedder=tiny64');
    expect(cost.json.cost).toMatchObject({ model: 'tiny64', images: PHOTOS.length });
    expect(cost.json.cost.estimatedSeconds).toBeGreaterThanOrEqual(1);
    const started = await api('PUT', '/api/projects/flowers/models', { embedder: 'tiny64' });
    expect(started.status).toBe(202);
    expect(started.json.reembed).toMatchObject({ status: 'running', model: 'tiny64', total: PHOTOS.length, done: 0 });
    // Until the new embeddings are complete the project stays on its old embedder.
    expect(started.json.embedder).toBeNull();

    const seen: number[] = [];
    const job = await waitFor(async () => {
      const got = await api('GET', '/api/projects/flowers/models');
      // A poll that failed (the loaded machine's S3 emulator dropped a socket once) is polled again, not read as the end.
      if (got.status !== 200 || !got.json.reembed) return false;
      const status = got.json;
      seen.push(status.reembed.done);
      return status.reembed.status !== 'running' && status;
    }, 're-embedding', 120_000);
    expect(job.reembed).toMatchObject({ status: 'done', done: PHOTOS.length, skipped: 0 });
    expect(job.embedder).toBe('tiny64');
    expect(seen.every((n, i) => i === 0 || n >= seen[i - 1])).toBe(true);

    // Every photo has its 64-d embedding; the trainer ranks with them; the old embeddings are gone.
    const matrix = await new EmbeddingReader(stack.stores.blobs, 'flowers', 'tiny64').load();
    expect(matrix.dims).toBe(64);
    expect(matrix.rows).toBe(PHOTOS.length);
    const reranked = await waitFor(async () => {
      const r = await stack!.stores.rankings.get('flowers');
      return r?.model === 'tiny64' && r;
    }, 'a ranking on the new embeddings');
    expect(reranked.sampleIds).toHaveLength(PHOTOS.length);
    expect(await listShards(stack.stores.blobs, oldPrefix)).toEqual([]);

    // A photo uploaded right after the switch is embedded by the project's new embedder, even while ingest's project
    // cache still holds the project as it was before (reembed-window.test.ts pins that case).
    await uploadPhotos(api, 'flowers', ['roses/10503217854_e66a804309.jpg']);
    const after = await new EmbeddingReader(stack.stores.blobs, 'flowers', 'tiny64').load();
    expect(after.rows).toBe(PHOTOS.length + 1);
    // Inside that cache window ingest wrote the old embedder's rows first; they are taken out again (the shard it
    // wrote may stay, empty): nothing of the project is left under the old model.
    const leftovers = await listShards(stack.stores.blobs, oldPrefix);
    if (leftovers.length > 0) expect((await new EmbeddingReader(stack.stores.blobs, 'flowers', 'mobilenetv2-features').load()).rows).toBe(0);
  });
});
