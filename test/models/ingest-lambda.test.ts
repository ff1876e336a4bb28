// In the cloud, ingest runs in a Lambda whose image holds only the shipped models: a project's registered detector is
// downloaded from the bucket (models/<sha256>) into /tmp on first use. Here the model is registered through the API
// app on the emulators, and the ingest Lambda's own handler, configured only by environment, ingests a photo with it.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { localAuthenticate } from '../../functions/api/auth-local.js';
import type { AwsStores } from '../../functions/adapters/aws/clients.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import { createModelLab } from '../../functions/vision/model-lab.js';
import { ModelRegistry } from '../../functions/vision/registry.js';
import { lambdaEnvOnEmulators, startLambdaEmulators } from '../support/lambda-env.js';
import { FLOWERS, MODELS } from '../support/paths.js';
import { startSqsEmulator } from '../support/sqs-emulator.js';
import { tempDir } from '../support/stack.js';

const BUCKET = 'winnow-byo-lambda';
const KEY = 'uploads/shop/vase.jpg';

describe('ingest Lambda with a registered detector', () => {
  const closers: (() => Promise<void>)[] = [];
  let stores: AwsStores;
  let api: (method: string, route: string, body?: unknown) => Promise<{ status: number; json: any }>;

  beforeAll(async () => {
    const emulators = await startLambdaEmulators('byo-lambda', BUCKET);
    stores = emulators.stores;
    const sqs = await startSqsEmulator();
    closers.push(emulators.close, sqs.close);
    lambdaEnvOnEmulators(emulators, BUCKET, { WINNOW_MODELS: MODELS, WINNOW_TRAINER_QUEUE_URL: sqs.queueUrl('trainer'), WINNOW_EXPORT_QUEUE_URL: sqs.queueUrl('export') });
    // The API process's lab caches files in its own folder: the Lambda must fetch its copy from the bucket.
    const registry = new ModelRegistry(stores.blobs, await tempDir('byo-lambda-api-cache'));
    const app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate: localAuthenticate, models: createModelLab({ stores, registry }) });
    api = async (method, route, body) => {
      const res = await app.request(route, { method, headers: { 'x-winnow-user': 'owner', ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, json: await res.json() };
    };
  });
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it('downloads the registered model to /tmp and ingests with its mapped boxes', async () => {
    expect((await api('POST', '/api/projects', { id: 'shop', classes: ['vase', 'fruit'], taskType: 'box-review' })).status).toBe(201);
    const file = await readFile(path.join(MODELS, 'yolox_nano.onnx'));
    const up = await api('POST', '/api/models/uploads', { bytes: file.byteLength });
    expect(up.status).toBe(201);
    // Presigned by the bucket itself (the emulator here, S3 in the cloud).
    expect((await fetch(up.json.url, { method: 'PUT', headers: up.json.headers, body: file })).status).toBe(200);
    const inspected = await api('POST', '/api/models/inspect', { upload: up.json.upload, name: 'cloud-detector' });
    expect(inspected.status).toBe(200);
    // Registered without class names: the classes are "class 0" ... "class 79" (COCO's vase is index 75).
    const registered = await api('POST', '/api/models', { manifest: inspected.json.proposal.manifest, classMap: { 'class 75': 'vase' } });
    expect(registered.status).toBe(201);
    expect(registered.json.trial.source).toEqual({ synthetic: true });
    expect((await api('PUT', '/api/projects/shop/models', { detector: 'cloud-detector' })).status).toBe(200);

    const cached = path.join(os.tmpdir(), 'winnow-models', `${inspected.json.sha256}.onnx`);
    if (existsSync(cached)) await import('node:fs/promises').then((fs) => fs.rm(cached));
    const photo = await readFile(path.join(FLOWERS, 'tulips/113902743_8f537f769b_n.jpg'));
    const put = await stores.blobs.put(KEY, photo, 'image/jpeg');
    const record = { eventVersion: '2.1', eventSource: 'aws:s3', eventTime: '2026-12-06T10:00:00.000Z', eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET }, object: { key: 'uploads/shop/vase.jpg', size: photo.length, eTag: put.etag } } };
    const event = { Records: [{ messageId: 'm1', body: JSON.stringify({ Records: [record] }), attributes: { ApproximateReceiveCount: '1' } }] } as unknown as SQSEvent;
    const { handler } = await import('../../functions/ingest/lambda.js');
    expect(await handler(event)).toEqual({ batchItemFailures: [] });

    const sample = await stores.samples.getSample('shop', imageIdFor(KEY));
    expect(sample?.proposals?.map((p) => p.classIndex)).toEqual([0]);
    expect((await readFile(cached)).byteLength).toBe(file.byteLength);
  });
});
