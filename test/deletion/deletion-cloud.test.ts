// Deletion jobs in the cloud, on the emulators (dynalite, the S3 emulator, an SQS endpoint): the API answers 202
// having only written the job and put it on the export queue (Lambda would freeze anything left running); the
// export function's handler, invoked with SQS events exactly as the event source delivers them, runs the job. Each
// invocation here has no time left, so every slice stops after one step and puts the job back on the queue: the
// job still finishes, and leaves nothing of what it deleted.

import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsStores } from '../../functions/adapters/aws/clients.js';
import { appendEmbeddings } from '../../functions/adapters/embeddings/shards.js';
import { createApp } from '../../functions/api/app.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import type { Authenticate } from '../../functions/api/types.js';
import { sqsDeletionRunner } from '../../functions/deletion/sqs-runner.js';
import { annotate } from '../../functions/domain/annotate.js';
import { projectPrefixes } from '../../functions/domain/deletion.js';
import { createProject } from '../../functions/domain/projects.js';
import { rid, sampleFixture } from '../support/fixtures.js';
import { lambdaEnvOnEmulators, startLambdaEmulators } from '../support/lambda-env.js';
import { startSqsEmulator, type SqsEmulator } from '../support/sqs-emulator.js';

const BUCKET = 'winnow-deletion-cloud';
const P = 'meadow';
/** More than two chunks of images (a step deletes 100). */
const IMAGES = 230;

const authenticate: Authenticate = async () => ({ userId: 'olga', groups: ['admin'] });
/** Lambda's context with no time left: each slice stops after its first step. */
const noTimeLeft = { awsRequestId: 'req', getRemainingTimeInMillis: () => 0 } as unknown as Context;

describe('deletion jobs in the cloud: started by the API, run by the export function in slices', () => {
  const closers: (() => Promise<void>)[] = [];
  let stores: AwsStores;
  let sqs: SqsEmulator;
  let app: ReturnType<typeof createApp>;
  let handler: (event: SQSEvent, context?: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, json: (await res.json()) as any };
  };
  const keys = async (prefix: string) => (await stores.blobs.list(prefix, { limit: 1000 })).items.map((o) => o.key);

  /** Delivers the export queue's messages one per invocation (batch size 1) until none is left; how many. */
  async function drainExportQueue(): Promise<{ invocations: number; bodies: unknown[] }> {
    const bodies: unknown[] = [];
    let invocations = 0;
    for (let records: SQSRecord[]; (records = sqs.drain('export')).length > 0; ) {
      for (const record of records) {
        bodies.push(JSON.parse(record.body));
        expect(await handler({ Records: [record] }, noTimeLeft)).toEqual({ batchItemFailures: [] });
        invocations++;
        expect(invocations, 'a job that never finishes').toBeLessThan(100);
      }
    }
    return { invocations, bodies };
  }

  beforeAll(async () => {
    const emulators = await startLambdaEmulators('deletion-cloud', BUCKET);
    sqs = await startSqsEmulator();
    ({ stores } = emulators);
    closers.push(emulators.close, sqs.close);
    lambdaEnvOnEmulators(emulators, BUCKET, { WINNOW_EXPORT_QUEUE_URL: sqs.queueUrl('export'), WINNOW_TRAINER_QUEUE_URL: sqs.queueUrl('trainer') });
    ({ handler } = (await import('../../functions/export/lambda.js')) as never);
    const client = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    closers.push(async () => client.destroy());
    app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate, deletions: sqsDeletionRunner(client, sqs.queueUrl('export')) });

    await createProject(stores, { id: P, name: 'Meadow', classes: ['daisy', 'rose'], auditRate: 0 }, 'olga');
    const at = '2026-11-22T09:00:00.000Z';
    for (let n = 1; n <= IMAGES; n++) {
      await stores.samples.putImage({ projectId: P, imageId: `i${n}`, key: `uploads/${P}/img${n}.jpg`, etag: 'e', bytes: 1, status: n <= 200 ? 'ready' : 'failed', order: `o${n}`, createdAt: at, updatedAt: at });
    }
    await stores.samples.putSamplesIfAbsent(Array.from({ length: 200 }, (_, i) => sampleFixture(P, i + 1, { sampleId: `i${i + 1}`, imageId: `i${i + 1}` })));
    await Promise.all(
      Array.from({ length: IMAGES }, async (_, i) => {
        await stores.blobs.put(`uploads/${P}/img${i + 1}.jpg`, new Uint8Array([1]), 'image/jpeg');
        await stores.blobs.put(`derived/${P}/i${i + 1}/thumb.webp`, new Uint8Array([2]), 'image/webp');
      }),
    );
    await appendEmbeddings(stores.blobs, P, 'm', Array.from({ length: 200 }, (_, i) => ({ sampleId: `i${i + 1}`, vector: new Float32Array([1, 0, i]) })));
    // Two labelers label the first 20 images.
    for (let n = 1; n <= 20; n++) {
      for (const labelerId of ['ann', 'bo']) {
        const sample = await stores.samples.getSample(P, `i${n}`);
        await annotate(stores, { projectId: P, sampleId: `i${n}`, version: sample!.version, labelerId, requestId: rid(), confidences: labelerId === 'ann' ? [1, 0] : [0, 1], ambiguous: false });
      }
    }
  }, 60_000);
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it('an image deletion: the API only queues it; slices of the export function delete the failed images to the last', async () => {
    const started = await call('POST', `/api/projects/${P}/deletions`, { filter: { status: 'failed' } });
    expect(started.status).toBe(202);
    // Nothing deleted by the API itself: the job waits on the queue.
    expect((await stores.samples.getImage(P, 'i230'))?.status).toBe('failed');
    expect(sqs.drain('export').map((r) => JSON.parse(r.body))).toEqual([{ kind: 'deletion', projectId: P, jobId: started.json.jobId }]);
    sqs.send('export', JSON.stringify({ kind: 'deletion', projectId: P, jobId: started.json.jobId }));

    const { invocations } = await drainExportQueue();
    const status = await call('GET', started.json.statusUrl);
    expect(status.json).toMatchObject({ status: 'done', phase: 'done', progress: { done: 30, total: 30 }, deleted: { images: 30 } });
    // One slice to resolve, one to hide, one to sweep: each stopped after a step and put the job back.
    expect(invocations).toBeGreaterThanOrEqual(3);
    expect((await stores.samples.listImages(P, { limit: 1000 })).items).toHaveLength(200);
    expect((await keys(`uploads/${P}/`)).filter((k) => Number(/img(\d+)/.exec(k)![1]) > 200)).toEqual([]);
    expect((await keys(`derived/${P}/`)).length).toBe(200);
  });

  it('a labeler\'s work: cut into slices of 100 samples, finished, then the trainer is asked to rank again', async () => {
    sqs.drain('trainer');
    const started = await call('DELETE', `/api/projects/${P}/labelers/bo/annotations`);
    expect(started.status).toBe(202);
    const { invocations } = await drainExportQueue();
    expect(invocations).toBeGreaterThanOrEqual(2);
    expect((await call('GET', started.json.statusUrl)).json).toMatchObject({ status: 'done', deleted: { annotations: 20, samplesReverted: 20 } });
    const sample = await stores.samples.getSample(P, 'i1');
    expect(sample?.labeledBy).toEqual(['ann']);
    expect(sample?.label?.confidences).toEqual([1, 0]);
    expect(sqs.drain('trainer').map((r) => JSON.parse(r.body).projectId)).toEqual([P]);
  });

  it('a whole project: gone from the API at once, then every item and object of it, a page per slice', async () => {
    const started = await call('DELETE', `/api/projects/${P}`, { confirm: 'Meadow' });
    expect(started.status).toBe(202);
    expect((await call('GET', `/api/projects/${P}`)).status).toBe(404);
    expect((await stores.samples.listImages(P, { limit: 10 })).items.length).toBeGreaterThan(0); // not yet swept

    const { invocations } = await drainExportQueue();
    expect(invocations).toBeGreaterThan(4); // samples, images, annotations, labelers, objects: a slice each at least
    for (const prefix of [...projectPrefixes(P), `deletions/${P}/`]) expect(await keys(prefix), prefix).toEqual([]);
    expect((await stores.samples.listImages(P, { limit: 10 })).items).toEqual([]);
    expect((await stores.samples.listSamples(P, { limit: 10 })).items).toEqual([]);
    expect((await stores.annotations.listForProject(P, { limit: 10 })).items).toEqual([]);
    expect(await stores.labelers.list(P)).toEqual([]);
    expect(await stores.rankings.get(P)).toBeUndefined();
    // The API (another process than the worker) still answers the status the web app and CLI poll for: done.
    const status = await call('GET', started.json.statusUrl);
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ jobId: started.json.jobId, projectId: P, kind: 'project', status: 'done' });

    // The same message delivered again (SQS delivers at least once): nothing left to do, no failure, not re-queued.
    sqs.send('export', JSON.stringify({ kind: 'deletion', projectId: P, jobId: started.json.jobId }));
    expect(await drainExportQueue()).toMatchObject({ invocations: 1 });
    // A job with no record at all (a fresh container meeting a finished project deletion): the same.
    sqs.send('export', JSON.stringify({ kind: 'deletion', projectId: 'nowhere', jobId: 'del-unknown-00000000' }));
    expect(await drainExportQueue()).toMatchObject({ invocations: 1 });
  });
});
