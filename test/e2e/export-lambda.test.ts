// The cloud path of an export: the API's job record, then the export Lambda's `handler` exactly as AWS invokes
// it with the export message from the export queue, configured only by environment, against the emulators.
// The multipart upload, the status object and the presigned link are the same S3 calls the cloud makes.

import type { SQSEvent } from 'aws-lambda';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsStores } from '../../functions/adapters/aws/clients.js';
import { awsExportDeps } from '../../functions/adapters/export/service.js';
import { exportStatus, startExport } from '../../functions/domain/interchange/export/job.js';
import { createProject } from '../../functions/domain/projects.js';
import { lambdaEnvOnEmulators, startLambdaEmulators } from '../support/lambda-env.js';

const BUCKET = 'winnow-export-test';

describe('export jobs in the export Lambda', () => {
  const closers: (() => Promise<void>)[] = [];
  let stores: AwsStores;
  const dispatched: { projectId: string; exportId: string }[] = [];

  beforeAll(async () => {
    const emulators = await startLambdaEmulators('export-lambda', BUCKET);
    ({ stores } = emulators);
    closers.push(emulators.close);
    // Detection on: its boxes are samples, so the VOC export below has objects to write (a plain classification project is refused VOC).
    await createProject(stores, { id: 'garden', classes: ['tulip', 'other'], detection: { enabled: true } }, 'owner');
    const imageId = 'a'.repeat(24);
    const at = '2025-03-01T10:00:00.000Z';
    await stores.samples.putImage({
      projectId: 'garden', imageId, key: 'uploads/garden/t.jpg', etag: 'e', bytes: 1, status: 'ready', width: 30, height: 20,
      order: 'o', createdAt: at, updatedAt: at,
    });
    await stores.samples.putSamplesIfAbsent([
      {
        projectId: 'garden', sampleId: imageId, imageId, kind: 'image', version: 1, labeledBy: ['ann'], order: 'o', createdAt: at,
        label: { confidences: [1, 0], ambiguous: false, labelerId: 'ann', at },
      },
    ]);
    // Queues the function may send to (a deletion slice's own queue, retrain triggers); this test sends nothing.
    lambdaEnvOnEmulators(emulators, BUCKET, { WINNOW_EXPORT_QUEUE_URL: 'http://127.0.0.1:9/000000000000/export', WINNOW_TRAINER_QUEUE_URL: 'http://127.0.0.1:9/000000000000/trainer' });
  });
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it('runs the export message, records it done, and the link serves the archive', async () => {
    // The API side: the job is recorded and a message dispatched (captured here instead of sent to SQS).
    const api = awsExportDeps(stores, {
      bucket: BUCKET,
      defaultEmbeddingModel: 'm',
      runner: { dispatch: async (job) => void dispatched.push(job) },
    });
    const started = await startExport(api, 'garden', { format: 'jsonl', include: 'labeled', images: false }, 'owner');
    expect(dispatched).toEqual([{ projectId: 'garden', exportId: started.exportId }]);

    const { handler } = await import('../../functions/export/lambda.js');
    const event = {
      Records: [{ messageId: 'm-1', body: JSON.stringify({ kind: 'export', ...dispatched[0] }) }],
    } as unknown as SQSEvent;
    expect(await handler(event)).toEqual({ batchItemFailures: [] });

    const status = await exportStatus(api, 'garden', started.exportId);
    expect(status).toMatchObject({ state: 'done', counts: { images: 1, labels: 1 }, contentType: 'application/x-ndjson' });
    const res = await fetch(status.downloadUrl!);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${status.fileName}"; filename*=UTF-8''${status.fileName}`);
    const line = JSON.parse((await res.text()).trim());
    expect(line).toMatchObject({ 'source-ref': `s3://${BUCKET}/uploads/garden/t.jpg`, garden: 0 });

    // A repeated delivery of the same message finds the job done and does nothing.
    expect(await handler(event)).toEqual({ batchItemFailures: [] });

    // A ZIP export through the same path.
    const zip = await startExport(api, 'garden', { format: 'voc', include: 'all', images: false }, 'owner');
    await handler({ Records: [{ messageId: 'm-2', body: JSON.stringify({ kind: 'export', ...dispatched[1] }) }] } as unknown as SQSEvent);
    const voc = await exportStatus(api, 'garden', zip.exportId);
    const files = unzipSync(new Uint8Array(await (await fetch(voc.downloadUrl!)).arrayBuffer()));
    expect(Object.keys(files)).toEqual(['Annotations/t.xml', 'ImageSets/Main/trainval.txt', 'ImageSets/Main/unlabeled.txt', 'labels.txt']);
  });
});
