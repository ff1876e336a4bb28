// What users send instead of a usable model, each refused with a reason that names the problem, and nothing else
// affected: no registration, no stored file, the upload removed, the stack still ingesting photos. The cap and the
// per-image timeout are made small here (1 MB, 300 ms) so that no test writes a huge file or waits long.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../functions/local/stack.js';
import { FLOWERS, MODELS } from '../support/paths.js';
import { apiClient, startTestStack, tempDir } from '../support/stack.js';
import { dynamicSize, nanEmbedder, slowEmbedder, tinyEmbedder, unknownOperator, wrongRank } from './onnx-builder.js';
import { uploadAndInspect, uploadPhotos, type Api } from './support.js';

const CAP = 1_000_000;
const TIMEOUT_MS = 300;

describe('bad model files', () => {
  let stack: LocalStack;
  let api: Api;
  beforeAll(async () => {
    stack = await startTestStack(await tempDir('byo-bad'), { modelLimits: { maxBytes: CAP, timeoutMs: TIMEOUT_MS } });
    api = apiClient(stack.url, 'owner');
    expect((await api('POST', '/api/projects', { id: 'p', classes: ['daisy', 'other'] })).status).toBe(201);
    await uploadPhotos(api, 'p', ['daisy/100080576_f52e8ee070_n.jpg']);
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** Nothing of a refused file stays: no model object, no upload, no registration. */
  async function nothingStored() {
    expect((await stack.stores.blobs.list('models/', { limit: 100 })).items.map((o) => o.key)).toEqual([]);
    expect((await api('GET', '/api/models')).json.models).toEqual([]);
  }

  it('refuses a file that is not ONNX', async () => {
    const jpeg = new Uint8Array(await readFile(path.join(FLOWERS, 'daisy/100080576_f52e8ee070_n.jpg')));
    const res = await uploadAndInspect(api, jpeg, { name: 'photo' });
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/^not an ONNX file/);
    await nothingStored();
  });

  it('refuses an ONNX file that does not load', async () => {
    const res = await uploadAndInspect(api, unknownOperator(), { name: 'broken' });
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/does not load in onnxruntime: .*NoSuchWinnowOp/);
    await nothingStored();
  });

  it('refuses an input of the wrong rank', async () => {
    const res = await uploadAndInspect(api, wrongRank(), { name: 'signal' });
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/wrong input rank: input signal \[1, 3, 224\] has 3 dimensions/);
    await nothingStored();
  });

  it('refuses dynamic image sizes unless the owner fixes them', async () => {
    const open = await uploadAndInspect(api, dynamicSize(), { name: 'open-size' });
    expect(open.status).toBe(400);
    expect(open.json.message).toMatch(/dynamic shapes: input image \[batch, 3, height, width\]/);
    await nothingStored();
    const fixed = await uploadAndInspect(api, dynamicSize(), { name: 'open-size', inputShape: ['batch', 3, 64, 64] });
    expect(fixed.status).toBe(200);
    expect(fixed.json.proposal.manifest.input.shape).toEqual(['batch', 3, 64, 64]);
    const registered = await api('POST', '/api/models', { manifest: fixed.json.proposal.manifest, projectId: 'p' });
    expect(registered.status).toBe(201);
    expect(registered.json.trial.items[0].embedding.dims).toBe(3);
    // Cleaned up for the next cases (an owner would keep it).
    await stack.stores.blobs.deleteMany((await stack.stores.blobs.list('models/')).items.map((o) => o.key));
  });

  it('refuses a model whose outputs are NaN, at the trial run', async () => {
    const inspected = await uploadAndInspect(api, nanEmbedder(), { name: 'nan', role: 'embedder' });
    expect(inspected.status).toBe(200);
    const res = await api('POST', '/api/models', { manifest: inspected.json.proposal.manifest, projectId: 'p' });
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/outputs NaN values \(output "embedding", index 0/);
    expect((await api('GET', '/api/models')).json.models).toEqual([]);
  });

  it('refuses a file above the size cap, declared or actual', async () => {
    const declared = await api('POST', '/api/models/uploads', { bytes: 2 * 1024 ** 3 });
    expect(declared.status).toBe(413);
    expect(declared.json).toMatchObject({ code: 'payload_too_large', limitBytes: CAP });
    expect(declared.json.message).toMatch(/too large: the model file has 2147483648 bytes; models up to 1000000 bytes/);
    // A client that declares less and sends more: measured once stored, refused, and the upload removed.
    const yolox = await readFile(path.join(MODELS, 'yolox_nano.onnx'));
    const up = await api('POST', '/api/models/uploads', { bytes: 1000 });
    expect((await fetch(up.json.url, { method: 'PUT', headers: up.json.headers, body: yolox })).status).toBe(200);
    const inspected = await api('POST', '/api/models/inspect', { upload: up.json.upload, name: 'big' });
    expect(inspected.status).toBe(413);
    expect(inspected.json.message).toMatch(/too large: the model file has 3713911 bytes/);
    expect((await stack.stores.blobs.list('models/uploads/')).items).toEqual([]);
  });

  it('stops a model that takes longer than the per-image timeout, and the stack goes on', async () => {
    const inspected = await uploadAndInspect(api, slowEmbedder(), { name: 'slow', role: 'embedder' });
    expect(inspected.status).toBe(200);
    const started = Date.now();
    const res = await api('POST', '/api/models/trial', { manifest: inspected.json.proposal.manifest, projectId: 'p' });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code: 'bad_request', timeoutMs: TIMEOUT_MS });
    expect(res.json.message).toMatch(/too slow: the model took longer than 300 ms on one image/);
    expect(Date.now() - started).toBeLessThan(20_000);
    // Nothing else affected: a good model still registers and photos are still ingested.
    const good = await uploadAndInspect(api, tinyEmbedder(), { name: 'good', role: 'embedder' });
    expect((await api('POST', '/api/models', { manifest: good.json.proposal.manifest, projectId: 'p' })).status).toBe(201);
    await uploadPhotos(api, 'p', ['roses/10090824183_d02c613f10_m.jpg']);
    expect((await api('GET', '/api/projects/p/progress')).json.images).toMatchObject({ ready: 2, failed: 0 });
  });
});
