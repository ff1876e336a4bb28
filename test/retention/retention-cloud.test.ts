// The cloud path of retention, on the emulators (dynalite + S3 emulator): the export Lambda's handler, exactly as
// AWS invokes it, runs the retention sweep after its job. A project keeping exports and originals 7 days loses its
// 10-day-old export and the original (with its thumbnail, sample and annotation) that export held; an image uploaded
// after it stays; a project without retention keeps its equally old export.

import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsStores } from '../../functions/adapters/aws/clients.js';
import { awsExportDeps } from '../../functions/adapters/export/service.js';
import { exportStatus, startExport } from '../../functions/domain/interchange/export/job.js';
import { createProject } from '../../functions/domain/projects.js';
import { DAY_MS } from '../../functions/domain/retention.js';
import { lambdaEnvOnEmulators, startLambdaEmulators } from '../support/lambda-env.js';

const BUCKET = 'winnow-retention-test';

describe('retention in the cloud: the sweep after each export job', () => {
  const closers: (() => Promise<void>)[] = [];
  let stores: AwsStores;

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

  async function image(projectId: string, n: number, daysAgo: number) {
    const at = new Date(Date.now() - daysAgo * DAY_MS).toISOString();
    const imageId = String(n).repeat(24);
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
    await oldExport('kept', '20260101-000000-aaaaaa', 10);
    await image('garden', 3, 20);
    await oldExport('garden', '20260101-000000-bbbbbb', 10);
    // Queues the function may send to (a deletion slice's own queue, retrain triggers); this test sends nothing.
    lambdaEnvOnEmulators(emulators, BUCKET, { WINNOW_EXPORT_QUEUE_URL: 'http://127.0.0.1:9/000000000000/export', WINNOW_TRAINER_QUEUE_URL: 'http://127.0.0.1:9/000000000000/trainer' });
  });
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it('deletes what a project keeps no longer after an export job of any project', async () => {
    const api = awsExportDeps(stores, { bucket: BUCKET, defaultEmbeddingModel: 'm', runner: { dispatch: async () => undefined } });
    const started = await startExport(api, 'garden', { format: 'jsonl', include: 'labeled', images: false }, 'owner');
    const { handler } = await import('../../functions/export/lambda.js');
    const event = { Records: [{ messageId: 'm-1', body: JSON.stringify({ kind: 'export', projectId: 'garden', exportId: started.exportId }) }] } as unknown as SQSEvent;
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect((await exportStatus(api, 'garden', started.exportId)).state).toBe('done');

    // kept: the old export and the original it held went, with what was derived; the later upload stays.
    expect(await keys('exports/kept/')).toEqual([]);
    expect(await keys('uploads/kept/')).toEqual(['uploads/kept/2.jpg']);
    expect(await keys('derived/kept/')).toEqual([`derived/kept/${'2'.repeat(24)}/thumb.webp`]);
    expect((await stores.samples.listImages('kept')).items.map((i) => i.imageId)).toEqual(['2'.repeat(24)]);
    expect((await stores.samples.listSamples('kept')).items.map((s) => s.sampleId)).toEqual(['2'.repeat(24)]);
    // garden (no retention): everything stays, the new export beside the old one.
    expect(await keys('uploads/garden/')).toEqual(['uploads/garden/3.jpg']);
    expect((await keys('exports/garden/')).filter((k) => k.includes('20260101-000000-bbbbbb'))).toHaveLength(2);
    expect((await keys('exports/garden/')).filter((k) => k.includes(started.exportId)).length).toBeGreaterThan(0);
  });
});
