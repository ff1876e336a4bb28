// The cloud path of retention, on the emulators (dynalite + S3 emulator + an SQS endpoint): the export Lambda's
// handler, exactly as AWS invokes it, runs the retention sweep after its job. A project keeping exports and originals
// 7 days loses its 10-day-old export at once; the originals that export held (with their thumbnails, samples and
// annotations) go through a deletion job the sweep only puts on the export queue: the invocation that swept deleted
// none of them, and the function's later invocations run the job in slices (here each with no time left, so each
// makes one step: 100 images at most) until it is done. A second export meanwhile queues nothing more. An image
// uploaded after the export stays; a project without retention keeps its equally old export.
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsStores } from '../../functions/adapters/aws/clients.js';
import { awsExportDeps } from '../../functions/adapters/export/service.js';
import { exportStatus, startExport } from '../../functions/domain/interchange/export/job.js';
import { createProject } from '../../functions/domain/projects.js';
import { DAY_MS } from '../../functions/domain/retention.js';
import { lambdaEnvOnEmulators, startLambdaEmulators } from '../support/lambda-env.js';
import { startSqsEmulator, type SqsEmulator } from '../support/sqs-emulator.js';

const BUCKET = 'winnow-retention-test';
/** Images of `kept` past retention besides image 1: three chunks of a deletion job. */
const BULK = 240;
/** Lambda's context with no time left: each deletion slice stops after its first step. */
const noTimeLeft = { awsRequestId: 'req', getRemainingTimeInMillis: () => 0 } as unknown as Context;

describe('retention in the cloud: the sweep after each export job', () => {
  const closers: (() => Promise<void>)[] = [];
  let stores: AwsStores;
  let sqs: SqsEmulator;

  /** An export folder as a finished job leaves it, finished `daysAgo` days ago. */
  async function oldExport(projectId: string, exportId: string, daysAgo: number) {
    const at = new Date(Date.now() - daysAgo * DAY_MS).toISOString();
    const status = {
      exportId, projectId, request: { format: 'jsonl', include: 'labeled', images: false }, state: 'done', requestedBy: 'owner',
      createdAt: at, updatedAt: at, startedAt: at, finishedAt: at, counts: {}, bytes: 2, fileName: 'x.jsonl', contentType: 'application/x-ndjson',
    };
    await stores.blobs.put(`exports/${projectId}/${exportId}/status.json`, new TextEncoder().encode(JSON.stringify(status)), 'application/json');
    await stores.blobs.put(`exports/${projectId}/${exportId}/x.jsonl`, new TextEncoder().encode('{}'), 'application/x-ndjson');
  }

  async function image(projectId: string, n: number, daysAgo: number, imageId = String(n).repeat(24)) {
    const at = new Date(Date.now() - daysAgo * DAY_MS).toISOString();
    await stores.samples.putImage({ projectId, imageId, key: `uploads/${projectId}/${n}.jpg`, etag: 'e', bytes: 1, status: 'ready', width: 30, height: 20, order: `o${n}`, createdAt: at, updatedAt: at });
    await stores.blobs.put(`uploads/${projectId}/${n}.jpg`, new Uint8Array([1]), 'image/jpeg');
    await stores.blobs.put(`derived/${projectId}/${imageId}/thumb.webp`, new Uint8Array([2]), 'image/webp');
    await stores.samples.putSamplesIfAbsent([
      { projectId, sampleId: imageId, imageId, kind: 'image', version: 1, labeledBy: ['ann'], order: `o${n}`, createdAt: at, label: { confidences: [1, 0], ambiguous: false, labelerId: 'ann', at } },
    ]);
  }

  const keys = async (prefix: string) => (await stores.blobs.list(prefix, { limit: 1000 })).items.map((o) => o.key).sort();

  beforeAll(async () => {
    const emulators = await startLambdaEmulators('retention-cloud', BUCKET);
    ({ stores } = emulators);
    closers.push(emulators.close);
    await createProject(stores, { id: 'kept', classes: ['tulip', 'other'], retention: { exportsDays: 7, originalsDaysAfterExport: 7 } }, 'owner');
    await createProject(stores, { id: 'garden', classes: ['tulip', 'other'] }, 'owner');
    await image('kept', 1, 20); // held by the 10-day-old export
    await image('kept', 2, 1); // uploaded after it
    for (let b = 0; b < BULK; b += 20) await Promise.all(Array.from({ length: 20 }, (_, i) => image('kept', 100 + b + i, 20, `bulk${b + i}`)));
    await oldExport('kept', '20260101-000000-aaaaaa', 10);
    await image('garden', 3, 20);
    await oldExport('garden', '20260101-000000-bbbbbb', 10);
    sqs = await startSqsEmulator();
    closers.push(sqs.close);
    lambdaEnvOnEmulators(emulators, BUCKET, { WINNOW_EXPORT_QUEUE_URL: sqs.queueUrl('export'), WINNOW_TRAINER_QUEUE_URL: sqs.queueUrl('trainer') });
  }, 60_000);
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it('deletes what a project keeps no longer after an export job of any project, the originals in slices of a queued job', async () => {
    const api = awsExportDeps(stores, { bucket: BUCKET, defaultEmbeddingModel: 'm', runner: { dispatch: async () => undefined } });
    const { handler } = await import('../../functions/export/lambda.js');
    const exportGarden = async (n: number) => {
      const started = await startExport(api, 'garden', { format: 'jsonl', include: 'labeled', images: false }, 'owner');
      const event = { Records: [{ messageId: `m-${n}`, body: JSON.stringify({ kind: 'export', projectId: 'garden', exportId: started.exportId }) }] } as unknown as SQSEvent;
      expect(await handler(event)).toEqual({ batchItemFailures: [] });
      expect((await exportStatus(api, 'garden', started.exportId)).state).toBe('done');
      return started.exportId;
    };
    const exportId = await exportGarden(1);

    // kept: the old export went at once; the originals it held wait on the queue as one deletion job.
    expect(await keys('exports/kept/')).toEqual([]);
    expect(await keys('uploads/kept/')).toHaveLength(2 + BULK);
    const queued = sqs.drain('export');
    expect(queued.map((r) => JSON.parse(r.body))).toEqual([{ kind: 'deletion', projectId: 'kept', jobId: expect.stringMatching(/^del-/) }]);
    // Another export meanwhile: the job of the earlier sweep is the images' (nothing queued twice).
    await exportGarden(2);
    expect(sqs.drain('export')).toEqual([]);

    // The export function's slices: each a step, the job put back on the queue until done.
    const steps: number[] = [];
    let pending: SQSRecord[] = queued;
    while (pending.length > 0) {
      for (const record of pending) expect(await handler({ Records: [record] }, noTimeLeft)).toEqual({ batchItemFailures: [] });
      const left = await stores.blobs.list('uploads/kept/', { limit: 1000 });
      steps.push(left.items.length);
      pending = sqs.drain('export');
      expect(steps.length, 'a job that never finishes').toBeLessThan(30);
    }
    // Resolve, 3 chunks of at most 100 images hidden, 3 swept, the last checks.
    expect(steps.length).toBeGreaterThanOrEqual(1 + 3 + 3);
    expect(steps.slice(1, 4)).toEqual([2 + BULK - 100, 2 + BULK - 200, 1]);

    expect(await keys('uploads/kept/')).toEqual(['uploads/kept/2.jpg']);
    expect(await keys('derived/kept/')).toEqual([`derived/kept/${'2'.repeat(24)}/thumb.webp`]);
    expect((await stores.samples.listImages('kept')).items.map((i) => i.imageId)).toEqual(['2'.repeat(24)]);
    expect((await stores.samples.listSamples('kept')).items.map((s) => s.sampleId)).toEqual(['2'.repeat(24)]);
    // garden (no retention): everything stays, the new exports beside the old one.
    expect(await keys('uploads/garden/')).toEqual(['uploads/garden/3.jpg']);
    expect((await keys('exports/garden/')).filter((k) => k.includes('20260101-000000-bbbbbb'))).toHaveLength(2);
    expect((await keys('exports/garden/')).filter((k) => k.includes(exportId)).length).toBeGreaterThan(0);
  }, 90_000);
});
