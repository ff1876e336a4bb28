// A deletion the cloud's API cannot hand to the export queue (the SQS endpoint unreachable), on the emulators
// (dynalite, the S3 emulator, an SQS endpoint): the owner gets a 503 with a JSON body saying the deletion could not
// be started and why; the job's status says failed with that reason instead of "running" forever with nothing to
// run it; nothing was deleted. Once the queue answers again, the same request continues that very job (no second
// job), the export function's slices run it, and nothing of what it deleted is left. The same for a whole project
// (the project back as it was when the job could not be queued, everything deleted once the retry got through), and
// for an original removed from the bucket directly (ingest's ObjectRemoved: no job left behind, its event retried).

import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsStores } from '../../functions/adapters/aws/clients.js';
import { shardFeatureVectors } from '../../functions/adapters/embeddings/store.js';
import { createApp } from '../../functions/api/app.js';
import type { Authenticate } from '../../functions/api/types.js';
import { sqsDeletionRunner } from '../../functions/deletion/sqs-runner.js';
import { originalRemoved, projectPrefixes, unfinishedDeletions, type DeletionRunner } from '../../functions/domain/deletion.js';
import { imageIdFor } from '../../functions/domain/ingest.js';
import { createProject } from '../../functions/domain/projects.js';
import { sampleFixture } from '../support/fixtures.js';
import { lambdaEnvOnEmulators, startLambdaEmulators } from '../support/lambda-env.js';
import { startSqsEmulator, type SqsEmulator } from '../support/sqs-emulator.js';

const BUCKET = 'winnow-deletion-queue-down';
const P = 'pond';
const IMAGES = 12;

const authenticate: Authenticate = async () => ({ userId: 'olga', groups: ['admin'] });
const noTimeLeft = { awsRequestId: 'req', getRemainingTimeInMillis: () => 0 } as unknown as Context;

describe('a deletion the API cannot queue', () => {
  const closers: (() => Promise<void>)[] = [];
  let stores: AwsStores;
  let sqs: SqsEmulator;
  let app: ReturnType<typeof createApp>;
  let handler: (event: SQSEvent, context?: Context) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
  /** Where the API's runner sends: the real SQS client, to the emulator or to an endpoint that is gone. */
  let target: DeletionRunner;
  let client: SQSClient;
  /** An SQS endpoint that was there and is gone: connections to its port are refused. */
  const queueDown = async () => {
    const gone = await startSqsEmulator();
    const deadQueue = gone.queueUrl('export');
    await gone.close();
    target = sqsDeletionRunner(client, deadQueue);
  };
  const queueUp = () => (target = sqsDeletionRunner(client, sqs.queueUrl('export')));

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    return { status: res.status, json: (await res.json()) as any };
  };
  const keys = async (prefix: string) => (await stores.blobs.list(prefix, { limit: 1000 })).items.map((o) => o.key);

  async function drainExportQueue(): Promise<number> {
    let invocations = 0;
    for (let records: SQSRecord[]; (records = sqs.drain('export')).length > 0; ) {
      for (const record of records) {
        expect(await handler({ Records: [record] }, noTimeLeft)).toEqual({ batchItemFailures: [] });
        expect(++invocations, 'a job that never finishes').toBeLessThan(60);
      }
    }
    return invocations;
  }

  beforeAll(async () => {
    const emulators = await startLambdaEmulators('deletion-queue-down', BUCKET);
    sqs = await startSqsEmulator();
    ({ stores } = emulators);
    closers.push(emulators.close, sqs.close);
    lambdaEnvOnEmulators(emulators, BUCKET, { WINNOW_EXPORT_QUEUE_URL: sqs.queueUrl('export'), WINNOW_TRAINER_QUEUE_URL: sqs.queueUrl('trainer') });
    ({ handler } = (await import('../../functions/export/lambda.js')) as never);
    client = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 2 });
    closers.push(async () => client.destroy());
    app = createApp({ stores, featureVectors: shardFeatureVectors(stores.blobs, stores.clock), authenticate, deletions: { start: (job) => target.start(job) } });

    await createProject(stores, { id: P, name: 'Pond', classes: ['frog', 'newt'], auditRate: 0 }, 'olga');
    const at = '2026-11-22T09:00:00.000Z';
    for (let n = 1; n <= IMAGES; n++) {
      await stores.samples.putImage({ projectId: P, imageId: `i${n}`, key: `uploads/${P}/img${n}.jpg`, etag: 'e', bytes: 1, status: 'ready', order: `o${n}`, createdAt: at, updatedAt: at });
      await stores.blobs.put(`uploads/${P}/img${n}.jpg`, new Uint8Array([1]), 'image/jpeg');
      await stores.blobs.put(`derived/${P}/i${n}/thumb.webp`, new Uint8Array([2]), 'image/webp');
    }
    await stores.samples.putSamplesIfAbsent(Array.from({ length: IMAGES }, (_, i) => sampleFixture(P, i + 1, { sampleId: `i${i + 1}`, imageId: `i${i + 1}` })));
  }, 60_000);
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it('an image: 503 naming the problem, the job failed with the reason, nothing deleted; the same request again runs that job', async () => {
    await queueDown();
    const refused = await call('DELETE', `/api/projects/${P}/images/i3`);
    expect(refused.status).toBe(503);
    expect(refused.json).toMatchObject({ code: 'unavailable', kind: 'images', projectId: P });
    expect(refused.json.message).toMatch(/could not be started/);
    expect(refused.json.message).toMatch(/Nothing was deleted/);
    expect(refused.json.message).toMatch(/again to retry/);
    const jobId = refused.json.jobId as string;
    expect(jobId).toMatch(/^del-/);

    // What the owner polls says failed, with the reason; no job is left looking queued.
    const status = await call('GET', `/api/projects/${P}/deletions/${jobId}`);
    expect(status.json).toMatchObject({ status: 'failed', phase: 'resolve' });
    expect(status.json.error).toMatch(/could not be queued/);
    expect((await unfinishedDeletions(stores, P)).filter((j) => j.status === 'running')).toEqual([]);
    expect(await stores.samples.getImage(P, 'i3')).toBeDefined();
    expect(await keys(`uploads/${P}/img3.jpg`)).toEqual([`uploads/${P}/img3.jpg`]);

    // The queue answers again: the owner asks again and the same job goes.
    queueUp();
    const retried = await call('DELETE', `/api/projects/${P}/images/i3`);
    expect(retried.status).toBe(202);
    expect(retried.json).toMatchObject({ jobId, status: 'running' });
    expect(retried.json.error).toBeUndefined();
    const queued = sqs.drain('export');
    expect(queued.map((r) => JSON.parse(r.body))).toEqual([{ kind: 'deletion', projectId: P, jobId }]);
    sqs.send('export', queued[0].body);
    expect(await drainExportQueue()).toBeGreaterThanOrEqual(2);
    expect((await call('GET', retried.json.statusUrl)).json).toMatchObject({ jobId, status: 'done', deleted: { images: 1, samples: 1 } });
    expect(await stores.samples.getImage(P, 'i3')).toBeUndefined();
    expect(await keys(`uploads/${P}/img3.jpg`)).toEqual([]);
    expect(await keys(`derived/${P}/i3/`)).toEqual([]);
    expect(await unfinishedDeletions(stores, P)).toEqual([]);
  }, 60_000);

  it('an original removed from the bucket while the queue is down: ingest fails (its event comes again) and leaves no job behind', async () => {
    // An image as ingest records it (its id from its key), whose original is then removed.
    const key = `uploads/${P}/removed.jpg`;
    const imageId = imageIdFor(key);
    const at = '2026-11-22T09:00:00.000Z';
    await stores.samples.putImage({ projectId: P, imageId, key, etag: 'e', bytes: 1, status: 'ready', order: 'o99', createdAt: at, updatedAt: at });
    await queueDown();
    const runner: DeletionRunner = { start: (job) => target.start(job) };
    await expect(originalRemoved(stores, key, { runner })).rejects.toThrow();
    expect(await unfinishedDeletions(stores, P)).toEqual([]);
    expect(await stores.samples.getImage(P, imageId)).toBeDefined();
    // The event delivered again once the queue answers: one job, queued.
    queueUp();
    const job = await originalRemoved(stores, key, { runner });
    expect(job).toBeDefined();
    expect(sqs.drain('export').map((r) => JSON.parse(r.body))).toEqual([{ kind: 'deletion', projectId: P, jobId: job!.jobId }]);
    expect((await unfinishedDeletions(stores, P)).map((j) => j.jobId)).toEqual([job!.jobId]);
    sqs.send('export', JSON.stringify({ kind: 'deletion', projectId: P, jobId: job!.jobId }));
    await drainExportQueue();
    expect(await stores.samples.getImage(P, imageId)).toBeUndefined();
  }, 60_000);

  it('a project: 503 while the queue is down and the project back as it was; the same request later deletes everything', async () => {
    await queueDown();
    const refused = await call('DELETE', `/api/projects/${P}`, { confirm: 'Pond' });
    expect(refused.status).toBe(503);
    expect(refused.json).toMatchObject({ code: 'unavailable', kind: 'project', projectId: P });
    expect(refused.json.message).toMatch(/could not be started/);
    expect(refused.json.message).toMatch(/Nothing was deleted: the project is back/);
    // Nothing half-started: the project answers again, no job of it is left, its images are all there.
    expect((await call('GET', `/api/projects/${P}`)).status).toBe(200);
    expect((await call('GET', `/api/deletions/${P}/${refused.json.jobId}`)).status).toBe(404);
    expect(await unfinishedDeletions(stores, P)).toEqual([]);
    expect((await stores.samples.listImages(P, { limit: 100 })).items).toHaveLength(IMAGES - 1);

    queueUp();
    const retried = await call('DELETE', `/api/projects/${P}`, { confirm: 'Pond' });
    expect(retried.status).toBe(202);
    expect(retried.json).toMatchObject({ kind: 'project', status: 'running' });
    expect((await call('GET', `/api/projects/${P}`)).status).toBe(404);
    expect(await drainExportQueue()).toBeGreaterThan(2);
    for (const prefix of [...projectPrefixes(P), `deletions/${P}/`]) expect(await keys(prefix), prefix).toEqual([]);
    expect((await stores.samples.listImages(P, { limit: 10 })).items).toEqual([]);
    expect((await stores.samples.listSamples(P, { limit: 10 })).items).toEqual([]);
    expect((await call('GET', retried.json.statusUrl)).json).toMatchObject({ jobId: retried.json.jobId, kind: 'project', status: 'done' });
  }, 60_000);
});
