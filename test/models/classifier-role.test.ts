// A model brought with role "classifier" (issue 18 follow-up): the owner may inspect it and try it (its top classes are
// shown), but registering it is refused with a reason that says what to do instead, and nothing is registered. Through
// the API app on the in-memory stores with the onnxruntime model lab, as the local stack composes it.

import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import type { Identity } from '../../functions/api/types.js';
import { MODEL_LAYOUT } from '../../functions/domain/models.js';
import { createModelLab } from '../../functions/vision/model-lab.js';
import { ModelRegistry } from '../../functions/vision/registry.js';
import { ManualClock } from '../support/fixtures.js';
import { tempDir } from '../support/stack.js';
import { tinyEmbedder } from './onnx-builder.js';

const OWNER: Identity = { userId: 'olga', groups: ['admin'] };

describe('a classifier brought as a file', () => {
  let stores: MemoryStores;
  let app: ReturnType<typeof createApp>;
  let manifest: Record<string, unknown>;
  beforeAll(async () => {
    stores = createMemoryStores(new ManualClock());
    const lab = createModelLab({ stores, registry: new ModelRegistry(stores.blobs, await tempDir('byo-classifier-role')), timeoutMs: 5000 });
    app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: async () => OWNER, models: lab });
    // A [batch, 6] output, inspected as class logits.
    const file = tinyEmbedder(6, 32);
    const up = await call('POST', '/api/models/uploads', { bytes: file.byteLength });
    await stores.blobs.put(MODEL_LAYOUT.upload(up.json.upload), file, 'application/octet-stream');
    const inspected = await call('POST', '/api/models/inspect', { upload: up.json.upload, name: 'parts-classifier', role: 'classifier' });
    expect(inspected.status, JSON.stringify(inspected.json)).toBe(200);
    manifest = inspected.json.proposal.manifest;
    expect(manifest.role).toBe('classifier');
  }, 60_000);

  const call = async (method: string, route: string, body?: unknown) => {
    const res = await app.request(route, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, json: (await res.json()) as any };
  };
  const labels = ['ok', 'scratch', 'dent', 'rust', 'crack', 'other'];

  it('can be tried: the trial shows its top classes', async () => {
    const res = await call('POST', '/api/models/trial', { manifest, labels });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const top = res.json.trial.items[0].top as { name: string; probability: number }[];
    expect(top.length).toBeGreaterThan(0);
    expect(labels).toContain(top[0].name);
  }, 60_000);

  it('is refused at registration with the reason and what to do instead; nothing is registered', async () => {
    const res = await call('POST', '/api/models', { manifest, labels });
    expect(res.status).toBe(400);
    expect(res.json.message).toContain('a classifier cannot be registered');
    expect(res.json.message).toContain('role "embedder"');
    expect((await call('GET', '/api/models')).json.models).toEqual([]);
    expect(await stores.blobs.head(MODEL_LAYOUT.record('parts-classifier'))).toBeUndefined();
  });
});
