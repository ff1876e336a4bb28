// The model routes of the cloud API function, which carries no onnxruntime (functions/api/lambda.ts composes the app
// with vision/graph-lab.ts): on the in-memory stores, an uploaded ONNX file is inspected from its graph alone (inputs,
// outputs, proposed manifest, a note that it was not loaded), a bad file is refused with its reason as on the local
// stack, and trying, registering or re-embedding answers 503 naming where they run. Registrations stored by the local
// stack are listed, and a project can use a registered detector.

import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStores, type MemoryStores } from '../../functions/adapters/memory/index.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import type { Identity } from '../../functions/api/types.js';
import { MODEL_LAYOUT, type RegisteredModel } from '../../functions/domain/models.js';
import { createProject } from '../../functions/domain/projects.js';
import { graphOnlyModelLab, NOT_LOADED_NOTE } from '../../functions/vision/graph-lab.js';
import { ManualClock } from '../support/fixtures.js';
import { tinyEmbedder, wrongRank } from './onnx-builder.js';

const OWNER: Identity = { userId: 'olga', groups: ['admin'] };

describe('model routes without an ONNX runtime (the cloud API)', () => {
  let stores: MemoryStores;
  let app: ReturnType<typeof createApp>;
  beforeAll(async () => {
    stores = createMemoryStores(new ManualClock());
    await createProject(stores, { id: 'shop', classes: ['a', 'b'] }, 'olga');
    app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: async () => OWNER, models: graphOnlyModelLab({ maxBytes: 1_000_000 }) });
  });

  const call = async (method: string, route: string, body?: unknown) => {
    const res = await app.request(route, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, json: (await res.json()) as any };
  };
  /** The client's two steps: a presigned PUT (the file lands under the upload key), then inspect. */
  async function uploadAndInspect(bytes: Uint8Array, body: Record<string, unknown>) {
    const up = await call('POST', '/api/models/uploads', { bytes: bytes.byteLength });
    expect(up.status).toBe(201);
    await stores.blobs.put(MODEL_LAYOUT.upload(up.json.upload), bytes, 'application/octet-stream');
    return call('POST', '/api/models/inspect', { upload: up.json.upload, ...body });
  }

  it('inspects an uploaded file from its graph and proposes a manifest', async () => {
    const file = tinyEmbedder(48, 32);
    const res = await uploadAndInspect(file, { name: 'tiny', role: 'embedder' });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(res.json.graph.inputs[0]).toMatchObject({ name: 'image', shape: ['batch', 3, 32, 32], dynamic: [0] });
    expect(res.json.proposal.manifest).toMatchObject({ name: 'tiny', role: 'embedder', input: { name: 'image', shape: ['batch', 3, 32, 32] } });
    expect(res.json.proposal.manifest.outputs[0]).toMatchObject({ decode: 'embedding', dims: 48 });
    expect(res.json.proposal.notes).toContain(NOT_LOADED_NOTE);
    // Kept by sha256 for the trial; the upload itself is gone.
    expect(await stores.blobs.head(MODEL_LAYOUT.file(res.json.sha256))).toBeDefined();
    expect((await stores.blobs.list('models/uploads/')).items).toEqual([]);
  });

  it('refuses a file that cannot be an image model with the reason, as the local stack does', async () => {
    const res = await uploadAndInspect(wrongRank(), { name: 'flat' });
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/rank|dimensions/);
  });

  it('answers 503 for a trial, a registration and a re-embed, naming where they run', async () => {
    const file = tinyEmbedder(48, 32);
    const inspected = await uploadAndInspect(file, { name: 'tiny2', role: 'embedder' });
    const candidate = { manifest: inspected.json.proposal.manifest, projectId: 'shop' };
    for (const [method, route, body] of [
      ['POST', '/api/models/trial', candidate],
      ['POST', '/api/models', candidate],
    ] as const) {
      const res = await call(method, route, body);
      expect(res.status, route).toBe(503);
      expect(res.json.message).toContain('local stack');
    }
    expect((await call('GET', '/api/models')).json.models).toEqual([]);
    // A registration made on the local stack against the same bucket: listed, and re-embedding with it is refused here.
    const record = { name: 'dino', role: 'embedder', sha256: inspected.json.sha256, bytes: file.byteLength, manifest: inspected.json.proposal.manifest, trial: { msPerImage: 3 }, registeredAt: '2026-12-06T00:00:00Z', registeredBy: 'olga' } as unknown as RegisteredModel;
    await stores.blobs.put(MODEL_LAYOUT.record('dino'), new TextEncoder().encode(JSON.stringify(record)), 'application/json');
    expect((await call('GET', '/api/models')).json.models.map((m: { name: string }) => m.name)).toEqual(['dino']);
    const use = await call('PUT', '/api/projects/shop/models', { embedder: 'dino' });
    expect(use.status).toBe(503);
    expect(use.json.message).toContain('re-embedding');
  });

  it('lets a project use a registered detector (ingest loads it; nothing to run here)', async () => {
    const record = { name: 'shop-detector', role: 'detector', sha256: 'a'.repeat(64), bytes: 1, manifest: {}, trial: { msPerImage: 3 }, registeredAt: '2026-12-06T00:00:00Z', registeredBy: 'olga' };
    await stores.blobs.put(MODEL_LAYOUT.record('shop-detector'), new TextEncoder().encode(JSON.stringify(record)), 'application/json');
    const use = await call('PUT', '/api/projects/shop/models', { detector: 'shop-detector' });
    expect(use.status, JSON.stringify(use.json)).toBe(200);
    expect(use.json.detector).toBe('shop-detector');
  });
});
