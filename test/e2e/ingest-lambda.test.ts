// The ingest Lambda exactly as AWS invokes it: its module's `handler` with an SQS event whose messages carry S3
// notifications (fixture captured from the real formats), against the emulators, configured only by environment.

import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsStores } from '../../functions/adapters/aws/clients.js';
import { decodeShard } from '../../functions/adapters/embeddings/shards.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import { createProject } from '../../functions/domain/projects.js';
import { FLOWERS, MODELS, REPO } from '../support/paths.js';
import { startSqsEmulator, type SqsEmulator } from '../support/sqs-emulator.js';
import { lambdaEnvOnEmulators, startLambdaEmulators } from '../support/lambda-env.js';

const BUCKET = 'winnow-ingest-test';
const KEY_1 = 'uploads/garden/my tulip+1.jpg';
const KEY_2 = 'uploads/garden/deleted.jpg';

describe('ingest Lambda handler', () => {
  const closers: (() => Promise<void>)[] = [];
  let stores: AwsStores;
  let event: SQSEvent;
  let sqsEmulator: SqsEmulator;

  beforeAll(async () => {
    const emulators = await startLambdaEmulators('lambda', BUCKET);
    ({ stores } = emulators);
    sqsEmulator = await startSqsEmulator();
    closers.push(emulators.close, sqsEmulator.close);
    await createProject(stores, { id: 'garden', classes: ['tulip', 'other'] }, 'owner');

    const photo = await readFile(path.join(FLOWERS, 'tulips', readdirSync(path.join(FLOWERS, 'tulips'))[0]));
    const put1 = await stores.blobs.put(KEY_1, photo, 'image/jpeg');
    const put2 = await stores.blobs.put(KEY_2, photo, 'image/jpeg');
    await stores.blobs.delete(KEY_2); // the event arrives after the object is gone
    const encode = (key: string) => encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
    const fixture = (await readFile(path.join(REPO, 'test/fixtures/sqs-s3-event.json'), 'utf8'))
      .replaceAll('{{BUCKET}}', BUCKET)
      .replace('{{KEY_1}}', encode(KEY_1)).replace('{{SIZE_1}}', String(photo.length)).replace('{{ETAG_1}}', put1.etag)
      .replace('{{KEY_2}}', encode(KEY_2)).replace('{{SIZE_2}}', String(photo.length)).replace('{{ETAG_2}}', put2.etag);
    event = JSON.parse(fixture) as SQSEvent;

    lambdaEnvOnEmulators(emulators, BUCKET, {
      WINNOW_MODELS: MODELS,
      WINNOW_TRAINER_QUEUE_URL: sqsEmulator.queueUrl('trainer'),
      WINNOW_EXPORT_QUEUE_URL: sqsEmulator.queueUrl('export'),
    });
  });
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it('ingests the uploaded image, ignores the test event and the deleted object, and reports no failures', async () => {
    const { handler } = await import('../../functions/ingest/lambda.js');
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    const image = await stores.samples.getImage('garden', imageIdFor(KEY_1));
    expect(image).toMatchObject({ key: KEY_1, status: 'ready' });
    expect(image!.width).toBeGreaterThan(0);
    expect(await stores.samples.getImage('garden', imageIdFor(KEY_2))).toBeUndefined();
    const samples = await stores.samples.listSamples('garden');
    expect(samples.items.map((s) => s.kind)).toEqual(['image']);
    expect(await stores.blobs.head(`derived/garden/${image!.imageId}/thumb.webp`)).toBeDefined();

    // The same messages delivered again (SQS is at-least-once) create nothing new.
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect((await stores.samples.listSamples('garden')).items).toHaveLength(1);
    expect((await stores.samples.getImage('garden', imageIdFor(KEY_1)))!.updatedAt).toBe(image!.updatedAt);
  });

  it('trainer Lambda: ranks on new embeddings, then trains on labels sent through its queue', async () => {
    const { handler: ingest } = await import('../../functions/ingest/lambda.js');
    const { handler: train } = await import('../../functions/trainer/lambda.js');
    const records = [];
    for (const c of ['daisy', 'sunflowers']) {
      for (const f of readdirSync(path.join(FLOWERS, c)).filter((f) => f.endsWith('.jpg')).slice(0, 4)) {
        const key = `uploads/garden/${c}/${f}`;
        const put = await stores.blobs.put(key, await readFile(path.join(FLOWERS, c, f)), 'image/jpeg');
        records.push({ eventName: 'ObjectCreated:Put', eventTime: new Date().toISOString(), s3: { bucket: { name: BUCKET }, object: { key, eTag: put.etag } } });
      }
    }
    const sqs = (bodies: unknown[]) => ({ Records: bodies.map((b, i) => ({ messageId: `m${i}`, body: JSON.stringify(b) })) }) as SQSEvent;
    sqsEmulator.drain('trainer'); // the first test's trigger
    expect(await ingest(sqs([{ Records: records }]))).toEqual({ batchItemFailures: [] });
    // One trigger for the project, however many images the invocation embedded, sent before it returned.
    expect(sqsEmulator.drain('trainer').map((r) => JSON.parse(r.body))).toEqual([{ projectId: 'garden' }]);

    expect(await train(sqs([{ projectId: 'garden' }, { projectId: 'garden' }]))).toEqual({ batchItemFailures: [] });
    const cold = await stores.rankings.get('garden');
    expect(cold).toMatchObject({ generation: 1, coldStart: true, labels: 0 });
    expect(cold!.sampleIds).toHaveLength(9);

    const { annotate } = await import('../../functions/domain/annotate.js');
    const images = (await stores.samples.listImages('garden')).items;
    const labeled: string[] = [];
    for (const [classIndex, folder] of ['/daisy/', '/sunflowers/'].entries()) {
      for (const image of images.filter((i) => i.key.includes(folder)).slice(0, 2)) {
        await annotate(stores, { projectId: 'garden', sampleId: image.imageId, version: 0, labelerId: 'ann', classIndex, requestId: `lambda-${image.imageId}` });
        labeled.push(image.imageId);
      }
    }
    // Two label messages and one malformed message (dropped, not retried forever).
    const result = await train(sqs([{ projectId: 'garden', sampleIds: labeled.slice(0, 2) }, { projectId: 'garden', sampleIds: labeled.slice(2) }, 'not a request']));
    expect(result).toEqual({ batchItemFailures: [] });
    const trained = await stores.rankings.get('garden');
    expect(trained).toMatchObject({ generation: 2, coldStart: false, labels: 4 });
    expect(trained!.probs).toHaveLength(trained!.sampleIds.length * 2);
    expect(trained!.sampleIds.some((id) => labeled.includes(id))).toBe(false);
  });

  it('an original removed from the bucket: ingest queues its deletion job on the export queue; the export function deletes the image with everything derived', async () => {
    const { handler: ingest } = await import('../../functions/ingest/lambda.js');
    const { handler: exportFn } = await import('../../functions/export/lambda.js');
    const imageId = imageIdFor(KEY_1); // ingested by the first test: thumbnail, display copy, sample, embedding row
    const derived = async () => (await stores.blobs.list(`derived/garden/${imageId}/`)).items.map((o) => o.key);
    const embedded = async () => {
      const ids: string[] = [];
      for (const o of (await stores.blobs.list('embeddings/garden/', { limit: 1000 })).items) ids.push(...decodeShard((await stores.blobs.get(o.key))!.body, o.key).sampleIds);
      return ids;
    };
    expect(await derived()).not.toEqual([]);
    expect(await embedded()).toContain(imageId);
    sqsEmulator.drain('export');
    sqsEmulator.drain('trainer');

    await stores.blobs.delete(KEY_1); // `aws s3 rm`
    const encoded = encodeURIComponent(KEY_1).replace(/%2F/g, '/').replace(/%20/g, '+');
    const removed = { Records: [{ eventName: 'ObjectRemoved:Delete', eventTime: new Date().toISOString(), s3: { bucket: { name: BUCKET }, object: { key: encoded } } }] };
    expect(await ingest({ Records: [{ messageId: 'rm1', body: JSON.stringify(removed) }] } as SQSEvent)).toEqual({ batchItemFailures: [] });

    // Ingest only wrote the job and queued it: nothing is deleted yet.
    const queued = sqsEmulator.drain('export');
    const bodies = queued.map((r) => JSON.parse(r.body));
    expect(bodies).toEqual([{ kind: 'deletion', projectId: 'garden', jobId: expect.stringMatching(/^del-/) }]);
    expect(await stores.samples.getImage('garden', imageId)).toBeDefined();
    expect(await derived()).not.toEqual([]);

    // The export function, invoked as its event source delivers the message, runs the job to its end.
    expect(await exportFn({ Records: queued } as SQSEvent)).toEqual({ batchItemFailures: [] });
    expect(sqsEmulator.drain('export')).toEqual([]);
    expect(await stores.samples.getImage('garden', imageId)).toBeUndefined();
    expect(await stores.samples.getSample('garden', imageId)).toBeUndefined();
    expect(await derived()).toEqual([]);
    expect(await embedded()).not.toContain(imageId);
    // The other images are untouched.
    expect((await stores.samples.listImages('garden')).items).toHaveLength(8);
  });
});
